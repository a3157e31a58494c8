"""What the engine room's WebSocket driver (``sockets/engine_websocket.py``)
rests on in python-engineio: one test per internal, so that an upgrade that
changes one fails here, by name."""

from __future__ import annotations

import inspect
from typing import Any

import engineio
import pytest
import socketio
import tornado.httputil
from engineio import async_server, async_socket, packet
from engineio.async_drivers import tornado as tornado_driver

from tornado_socketio_jwt.sockets.engine import engine_for
from tornado_socketio_jwt.sockets.engine_websocket import (
    DirectWebSocket,
    translate_request,
)


def test_the_driver_table_is_per_server_and_names_the_websocket_and_translation() -> (
    None
):
    plain = engineio.AsyncServer(async_mode="tornado")
    assert {"websocket", "translate_request", "make_response"} <= set(plain._async)
    sio = socketio.AsyncServer(async_mode="tornado")
    engine_for(sio)
    assert sio.eio._async["websocket"] is DirectWebSocket
    # Another server keeps python-engineio's own driver.
    assert plain._async["websocket"] is not DirectWebSocket


def test_requests_are_translated_through_the_driver_table() -> None:
    source = inspect.getsource(async_server.AsyncServer.handle_request)
    assert "self._async['translate_request']" in source


def test_an_upgrade_calls_the_websocket_entry_with_the_sockets_handler() -> None:
    source = inspect.getsource(async_socket.AsyncSocket._upgrade_websocket)
    assert "self.server._async['websocket'](" in source
    assert "self._websocket_handler, self.server)" in source
    assert "return await ws(environ)" in source


def test_a_websocket_session_is_connected_before_its_first_ping_is_scheduled() -> None:
    source = inspect.getsource(async_server.AsyncServer._handle_connect)
    connect = source.index("self._trigger_event('connect'")
    assert connect < source.index("s.schedule_ping()")
    assert "s = async_socket.AsyncSocket(self, sid)" in source
    assert "await s.handle_get_request(environ)" in source


def test_the_socket_methods_the_driver_overrides_or_calls() -> None:
    sock = async_socket.AsyncSocket
    for name in ("send", "receive", "close", "check_ping_timeout"):
        assert inspect.iscoroutinefunction(getattr(sock, name)), name
    assert not inspect.iscoroutinefunction(sock.schedule_ping)
    assert list(inspect.signature(sock.send).parameters) == ["self", "pkt"]
    assert list(inspect.signature(sock.close).parameters) == [
        "self",
        "wait",
        "abort",
        "reason",
    ]
    source = inspect.getsource(sock.schedule_ping)
    assert "if self.last_ping:" in source and "self.last_ping = None" in source
    ping = inspect.getsource(sock._send_ping)
    assert "self.last_ping = time.time()" in ping


@pytest.mark.gen_test
async def test_a_new_socket_has_a_queue_and_a_last_ping() -> None:
    eio = engineio.AsyncServer(async_mode="tornado")
    sock = async_socket.AsyncSocket(eio, "sid")
    assert sock.queue.empty() and sock.last_ping
    assert not (sock.connected or sock.upgraded or sock.upgrading)


def test_packets_decode_and_encode_as_the_driver_uses_them() -> None:
    assert packet.Packet(encoded_packet="2probe").packet_type == packet.PING
    assert packet.Packet(encoded_packet="2probe").data == "probe"
    assert packet.Packet(packet.PONG, "probe").encode() == "3probe"
    assert packet.Packet(encoded_packet="5").packet_type == packet.UPGRADE
    assert isinstance(packet.Packet(packet.MESSAGE, b"\x01").encode(), bytes)


class _Handler:
    def __init__(self, request: Any) -> None:
        self.request = request


@pytest.mark.parametrize(("method", "body"), [("POST", b"4hello"), ("GET", b"")])
@pytest.mark.gen_test
async def test_the_environ_is_python_engineios_field_for_field(
    method: str, body: bytes
) -> None:
    headers = tornado.httputil.HTTPHeaders(
        {
            "Host": "127.0.0.1",
            "Content-Type": "text/plain",
            "X-Forwarded-Proto": "https",
            "Cookie": "a=b",
        }
    )
    headers.add("Cookie", "c=d")
    start = tornado.httputil.RequestStartLine(
        method, "/socket.io/?EIO=4&transport=polling", "HTTP/1.1"
    )
    request = tornado.httputil.HTTPServerRequest(
        start_line=start, headers=headers, body=body
    )
    ours = translate_request(_Handler(request))
    theirs = tornado_driver.translate_request(_Handler(request))
    assert await ours.pop("wsgi.input").read() == await theirs.pop("wsgi.input").read()
    assert ours == {**theirs, "tornado.handler": ours["tornado.handler"]}
