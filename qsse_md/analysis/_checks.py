"""Input checks shared by the analyzers: a periodic box and cutoffs the minimum image allows."""

import numpy as np

from qsse_md.lib.distances import box_widths


def checked_cutoffs(trajectory, cutoffs_angstrom: dict, what: str) -> None:
    """Raise a one-line ValueError unless the first frame has a box and every cutoff (Å) is
    positive and at most half the smallest box width; ``cutoffs_angstrom`` maps a label
    ("contact", ...) to its value, ``what`` names the analysis in messages."""
    dimensions = trajectory.ts.dimensions
    if dimensions is None or np.any(dimensions[:3] <= 0):
        raise ValueError(f"the trajectory has no periodic box (dimensions); the {what} needs one")
    half_width = 0.5 * box_widths(dimensions).min()
    for label, value in cutoffs_angstrom.items():
        if not 0 < value <= half_width:
            raise ValueError(f"{label} cutoff {value} Å must be positive and at most half the smallest box "
                             f"width ({half_width:.4g} Å)")
