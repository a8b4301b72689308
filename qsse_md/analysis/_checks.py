"""Input checks shared by the analyzers: a periodic box, cutoffs the minimum image allows, frame ranges,
frame times and selection strings."""

from qsse_md.lib.box import max_cutoff, require_box, require_cutoff


def checked_cutoffs(trajectory, cutoffs_angstrom: dict) -> float:
    """Check that the first frame has a box (:func:`qsse_md.lib.box.require_box`) and that
    every cutoff fits it (:func:`qsse_md.lib.box.require_cutoff`); one-line ValueError
    otherwise.

    Parameters
    ----------
    trajectory : MDAnalysis.coordinates.base.ProtoReader
        The trajectory, at its first frame.
    cutoffs_angstrom : dict
        What each cutoff is (``"contact cutoff"``, ...) -> its value, Å; may be empty.

    Returns
    -------
    float
        Half the smallest box width of the first frame (the largest allowed cutoff), Å.
    """
    dimensions = require_box(trajectory.ts.dimensions)
    for name, value in cutoffs_angstrom.items():
        require_cutoff(value, dimensions, name)
    return max_cutoff(dimensions)


def checked_frames(n_frames: int, start=None, stop=None, step=None) -> range:
    """Frame indices ``start:stop:step`` of a trajectory of ``n_frames`` frames, checked.

    Parameters follow Python slicing (negative ``start``/``stop`` count from the end);
    ``None`` means the default. Raises a one-line ValueError naming the option
    (``--start``, ``--stop``, ``--step``) when ``step`` is below 1, ``start`` lies outside
    the trajectory or the range holds no frame.
    """
    if step is not None and step < 1:
        raise ValueError(f"--step {step}: give a whole number >= 1")
    if start is not None and not -n_frames <= start < n_frames:
        raise ValueError(f"--start {start} is outside the trajectory, which has {n_frames} frame(s) "
                         f"(indices 0 to {n_frames - 1})")
    frames = range(n_frames)[slice(start, stop, step)]
    if not frames:
        given = " ".join(f"--{name} {value}" for name, value in (("start", start), ("stop", stop)) if value is not None)
        raise ValueError(f"{given} selects none of the {n_frames} frame(s); give a --start below --stop")
    return frames


def checked_frame_times(trajectory) -> None:
    """Raise a one-line ValueError naming ``--dt`` when the first and last of several frames
    carry the same time (ps): the file records no times (some Amber NetCDF files)."""
    n_frames = trajectory.n_frames
    if n_frames > 1 and trajectory[-1].time == trajectory[0].time:
        raise ValueError(f"{trajectory.filename} records no frame times (all {n_frames} frames at "
                         f"{trajectory.ts.time:g} ps); give the time between frames with --dt PS")


def checked_selections(universe, selections: dict) -> None:
    """Parse every MDAnalysis selection string of ``selections`` (option name -> selection).

    Entries that are not strings (None, an AtomGroup) are skipped; a selection MDAnalysis
    cannot parse raises a one-line ValueError naming its option.
    """
    from MDAnalysis.exceptions import SelectionError

    for option, selection in selections.items():
        if not isinstance(selection, str):
            continue
        try:
            universe.select_atoms(selection)
        except SelectionError as error:
            message = " ".join(str(error).split())
            raise ValueError(f"{option} {selection!r} is not a valid MDAnalysis selection ({message}); see "
                             "https://userguide.mdanalysis.org/stable/selections.html") from None
