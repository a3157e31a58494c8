"""A client that resets its TCP connection while the server still writes to
it costs no traceback: each WebSocket write the reset interrupts fails
quietly (Tornado's ``write_message`` reports it through the future it
returns, which asyncio logs at collection if nobody retrieves it)."""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import logging
import os
import socket
import struct
from types import SimpleNamespace
from typing import Any

import pytest
import socketio
import tornado.iostream
import tornado.web
from tornado.websocket import WebSocketClosedError

from tests.conftest import stop
from tornado_socketio_jwt import AuthSettings, attach_jwt_auth
from tornado_socketio_jwt.sockets.engine_websocket import write_frame

CONNECTS = 200  # refused CONNECTs per connection, each answered by the server
RESET_AFTER = 20  # the client resets once the server wrote this many replies
ROUNDS = 3  # connections reset, one after another
BAD_CONNECT = "40" + json.dumps({"token": "not.a.token"})


@pytest.fixture
def app(settings: AuthSettings, users: Any, io_loop: Any) -> Any:
    sio = socketio.AsyncServer(async_mode="tornado")
    specs = attach_jwt_auth(sio, settings, users=users)
    yield tornado.web.Application(specs)
    io_loop.run_sync(lambda: stop(sio))


def client_frame(text: str) -> bytes:
    """One masked text frame, as a client must send it (RFC 6455, 5.2)."""
    payload, mask = text.encode(), os.urandom(4)
    if len(payload) < 126:
        header = struct.pack("!BB", 0x81, 0x80 | len(payload))
    else:
        header = struct.pack("!BBH", 0x81, 0x80 | 126, len(payload))
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + mask + masked


async def open_websocket(port: int) -> socket.socket:
    """A hand-made WebSocket upgrade; returns once the Engine.IO OPEN came.

    A plain socket rather than an asyncio transport: its reset must happen
    when the test says, not at the loop's next turn."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    await loop.sock_sendall(
        sock,
        (
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode(),
    )
    received = b""
    while b"0{" not in received:  # the OPEN packet, after the 101 response
        chunk = await asyncio.wait_for(loop.sock_recv(sock, 4096), 5)
        assert chunk, received
        received += chunk
    assert received.startswith(b"HTTP/1.1 101")
    return sock


def reset(sock: socket.socket) -> None:
    """Close with an RST rather than a FIN (SO_LINGER on, timeout 0)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class ServerWrites:
    """The futures of the server's writes to its sockets (Tornado's own, which
    it retrieves itself), and a hook to reset the client in the middle of them:
    the server and this test share one thread, so the reset must come from
    within the server's work to land between two of its writes."""

    def __init__(self, monkeypatch: Any) -> None:
        self.futures: list[asyncio.Future[None]] = []
        self.reset_after: tuple[int, Any] | None = None
        write = tornado.iostream.IOStream.write

        def recorded(stream: Any, data: Any) -> Any:
            future = write(stream, data)
            self.futures.append(future)
            if (
                self.reset_after is not None
                and len(self.futures) >= self.reset_after[0]
            ):
                self.reset_after[1]()
                self.reset_after = None
            return future

        monkeypatch.setattr(tornado.iostream.IOStream, "write", recorded)

    def failed(self) -> int:
        return sum(f.done() and f.exception() is not None for f in self.futures)


async def until(predicate: Any, timeout: float = 10.0) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


@pytest.mark.gen_test(timeout=60)
async def test_a_reset_during_replies_logs_no_traceback(
    app: Any, http_server: Any, http_port: int, caplog: Any, monkeypatch: Any
) -> None:
    writes = ServerWrites(monkeypatch)
    loop = asyncio.get_running_loop()
    unhandled: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
    caplog.set_level(logging.DEBUG)
    burst = client_frame(BAD_CONNECT) * CONNECTS
    try:
        for _ in range(ROUNDS):
            sock = await open_websocket(http_port)
            writes.futures.clear()
            writes.reset_after = (RESET_AFTER, lambda s=sock: reset(s))
            try:
                await loop.sock_sendall(sock, burst)
                await until(lambda: writes.reset_after is None)
            finally:
                sock.close()  # already reset, unless the test failed
            await until(lambda: all(f.done() for f in writes.futures))
            assert writes.failed() > 0  # the reset interrupted the replies
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    assert not [c.get("message") for c in unhandled]
    assert not [r for r in caplog.records if r.exc_info]
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]


class BufferedConnection:
    """A WebSocket whose stream still holds the frame written last (the
    kernel's buffer was full): that frame's future fails if the peer goes."""

    def __init__(self) -> None:
        stream = SimpleNamespace(writing=lambda: True, closed=lambda: False)
        self.ws_connection = SimpleNamespace(stream=stream)
        self.written: list[asyncio.Future[None]] = []

    def write_message(self, data: Any, binary: bool = False) -> Any:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.written.append(future)
        return future


@pytest.mark.gen_test(timeout=10)
async def test_a_buffered_frame_the_reset_fails_logs_nothing() -> None:
    loop = asyncio.get_running_loop()
    unhandled: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
    try:
        connection = BufferedConnection()
        write_frame(connection, "42[]")
        connection.written.pop().set_exception(WebSocketClosedError())
        await asyncio.sleep(0)  # its done-callbacks run
        gc.collect()
    finally:
        loop.set_exception_handler(previous)
    assert not [c.get("message") for c in unhandled]
