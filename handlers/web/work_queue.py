"""``WorkQueue``: bounding slow work (the password hashes behind ``/login``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ..errors import TooManyAttemptsError

__all__ = ["WorkQueue"]


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
