"""Counting failed logins per username and address; bounding slow work."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from ..errors import TooManyAttemptsError

__all__ = ["FailureLimiter", "WorkQueue"]

MAX_KEYS = 100_000


class FailureLimiter:
    """Allow ``max_failures`` failures per key within ``window`` seconds.

    An attempt counts as a failure from the moment it starts (:meth:`attempt`)
    and is taken back on success, so concurrent requests cannot slip past the
    limit while their password hashes are still being checked.

    :param max_keys: keys remembered at most; the least recently used go first.
    :param clock: monotonic seconds; injectable for tests.
    """

    def __init__(
        self,
        max_failures: int,
        window: float,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again; 0 when it may try now."""
        times = self._failures.get(_digest(key))
        if times is None:
            return 0
        now = self._clock()
        _expire(times, now - self.window)
        if len(times) < self.max_failures:
            return 0
        return int(times[0] + self.window - now) + 1

    def attempt(self, key: str) -> None:
        """Count one failure against ``key`` now (take it back with :meth:`forgive`)."""
        digest = _digest(key)
        times = self._failures.pop(digest, None) or deque()
        now = self._clock()
        _expire(times, now - self.window)
        times.append(now)
        self._failures[digest] = times
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def take(self, key: str) -> int:
        """Count one attempt against ``key`` unless it is at its limit.

        :return: 0 when counted; else the seconds until ``key`` may try again.
        """
        wait = self.retry_after(key)
        if not wait:
            self.attempt(key)
        return wait

    def forgive(self, key: str) -> None:
        """Take back the most recent failure of ``key``."""
        times = self._failures.get(_digest(key))
        if times:
            times.pop()

    def reset(self, key: str) -> None:
        """Forget every failure of ``key``."""
        self._failures.pop(_digest(key), None)

    def __len__(self) -> int:
        return len(self._failures)


def _digest(key: str) -> str:
    # A fixed-size key: a spray of 1 KiB usernames costs 32 bytes each.
    return hashlib.blake2b(
        key.encode("utf-8", "surrogatepass"), digest_size=16
    ).hexdigest()


def _expire(times: deque[float], before: float) -> None:
    while times and times[0] <= before:
        times.popleft()


class WorkQueue:
    """At most ``concurrency`` jobs running and ``waiting`` more queued; past
    that, :meth:`slot` refuses at once with 429 instead of queueing without end.

    :param retry_after: the ``Retry-After`` seconds of a refusal.
    """

    BUSY = "The server is busy; try again shortly."

    def __init__(self, concurrency: int, waiting: int, retry_after: int = 1) -> None:
        self.capacity = concurrency + waiting
        self.retry_after = retry_after
        self._running = asyncio.Semaphore(concurrency)
        self._admitted = 0

    @property
    def full(self) -> bool:
        """Whether :meth:`slot` would refuse now."""
        return self._admitted >= self.capacity

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a running place for the ``async with`` body; wait for one if
        all are taken and the queue has room.

        :raises TooManyAttemptsError: running places and queue are all taken.
        """
        if self.full:
            raise TooManyAttemptsError(self.retry_after, self.BUSY)
        self._admitted += 1  # before any await: the check and this are atomic
        try:
            async with self._running:
                yield
        finally:
            self._admitted -= 1

    def __len__(self) -> int:
        return self._admitted
