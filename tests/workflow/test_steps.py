"""The step runner: steps run in order, a done step is skipped (its result loaded), incomplete output cleared."""

import json

from qsse_md.workflow.steps import Step, run_steps


def test_steps_run_in_order_and_resume_after_a_failure(tmp_path):
    calls, started = [], []
    marker = tmp_path / "a.json"

    def write_a():
        calls.append("a")
        marker.write_text(json.dumps({"a": 1}))
        return "ran a"

    def fail():
        calls.append("b")
        raise RuntimeError("interrupted")

    steps = [Step("a", write_a, done=marker, load=lambda path: json.loads(path.read_text())),
             Step("b", fail)]
    try:
        run_steps(steps, on_start=started.append)
    except RuntimeError:
        pass
    assert calls == ["a", "b"] and started == ["a", "b"]
    results = run_steps([steps[0], Step("b", lambda: calls.append("b again"))], on_start=started.append)
    assert calls == ["a", "b", "b again"]  # a was done: skipped, its result read from its marker
    assert results == {"a": {"a": 1}, "b": None}
    assert started == ["a", "b", "a", "b"]  # done steps are announced too


def test_an_unfinished_step_starts_from_a_clean_folder(tmp_path):
    out = tmp_path / "out"
    (out / "partial").mkdir(parents=True)

    def make():
        assert not out.exists()
        out.mkdir()
        (out / "done.json").write_text("{}")
        return "made"

    assert run_steps([Step("make", make, done=out / "done.json", clear=out)]) == {"make": "made"}
    assert sorted(p.name for p in out.iterdir()) == ["done.json"]
    assert run_steps([Step("make", make, done=out / "done.json", clear=out)]) == {"make": None}
