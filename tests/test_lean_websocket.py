"""The engine room's WebSocket driver: python-engineio's protocol written
straight to Tornado's WebSocket, without per-socket queues, reader and writer
tasks or ping tasks; both transports and the upgrade keep working."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import replace
from typing import Any

import pytest
import socketio
import tornado.httpclient
import tornado.web
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from tests.conftest import stop
from tests.support import connected_client, server_url
from tornado_socketio_jwt import AuthSettings, attach_jwt_auth
from tornado_socketio_jwt.sockets.engine import engine_for
from tornado_socketio_jwt.sockets.engine_websocket import DirectQueue, LeanSocket

SOCKETS = 12


@pytest.fixture
def app(settings: AuthSettings, users: Any, io_loop: Any) -> Any:
    # Short pings (python-engineio announces whole seconds): several rounds
    # of the timer wheel fit in a test.
    sio = socketio.AsyncServer(async_mode="tornado", ping_interval=1, ping_timeout=2)
    order: list[tuple[str, int]] = []
    release = asyncio.Event()

    async def slow(sid: str, n: int) -> int:
        order.append((sid, n))
        if n == 0:
            await release.wait()  # the first one waits for the test
        return n

    sio.on("slow", slow)
    specs = attach_jwt_auth(sio, replace(settings, events=("whoami",)), users=users)
    yield tornado.web.Application(specs, sio=sio, order=order, release=release)
    io_loop.run_sync(lambda: stop(sio))


def sessions(app: Any) -> list[Any]:
    return list(engine_for(app.settings["sio"]).eio.sockets.values())


async def until(predicate: Any, timeout: float = 5.0) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


@pytest.mark.gen_test(timeout=20)
async def test_a_websocket_session_writes_directly_and_keeps_no_task(
    app: Any, http_server: Any, http_port: int, make_token: Any
) -> None:
    url = server_url(http_port)
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                connected_client(url, auth={"token": make_token()})
            )
            for _ in range(SOCKETS)
        ]
        assert all(c.client.connected for c in clients)
        held = sessions(app)
        assert len(held) == SOCKETS
        for session in held:
            assert isinstance(session, LeanSocket)
            assert session.connection is not None
            assert isinstance(session.queue, DirectQueue)
        # python-engineio's own driver keeps, per WebSocket, a ping task, a
        # writer task and a reader waiting with a timeout: none is left.
        assert engineio_tasks() <= 1  # its service task, one per server
        for c in clients:
            assert (await c.client.call("whoami", timeout=5))["sub"]
    await until(lambda: not sessions(app))


def engineio_tasks() -> int:
    """Server-side tasks running python-engineio's coroutines."""
    count = 0
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        name = code.co_filename if code is not None else ""
        if name.endswith(("engineio/async_socket.py", "engineio/async_server.py")):
            count += 1
    return count


@pytest.mark.gen_test(timeout=20)
async def test_pings_come_from_the_timer_wheel_and_keep_the_socket(
    app: Any, http_server: Any, http_port: int, make_token: Any
) -> None:
    async with connected_client(
        server_url(http_port), auth={"token": make_token()}
    ) as result:
        (session,) = sessions(app)
        pings: list[float] = []
        ping = session.ping

        def counted() -> None:
            pings.append(session.server.ping_interval)
            ping()

        session.ping = counted  # what the wheel calls, once per interval
        await until(lambda: len(pings) >= 3, timeout=10)
        await until(lambda: session.last_ping is None)  # the last PONG came
        assert result.client.connected
        assert (await result.client.call("whoami", timeout=5))["sub"]


@pytest.mark.gen_test(timeout=20)
async def test_an_upgrade_from_polling_attaches_the_websocket(
    app: Any, http_server: Any, http_port: int, make_token: Any
) -> None:
    async with connected_client(
        server_url(http_port),
        auth={"token": make_token()},
        transports=["polling", "websocket"],
    ) as result:
        assert result.client.connected
        (session,) = sessions(app)
        await until(lambda: session.connection is not None)
        assert session.upgraded and not session.upgrading
        for _ in range(3):
            assert (await result.client.call("whoami", timeout=5))["sub"]
    await until(lambda: not sessions(app))


async def polling_session(port: int) -> str:
    client = tornado.httpclient.AsyncHTTPClient()
    url = f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling"
    body = (await client.fetch(url)).body.decode()
    assert body.startswith("0{")
    sid: str = socketio.packet.Packet.json.loads(body[1:])["sid"]
    return sid


@pytest.mark.gen_test(timeout=20)
async def test_a_failed_upgrade_closes_the_websocket_and_keeps_polling(
    app: Any, http_server: Any, http_port: int
) -> None:
    sid = await polling_session(http_port)
    url = f"ws://127.0.0.1:{http_port}/socket.io/?EIO=4&transport=websocket&sid={sid}"
    conn = await websocket_connect(HTTPRequest(url))
    conn.write_message("4not a probe")
    assert await asyncio.wait_for(conn.read_message(), 5) is None  # closed
    conn.close()
    (session,) = sessions(app)
    assert not session.upgraded and not session.upgrading and not session.closed
    assert session.connection is None


@pytest.mark.gen_test(timeout=20)
async def test_a_client_that_goes_away_ends_its_session(
    app: Any, http_server: Any, http_port: int, make_token: Any
) -> None:
    url = f"ws://127.0.0.1:{http_port}/socket.io/?EIO=4&transport=websocket"
    conn = await websocket_connect(HTTPRequest(url))
    assert str(await asyncio.wait_for(conn.read_message(), 5)).startswith("0{")
    conn.write_message('40{"token": "' + make_token() + '"}')
    assert str(await asyncio.wait_for(conn.read_message(), 5)).startswith("40")
    assert len(sessions(app)) == 1
    conn.close()
    await until(lambda: not sessions(app))
    assert engine_for(app.settings["sio"]).environ_count() == 0


@pytest.mark.gen_test(timeout=20)
async def test_a_slow_handler_stalls_neither_other_sockets_nor_its_order(
    app: Any, http_server: Any, http_port: int, make_token: Any
) -> None:
    url = server_url(http_port)
    order, release = app.settings["order"], app.settings["release"]
    async with (
        connected_client(url, auth={"token": make_token()}) as slow,
        connected_client(url, auth={"token": make_token()}) as other,
    ):
        first = asyncio.ensure_future(slow.client.call("slow", 0, timeout=10))
        await until(lambda: len(order) == 1)
        second = asyncio.ensure_future(slow.client.call("slow", 1, timeout=10))
        # The other socket is answered while the first handler still waits.
        assert (await other.client.call("whoami", timeout=5))["sub"]
        assert (await other.client.call("slow", 2, timeout=5)) == 2
        assert not first.done()
        release.set()
        assert await first == 0 and await second == 1
        slow_sid = order[0][0]
        assert [n for sid, n in order if sid == slow_sid] == [0, 1]
