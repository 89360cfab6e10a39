"""Progress of a long loop: a tqdm bar on a terminal, else a plain line every ``interval_s`` seconds.

A study worker's output usually goes to a log file or a CI console, where a bar's carriage returns make one
unreadable line; there :class:`StepProgress` prints ``<desc>: 1,200/2,000 steps (60%), 45.1 steps/s, ETA 18 s``
at most every 30 s (and once at the end), so a long population is never silent for minutes.
"""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO

__all__ = ["StepProgress", "format_duration"]


def format_duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s`` or ``1 h 02 min``."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class StepProgress:
    """Counts ``total`` units (starting at ``initial``); see the module docstring.

    ``tty`` None asks the stream (``isatty``); ``clock`` is injectable for tests.
    """

    def __init__(self, *, total: int, desc: str, unit: str = "steps", initial: int = 0, stream: TextIO | None = None,
                 tty: bool | None = None, interval_s: float = 30.0, clock=time.monotonic) -> None:
        self.total, self.desc, self.unit, self.done = int(total), desc, unit, int(initial)
        self.stream = stream if stream is not None else sys.stderr
        self.interval_s, self.clock = float(interval_s), clock
        self._start_count, self._start = self.done, clock()
        self._last_line, self._printed = self._start, self.done
        is_tty = tty if tty is not None else bool(getattr(self.stream, "isatty", lambda: False)())
        self._bar = None
        if is_tty:
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, initial=self.done, desc=desc, unit=unit.rstrip("s") or unit,
                             file=self.stream, dynamic_ncols=True)

    def update(self, count: int = 1) -> None:
        """``count`` more units done; prints a line when ``interval_s`` has passed since the last one."""
        self.done += count
        if self._bar is not None:
            self._bar.update(count)
            return
        now = self.clock()
        if now - self._last_line >= self.interval_s:
            self._last_line = now
            self._line(now)

    def close(self) -> None:
        """Close the bar, or print the final line."""
        if self._bar is not None:
            self._bar.close()
        elif self.done != self._printed:
            self._line(self.clock())

    def _line(self, now: float) -> None:
        self._printed = self.done
        elapsed = now - self._start
        rate = (self.done - self._start_count) / elapsed if elapsed > 0 else math.nan
        share = f" ({self.done / self.total:.0%})" if self.total else ""
        eta = (f", ETA {format_duration((self.total - self.done) / rate)}"
               if rate > 0 and self.done < self.total else "")  # NaN > 0 is False
        rate_text = "" if math.isnan(rate) else f", {rate:,.1f} {self.unit}/s"
        print(f"{self.desc}: {self.done:,}/{self.total:,} {self.unit}{share}{rate_text}{eta}", file=self.stream,
              flush=True)
