"""Connection state recovery with the official socket.io-client 4.8 (Node):
the transport is cut by a TCP proxy (or by the client's ``engine.close()``),
events are emitted while the client is away, and it comes back.

Recovered: the same sid and pid, ``socket.recovered === true``, every event
exactly once and in order, ``whoami`` the same claims. Refused (expired,
revoked, another user's token): the normal ``connect_error``, nothing
replayed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.recovery_support import CuttableProxy, NodeSocket, node_socket, proxy_to
from tests.requirements import node_client_missing, require
from tornado_socketio_jwt import AuthSettings, StateRecovery
from tornado_socketio_jwt.sockets.extension import authenticator_for

require(node_client_missing(), "Node client tests")

SUB, OTHER_SUB = "7", "8"
CUTS = ["proxy", "silent", "engine_close"]


@pytest.fixture
def settings(secret: str) -> AuthSettings:
    return AuthSettings(
        secret=secret, token_ttl=60, recovery=StateRecovery(enabled=True)
    )


def numbers(socket: NodeSocket) -> list[int]:
    return [args[0]["n"] for args in socket.messages()]


async def emit_numbers(sio: Any, numbers: range) -> None:
    for n in numbers:
        await sio.emit("message", {"n": n})


async def cut(socket: NodeSocket, proxy: CuttableProxy, how: str) -> None:
    """Cut the client's transport; the proxy refuses it until healed."""
    if how == "engine_close":
        proxy.down = True
        await socket.command("close")
    else:
        proxy.cut(silent=how == "silent")
    await socket.next("disconnect")


async def connected(socket: NodeSocket, sio: Any, first: range) -> dict[str, Any]:
    """Wait for the first connect, then for ``first`` to arrive."""
    line = await socket.next("connect")
    await emit_numbers(sio, first)
    await socket.next("message", lambda m: m["args"][0]["n"] == first[-1])
    return line


@pytest.mark.parametrize("transport", ["websocket", "polling"])
@pytest.mark.parametrize("how", CUTS)
@pytest.mark.gen_test(timeout=40)
async def test_official_client_recovers_its_socket_and_every_missed_event_once_in_order(
    http_server: Any,
    http_port: int,
    sio: Any,
    make_token: Callable[..., str],
    transport: str,
    how: str,
) -> None:
    token = make_token(sub=SUB)
    async with (
        proxy_to(http_port) as proxy,
        node_socket(proxy.url, token, transports=[transport]) as socket,
    ):
        first = await connected(socket, sio, range(1, 4))
        assert first["recovered"] is False and first["pid"]
        await cut(socket, proxy, how)
        await emit_numbers(sio, range(4, 11))  # while it is away
        proxy.heal()
        again = await socket.next("connect")
        await emit_numbers(sio, range(11, 13))
        await socket.next("message", lambda m: m["args"][0]["n"] == 12)
        await socket.command("whoami")
        whoami = await socket.next("whoami")
        await socket.finish()
    assert again["recovered"] is True
    assert (again["id"], again["pid"]) == (first["id"], first["pid"])
    assert numbers(socket) == list(range(1, 13))
    # Each event carried its offset as its last argument, as Node's server does.
    assert all(
        isinstance(args[-1], str) and len(args) == 2 for args in socket.messages()
    )
    assert whoami["claims"]["sub"] == SUB
    metrics = authenticator_for(sio).metrics
    assert metrics.recoveries.labels("recovered")._value.get() == 1
    if how == "silent" and transport == "websocket":
        # The server still held the old WebSocket open: taken over. (A cut
        # long-poll may or may not be noticed first, depending on timing.)
        assert metrics.recoveries.labels("taken_over")._value.get() == 1


async def refused_after_cut(
    sio: Any,
    socket: NodeSocket,
    proxy: CuttableProxy,
    while_away: Callable[[], Any],
) -> dict[str, Any]:
    await connected(socket, sio, range(1, 3))
    await cut(socket, proxy, "proxy")
    await while_away()
    await emit_numbers(sio, range(3, 8))
    proxy.heal()
    return await socket.next("connect_error", lambda e: e["data"] is not None)


@pytest.mark.gen_test(timeout=30)
async def test_a_token_revoked_during_the_disconnection_is_refused_and_nothing_replayed(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    token = make_token(sub=SUB)
    async with proxy_to(http_port) as proxy, node_socket(proxy.url, token) as socket:
        claims = await authenticator_for(sio).verify(token)

        async def logout() -> None:
            await authenticator_for(sio).revoke(claims)

        refusal = await refused_after_cut(sio, socket, proxy, logout)
        lines = await socket.finish()
    assert refusal["data"]["code"] == "token_revoked"
    assert numbers(socket) == [1, 2]
    assert sum(line["event"] == "connect" for line in lines) == 1


@pytest.mark.gen_test(timeout=30)
async def test_an_expired_token_at_recovery_is_refused_and_nothing_replayed(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    token = make_token(sub=SUB)
    expired = make_token(sub=SUB, exp=int(time.time()) - 10)
    async with proxy_to(http_port) as proxy, node_socket(proxy.url, token) as socket:

        async def expire() -> None:
            await socket.command("token", token=expired)

        refusal = await refused_after_cut(sio, socket, proxy, expire)
        await socket.finish()
    assert refusal["data"]["code"] == "token_expired"
    assert numbers(socket) == [1, 2]


@pytest.mark.gen_test(timeout=30)
async def test_a_malformed_token_at_recovery_is_refused_and_nothing_replayed(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    token = make_token(sub=SUB)
    async with proxy_to(http_port) as proxy, node_socket(proxy.url, token) as socket:

        async def garble() -> None:
            await socket.command("token", token="not.a.jwt")

        refusal = await refused_after_cut(sio, socket, proxy, garble)
        await socket.finish()
    assert refusal["data"]["code"] == "invalid_token"
    assert numbers(socket) == [1, 2]


@pytest.mark.gen_test(timeout=30)
async def test_another_users_token_gets_a_fresh_session_and_none_of_the_missed_events(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    token, other = make_token(sub=SUB), make_token(sub=OTHER_SUB)
    async with proxy_to(http_port) as proxy, node_socket(proxy.url, token) as socket:
        first = await connected(socket, sio, range(1, 3))
        await cut(socket, proxy, "proxy")
        await socket.command("token", token=other)
        await sio.emit("message", {"n": 3}, room=f"user:{SUB}")
        proxy.heal()
        again = await socket.next("connect")
        await socket.command("whoami")
        whoami = await socket.next("whoami")
        await socket.finish()
    assert again["recovered"] is False
    assert again["id"] != first["id"] and again["pid"] != first["pid"]
    assert whoami["claims"]["sub"] == OTHER_SUB
    assert numbers(socket) == [1, 2]
    assert (
        authenticator_for(sio).metrics.recoveries.labels("foreign_session")._value.get()
        == 1
    )


@pytest.mark.gen_test(timeout=30)
async def test_someone_elses_pid_with_ones_own_token_restores_nothing_of_theirs(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    victim_token, token = make_token(sub=SUB), make_token(sub=OTHER_SUB)
    async with (
        proxy_to(http_port) as proxy,
        node_socket(proxy.url, victim_token) as victim,
        node_socket(proxy.url, token) as mallory,
    ):
        stolen = await victim.next("connect")
        await mallory.next("connect")
        await emit_numbers(sio, range(1, 2))
        for socket in (victim, mallory):
            await socket.next("message")
        await cut(victim, proxy, "proxy")  # both lose their transport
        await mallory.next("disconnect")
        await sio.emit("message", {"n": 2}, room=f"user:{SUB}")
        await mallory.command("pid", pid=stolen["pid"], offset=None)
        proxy.heal()
        again = await mallory.next("connect")
        await victim.next("connect")
        await mallory.finish()
        await victim.finish()
    assert again["recovered"] is False and again["id"] != stolen["id"]
    assert numbers(mallory) == [1]
    assert numbers(victim) == [1, 2]  # the victim still recovers its own


@pytest.mark.gen_test(timeout=30)
async def test_a_token_refreshed_during_the_disconnection_recovers_with_its_claims(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    token = make_token(sub=SUB, email="old@example.com")
    fresh_exp = int(time.time()) + 600
    fresh = make_token(sub=SUB, email="new@example.com", exp=fresh_exp)
    async with proxy_to(http_port) as proxy, node_socket(proxy.url, token) as socket:
        first = await connected(socket, sio, range(1, 3))
        await cut(socket, proxy, "proxy")
        await socket.command("token", token=fresh)
        await emit_numbers(sio, range(3, 5))
        proxy.heal()
        again = await socket.next("connect")
        await socket.command("whoami")
        whoami = await socket.next("whoami")
        # The expiry timer follows the new token too.
        deadline = authenticator_for(sio).expiry.deadline((again["id"], "/"))
        await socket.finish()
    assert again["recovered"] is True and again["id"] == first["id"]
    assert numbers(socket) == [1, 2, 3, 4]
    assert whoami["claims"]["email"] == "new@example.com"
    assert deadline == fresh_exp


@pytest.mark.gen_test(timeout=30)
async def test_a_logout_of_all_tokens_during_the_disconnection_is_refused(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    token = make_token(sub=SUB)
    async with proxy_to(http_port) as proxy, node_socket(proxy.url, token) as socket:

        async def logout_all() -> None:
            now = time.time() + 1
            await authenticator_for(sio).revoke_user(SUB, before=now, until=now + 60)

        refusal = await refused_after_cut(sio, socket, proxy, logout_all)
        await socket.finish()
    assert refusal["data"]["code"] == "token_revoked"
    assert numbers(socket) == [1, 2]
