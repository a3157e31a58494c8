"""Attempts counted per key within a window: the one asynchronous interface that
the local counter and the Redis one (``scale/limits.py``) both offer.

The callers (login, ``/token/refresh``, ``/logout``) await every call, whichever
counter they were given; this process's :class:`FailureLimiter` answers at once.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Protocol

__all__ = ["Limiter", "FailureLimiter", "key_digest"]

MAX_KEYS = 100_000


class Limiter(Protocol):
    """``max_failures`` attempts per key within ``window`` seconds."""

    max_failures: int
    window: float

    async def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again; 0 when it may try now."""

    async def attempt(self, key: str) -> None:
        """Count one failure against ``key`` now (take it back with ``forgive``)."""

    async def take(self, key: str) -> int:
        """Count one attempt against ``key`` unless it is at its limit, in one step.

        :return: 0 when counted; else the seconds until ``key`` may try again.
        """

    async def forgive(self, key: str) -> None:
        """Take back the most recent failure of ``key``."""

    async def reset(self, key: str) -> None:
        """Forget every failure of ``key``."""


def key_digest(key: str) -> str:
    """A fixed-size stand-in for ``key``: a spray of 1 KiB usernames costs 32
    bytes each, and no username or address is stored as given."""
    return hashlib.blake2b(
        key.encode("utf-8", "surrogatepass"), digest_size=16
    ).hexdigest()


class FailureLimiter:
    """A :class:`Limiter` in this process's memory.

    An attempt counts as a failure from the moment it starts (:meth:`attempt`)
    and is taken back on success, so concurrent requests cannot slip past the
    limit while their password hashes are still being checked. No method
    awaits anything: each check-and-count is atomic on the loop.

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

    async def retry_after(self, key: str) -> int:
        return self._retry_after(key_digest(key))

    async def attempt(self, key: str) -> None:
        self._attempt(key_digest(key))

    async def take(self, key: str) -> int:
        digest = key_digest(key)
        wait = self._retry_after(digest)
        if not wait:
            self._attempt(digest)
        return wait

    async def forgive(self, key: str) -> None:
        times = self._failures.get(key_digest(key))
        if times:
            times.pop()

    async def reset(self, key: str) -> None:
        self._failures.pop(key_digest(key), None)

    def __len__(self) -> int:
        return len(self._failures)

    def _retry_after(self, digest: str) -> int:
        times = self._failures.get(digest)
        if times is None:
            return 0
        now = self._clock()
        _expire(times, now - self.window)
        if len(times) < self.max_failures:
            return 0
        return int(times[0] + self.window - now) + 1

    def _attempt(self, digest: str) -> None:
        times = self._failures.pop(digest, None) or deque()
        now = self._clock()
        _expire(times, now - self.window)
        times.append(now)
        self._failures[digest] = times
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)


def _expire(times: deque[float], before: float) -> None:
    while times and times[0] <= before:
        times.popleft()
