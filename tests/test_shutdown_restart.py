"""SIGTERM tells sockets why and exits cleanly; users and revocations survive a
SIGTERM and a kill -9, and clients reconnect by themselves."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import socketio
from tornado.httpclient import AsyncHTTPClient

from tests.server_process import ROOT, demo_password, free_port, wait_for_line

SECRET = secrets.token_urlsafe(40)


def start(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    env = {**os.environ, "JWT_SECRET": SECRET}
    process = subprocess.Popen(
        [
            *(sys.executable, str(ROOT / "server.py"), "--data-dir", str(data_dir)),
            *("--port", str(port), "--log-level", "warning"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
    )
    return process, wait_for_line(process, "listening on")


async def stop(process: subprocess.Popen[str], sig: int | None = signal.SIGTERM) -> int:
    """Signal the server (``None``: it was signalled already) and wait for it,
    bounded, without blocking the loop its clients run on."""
    if sig is not None and process.poll() is None:
        process.send_signal(sig)
    try:
        await until(lambda: process.poll() is not None, timeout=15)
    except AssertionError:
        process.kill()
        raise
    finally:
        if process.stdout:
            process.stdout.close()
    return int(process.returncode)


async def post(port: int, path: str, body: dict[str, Any], token: str = "") -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    client = AsyncHTTPClient(force_instance=True)
    try:
        return await client.fetch(
            f"http://127.0.0.1:{port}{path}",
            method="POST",
            body=json.dumps(body),
            headers=headers,
            raise_error=False,
        )
    finally:
        client.close()


async def login(port: int, password: str) -> str:
    response = await post(port, "/login", {"username": "demo", "password": password})
    assert response.code == 200
    return str(json.loads(response.body)["token"])


async def until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


@pytest.mark.gen_test(timeout=30)
async def test_sigterm_tells_each_socket_why_and_exits_cleanly(tmp_path: Path) -> None:
    port = free_port()
    process, lines = start(tmp_path, port)
    client = socketio.AsyncClient(reconnection=False)
    seen: list[Any] = []
    client.on("server_shutdown", lambda data: seen.append(("event", data)))
    client.on("disconnect", lambda reason=None: seen.append(("disconnect", reason)))
    try:
        token = await login(port, demo_password(lines))
        await client.connect(
            f"http://127.0.0.1:{port}", auth={"token": token}, transports=["websocket"]
        )
        process.send_signal(signal.SIGTERM)
        await until(lambda: any(kind == "disconnect" for kind, _ in seen))
    finally:
        await client.shutdown()
        code = await stop(process, None)
    assert code == 0
    assert seen[0][0] == "event" and "shutting down" in seen[0][1]["message"]
    # A closed transport (python-socketio's client calls it "transport error",
    # the JS client "transport close"), after which clients reconnect by
    # themselves; not Socket.IO's "io server disconnect", which tells them not to.
    [(kind, reason)] = seen[1:]
    assert kind == "disconnect" and reason != "io server disconnect"


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
@pytest.mark.gen_test(timeout=60)
async def test_users_and_revocations_survive_a_restart_and_clients_reconnect(
    tmp_path: Path, how: int
) -> None:
    port = free_port()
    process, lines = start(tmp_path, port)
    password = demo_password(lines)
    client = socketio.AsyncClient(reconnection_delay=0.2, reconnection_delay_max=0.5)
    try:
        revoked = await login(port, password)
        assert (await post(port, "/logout", {}, revoked)).code == 204
        kept = await login(port, password)
        await client.connect(
            f"http://127.0.0.1:{port}", auth={"token": kept}, transports=["websocket"]
        )
        await stop(process, how)
        await until(lambda: not client.connected)
        process, _ = start(tmp_path, port)
        await until(lambda: client.connected, timeout=20)  # it came back by itself
        assert await login(port, password)  # the user is still there
        refused = socketio.AsyncClient(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await refused.connect(
                f"http://127.0.0.1:{port}",
                auth={"token": revoked},
                transports=["websocket"],
                wait_timeout=5,
            )
        await refused.shutdown()
    finally:
        await client.shutdown()
        await stop(process)
