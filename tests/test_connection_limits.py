"""Connections per user and per address, and sessions that never connect."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import replace
from typing import Any

import pytest
import socketio
import tornado.web
from tornado.httpclient import HTTPClientError
from tornado.websocket import websocket_connect

from tests.conftest import stop
from tests.raw_polling import RawPolling, handshake
from tests.raw_socket import RawSocket
from tests.server_process import free_port, running_server
from tests.support import connected_client, refusal, server_url, sign
from tornado_socketio_jwt import (
    AuthSettings,
    SocketLimits,
    TooManyConnectionsError,
    attach_jwt_auth,
)
from tornado_socketio_jwt.cli import make_parser

TOO_MANY = "too_many_connections"


@pytest.fixture
def limits() -> SocketLimits:
    return SocketLimits(max_connections_per_user=2)


@pytest.fixture
def app(settings: AuthSettings, io_loop: Any, limits: SocketLimits) -> Any:
    sio = socketio.AsyncServer(async_mode="tornado")
    yield tornado.web.Application(
        attach_jwt_auth(sio, replace(settings, routes=("socketio",), limits=limits))
    )
    io_loop.run_sync(lambda: stop(sio))


@pytest.mark.gen_test
async def test_one_user_past_the_limit_is_refused_with_too_many_connections(
    http_server: Any, http_port: int, make_token: Callable[..., str]
) -> None:
    url = server_url(http_port)
    async with AsyncExitStack() as stack:
        for _ in range(2):
            held = await stack.enter_async_context(
                connected_client(url, auth={"token": make_token(sub="1")})
            )
            assert held.connected
        async with connected_client(url, auth={"token": make_token(sub="1")}) as c:
            assert not c.connected
        error = c.connect_errors[0]
        assert error.get("data", error)["code"] == TOO_MANY
        async with connected_client(url, auth={"token": make_token(sub="2")}) as c:
            assert c.connected  # another user is not affected
        await held.client.disconnect()
        async with connected_client(url, auth={"token": make_token(sub="1")}) as c:
            assert c.connected  # a socket closed is a place freed


@pytest.mark.parametrize("limits", [SocketLimits(max_connections_per_address=2)])
@pytest.mark.gen_test
async def test_one_address_past_the_limit_is_refused_at_the_engineio_handshake(
    http_server: Any, http_port: int, make_token: Callable[..., str], limits: Any
) -> None:
    """Sessions count whether or not they CONNECT: the third from one address
    is refused before it reaches python-socketio (polling: 401 with
    ``too_many_connections``; a WebSocket gets the same answer instead of the
    upgrade), and a place freed is reusable."""
    first = await RawSocket.open(http_port)
    await RawPolling.open(http_port)  # never CONNECTs: counted too
    try:
        refused = await handshake(http_port)
        assert refused.code == 401
        assert json.loads(refused.body) == refusal(TooManyConnectionsError)
        with pytest.raises(HTTPClientError) as upgrade:  # answered, not upgraded
            await websocket_connect(
                f"ws://127.0.0.1:{http_port}/socket.io/?EIO=4&transport=websocket"
            )
        assert upgrade.value.code == 401
        assert upgrade.value.response is not None
        assert json.loads(upgrade.value.response.body)["code"] == TOO_MANY
        assert (await first.connect({"token": make_token()})).startswith('40{"sid"')
    finally:
        first.close()
    for _ in range(100):  # bounded: the server sees the close
        if (await handshake(http_port)).code == 200:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the closed session's place was not freed")


@pytest.mark.parametrize("limits", [SocketLimits(connect_timeout=0.3)])
@pytest.mark.gen_test
async def test_a_session_that_connects_no_namespace_in_time_is_closed(
    http_server: Any, http_port: int, make_token: Callable[..., str], limits: Any
) -> None:
    idle = await RawSocket.open(http_port)
    active = await RawSocket.open(http_port)
    try:
        assert (await active.connect({"token": make_token()})).startswith("40")
        assert await asyncio.wait_for(idle.read_until("\x00never"), 3) == ""
        assert (await active.call("whoami"))[0]["sub"] == "1"
    finally:
        idle.close()
        active.close()


@pytest.mark.parametrize("limits", [SocketLimits(connect_timeout=0.5)])
@pytest.mark.gen_test(timeout=30)
async def test_a_session_left_with_no_namespace_is_closed_a_connect_timeout_later(
    http_server: Any, http_port: int, make_token: Callable[..., str], limits: Any
) -> None:
    """The CONNECT deadline starts again whenever a socket leaves a namespace or
    is refused one: a session cut by the server (its token expired), one whose
    client sent DISCONNECT, and one refused a CONNECT after that are closed,
    not kept for as long as they answer pings; a connected one stays."""
    sessions = [await RawSocket.open(http_port) for _ in range(4)]
    kicked, left, refused, staying = sessions
    try:
        expiring = make_token(exp=int(time.time()) + 2)
        assert (await kicked.connect({"token": expiring})).startswith('40{"sid"')
        for raw in (left, refused, staying):
            assert (await raw.connect({"token": make_token()})).startswith('40{"sid"')
        await asyncio.sleep(1)  # past the first deadline, every session connected
        await left.send("41")
        await refused.send("41")
        assert (await refused.connect({"token": "not-a-token"})).startswith("44")
        for raw in (kicked, left, refused):
            assert await asyncio.wait_for(raw.read_until("\x00never"), 6) == ""
        assert (await staying.call("whoami"))[0]["sub"] == "1"
    finally:
        for raw in sessions:
            raw.close()


@pytest.mark.parametrize(
    "options",
    [
        {"max_connections_per_user": 0},
        {"max_connections_per_address": -1},
        {"connect_timeout": 0},
        {"max_attachments": -1},
    ],
)
def test_limits_are_checked_when_they_are_made(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        SocketLimits(**options)


@pytest.mark.gen_test(timeout=30)
async def test_the_command_line_sets_both_connection_limits(tmp_path: Any) -> None:
    """``--max-connections-per-address 2 --max-connections-per-user 0``: the
    third session from one address is refused, one user may hold both."""
    secret, port = "s" * 40, free_port()
    args = ("--port", str(port), "--max-connections-per-address", "2")
    with running_server(
        tmp_path, *args, "--max-connections-per-user", "0", env={"JWT_SECRET": secret}
    ):
        sockets = [await RawSocket.open(port) for _ in range(2)]
        try:
            answers = [await raw.connect({"token": sign(secret)}) for raw in sockets]
            refused = await handshake(port)
        finally:
            for raw in sockets:
                raw.close()
    assert all(a.startswith('40{"sid"') for a in answers)
    assert refused.code == 401
    assert json.loads(refused.body)["code"] == TOO_MANY


def test_connection_limit_options_default_and_turn_off() -> None:
    options = make_parser(environ={}).parse_args([])
    assert options.max_connections_per_user == 50
    assert options.max_connections_per_address == 200
    off = make_parser(environ={"MAX_CONNECTIONS_PER_USER": "0"}).parse_args(
        ["--max-connections-per-address", "0"]
    )
    assert off.max_connections_per_user is None
    assert off.max_connections_per_address is None
    with pytest.raises(SystemExit):
        make_parser(environ={}).parse_args(["--max-connections-per-user", "-1"])
