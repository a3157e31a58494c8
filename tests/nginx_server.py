"""Debian's nginx in front of test servers, configured from deploy/nginx.conf.

The repository's file is used as it is, with only its marked lines changed:
the ``listen`` port (``# tsj:listen``) and the ``server`` lines of the
upstream (``# tsj:backend``). nginx runs in the foreground (``daemon off``)
with its prefix, pid, logs and temporary files in the test's directory.
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

import pytest

from tests.server_process import ROOT, free_port

CONFIG = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or (
    "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
)
START_TIMEOUT = 10.0


def require_nginx() -> str:
    """The nginx binary; skip (or fail under CI) without one."""
    if NGINX is None:
        reason = "nginx is not installed (apt-get install nginx)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot run under CI: {reason}", pytrace=False)
        pytest.skip(reason)
    return NGINX


def render_config(listen: int, backends: Sequence[int]) -> str:
    """deploy/nginx.conf for ``listen`` in front of ``backends`` (127.0.0.1)."""
    lines: list[str] = []
    for line in CONFIG.read_text().splitlines():
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
def running_nginx(directory: Path, backends: Sequence[int]) -> Iterator[int]:
    """nginx on a free port in front of ``backends``; yields that port."""
    binary = require_nginx()
    port = free_port()
    prefix = directory / "nginx"
    (prefix / "logs").mkdir(parents=True)
    (prefix / "temp").mkdir()
    (prefix / "nginx.conf").write_text(render_config(port, backends))
    error_log = prefix / "logs" / "error.log"
    command = [binary, "-p", f"{prefix}/", "-c", "nginx.conf", "-e", str(error_log)]
    # As root, workers would run as nobody, who cannot enter the private
    # temporary directory: keep them as the test's user.
    extra = "daemon off;" + (" user root root;" if os.geteuid() == 0 else "")
    process = subprocess.Popen(
        [*command, "-g", extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process, error_log)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


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
    raise AssertionError(f"nginx did not start on port {port}: {text}")
