"""Running the command line as a real process, for the command-line tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_line(process: Any, needle: str, timeout: float = 30) -> list[str]:
    """Read the server's output until ``needle`` (bounded by ``timeout``)."""
    deadline, lines = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"{needle!r} not printed; got {lines!r}")


@contextmanager
def running_server(
    data_dir: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[list[str]]:
    """Start the server (no JWT_SECRET unless given), yield its start-up lines,
    and stop it with SIGTERM, which must end it cleanly."""
    full_env = {k: v for k, v in os.environ.items() if k != "JWT_SECRET"}
    full_env.update(env or {})
    command = [sys.executable, str(ROOT / "server.py"), "--data-dir", str(data_dir)]
    process = subprocess.Popen(
        [*command, *args, "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=full_env,
        cwd=ROOT,
    )
    try:
        yield wait_for_line(process, "listening on")
    finally:
        process.terminate()
        code = process.wait(timeout=10)
        process.stdout.close()  # type: ignore[union-attr]
    assert code == 0


def demo_password(lines: list[str]) -> str:
    """The password the first start printed for ``demo``."""
    [line] = [line for line in lines if "Created user 'demo'" in line]
    return line.split("password: ")[1].split()[0]


def http_login(port: int, username: str, password: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/login",
        method="POST",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]
