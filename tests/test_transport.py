"""The /socket.io/ route's WebSocket edges: origin, lifetime, size and compression."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace
from typing import Any

import pytest
import socketio
import tornado.web
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from tests.conftest import stop
from tests.support import connected_client, server_url
from tornado_socketio_jwt import AuthSettings, Transport, attach_jwt_auth
from tornado_socketio_jwt.sockets.engine import engine_for
from tornado_socketio_jwt.sockets.transport import (
    origin_allowed,
)

EVIL = "http://evil.example"


@pytest.fixture
def server_options() -> dict[str, Any]:
    return {}


@pytest.fixture
def compression() -> bool:
    return False


@pytest.fixture
def app(
    settings: AuthSettings,
    io_loop: Any,
    server_options: dict[str, Any],
    compression: bool,
) -> Any:
    sio = socketio.AsyncServer(async_mode="tornado", **server_options)
    transport = Transport(websocket_compression=compression)
    settings = replace(settings, routes=("socketio",), transport=transport)
    specs = attach_jwt_auth(sio, settings)
    yield tornado.web.Application(specs, sio=sio)  # settings["sio"] for the tests
    io_loop.run_sync(lambda: stop(sio))


def ws_request(port: int, origin: str | None = None, query: str = "EIO=4") -> Any:
    headers = {"Origin": origin} if origin else {}
    url = f"ws://127.0.0.1:{port}/socket.io/?{query}&transport=websocket"
    return HTTPRequest(url, headers=headers)


async def until_closed(conn: Any, timeout: float = 5.0) -> str:
    """Read (bounded) until the server closes the WebSocket."""

    async def drain() -> str:
        while await conn.read_message() is not None:
            pass
        return "closed"

    try:
        return await asyncio.wait_for(drain(), timeout)
    except asyncio.TimeoutError:
        return "still open"


@pytest.mark.gen_test
async def test_a_cross_origin_upgrade_is_refused_before_the_upgrade(
    http_server: Any, http_port: int
) -> None:
    with pytest.raises(HTTPClientError) as info:
        await websocket_connect(ws_request(http_port, EVIL))
    assert info.value.code == 403


@pytest.mark.gen_test
async def test_the_servers_own_origin_upgrades(
    http_server: Any, http_port: int
) -> None:
    conn = await websocket_connect(
        ws_request(http_port, f"http://127.0.0.1:{http_port}")
    )
    try:
        assert str(await conn.read_message()).startswith("0{")
    finally:
        conn.close()


@pytest.mark.parametrize("server_options", [{"cors_allowed_origins": "*"}])
@pytest.mark.gen_test
async def test_a_star_origin_setting_upgrades_any_origin(
    http_server: Any, http_port: int, server_options: dict[str, Any]
) -> None:
    conn = await websocket_connect(ws_request(http_port, EVIL))
    try:
        assert str(await conn.read_message()).startswith("0{")
    finally:
        conn.close()


@pytest.mark.gen_test
async def test_a_websocket_engine_io_refuses_is_closed_at_once(
    http_server: Any, http_port: int
) -> None:
    conn = await websocket_connect(ws_request(http_port, query="EIO=3"))
    try:
        assert await until_closed(conn) == "closed"
    finally:
        conn.close()


@pytest.mark.parametrize("server_options", [{"max_http_buffer_size": 1000}])
@pytest.mark.gen_test
async def test_a_message_over_the_buffer_size_closes_the_socket(
    http_server: Any, http_port: int, server_options: dict[str, Any]
) -> None:
    conn = await websocket_connect(ws_request(http_port))
    try:
        await conn.read_message()
        await conn.write_message("4" + "x" * 2000)
        assert await until_closed(conn) == "closed"
    finally:
        conn.close()
    assert conn.close_code == 1009  # message too big


@pytest.mark.gen_test
async def test_compression_is_not_offered_by_default(
    http_server: Any, http_port: int
) -> None:
    conn = await websocket_connect(ws_request(http_port), compression_options={})
    try:
        assert conn.headers is not None
        assert "Sec-WebSocket-Extensions" not in conn.headers
    finally:
        conn.close()


@pytest.mark.parametrize("compression", [True])
@pytest.mark.gen_test
async def test_compression_can_be_turned_on(
    http_server: Any, http_port: int, compression: bool
) -> None:
    conn = await websocket_connect(ws_request(http_port), compression_options={})
    try:
        assert conn.headers is not None
        extensions = conn.headers.get("Sec-WebSocket-Extensions", "")
        assert "permessage-deflate" in extensions
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("allowed", "origin", "host", "admitted"),
    [
        (None, "http://127.0.0.1:9000", "127.0.0.1:9000", True),
        (None, EVIL, "127.0.0.1:9000", False),
        ("*", EVIL, "127.0.0.1:9000", True),
        (["http://a.example"], "http://a.example", None, True),
        (["http://a.example"], EVIL, None, False),
        ("http://a.example", EVIL, None, False),
        ([], EVIL, None, False),
    ],
)
def test_origin_rules_follow_python_engineio(
    allowed: Any, origin: str, host: str | None, admitted: bool
) -> None:
    assert origin_allowed(allowed, origin, host) is admitted


@pytest.mark.gen_test
async def test_websockets_send_without_nagles_delay(
    app: Any, http_server: Any, http_port: int
) -> None:
    """TCP_NODELAY on the server's side: a small frame right after another does
    not wait for the client's delayed ACK."""
    conn = await websocket_connect(ws_request(http_port))
    try:
        assert str(await conn.read_message()).startswith("0{")
        [(_, handler)] = engine_for(app.settings["sio"]).connections()
        server_side = handler.ws_connection.stream.socket
        assert server_side.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        conn.close()


@pytest.mark.gen_test(timeout=20)
async def test_after_an_upgrade_from_polling_the_session_is_known_by_its_websocket(
    app: Any, http_server: Any, http_port: int, make_token: Any
) -> None:
    """What Engine.close and shutdown close is the WebSocket, not the polling
    request the session began with (python-socketio keeps that one's environ)."""
    sio = app.settings["sio"]
    async with connected_client(
        server_url(http_port),
        auth={"token": make_token()},
        transports=["polling", "websocket"],
    ) as result:
        assert result.connected
        for _ in range(100):  # bounded: the upgrade follows the handshake
            if result.client.eio.current_transport == "websocket":
                break
            await asyncio.sleep(0.05)
        assert result.client.eio.current_transport == "websocket"
        [(eio_sid, handler)] = engine_for(sio).connections()
        assert handler.ws_connection is not None
        await engine_for(sio).close(eio_sid)
        for _ in range(100):
            if handler.ws_connection is None:
                break
            await asyncio.sleep(0.05)
        assert handler.ws_connection is None  # closed by the server
