"""The peak resident memory of this process during one population's training (Linux: the kernel's high-water mark
``VmHWM``, reset before the population by writing 5 to ``/proc/self/clear_refs``).

Elsewhere (or where the reset is not allowed) no number is reported rather than a wrong one: a process-lifetime
maximum would carry an earlier, larger population's peak into a later one's record.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["peak_rss_mb", "reset_peak_rss"]

_STATUS, _CLEAR = Path("/proc/self/status"), Path("/proc/self/clear_refs")


def reset_peak_rss() -> bool:
    """Start a new peak; False where the platform cannot (then :func:`peak_rss_mb` must not be trusted)."""
    try:
        _CLEAR.write_text("5")
    except OSError:
        return False
    return True


def peak_rss_mb() -> float | None:
    """The process's peak resident memory since the last reset, in MiB (None where ``/proc`` has no VmHWM)."""
    try:
        lines = _STATUS.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0  # kB
    return None
