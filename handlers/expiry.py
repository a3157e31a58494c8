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
from typing import Callable, Generic, Hashable, TypeVar

__all__ = ["DeadlineScheduler"]

K = TypeVar("K", bound=Hashable)

# Rebuild the heap once cancelled entries outnumber live ones by this factor
# (plus a floor, so small heaps are never rebuilt).
COMPACT_FACTOR = 2
COMPACT_FLOOR = 64


class DeadlineScheduler(Generic[K]):
    """Call ``on_due(keys)`` once the deadlines of ``keys`` have passed.

    Deadlines are epoch seconds from ``clock``; the single loop timer is
    re-armed to the earliest pending deadline. Cancelled and replaced
    entries are dropped lazily (a sequence number marks the live one).

    :param on_due: called on the loop with the keys that fell due, oldest
                   first; it must not block.
    :param clock: returns epoch seconds. Default ``time.time``; tests inject
                  a fake one and call :meth:`run_due` instead of waiting.
    """

    def __init__(
        self, on_due: Callable[[list[K]], None], clock: Callable[[], float] = time.time
    ) -> None:
        self._on_due = on_due
        self._clock = clock
        self._heap: list[tuple[float, int, K]] = []
        self._live: dict[K, tuple[float, int]] = {}
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._armed_for = math.inf
        self.wakeups = 0

    def schedule(self, key: K, deadline: float) -> None:
        """Set (or move) ``key``'s deadline; arms the timer if it is the earliest."""
        seq = next(self._seq)
        self._live[key] = (deadline, seq)
        heapq.heappush(self._heap, (deadline, seq, key))
        if deadline < self._armed_for:
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
            deadline, seq, key = heapq.heappop(self._heap)
            if self._live.get(key) == (deadline, seq):
                del self._live[key]
                due.append(key)
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

    def _arm(self, deadline: float) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a synchronous test): run_due() is driven by hand
        self._disarm()
        self._timer = loop.call_later(max(0.0, deadline - self._clock()), self._fire)
        self._armed_for = deadline

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._armed_for = math.inf

    def _drop_stale_head(self) -> None:
        while self._heap:
            deadline, seq, key = self._heap[0]
            if self._live.get(key) == (deadline, seq):
                return
            heapq.heappop(self._heap)

    def _maybe_compact(self) -> None:
        if len(self._heap) > COMPACT_FACTOR * len(self._live) + COMPACT_FLOOR:
            self._heap = [(d, s, k) for k, (d, s) in self._live.items()]
            heapq.heapify(self._heap)
