"""Binary packets waiting for attachments: bounded per client, not only per packet.

python-socketio keeps one incomplete binary packet per Engine.IO session; a
client with many sockets could make the server hold ten attachments of up to
1 MB on each. The bytes buffered are totalled per address and per user.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.raw_socket import RawSocket
from tornado_socketio_jwt import AuthSettings, SocketLimits
from tornado_socketio_jwt.sockets.buffered import BufferedBinary
from tornado_socketio_jwt.sockets.engine import engine_for
from tornado_socketio_jwt.sockets.packets import PacketScreen

BUDGET = 3000
TWO_ATTACHMENTS = (
    '452-1["whoami",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'
)


@pytest.fixture
def attach_options() -> dict[str, Any]:
    return {"limits": SocketLimits(max_buffered_bytes=BUDGET)}


def screen_of(sio: Any) -> PacketScreen:
    [screen] = [x for x in engine_for(sio).listeners if isinstance(x, PacketScreen)]
    return screen


async def closed(raw: RawSocket, timeout: float = 5.0) -> bool:
    try:
        return await raw.read_until("\x00never", timeout) == ""
    except asyncio.TimeoutError:
        return False


async def until(condition: Callable[[], bool]) -> None:
    """Wait (bounded) until the server has read what was sent."""
    for _ in range(100):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not reached")


async def half_a_packet(raw: RawSocket, size: int) -> None:
    """A binary event announcing two attachments, and only the first of them."""
    await raw.send(TWO_ATTACHMENTS)
    await raw.conn.write_message(b"x" * size, binary=True)


def test_the_budget_is_per_address_and_per_user() -> None:
    buffered = BufferedBinary(budget=100)
    assert buffered.start("a", 2, 10, "10.0.0.1", "alice")
    assert buffered.attachment("a", 50) == (True, True)  # 60 held
    # another address, the same user: 60 + 50 > 100
    assert not buffered.start("b", 2, 50, "10.0.0.2", "alice")
    buffered.release("b")
    # another user on the first address: 60 + 50 > 100
    assert not buffered.start("c", 2, 50, "10.0.0.1", "bob")
    buffered.release("c")
    # someone else entirely is not affected
    assert buffered.start("d", 1, 90, "10.0.0.3", "carol")
    assert buffered.held(user="alice") == buffered.held(address="10.0.0.1") == 60
    assert buffered.attachment("a", 5) == (True, True)  # the last: released
    assert buffered.held(user="alice") == buffered.held(address="10.0.0.1") == 0
    buffered.release("d")
    assert len(buffered) == 0 and buffered.held() == 0


def test_the_attachments_of_a_dropped_packet_are_dropped_and_not_counted() -> None:
    buffered = BufferedBinary(budget=10)
    assert buffered.start("a", 2, 1000, "10.0.0.1", None, delivered=False)
    assert buffered.skipping("a")
    assert buffered.attachment("a", 1000) == (True, False)
    assert buffered.held() == 0


@pytest.mark.gen_test
async def test_past_the_budget_the_session_adding_more_is_closed(
    sio: Any,
    app: Any,
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
) -> None:
    screen = screen_of(sio)
    first, second = await RawSocket.open(http_port), await RawSocket.open(http_port)
    try:
        for raw, sub in ((first, "1"), (second, "2")):
            assert (await raw.connect({"token": make_token(sub=sub)})).startswith("40")
        await half_a_packet(first, 2000)
        await until(lambda: screen.buffered.held(address="127.0.0.1") > 2000)
        await half_a_packet(second, 2000)  # same address: past 3000
        assert await closed(second)
        # the first client is not affected, and its packet completes
        await first.conn.write_message(b"y", binary=True)
        assert '"sub":"1"' in (await first.read_until("431")).replace(" ", "")
        assert screen.buffered.held() == 0 and len(screen.buffered) == 0
    finally:
        first.close()
        second.close()


@pytest.mark.gen_test
async def test_a_session_closed_mid_packet_frees_what_it_buffered(
    sio: Any,
    app: Any,
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
) -> None:
    screen = screen_of(sio)
    raw = await RawSocket.open(http_port)
    try:
        assert (await raw.connect({"token": make_token()})).startswith("40")
        await half_a_packet(raw, 1000)
        await until(lambda: screen.buffered.held() > 1000)
    finally:
        raw.close()
    await until(lambda: len(screen.buffered) == 0)
    assert screen.buffered.held() == 0


@pytest.mark.gen_test
async def test_a_packet_the_server_dropped_by_disconnecting_is_not_counted_on(
    sio: Any,
    app: Any,
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
) -> None:
    """python-socketio drops a socket's incomplete binary packet when the server
    disconnects it (a logout's kick, a refusal, the app's ``sio.disconnect``):
    the next messages are packets again, screened as such, so a header
    announcing too many attachments still closes the session (the screen once
    took them for the dropped packet's attachments and let them through)."""
    screen = screen_of(sio)
    raw = await RawSocket.open(http_port)
    try:
        answer = await raw.connect({"token": make_token()})
        sid = json.loads(answer[2:])["sid"]
        await raw.send(TWO_ATTACHMENTS)
        await until(lambda: screen.buffered.held() > 0)
        await sio.disconnect(sid)  # the server's side: python-socketio drops it
        assert (await raw.read_until("41")).startswith("41")
        assert (await raw.connect({"token": make_token()})).startswith('40{"sid"')
        assert screen.buffered.held() == 0 and len(screen.buffered) == 0
        await raw.send('45999-["upload"]')
        assert await closed(raw)
    finally:
        raw.close()


class TestEventFlow:
    """Connected but not yet authenticated: no binary packet may start."""

    @pytest.fixture
    def settings(self, secret: str) -> AuthSettings:
        return AuthSettings(secret=secret, token_ttl=60, auth_flow="event")

    @pytest.mark.gen_test
    async def test_a_binary_packet_before_authenticate_closes_the_session(
        self, sio: Any, app: Any, http_server: Any, http_port: int
    ) -> None:
        raw = await RawSocket.open(http_port)
        try:
            assert (await raw.connect()).startswith('40{"sid"')
            await raw.send('451-["authenticate",{"_placeholder":true,"num":0}]')
            assert await closed(raw)
        finally:
            raw.close()
        assert len(screen_of(sio).buffered) == 0
