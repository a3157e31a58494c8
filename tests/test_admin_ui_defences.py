"""python-socketio's Admin UI leaves every defence on, whenever it is instrumented.

``instrument()`` registers Engine.IO's ``connect`` and ``disconnect`` handlers
again and wraps the dispatch; built as the README recommends (``attach_jwt_auth``
with ``exempt_namespaces=("/admin",)``, then ``instrument()``), the per-address
limit and the CONNECT deadline were switched off. Here: instrumented after
attaching, before it, and undone with ``uninstrument()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import socketio
import tornado.web

from tests.conftest import stop
from tests.raw_polling import RawPolling, handshake
from tests.raw_socket import RawSocket
from tests.support import connected_client, server_url
from tornado_socketio_jwt import AuthSettings, SocketLimits, attach_jwt_auth

ADMIN = {"username": "admin", "password": "admin-password-1"}
LIMITS = SocketLimits(max_connections_per_address=2, connect_timeout=0.5)


# Whether ``instrument()`` comes after ``attach_jwt_auth`` or before it.
ORDERS = pytest.mark.parametrize("instrumented", ["after", "before"])


@pytest.fixture
def instrumented() -> str:
    return "after"


@pytest.fixture
def uninstrumented() -> bool:
    return False


@pytest.fixture
def servers() -> list[Any]:
    """The app's ``socketio.AsyncServer``, for tests that look inside it."""
    return []


@pytest.fixture
def app(
    settings: AuthSettings,
    io_loop: Any,
    instrumented: str,
    uninstrumented: bool,
    servers: list[Any],
) -> Any:
    sio = socketio.AsyncServer(async_mode="tornado")
    servers.append(sio)
    admin = None
    if instrumented == "before":
        admin = sio.instrument(auth=ADMIN)
    settings = replace(
        settings, routes=("socketio",), exempt_namespaces=("/admin",), limits=LIMITS
    )
    specs = attach_jwt_auth(sio, settings)
    if admin is None:
        admin = sio.instrument(auth=ADMIN)
    if uninstrumented:
        admin.uninstrument()
    yield tornado.web.Application(specs)
    io_loop.run_sync(admin.shutdown)
    admin.uninstrument()  # it patches engine.io's classes for the whole process
    io_loop.run_sync(lambda: stop(sio))


@ORDERS
@pytest.mark.parametrize("uninstrumented", [False, True])
@pytest.mark.gen_test(timeout=30)
async def test_the_per_address_limit_and_the_connect_deadline_hold(
    http_server: Any, http_port: int, instrumented: str, uninstrumented: bool
) -> None:
    silent = await RawSocket.open(http_port)
    polling = await RawPolling.open(http_port)
    try:
        assert (await handshake(http_port)).code == 401  # the third session
        assert await silent.read_until("\x00never", 5) == ""  # closed in time
        for _ in range(100):  # bounded: the polling session is closed too
            if (await polling.post("40")).code == 400:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the silent polling session was kept")
    finally:
        silent.close()


@ORDERS
@pytest.mark.parametrize("uninstrumented", [False, True])
@pytest.mark.gen_test
async def test_the_gate_stays_in_front_of_the_application(
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
    instrumented: str,
    uninstrumented: bool,
) -> None:
    async with connected_client(server_url(http_port), auth={"x": 1}) as result:
        assert not result.connected
    error = result.connect_errors[0]
    assert error.get("data", error)["code"] == "credentials_required"
    async with connected_client(
        server_url(http_port), auth={"token": make_token()}
    ) as result:
        assert result.connected
    async with connected_client(
        server_url(http_port), namespaces=["/admin"], auth=ADMIN
    ) as result:
        assert result.connected  # exempt: it authenticates its own sockets


@ORDERS
@pytest.mark.gen_test(timeout=30)
async def test_refused_connects_leave_nothing_in_the_admin_uis_timestamps(
    http_server: Any, http_port: int, servers: list[Any], instrumented: str
) -> None:
    """The Admin UI notes every CONNECT before the gate decides, and forgets it
    only on a disconnect, which a refused socket never gets: the gate forgets
    it for it (3,000 refusals on one session once left 3,000 entries)."""
    [sio] = servers
    raw = await RawSocket.open(http_port)
    try:
        for _ in range(50):
            assert (await raw.connect({"token": "not-a-token"})).startswith("44")
        assert sio.manager._timestamps == {}
    finally:
        raw.close()
