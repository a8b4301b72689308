"""Progress of a dynamics stage: a tqdm bar on a terminal, periodic log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time

log = logging.getLogger(__name__)


class Progress:
    """Report simulated time done, wall-clock speed (ns/day) and the estimated time left.

    The speed is the simulated time run since the progress was created over the wall time
    elapsed since then (set-up, output and checkpoints included), so the time left
    (simulated time left at that speed) is what the clock will show.

    Parameters
    ----------
    label : str
        Stage name shown in the bar or log line.
    total_ps : float
        Simulated time of the whole stage in ps.
    done_ps : float
        Simulated time already done (when resuming) in ps.
    log_interval_s : float
        Wall seconds between log lines when stderr is not a terminal.

    Attributes
    ----------
    speed_ns_per_day : float
        Simulated ns per wall day since the progress was created, as of the last
        :meth:`advance`; NaN before it.
    """

    def __init__(self, label: str, total_ps: float, done_ps: float = 0.0,
                 log_interval_s: float = 60.0):
        self.label = label
        self.total_ps = total_ps
        self.done_ps = done_ps
        self.log_interval_s = log_interval_s
        self.speed_ns_per_day = float("nan")
        self._started_s = self._last_log_s = time.monotonic()
        self._started_ps = done_ps
        self._bar = None

    def advance(self, step_ps: float) -> None:
        """Record ``step_ps`` more simulated picoseconds; update the speed and report."""
        self.done_ps += step_ps
        now = time.monotonic()
        elapsed_s = max(now - self._started_s, 1e-9)
        run_ps = self.done_ps - self._started_ps
        self.speed_ns_per_day = run_ps * 1e-3 / (elapsed_s / 86400.0)
        left_s = (self.total_ps - self.done_ps) * elapsed_s / run_ps
        if sys.stderr.isatty():
            self._draw(step_ps, left_s)
        elif now - self._last_log_s >= self.log_interval_s:
            self._last_log_s = now
            log.info("%s: %.1f/%.1f ps (%.0f%%), %.2f ns/day, ETA %s", self.label,
                     self.done_ps, self.total_ps, 100.0 * self.done_ps / self.total_ps,
                     self.speed_ns_per_day, _clock(left_s))

    def close(self) -> None:
        """Close the bar (if any)."""
        if self._bar is not None:
            self._bar.close()

    def _draw(self, step_ps: float, left_s: float) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=round(self.total_ps, 6), initial=round(self.done_ps - step_ps, 6),
                             desc=self.label, unit="ps", dynamic_ncols=True, leave=False)
        self._bar.set_postfix_str(f"{self.speed_ns_per_day:.1f} ns/day, ETA {_clock(left_s)}")
        self._bar.update(round(step_ps, 6))


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
