"""A private ``redis-server`` for a test: its own port and directory, no disk.

Skipped when ``redis-server`` is missing, except under CI (``CI=true``), where
that is a failure. ``stop()`` and ``start()`` again keep the port, to test an
outage and the recovery from it. The process itself: ``tests/daemons.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.daemons import REDIS_SERVER, RedisProcess


def require_redis() -> str:
    """The redis-server binary; skip (or fail under CI) without one."""
    if REDIS_SERVER is None:
        reason = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot run under CI: {reason}", pytrace=False)
        pytest.skip(reason)
    return REDIS_SERVER


class RedisServer(RedisProcess):
    """One ``redis-server`` on 127.0.0.1 (no persistence), stoppable and restartable."""

    def __init__(self, directory: Path) -> None:
        super().__init__(require_redis(), directory)


@contextmanager
def running_redis(directory: Path) -> Iterator[RedisServer]:
    """Start a private Redis, yield it, stop it whatever happens."""
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
