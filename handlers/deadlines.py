"""``DeadlineScheduler``: many deadlines, one timer.

Token expiry and the ``authenticate`` timeout need a deadline per socket.
One ``call_later`` per socket would cost a timer handle each and a wake-up
each; this keeps a min-heap of deadlines and a single loop timer armed for
the earliest one, so 10,000 sockets cost 10,000 heap entries and one timer.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["DeadlineScheduler"]

K = TypeVar("K", bound=Hashable)

# Rebuild the heap once cancelled entries outnumber live ones by this factor
# (plus a floor, so small heaps are never rebuilt).
COMPACT_FACTOR = 2
COMPACT_FLOOR = 64
# Deadlines in the same slot of this many seconds fire on one wake-up: a burst of
# sockets that connected together expires in a few wake-ups, at most this late.
DEFAULT_RESOLUTION = 0.1


class DeadlineScheduler(Generic[K]):
    """Call ``on_due(keys)`` once the deadlines of ``keys`` have passed.

    Deadlines are epoch seconds from ``clock``; the single loop timer is
    re-armed to the earliest pending deadline. Cancelled and replaced
    entries are dropped lazily: only the entry a key maps to is live.

    :param on_due: called on the loop with the keys that fell due, oldest
                   first; it must not block.
    :param clock: returns epoch seconds. Default ``time.time``; tests inject
                  a fake one and call :meth:`run_due` instead of waiting.
    :param resolution: the timer is armed for the end of the deadline's slot
                       of this many seconds, so keys fire at most this late
                       and close deadlines share one wake-up. Default 0.1;
                       0 fires each deadline on time.
    """

    def __init__(
        self,
        on_due: Callable[[list[K]], None],
        clock: Callable[[], float] = time.time,
        resolution: float = DEFAULT_RESOLUTION,
    ) -> None:
        self._on_due = on_due
        self._clock = clock
        self._resolution = resolution
        self._heap: list[tuple[float, int, K]] = []
        # key -> its live heap entry (the same tuple object as in the heap)
        self._live: dict[K, tuple[float, int, K]] = {}
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._armed_for = math.inf
        self.wakeups = 0

    def schedule(self, key: K, deadline: float) -> None:
        """Set (or move) ``key``'s deadline; arms the timer if it is the earliest."""
        entry = (deadline, next(self._seq), key)
        self._live[key] = entry
        heapq.heappush(self._heap, entry)
        if self._slot(deadline) < self._armed_for:
            self._arm(deadline)
        self._maybe_compact()

    def cancel(self, key: K) -> bool:
        """Forget ``key``'s deadline; ``True`` if it had one."""
        if self._live.pop(key, None) is None:
            return False
        if not self._live:
            self.close()
        else:
            self._maybe_compact()
        return True

    def deadline(self, key: K) -> float | None:
        """``key``'s pending deadline, or ``None``."""
        entry = self._live.get(key)
        return entry[0] if entry is not None else None

    def run_due(self) -> list[K]:
        """Hand every key whose deadline has passed to ``on_due``, then re-arm.

        The timer calls this; tests with a fake clock may call it directly.
        """
        self._disarm()
        now, due = self._clock(), []
        while self._heap and self._heap[0][0] <= now:
            entry = heapq.heappop(self._heap)
            if self._live.get(entry[2]) is entry:
                del self._live[entry[2]]
                due.append(entry[2])
        self._drop_stale_head()
        if self._heap:
            self._arm(self._heap[0][0])
        if due:
            self._on_due(due)
        return due

    def close(self) -> None:
        """Cancel the timer and forget every deadline."""
        self._disarm()
        self._heap.clear()
        self._live.clear()

    def __len__(self) -> int:
        return len(self._live)

    def _fire(self) -> None:
        self._timer = None
        self.wakeups += 1
        self.run_due()

    def _slot(self, deadline: float) -> float:
        if self._resolution <= 0:
            return deadline
        return math.ceil(deadline / self._resolution) * self._resolution

    def _arm(self, deadline: float) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a synchronous test): run_due() is driven by hand
        self._disarm()
        fire_at = self._slot(deadline)
        self._timer = loop.call_later(max(0.0, fire_at - self._clock()), self._fire)
        self._armed_for = fire_at

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._armed_for = math.inf

    def _drop_stale_head(self) -> None:
        while self._heap:
            entry = self._heap[0]
            if self._live.get(entry[2]) is entry:
                return
            heapq.heappop(self._heap)

    def _maybe_compact(self) -> None:
        if len(self._heap) > COMPACT_FACTOR * len(self._live) + COMPACT_FLOOR:
            self._heap = list(self._live.values())
            heapq.heapify(self._heap)
