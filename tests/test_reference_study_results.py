"""The statistics behind README's validation claims (``benchmarks/reference_study_results.py``):
the Welch test of the solvent ordering against scipy, replica errors, and the shipped results
file reproduced from its own runs."""

import json
import statistics
import sys
from pathlib import Path

import pytest
import scipy.stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
results = pytest.importorskip("reference_study_results")


def conductivity(mean, sem, replicas):
    return {"mean": mean, "sem": sem, "replicas": replicas, "dof": replicas - 1}


def test_ordering_step_is_welchs_t_test_of_scipy():
    upper, lower = conductivity(5.85e-3, 0.60e-3, 4), conductivity(4.6e-3, 0.15e-3, 3)
    t, dof = results._ordering_step(upper, lower, None)
    expected = scipy.stats.ttest_ind_from_stats(
        upper["mean"], upper["sem"] * 4 ** 0.5, 4, lower["mean"], lower["sem"] * 3 ** 0.5, 3,
        equal_var=False, alternative="greater")
    assert t == pytest.approx(expected.statistic)
    assert scipy.stats.t.sf(t, dof) == pytest.approx(expected.pvalue)


def test_ordering_step_against_an_upper_bound_is_a_one_sample_t():
    upper = conductivity(4.6e-3, 0.15e-3, 3)
    t, dof = results._ordering_step(upper, None, 1.9e-3)
    assert (t, dof) == (pytest.approx((4.6e-3 - 1.9e-3) / 0.15e-3), 2)
    assert results._ordering_step(conductivity(1e-3, 0.1e-3, 3), None, 1.9e-3)[0] == 0.0
    assert results._ordering_step(None, None, 1.9e-3) is None


def summary_row(solvent, nernst_einstein):
    return {"system": f"PDOA_{solvent}", "scale": "demo", "model": "m", "protocol": "p",
            "engine": "gromacs", "msd_at_fit_window_max_angstrom2": {}, "msd_lag_ps": 2000.0,
            "conductivity_S_per_cm": {"nernst_einstein": nernst_einstein}}


def test_ordering_verdicts():
    separated = [summary_row("EC", conductivity(9e-3, 0.2e-3, 3)),
                 summary_row("ECDEC", conductivity(5e-3, 0.2e-3, 3)),
                 summary_row("DEC", conductivity(1e-3, 0.2e-3, 3))]
    verdict = next(v for v in results.conductivity_ordering(separated)
                   if v["conductivity"] == "nernst_einstein")
    assert verdict["EC > EC-DEC > DEC"].startswith("holds")
    assert verdict["error"] == "replica sem"
    reversed_ = [summary_row("EC", conductivity(1e-3, 0.2e-3, 3))] + separated[1:]
    verdict = next(v for v in results.conductivity_ordering(reversed_)
                   if v["conductivity"] == "nernst_einstein")
    assert verdict["EC > EC-DEC > DEC"].startswith("does not hold")
    assert verdict["steps"]["EC-DEC > DEC"].startswith("holds")
    verdict = results.conductivity_ordering(separated[:1])[0]
    assert verdict["EC > EC-DEC > DEC"] == "not determined (ECDEC, DEC not run)"


def test_replica_error_is_the_standard_error_of_the_replica_means():
    means = [3.1, 2.9, 3.4]
    assert results._mean_and_sem([{"mean": m, "sem": 0.01} for m in means]) == {
        "mean": pytest.approx(statistics.mean(means)),
        "sem": pytest.approx(statistics.stdev(means) / 3 ** 0.5)}
    assert results._mean_and_sem([{"mean": 3.1, "sem": 0.01}]) == {"mean": 3.1, "sem": 0.01}


def test_shipped_results_file_is_what_its_runs_give():
    data = json.loads(results.RESULTS.read_text())
    summary = json.loads(json.dumps(results.summary_table(data["runs"])))
    assert summary == data["summary"]
    assert json.loads(json.dumps(results.conductivity_ordering(summary))) == data["conductivity_ordering"]
    assert json.loads(json.dumps(results.paired_differences(data["runs"]))) == data["paired_differences"]
    assert data["default_model"] == results.DEFAULT_MODEL
