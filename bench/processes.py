"""Child processes of the bench: a server under test and the Node load.

Both are pinned with ``taskset`` (where it exists) to different cores, run
with a bounded start-up, and are always ended by the context manager that
started them (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, Any

__all__ = ["Child", "Load", "free_port", "pin", "cores"]

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cores() -> tuple[int | None, int | None]:
    """(server core, load core): two different CPUs, or ``None`` for no pinning."""
    available = sorted(os.sched_getaffinity(0))
    if shutil.which("taskset") is None or len(available) < 2:
        return None, None
    return available[0], available[1]


def pin(argv: list[str], core: int | None) -> list[str]:
    return argv if core is None else ["taskset", "-c", str(core), *argv]


class Child:
    """A server process; ``__enter__`` returns once it prints ``listening on``."""

    def __init__(
        self, argv: list[str], log_path: Path, env: dict[str, str], cwd: Path
    ) -> None:
        self.argv, self.log_path, self.env, self.cwd = argv, log_path, env, cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid  # taskset execs the server: the same pid

    def __enter__(self) -> Child:
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            self.argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
        )
        try:
            self._wait_listening()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_listening(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if b"listening on" in self.log_path.read_bytes():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        tail = self.log_path.read_bytes()[-2000:].decode(errors="replace")
        raise RuntimeError(f"{self.argv} did not start:\n{tail}")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            stop(self.proc)
        if self._log is not None:
            self._log.close()


def stop(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM, a bounded wait, then SIGKILL."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT)


class Load:
    """The Node load process (bench/load.mjs): one command, one JSON reply."""

    def __init__(self, argv: list[str], log_path: Path, cwd: Path) -> None:
        self.argv, self.log_path, self.cwd = argv, log_path, cwd
        self.proc: subprocess.Popen[str] | None = None
        self._replies: queue.Queue[str | None] = queue.Queue()
        self._log: IO[str] | None = None

    def __enter__(self) -> Load:
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            cwd=self.cwd,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self._replies.put(line)
        self._replies.put(None)

    def call(self, command: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one command; its reply, or ``RuntimeError`` after ``timeout``."""
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        try:
            line = self._replies.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(
                f"load: no answer to {command['cmd']} in {timeout}s"
            ) from None
        if line is None:
            raise RuntimeError(f"load exited; see {self.log_path}")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"load: {reply['error']}")
        return reply

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        try:
            if self.proc.poll() is None and self.proc.stdin is not None:
                self.proc.stdin.write('{"cmd": "quit"}\n')
                self.proc.stdin.close()
                self.proc.wait(STOP_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired):
            pass
        stop(self.proc)
        if self._log is not None:
            self._log.close()
