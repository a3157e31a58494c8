"""Private ``redis-server`` and nginx processes on free 127.0.0.1 ports.

Shared by the tests (``tests/redis_server.py``, ``tests/nginx_server.py``,
which add pytest's skip-or-fail) and by the bench (``bench/scale_out.py``), so
it imports nothing of pytest. Every process started here is ended by the
code that started it (``stop()``, or the context manager's exit).

nginx is configured from deploy/nginx.conf as it is, with only its marked
lines changed: the ``listen`` port (``# tsj:listen``) and the ``server`` lines
of the upstream (``# tsj:backend``). It runs in the foreground (``daemon
off``) with its prefix, pid, logs and temporary files in a given directory.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "REDIS_SERVER",
    "NGINX",
    "NGINX_CONFIG",
    "RedisProcess",
    "render_nginx_config",
    "nginx_process",
    "free_port",
]

ROOT = Path(__file__).resolve().parent.parent
NGINX_CONFIG = ROOT / "deploy" / "nginx.conf"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


def _binary(name: str, fallback: str) -> str | None:
    return shutil.which(name) or (fallback if os.path.exists(fallback) else None)


REDIS_SERVER = _binary("redis-server", "/usr/bin/redis-server")
NGINX = _binary("nginx", "/usr/sbin/nginx")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _end(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)


class RedisProcess:
    """One ``redis-server`` on 127.0.0.1 (no persistence), stoppable and
    restartable on the same port.

    :param prefix: prepended to the command, e.g. ``["taskset", "-c", "1"]``.
    """

    def __init__(
        self, binary: str, directory: Path, prefix: Sequence[str] = ()
    ) -> None:
        self.binary, self.directory, self.prefix = binary, directory, list(prefix)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port)]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        self.process = subprocess.Popen(
            [*self.prefix, *command],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._answers():
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            _end(self.process)
        self.process = None

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def render_nginx_config(listen: int, backends: Sequence[int]) -> str:
    """deploy/nginx.conf for ``listen`` in front of ``backends`` (127.0.0.1)."""
    lines: list[str] = []
    for line in NGINX_CONFIG.read_text().splitlines():
        if line.rstrip().endswith("# tsj:backend"):
            indent = line[: len(line) - len(line.lstrip())]
            if not any("server 127.0.0.1:" in done for done in lines[-1:]):
                lines += [f"{indent}server 127.0.0.1:{port};" for port in backends]
            continue
        if line.rstrip().endswith("# tsj:listen"):
            line = re.sub(r"listen \S+;", f"listen 127.0.0.1:{listen};", line)
        lines.append(line)
    return "\n".join(lines) + "\n"


@contextmanager
def nginx_process(
    binary: str,
    directory: Path,
    backends: Sequence[int],
    prefix: Sequence[str] = (),
) -> Iterator[int]:
    """nginx on a free port in front of ``backends``; yields that port.

    :param prefix: prepended to the command, e.g. ``["taskset", "-c", "1"]``.
    """
    port = free_port()
    home = directory / "nginx"
    (home / "logs").mkdir(parents=True)
    (home / "temp").mkdir()
    (home / "nginx.conf").write_text(render_nginx_config(port, backends))
    error_log = home / "logs" / "error.log"
    command = [binary, "-p", f"{home}/", "-c", "nginx.conf", "-e", str(error_log)]
    # As root, workers would run as nobody, who cannot enter the private
    # temporary directory: keep them as the caller's user.
    extra = "daemon off;" + (" user root root;" if os.geteuid() == 0 else "")
    process = subprocess.Popen(
        [*prefix, *command, "-g", extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process, error_log)
        yield port
    finally:
        _end(process)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.02)
    text = log.read_text() if log.exists() else ""
    raise RuntimeError(f"nginx did not start on port {port}: {text}")
