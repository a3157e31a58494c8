"""Unfinished HTTP requests are closed after the header or body timeout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import tornado.httpserver
import tornado.iostream
import tornado.tcpclient
import tornado.testing

from tornado_socketio_jwt.web.server_options import http_server_options

SHORT = 0.3


@asynccontextmanager
async def short_server(app: Any) -> AsyncIterator[int]:
    """``app`` behind an HTTPServer with the recommended options, made short."""
    sock, port = tornado.testing.bind_unused_port()
    options = http_server_options(header_timeout=SHORT, body_timeout=SHORT)
    server = tornado.httpserver.HTTPServer(app, **options)
    server.add_sockets([sock])
    try:
        yield port
    finally:
        server.stop()
        await server.close_all_connections()


async def closed_within(port: int, sent: bytes, timeout: float) -> bool:
    """Send ``sent`` and report whether the server closes within ``timeout``."""
    stream = await tornado.tcpclient.TCPClient().connect("127.0.0.1", port)
    try:
        await stream.write(sent)
        await asyncio.wait_for(stream.read_until_close(), timeout)
        return True
    except asyncio.TimeoutError:
        return False
    finally:
        stream.close()


@pytest.mark.gen_test
async def test_a_request_without_the_end_of_its_headers_is_closed(app: Any) -> None:
    sent = b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    async with short_server(app) as port:
        assert await closed_within(port, sent, timeout=SHORT + 2)


@pytest.mark.gen_test
async def test_a_request_without_the_rest_of_its_body_is_closed(app: Any) -> None:
    sent = (
        b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    )
    async with short_server(app) as port:
        assert await closed_within(port, sent, timeout=SHORT + 2)


@pytest.mark.gen_test
async def test_tornados_default_would_have_kept_it_open(
    http_server: Any, http_port: int
) -> None:
    sent = b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    assert not await closed_within(http_port, sent, timeout=SHORT + 0.5)


def test_the_recommended_values() -> None:
    assert http_server_options() == {
        "idle_connection_timeout": 10.0,
        "body_timeout": 30.0,
        "max_header_size": 16384,
        "max_body_size": 1048576,
    }


def test_values_must_be_positive() -> None:
    with pytest.raises(ValueError):
        http_server_options(body_timeout=0)
