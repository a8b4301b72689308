"""When a fitted number is *not determined*: the one rule every fit of the package applies.

A fit reports a number only when its data determine it. :func:`undetermined_reason`
returns why a fitted value is not determined, or ``None`` when it is. The value is
determined when

1. the fit converged;
2. the value is a finite number, inside the range its data cover when it has one
   (a decay time fitted to a curve of span ``T`` lies in ``[0, T]``; a break
   temperature lies between the lowest and highest temperature measured);
3. its standard error is finite, not larger than the magnitude of the value and not
   larger than the width of that range.

A value that is not determined is reported as ``nan`` on result objects, ``null`` in
JSON and an empty cell in CSV, always next to the reason (a ``reason`` field or a
``*_reasons`` dict), and plots write ``not determined: <reason>`` instead of a fitted
line; :func:`format_fit` writes either form for tables and legends.
"""

import math

NOT_DETERMINED = "not determined"


def undetermined_reason(value, sem=None, *, converged=True, bounds=None, name="value", unit=""):
    """Why a fitted value is not determined, or ``None`` when it is.

    Parameters
    ----------
    value : float
        Fitted value (any unit).
    sem : float, optional
        Its standard error (unit of ``value``); ``None`` when the fit gives none (then
        rule 3 of the module docstring is not applied).
    converged : bool
        Whether the fit converged.
    bounds : tuple of float, optional
        ``(lowest, highest)`` value the data can determine (unit of ``value``), e.g.
        ``(0, span)`` for a time scale fitted to a curve of ``span`` ps.
    name : str
        What the value is, for the reason text (e.g. ``"tau"``, ``"break"``).
    unit : str
        Unit written after numbers in the reason text (e.g. ``"ps"``).

    Returns
    -------
    str or None
        One sentence naming the failed rule and the numbers, or ``None``.
    """
    unit = f" {unit}" if unit else ""
    if not converged:
        return "the fit did not converge"
    if value is None or not math.isfinite(value):
        return f"the fit gave no finite {name}"
    if bounds is not None:
        lowest, highest = bounds
        if not lowest <= value <= highest:
            return (f"{name} {value:.4g}{unit} lies outside the {lowest:.4g}-{highest:.4g}{unit} "
                    "covered by the data")
    if sem is None:
        return None
    if not math.isfinite(sem):
        return f"the standard error of {name} could not be estimated"
    if sem > abs(value):
        return f"the standard error {sem:.3g}{unit} exceeds {name} {value:.4g}{unit}"
    if bounds is not None and sem > bounds[1] - bounds[0]:
        return (f"the standard error {sem:.3g}{unit} of {name} exceeds the {bounds[1] - bounds[0]:.4g}{unit} "
                "covered by the data")
    return None


def finite_or_none(value):
    """``value`` as a float, or None when it is None, ``nan`` or infinite (JSON ``null``)."""
    return float(value) if value is not None and math.isfinite(value) else None


def format_fit(value, sem=None, reason=None, unit="", digits=4):
    """``"value ± sem unit"``, or ``"not determined: reason"`` when ``reason`` is given.

    Parameters
    ----------
    value, sem : float or None
        Fitted value and standard error (``sem`` None or ``nan``: left out).
    reason : str, optional
        Why the value is not determined (from :func:`undetermined_reason`).
    unit : str
    digits : int
        Significant digits of the value (the error gets two).

    Returns
    -------
    str
    """
    if reason is not None:
        return f"{NOT_DETERMINED}: {reason}"
    text = f"{value:.{digits}g}"
    if sem is not None and math.isfinite(sem):
        text += f" ± {sem:.2g}"
    return f"{text} {unit}" if unit else text
