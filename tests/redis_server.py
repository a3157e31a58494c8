"""A private ``redis-server`` for a test: its own port and directory, no disk.

Skipped when ``redis-server`` is missing, except under CI (``CI=true``), where
that is a failure. ``stop()`` and ``start()`` again keep the port, to test an
outage and the recovery from it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.server_process import free_port

REDIS_SERVER = shutil.which("redis-server") or (
    "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None
)
START_TIMEOUT = 10.0


def require_redis() -> str:
    """The redis-server binary; skip (or fail under CI) without one."""
    if REDIS_SERVER is None:
        reason = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot run under CI: {reason}", pytrace=False)
        pytest.skip(reason)
    return REDIS_SERVER


class RedisServer:
    """One ``redis-server`` on 127.0.0.1 (no persistence), stoppable and restartable."""

    def __init__(self, directory: Path) -> None:
        self.binary = require_redis()
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port)]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._answers():
                return
            time.sleep(0.02)
        self.stop()
        raise AssertionError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@contextmanager
def running_redis(directory: Path) -> Iterator[RedisServer]:
    """Start a private Redis, yield it, stop it whatever happens."""
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
