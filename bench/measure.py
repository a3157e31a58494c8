"""Readings of another process from /proc: CPU seconds and resident memory.

CPU is ``utime + stime`` from ``/proc/PID/stat`` (all threads, in clock
ticks); memory is ``VmRSS`` from ``/proc/PID/status``. Linux only.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterable

__all__ = ["cpu_seconds", "rss_bytes", "settle", "median", "TICK"]

TICK = 1.0 / os.sysconf("SC_CLK_TCK")  # resolution of cpu_seconds


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds that ``pid`` has used so far."""
    with open(f"/proc/{pid}/stat", "rb") as stat:
        text = stat.read()
    # The command name (field 2) may hold spaces: split after its last ')'.
    fields = text[text.rindex(b")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) * TICK


def rss_bytes(pid: int) -> int:
    """Resident set size of ``pid`` in bytes."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise ValueError(f"no VmRSS for pid {pid}")


def settle(pid: int, quiet: float = 0.2, timeout: float = 10.0) -> float:
    """Wait until ``pid`` uses no CPU for ``quiet`` seconds; return its CPU.

    Used after closing sockets, so that the server's clean-up is not counted
    in the next phase. Gives up after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    last = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = cpu_seconds(pid)
        if now - last < TICK / 2:
            return now
        last = now
    return last


def median(values: Iterable[float | None]) -> float | None:
    """Median of the values that are not ``None`` (``None`` if there are none)."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None
