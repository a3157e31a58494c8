"""Every request gets an answer: refused packets over raw long-polling requests.

python-engineio's ``close(wait=True)`` waits until a GET takes the CLOSE
packet, and GETs are refused once the session is closed: a POST carrying a
refused packet was never answered, and its session never freed. These tests
drive Engine.IO sessions by hand and count what the server holds exactly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from tests.raw_polling import RawPolling, handshake
from tests.raw_socket import RawSocket
from tornado_socketio_jwt import SocketLimits
from tornado_socketio_jwt.sockets.engine import Engine, engine_for
from tornado_socketio_jwt.sockets.limits import SessionTracker
from tornado_socketio_jwt.sockets.packets import PacketScreen

REFUSED = {
    "unknown packet type": "49",
    "too many attachments": '4511-["whoami",{"_placeholder":true,"num":0}]',
    "not a packet": "4{not json",
    "undecodable JSON": '40{"token":',
    "binary data with nothing awaiting it": "bAQID",
}
CLOSE = "1"


@pytest.fixture
def attach_options() -> dict[str, Any]:
    return {"limits": SocketLimits(connect_timeout=60)}


def parts(engine: Engine) -> tuple[SessionTracker, PacketScreen]:
    [tracker] = [x for x in engine.listeners if isinstance(x, SessionTracker)]
    [screen] = [x for x in engine.listeners if isinstance(x, PacketScreen)]
    return tracker, screen


def held(engine: Engine) -> tuple[int, int, int, int]:
    """What the server holds for Engine.IO sessions, counted exactly."""
    tracker, screen = parts(engine)
    return (
        engine.session_count(),
        engine.environ_count(),
        tracker.held(),
        len(screen.buffered),
    )


def no_traceback(caplog: Any) -> None:
    """No traceback and no error (a 500 included), python-engineio's one line
    for a request naming a closed session ("Invalid session") aside."""
    loud = [
        r
        for r in caplog.records
        if r.exc_info or (r.levelno >= logging.ERROR and r.name != "engineio.server")
    ]
    assert loud == [], [r.getMessage() for r in loud]


async def gone(client: RawPolling) -> None:
    """The session is closed: a poll gets its CLOSE packet or 400."""
    response = await client.get()
    assert response.code == 400 or response.body.decode() == CLOSE, response.body
    assert (await client.post("40")).code == 400


@pytest.mark.parametrize("packet", list(REFUSED.values()), ids=list(REFUSED))
@pytest.mark.gen_test
async def test_a_refused_packet_is_answered_and_closes_the_session(
    sio: Any,
    app: Any,
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
    caplog: Any,
    packet: str,
) -> None:
    engine = engine_for(sio)
    client = await RawPolling.open(http_port)
    assert (await client.connect({"token": make_token()})).startswith('40{"sid"')
    response = await client.post(packet)
    assert response.code == 200
    assert response.body == b"OK"
    await gone(client)
    assert held(engine) == (0, 0, 0, 0)
    no_traceback(caplog)


@pytest.mark.gen_test
async def test_a_poll_waiting_when_the_session_is_refused_gets_the_close_packet(
    app: Any, http_server: Any, http_port: int
) -> None:
    client = await RawPolling.open(http_port)
    poll = asyncio.ensure_future(client.get())
    await asyncio.sleep(0.2)  # the poll is waiting on the server
    assert (await client.post("49")).code == 200
    assert (await asyncio.wait_for(poll, 5)).body.decode() == CLOSE
    assert (await client.get()).code == 400


@pytest.mark.gen_test(timeout=60)
async def test_hundreds_of_refused_posts_leave_nothing_behind(
    sio: Any, app: Any, http_server: Any, http_port: int, caplog: Any
) -> None:
    engine = engine_for(sio)
    baseline = held(engine)
    kinds = list(REFUSED.values())
    for i in range(300):
        client = await RawPolling.open(http_port)
        response = await client.post(kinds[i % len(kinds)])
        assert response.code == 200
    assert held(engine) == baseline == (0, 0, 0, 0)
    no_traceback(caplog)


@pytest.mark.gen_test
async def test_a_request_for_a_session_closed_by_its_client_is_a_400_not_a_500(
    sio: Any, app: Any, http_server: Any, http_port: int, caplog: Any
) -> None:
    """python-engineio keeps a session its client closed until a poll or its
    service task reaps it; a request in between failed with a traceback."""
    client = await RawPolling.open(http_port)
    assert (await client.post(CLOSE)).code == 200  # Engine.IO CLOSE
    assert (await client.post("40")).code == 400
    assert (await client.get()).code == 400
    no_traceback(caplog)


@pytest.mark.parametrize(
    "attach_options", [{"limits": SocketLimits(connect_timeout=0.5)}]
)
@pytest.mark.gen_test(timeout=30)
async def test_the_connect_deadline_closes_polling_and_websockets_together(
    sio: Any, app: Any, http_server: Any, http_port: int, attach_options: Any
) -> None:
    """A polling session nobody polls does not hold back the WebSockets
    closed in the same batch."""
    engine = engine_for(sio)
    polling = [await RawPolling.open(http_port) for _ in range(4)]
    websockets = [await RawSocket.open(http_port) for _ in range(4)]
    try:
        for raw in websockets:
            assert await raw.read_until("\x00never", 5) == ""  # closed
        for _ in range(100):  # bounded: the last closes follow
            if held(engine) == (0, 0, 0, 0):
                break
            await asyncio.sleep(0.05)
        assert held(engine) == (0, 0, 0, 0)
        for client in polling:
            await gone(client)
    finally:
        for raw in websockets:
            raw.close()


class FailingListener:
    """A session listener that raises where it is told."""

    def __init__(self, on: str) -> None:
        self.on = on

    def session_refusal(self, environ: dict[str, Any]) -> None:
        return None

    def session_opened(self, eio_sid: str, environ: dict[str, Any]) -> None:
        if self.on == "open":
            raise RuntimeError("listener fault")

    def session_closed(self, eio_sid: str) -> None:
        if self.on == "close":
            raise RuntimeError("listener fault")


@pytest.mark.gen_test
async def test_a_listener_that_fails_refuses_the_session_and_spares_the_others(
    sio: Any, app: Any, http_server: Any, http_port: int, caplog: Any
) -> None:
    """Fail closed: a listener that raises on a new session refuses it (401), and
    one that raises on a close does not keep the others from hearing of it
    (the per-address count would stay taken)."""
    engine = engine_for(sio)
    tracker, _ = parts(engine)
    caplog.set_level(logging.ERROR, logger="tornado_socketio_jwt")
    engine.listeners.insert(0, FailingListener("open"))
    assert (await handshake(http_port)).code == 401
    assert tracker.held() == 0
    engine.listeners[0] = FailingListener("close")
    polling = await RawPolling.open(http_port)
    assert tracker.held() == 1
    await polling.post("1")  # the client closes its session
    for _ in range(100):  # bounded: the server reads the close
        if tracker.held() == 0:
            break
        await asyncio.sleep(0.05)
    assert tracker.held() == 0
    assert "session listener failed" in caplog.text
