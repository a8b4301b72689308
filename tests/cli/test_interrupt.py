import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _children(pid: int) -> list[int]:
    done = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in done.stdout.split()]


def _running(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie waiting for its reaper does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(sys.platform != "linux", reason="uses pgrep and SIGTERM")
def test_a_terminated_build_stops_packmol_and_leaves_nothing(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "OPENMM_CPU_THREADS": "1"}
    (tmp_path / "tmp").mkdir()
    build = subprocess.Popen([sys.executable, "-m", "qsse_md.cli.main", "build", "PDOA_EC",
                              "--out", str(tmp_path / "box")], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not _children(build.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    packmol = _children(build.pid)
    assert packmol, "PACKMOL never started"
    build.send_signal(signal.SIGTERM)
    _, stderr = build.communicate(timeout=60)
    assert build.returncode == 130
    assert stderr.strip().splitlines()[-1].startswith("qsse-md: interrupted")
    assert "Traceback" not in stderr
    deadline = time.monotonic() + 10  # a loaded machine may take a moment to end the process
    while any(_running(pid) for pid in packmol) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_running(pid) for pid in packmol), "PACKMOL left running"
    assert list((tmp_path / "tmp").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"]
