"""Benchmark: the cost of expiry timers for many live sockets (``make bench``).

Compares, in one run, the library's ``DeadlineScheduler`` (one heap, one
loop timer) with the obvious baseline (one ``loop.call_later`` per socket):

- memory held by the pending timers (tracemalloc, after scheduling N sockets);
- CPU time to schedule N deadlines, to move them all (a token refresh each),
  to cancel them all (every socket disconnects), and to fire them all;
- loop wake-ups: timer callbacks the loop ran to expire N sockets.

Not a test: it prints figures. One section of ``make bench`` (bench/run.py);
alone: ``python bench/timers.py [--sockets N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any, Protocol

from tornado_socketio_jwt.deadlines import DeadlineScheduler

FIRE_SPREAD = 0.5  # seconds over which the N deadlines fall due in the fire phase
FIRE_DELAY = 0.2  # seconds before the first one


class Timers(Protocol):
    name: str
    fired: int
    all_fired: asyncio.Event
    expected: int

    @property
    def wakeups(self) -> int: ...

    def schedule(self, key: str, deadline: float) -> None: ...
    def cancel(self, key: str) -> None: ...


class HeapTimers:
    """The library's way: one DeadlineScheduler."""

    name = "DeadlineScheduler (one heap, one timer)"

    def __init__(self) -> None:
        self.fired, self.expected = 0, -1
        self.all_fired = asyncio.Event()
        self.scheduler: DeadlineScheduler[str] = DeadlineScheduler(self._due)

    def _due(self, keys: list[str]) -> None:
        self.fired += len(keys)
        if self.fired == self.expected:
            self.all_fired.set()

    @property
    def wakeups(self) -> int:
        return self.scheduler.wakeups

    def schedule(self, key: str, deadline: float) -> None:
        self.scheduler.schedule(key, deadline)

    def cancel(self, key: str) -> None:
        self.scheduler.cancel(key)


class CallLaterTimers:
    """The baseline: one loop.call_later handle per socket."""

    name = "baseline (one call_later per socket)"

    def __init__(self) -> None:
        self.fired, self.expected, self.wakeups = 0, -1, 0
        self.all_fired = asyncio.Event()
        self.handles: dict[str, asyncio.TimerHandle] = {}
        self.loop = asyncio.get_running_loop()

    def _due(self, key: str) -> None:
        self.wakeups += 1
        self.fired += 1
        self.handles.pop(key, None)
        if self.fired == self.expected:
            self.all_fired.set()

    def schedule(self, key: str, deadline: float) -> None:
        old = self.handles.pop(key, None)
        if old is not None:
            old.cancel()
        delay = max(0.0, deadline - time.time())
        self.handles[key] = self.loop.call_later(delay, self._due, key)

    def cancel(self, key: str) -> None:
        handle = self.handles.pop(key, None)
        if handle is not None:
            handle.cancel()


KINDS: tuple[type[HeapTimers] | type[CallLaterTimers], ...] = (
    HeapTimers,
    CallLaterTimers,
)


def cpu(work: Callable[[str], None], keys: list[str]) -> float:
    """CPU seconds to call ``work`` on every key."""
    start = time.process_time()
    for key in keys:
        work(key)
    return time.process_time() - start


async def measure_memory(make: Callable[[], Timers], keys: list[str]) -> int:
    """Bytes still allocated after scheduling one deadline per key."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    timers = make()
    later = time.time() + 3600
    for key in keys:
        timers.schedule(key, later)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    held = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    for key in keys:
        timers.cancel(key)
    return held


async def measure_cpu(make: Callable[[], Timers], keys: list[str]) -> dict[str, float]:
    """CPU seconds of each phase, and the wake-ups needed to fire them all."""
    timers = make()
    later = time.time() + 3600
    result = {"schedule": cpu(lambda k: timers.schedule(k, later), keys)}
    result["move"] = cpu(lambda k: timers.schedule(k, later + 60), keys)
    result["cancel"] = cpu(timers.cancel, keys)
    start = time.time() + FIRE_DELAY
    step = FIRE_SPREAD / len(keys)
    timers.expected = timers.fired + len(keys)
    for i, key in enumerate(keys):
        timers.schedule(key, start + i * step)
    wakeups_before, cpu_before = timers.wakeups, time.process_time()
    await timers.all_fired.wait()
    result["fire"] = time.process_time() - cpu_before
    result["wakeups"] = timers.wakeups - wakeups_before
    return result


async def run(sockets: int, repeat: int) -> dict[str, dict[str, float]]:
    keys = [f"sid-{i:06d}" for i in range(sockets)]
    figures: dict[str, dict[str, float]] = {}
    for make in KINDS:
        name = make.name
        runs = [await measure_cpu(make, keys) for _ in range(repeat)]
        best = {phase: min(r[phase] for r in runs) for phase in runs[0]}
        best["memory"] = await measure_memory(make, keys)
        figures[name] = best
    return figures


def report(figures: dict[str, dict[str, float]], sockets: int, repeat: int) -> str:
    """The section as text."""
    heap, base = (figures[make.name] for make in KINDS)
    lines = [
        f"Expiry timers for {sockets:,} sockets (CPU: best of {repeat}; "
        f"Python {sys.version.split()[0]})\n"
    ]
    per_socket = (heap["memory"] / sockets, base["memory"] / sockets)
    rows: list[tuple[str, Any, Any, str]] = [
        ("memory held (KiB)", heap["memory"] / 1024, base["memory"] / 1024, "{:,.0f}"),
        ("memory per socket (bytes)", *per_socket, "{:,.0f}"),
    ]
    for phase in ("schedule", "move", "cancel", "fire"):
        ms = (heap[phase] * 1000, base[phase] * 1000)
        rows.append((f"CPU {phase} all (ms)", *ms, "{:,.1f}"))
    rows.append(
        ("loop wake-ups to fire all", heap["wakeups"], base["wakeups"], "{:,.0f}")
    )
    lines.append(f"{'':28}{'scheduler':>14}{'baseline':>14}{'baseline/scheduler':>22}")
    for label, ours, theirs, fmt in rows:
        ratio = f"{theirs / ours:,.1f}x" if ours else "n/a"
        lines.append(
            f"{label:28}{fmt.format(ours):>14}{fmt.format(theirs):>14}{ratio:>22}"
        )
    lines.append("\nscheduler = " + KINDS[0].name)
    lines.append("baseline  = " + KINDS[1].name)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sockets", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    figures = asyncio.run(run(args.sockets, args.repeat))
    print(report(figures, args.sockets, args.repeat))


if __name__ == "__main__":
    main()
