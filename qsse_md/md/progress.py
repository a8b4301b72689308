"""Progress of a dynamics stage: a tqdm bar on a terminal, periodic log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time

log = logging.getLogger(__name__)


class Progress:
    """Report simulated time done, speed (ns/day) and the estimated time left.

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
    """

    def __init__(self, label: str, total_ps: float, done_ps: float = 0.0,
                 log_interval_s: float = 60.0):
        self.label = label
        self.total_ps = total_ps
        self.done_ps = done_ps
        self.log_interval_s = log_interval_s
        self._last_log_s = time.monotonic()
        self._bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=round(total_ps, 6), initial=round(done_ps, 6), desc=label,
                             unit="ps", dynamic_ncols=True, leave=False)

    def advance(self, step_ps: float, speed_ns_per_day: float) -> None:
        """Record ``step_ps`` more simulated picoseconds run at ``speed_ns_per_day``."""
        self.done_ps += step_ps
        left_s = (self.total_ps - self.done_ps) * 1e-3 / max(speed_ns_per_day, 1e-12) * 86400.0
        if self._bar is not None:
            self._bar.set_postfix_str(f"{speed_ns_per_day:.1f} ns/day, ETA {_clock(left_s)}")
            self._bar.update(round(step_ps, 6))
            return
        now = time.monotonic()
        if now - self._last_log_s >= self.log_interval_s:
            self._last_log_s = now
            log.info("%s: %.1f/%.1f ps (%.0f%%), %.2f ns/day, ETA %s", self.label,
                     self.done_ps, self.total_ps, 100.0 * self.done_ps / self.total_ps,
                     speed_ns_per_day, _clock(left_s))

    def close(self) -> None:
        """Close the bar (if any)."""
        if self._bar is not None:
            self._bar.close()


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
