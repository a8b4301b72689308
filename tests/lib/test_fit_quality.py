"""The one "not determined" rule: each clause with its exact reason."""

import math

import pytest

from qsse_md.lib.fit_quality import finite_or_none, format_fit, undetermined_reason


@pytest.mark.parametrize("value, sem, options, reason", [
    (5.0, 0.1, {}, None),
    (-5.0, 4.9, {}, None),
    (5.0, None, {}, None),
    (0.0, 0.0, {}, None),
    (5.0, 0.1, {"converged": False}, "the fit did not converge"),
    (math.nan, 0.1, {"name": "tau"}, "the fit gave no finite tau"),
    (math.inf, None, {}, "the fit gave no finite value"),
    (5.0, math.inf, {"name": "D"}, "the standard error of D could not be estimated"),
    (5.0, math.nan, {}, "the standard error of value could not be estimated"),
    (497.7, 1.35e15, {"name": "break", "unit": "K"}, "the standard error 1.35e+15 K exceeds break 497.7 K"),
    (-2.0, 2.5, {"name": "Ea", "unit": "kJ/mol"}, "the standard error 2.5 kJ/mol exceeds Ea -2 kJ/mol"),
    (535759.0, 10.0, {"bounds": (0.0, 40.0), "name": "tau", "unit": "ps"},
     "tau 5.358e+05 ps lies outside the 0-40 ps covered by the data"),
    (40.0, 1.0, {"bounds": (0.0, 40.0)}, None),
    (250.0, 130.0, {"bounds": (200.0, 320.0), "name": "break", "unit": "K"},
     "the standard error 130 K of break exceeds the 120 K covered by the data"),
])
def test_rule(value, sem, options, reason):
    assert undetermined_reason(value, sem, **options) == reason


def test_formatting_and_json_values():
    assert format_fit(497.7, 1.3, unit="K") == "497.7 ± 1.3 K"
    assert format_fit(497.7, math.nan) == "497.7"
    assert format_fit(math.nan, math.nan, "the fit did not converge") == "not determined: the fit did not converge"
    assert finite_or_none(math.nan) is None and finite_or_none(None) is None and finite_or_none(2) == 2.0
