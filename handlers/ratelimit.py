"""Counting failed logins, per username and per client address."""

from __future__ import annotations

import time
from collections import deque
from typing import Callable

__all__ = ["FailureLimiter"]

MAX_KEYS = 100_000


class FailureLimiter:
    """Allow ``max_failures`` failures per key within ``window`` seconds.

    :param clock: monotonic seconds; injectable for tests.
    """

    def __init__(
        self, max_failures: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, *keys: str) -> int:
        """Seconds until every key may try again; 0 when all may try now."""
        now = self._clock()
        wait = 0.0
        for key in keys:
            times = self._recent(key, now)
            if len(times) >= self.max_failures:
                wait = max(wait, times[0] + self.window - now)
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, *keys: str) -> None:
        """Record one failure against each key."""
        now = self._clock()
        for key in keys:
            self._recent(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        """Forget the failures of these keys."""
        for key in keys:
            self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        if len(self._failures) > MAX_KEYS:  # bound memory under a spray of usernames
            self._failures = {
                k: v for k, v in self._failures.items() if v and v[-1] > now - self.window
            }
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times
