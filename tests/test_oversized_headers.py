"""Headers over the size limit are answered 431, as HTTP says, not reset."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import pytest
import tornado.iostream
import tornado.tcpclient
import tornado.testing

from tornado_socketio_jwt.cli.serve import StandaloneHTTPServer
from tornado_socketio_jwt.web.server_options import MAX_HEADER_SIZE, http_server_options


@asynccontextmanager
async def serving(
    app: Any, server_class: Any = StandaloneHTTPServer
) -> AsyncIterator[int]:
    sock, port = tornado.testing.bind_unused_port()
    server = server_class(app, **http_server_options())
    server.add_sockets([sock])
    try:
        yield port
    finally:
        server.stop()
        await server.close_all_connections()


async def exchange(port: int, sent: bytes, timeout: float = 5.0) -> bytes:
    """Write ``sent`` on a raw connection; what the server answers before closing."""
    stream = await tornado.tcpclient.TCPClient().connect("127.0.0.1", port)
    try:
        with suppress(tornado.iostream.StreamClosedError):
            await stream.write(sent)
        return await asyncio.wait_for(stream.read_until_close(), timeout)
    finally:
        stream.close()


def request(header_bytes: int) -> bytes:
    return (
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + b"X-Big: "
        + b"a" * header_bytes
        + b"\r\n\r\n"
    )


@pytest.mark.parametrize("size", [MAX_HEADER_SIZE + 1, MAX_HEADER_SIZE * 3])
@pytest.mark.gen_test
async def test_headers_past_the_limit_are_answered_431(app: Any, size: int) -> None:
    async with serving(app) as port:
        answer = await exchange(port, request(size))
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:80]


@pytest.mark.gen_test
async def test_headers_within_the_limit_are_served_and_kept_alive(app: Any) -> None:
    async with serving(app) as port:
        stream = await tornado.tcpclient.TCPClient().connect("127.0.0.1", port)
        try:
            for _ in range(2):  # the same connection, twice
                await stream.write(request(MAX_HEADER_SIZE // 2))
                status = await asyncio.wait_for(stream.read_until(b"\r\n"), 5)
                assert status.startswith(b"HTTP/1.1 "), status
                assert not status.startswith(b"HTTP/1.1 431")
                head = await asyncio.wait_for(stream.read_until(b"\r\n\r\n"), 5)
                length = int(
                    next(
                        h
                        for h in head.split(b"\r\n")
                        if h.lower().startswith(b"content-length")
                    ).split(b":")[1]
                )
                await stream.read_bytes(length)
        finally:
            stream.close()


@pytest.mark.gen_test
async def test_a_malformed_request_still_gets_tornados_400(app: Any) -> None:
    async with serving(app) as port:
        answer = await exchange(port, b"NOT HTTP\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")
