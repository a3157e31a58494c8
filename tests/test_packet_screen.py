"""Raw packets a hostile client sends: screened before python-socketio decodes them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from tests.raw_socket import RawSocket
from tornado_socketio_jwt.sockets.packets import read_header


def no_noise(caplog: Any) -> None:
    """Nothing at WARNING or above, and no traceback, was logged."""
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert loud == [], [r.getMessage() for r in loud]


async def closed(raw: RawSocket, timeout: float = 5.0) -> bool:
    try:
        return await raw.read_until("\x00never", timeout) == ""
    except asyncio.TimeoutError:
        return False


@pytest.mark.gen_test
async def test_a_binary_event_within_the_attachment_limit_is_handled(
    http_server: Any, http_port: int, make_token: Callable[..., str]
) -> None:
    raw = await RawSocket.open(http_port)
    try:
        assert (await raw.connect({"token": make_token()})).startswith('40{"sid"')
        await raw.send('451-1["whoami",{"_placeholder":true,"num":0}]')
        await raw.conn.write_message(b"\x01", binary=True)
        assert '"sub":"1"' in (await raw.read_until("431")).replace(" ", "")
    finally:
        raw.close()


@pytest.mark.parametrize("count", ["11", "99999999", "99999999999", "x"])
@pytest.mark.gen_test
async def test_announcing_too_many_attachments_closes_the_session(
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
    caplog: Any,
    count: str,
) -> None:
    raw = await RawSocket.open(http_port)
    try:
        await raw.connect({"token": make_token()})
        await raw.send(f'45{count}-["whoami",{{"_placeholder":true,"num":0}}]')
        assert await closed(raw)
    finally:
        raw.close()
    no_noise(caplog)


@pytest.mark.parametrize("packet", ['42["whoami"]', '451-["x",{"_placeholder":true}]'])
@pytest.mark.gen_test
async def test_an_event_from_a_session_that_never_sent_connect_closes_it_unread(
    http_server: Any, http_port: int, caplog: Any, packet: str
) -> None:
    """As Node's socket.io does ("invalid state"): no free reads of big events."""
    caplog.set_level(logging.INFO)
    raw = await RawSocket.open(http_port)
    try:
        await raw.send(packet)
        assert await closed(raw)
    finally:
        raw.close()
    assert not [r for r in caplog.records if "received event" in r.getMessage()]
    no_noise(caplog)


@pytest.mark.gen_test
async def test_events_on_a_namespace_not_connected_are_dropped_unread_and_unlogged(
    http_server: Any, http_port: int, make_token: Callable[..., str], caplog: Any
) -> None:
    caplog.set_level(logging.INFO)
    raw = await RawSocket.open(http_port)
    try:
        assert (await raw.connect({"token": make_token()})).startswith('40{"sid"')
        for _ in range(50):
            await raw.send('42/elsewhere,["whoami"]')
            await raw.send('451-/elsewhere,["whoami",{"_placeholder":true,"num":0}]')
        assert (await raw.call("whoami"))[0]["sub"] == "1"  # "/" still connected
    finally:
        raw.close()
    assert not [r for r in caplog.records if "received event" in r.getMessage()]
    no_noise(caplog)


@pytest.mark.parametrize(
    "frame",
    [
        "44",
        "49",
        "4x",
        '44{"message":"x"}',
        "42[",
        '42["whoami",',
        "42" + "[" * 50000,
        '45\u00b2-["message",{"_placeholder":true,"num":0}]',  # '²'.isdigit()
    ],
)
@pytest.mark.gen_test
async def test_a_malformed_packet_closes_the_session_without_a_traceback(
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
    caplog: Any,
    frame: str,
) -> None:
    raw = await RawSocket.open(http_port)
    try:
        await raw.connect({"token": make_token()})
        await raw.send(frame)
        assert await closed(raw)
    finally:
        raw.close()
    no_noise(caplog)


@pytest.mark.parametrize(
    ("packet", "header"),
    [
        ('2["a"]', ("2", 0, "/")),
        ('2/chat,["a"]', ("2", 0, "/chat")),
        ("0/chat?x=1,{}", ("0", 0, "/chat")),
        ('52-/b,1["a"]', ("5", 2, "/b")),
        ('5-["a"]', ("5", -1, "/")),
        ('5123456789012-["a"]', ("5", -1, "/")),
        ('5\u00b2-["a"]', ("5", -1, "/")),
        ('5\u0661-["a"]', ("5", -1, "/")),
    ],
)
def test_the_header_is_read_as_python_socketio_reads_it(
    packet: str, header: tuple[str, int, str]
) -> None:
    assert read_header(packet) == header
