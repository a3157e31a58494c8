"""Lifecycle events come from the transport, never from a client's packet.

A hostile client with a valid token sends EVENT packets named ``connect``,
``disconnect`` and the other reserved names, and malformed ones: nothing
changes. The socket keeps its identity, is still cut at ``exp`` and by
logout, and the event flow's timeout still fires.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.raw_socket import RawSocket
from tests.revocation_support import logout
from tornado_socketio_jwt import AuthSettings, authenticator_for

RESERVED = ("connect", "disconnect", "connect_error", "__disconnect_final")


@pytest.fixture
def flow() -> str:
    return "handshake"


@pytest.fixture
def settings(secret: str, flow: str) -> AuthSettings:
    return AuthSettings(secret=secret, token_ttl=60, auth_flow=flow, auth_timeout=1.0)


@pytest.fixture
def app_disconnects(sio: Any) -> list[str]:
    ran: list[str] = []

    @sio.event
    async def disconnect(sid: str, reason: Any = None) -> None:
        ran.append(sid)

    return ran


async def connected(port: int, token: str) -> RawSocket:
    raw = await RawSocket.open(port)
    assert (await raw.connect({"token": token})).startswith('40{"sid"')
    return raw


async def send_reserved(raw: RawSocket, token: str) -> None:
    for name in RESERVED:
        await raw.emit(name, {"token": token})
        await raw.emit(name, {"token": token}, ack=7)


@pytest.mark.gen_test
async def test_a_client_event_named_connect_does_not_switch_identity(
    http_server: Any, http_port: int, make_token: Callable[..., str], sio: Any
) -> None:
    raw = await connected(http_port, make_token(sub="1"))
    try:
        await send_reserved(raw, make_token(sub="2"))
        claims = await raw.call("whoami")
        assert claims[0]["sub"] == "1"
        [(sid, _)] = list(authenticator_for(sio).live)
        assert (authenticator_for(sio).live.claims(sid, "/") or {})["sub"] == "1"
    finally:
        raw.close()


@pytest.mark.gen_test
async def test_a_client_event_named_disconnect_runs_no_handler_and_logout_still_cuts(
    http_server: Any,
    http_port: int,
    http_client: Any,
    make_token: Callable[..., str],
    app_disconnects: list[str],
    sio: Any,
) -> None:
    token = make_token()
    raw = await connected(http_port, token)
    try:
        await send_reserved(raw, token)
        assert (await raw.call("whoami"))[0]["sub"] == "1"
        assert app_disconnects == []
        assert len(authenticator_for(sio).live) == 1
        assert (await logout(http_client, http_port, token)).code == 204
        assert (await raw.read_until('42["token_revoked"')).startswith("42")
        assert await raw.read_until("41") == "41"
    finally:
        raw.close()


@pytest.mark.gen_test(timeout=10)
async def test_reserved_events_do_not_stop_the_expiry(
    http_server: Any, http_port: int, make_token: Callable[..., str]
) -> None:
    token = make_token(exp=int(time.time()) + 1)
    raw = await connected(http_port, token)
    try:
        await send_reserved(raw, token)
        frame = await raw.read_until('42["token_expired"', timeout=4)
        assert frame.startswith('42["token_expired"')
        assert await raw.read_until("41") == "41"
    finally:
        raw.close()


@pytest.mark.parametrize("flow", ["event"])
@pytest.mark.gen_test(timeout=10)
async def test_reserved_events_neither_cancel_nor_rearm_the_authenticate_timeout(
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
    app_disconnects: list[str],
    flow: str,
) -> None:
    raw = await connected(http_port, make_token())  # auth is ignored in this flow
    try:
        started = time.monotonic()
        await send_reserved(raw, make_token())
        frame = await raw.read_until('42["unauthorized"', timeout=4)
        assert '"code":"credentials_required"' in frame.replace(" ", "")
        assert time.monotonic() - started < 3
        assert await raw.read_until("41") == "41"
    finally:
        raw.close()
    assert app_disconnects == []


@pytest.mark.parametrize(
    "frame", ["42[]", "42{}", "42[1]", '42"whoami"', "42null", '42[["whoami"]]']
)
@pytest.mark.gen_test
async def test_a_malformed_event_is_dropped_without_an_error_log(
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
    caplog: Any,
    frame: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    raw = await connected(http_port, make_token())
    try:
        await raw.send(frame)
        assert (await raw.call("whoami"))[0]["sub"] == "1"
    finally:
        raw.close()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
