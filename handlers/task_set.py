"""``TaskSet``: fire-and-forget tasks, kept referenced and their failures logged.

A timer callback (a deadline falling due) cannot await; it starts a task. The
event loop holds tasks only weakly, so an unreferenced one may be collected
mid-flight, and an exception nobody retrieves is reported by asyncio as
"never retrieved" at some later, unrelated moment. Every such task goes here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

__all__ = ["TaskSet"]

log = logging.getLogger("tornado_socketio_jwt")


class TaskSet:
    """The running background tasks of one owner.

    :param what: names the work in the log line of a failure, e.g.
                 ``"expiry kicks"``.
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``work`` on the loop; held until done, its exception logged once."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    async def cancel(self) -> None:
        """Cancel every running task and wait for them to end."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def __len__(self) -> int:
        return len(self._tasks)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()  # retrieved here, so asyncio never reports it
        if exc is not None:
            log.error("%s failed", self.what, exc_info=exc)
