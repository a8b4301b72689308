"""Residence times of partner molecules in solute shells, in picoseconds.

For every species, each (solute, partner residue) pair that is ever in contact
gives a boolean history h(t) over the analysed frames; a residue is in contact
when any of its partner atoms lies within the species' cutoff, as in
solvation_analysis. The normalised correlation over all such pairs is
(:mod:`qsse_md.lib.survival`):

- ``method="autocorrelation"`` (default): C(t) = <h(0) h(t)> / <h>, the
  intermittent correlation of solvation_analysis' ``Residence`` (Self, Fong &
  Persson, ACS Energy Lett. 4, 2843 (2019), doi:10.1021/acsenergylett.9b02118);
- ``method="survival"``: the continuous survival probability (contact unbroken
  from 0 to t; Impey, Madden & McDonald 1983).

``intermittency=N`` first closes absences of up to N frames between two contacts.
The residence time is the first lag at which the curve drops below 1/e (the rule of
solvation_analysis, which reports it in frames; here it is in ps). An exponential
``a exp(-t / tau) + c`` is also fitted to the whole curve (as solvation_analysis fits
``a exp(-b t) + c``) and ``tau`` is reported only when the curve determines it (the fit
converged, ``tau`` is no longer than the analysed time span and its standard error is
below ``tau``; :mod:`qsse_md.lib.fit_quality`), else ``nan`` with the reason; inspect the
curve with ``plot`` before trusting either number, and prefer trajectories much longer
than the residence time.
"""

import numpy as np
import pandas as pd

from qsse_md.analysis._plotting import axes_or_new
from qsse_md.lib.fit_quality import NOT_DETERMINED, format_fit
from qsse_md.lib.survival import contact_autocorrelation, continuous_survival, fill_gaps, first_crossing, fit_exponential

METHODS = ("autocorrelation", "survival")
EXCHANGES_WANTED = 3.0


class ResidenceResult:
    """Residence-time curves and times per species.

    Attributes
    ----------
    lags_ps : numpy.ndarray, shape (n_frames,)
        Lag times, ps (multiples of the analysed frame spacing).
    curves : dict of str to numpy.ndarray, shape (n_frames,)
        Normalised correlation per species (1 at lag 0; ``nan`` without contacts).
    times_ps : dict of str to float
        First lag where the curve falls below 1/e, ps (``nan`` if it never does).
    fit_times_ps, fit_time_sems_ps : dict of str to float
        ``tau`` of the fitted ``a exp(-t / tau) + c`` and its standard error, ps
        (``nan`` when not determined).
    fit_reasons : dict of str to str or None
        Why ``tau`` is not determined, None where it is.
    fit_parameters : dict of str to tuple of float
        ``(a, tau_ps, c)`` per species (``nan`` when not determined).
    method : str
    intermittency : int
        Longest closed gap, frames.
    """

    def __init__(self, lags_ps, curves, method, intermittency):
        self.lags_ps = lags_ps
        self.curves = curves
        self.method = method
        self.intermittency = intermittency
        self.times_ps = {name: first_crossing(lags_ps, curve) for name, curve in curves.items()}
        fits = {name: fit_exponential(lags_ps, curve, unit="ps") for name, curve in curves.items()}
        self.fit_times_ps = {name: fit.tau for name, fit in fits.items()}
        self.fit_time_sems_ps = {name: fit.tau_sem for name, fit in fits.items()}
        self.fit_parameters = {name: fit.parameters for name, fit in fits.items()}
        self.fit_reasons = {name: fit.reason for name, fit in fits.items()}

    def exchange_check(self, run_length_ps: float, wanted: float = EXCHANGES_WANTED) -> dict:
        """Shell exchange time of each species against the length of the analysed run.

        Block standard errors of coordination numbers assume the shells exchange many
        times within the run; where they do not, the numbers still remember the start.

        Parameters
        ----------
        run_length_ps : float
            Time spanned by the analysed frames, ps.
        wanted : float
            Exchange times the run should span at least (default 3).

        Returns
        -------
        dict of str to dict
            Per species: ``exchange_time_ps`` (the 1/e residence time, None when the curve
            never falls to 1/e), ``run_length_ps``, ``exchanges_in_run`` (run length /
            exchange time, None when not determined) and ``warning`` (one line, or None).
        """
        checks = {}
        for name, tau in self.times_ps.items():
            if not np.isfinite(tau):
                warning = (f"Li+-{name} shells never decorrelated to 1/e in the {run_length_ps:.0f} ps "
                           "analysed: the coordination numbers depend on the start and their block "
                           "errors are too small; run longer or compare independent replicas")
                if np.all(np.isnan(self.curves[name])):
                    warning = None
                checks[name] = {"exchange_time_ps": None, "run_length_ps": run_length_ps,
                                "exchanges_in_run": None, "warning": warning}
                continue
            exchanges = run_length_ps / tau if tau > 0 else float("inf")
            warning = None
            if exchanges < wanted:
                warning = (f"Li+-{name} shells exchange in {tau:.0f} ps, only {exchanges:.1f} times in "
                           f"the {run_length_ps:.0f} ps analysed (want >= {wanted:g}): block errors are "
                           "too small; run longer or compare independent replicas")
            checks[name] = {"exchange_time_ps": float(tau), "run_length_ps": run_length_ps,
                            "exchanges_in_run": float(exchanges), "warning": warning}
        return checks

    def to_dataframe(self):
        """Curves as a table.

        Returns
        -------
        pandas.DataFrame
            Column ``lag_ps`` and one column per species (normalised correlation).
        """
        table = pd.DataFrame({"lag_ps": self.lags_ps})
        for name, curve in self.curves.items():
            table[name] = curve
        return table

    def plot(self, ax=None):
        """Plot each species' curve, its exponential fit (dashed) and the 1/e line.

        A species whose decay time is not determined gets no fitted line; its legend
        entry says ``not determined: <reason>``.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = axes_or_new(ax)
        for k, (name, curve) in enumerate(self.curves.items()):
            reason = self.fit_reasons[name]
            ax.plot(self.lags_ps, curve, color=f"C{k}",
                    label=name if reason is None else f"{name}: tau {NOT_DETERMINED}: {reason}")
            a, tau, c = self.fit_parameters[name]
            if reason is None:
                ax.plot(self.lags_ps, a * np.exp(-self.lags_ps / tau) + c, color=f"C{k}", linestyle="--",
                        label=f"{name} fit: tau {format_fit(tau, self.fit_time_sems_ps[name], unit='ps')}")
        ax.axhline(np.exp(-1.0), color="grey", linestyle=":", label="1/e")
        ax.set_xlabel("lag (ps)")
        ax.set_ylabel("contact correlation" if self.method == "autocorrelation" else "survival probability")
        ax.legend()
        return ax


def contact_histories(frame, solute, residue, n_frames):
    """Boolean contact history of every (solute, residue) pair ever in contact.

    Parameters
    ----------
    frame, solute, residue : numpy.ndarray of int, shape (n_rows,)
        Contact rows (frame positions 0..n_frames-1).
    n_frames : int

    Returns
    -------
    numpy.ndarray of bool, shape (n_pairs, n_frames)
    """
    solute = np.asarray(solute, dtype=np.int64)
    residue = np.asarray(residue, dtype=np.int64)
    if len(solute) == 0 or solute.min() < 0 or residue.min() < 0:
        pairs, pair_index = np.unique(np.column_stack((solute, residue)), axis=0, return_inverse=True)
        n_pairs, pair_index = len(pairs), pair_index.ravel()
    else:
        # one int64 code per (solute, residue), ordered like the rows of np.unique(axis=0)
        n_residues = int(residue.max()) + 1
        code = solute * n_residues + residue
        size = (int(solute.max()) + 1) * n_residues
        if size <= 1 << 26:  # dense table: no sort
            present = np.zeros(size, dtype=bool)
            present[code] = True
            rank = np.cumsum(present, dtype=np.int64) - 1
            n_pairs, pair_index = int(rank[-1]) + 1, rank[code]
        else:
            distinct, pair_index = np.unique(code, return_inverse=True)
            n_pairs = len(distinct)
    history = np.zeros((n_pairs, n_frames), dtype=bool)
    history[pair_index, frame] = True
    return history


def residence_times(frame, solute, species, residue, labels, n_frames, dt_ps, intermittency=0,
                    method="autocorrelation"):
    """Residence-time analysis of contact rows.

    Parameters
    ----------
    frame, solute, species, residue : numpy.ndarray of int, shape (n_rows,)
        Contact rows: analysed-frame position, solute position, species code (index
        into ``labels``) and partner residue index.
    labels : sequence of str
        Species names.
    n_frames : int
        Number of analysed frames.
    dt_ps : float
        Time between analysed frames, ps.
    intermittency : int
        Longest absence (frames) counted as continued contact.
    method : {"autocorrelation", "survival"}

    Returns
    -------
    ResidenceResult
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r}; choose one of {METHODS}")
    if not dt_ps > 0:
        raise ValueError(f"the time between analysed frames must be positive, got {dt_ps} ps")
    kernel = contact_autocorrelation if method == "autocorrelation" else continuous_survival
    curves = {}
    for code, name in enumerate(labels):
        mine = species == code
        history = contact_histories(frame[mine], solute[mine], residue[mine], n_frames)
        curves[name] = kernel(fill_gaps(history, intermittency))
    return ResidenceResult(np.arange(n_frames) * float(dt_ps), curves, method, int(intermittency))
