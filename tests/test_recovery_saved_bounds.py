"""The bounds of saved sessions with the official socket.io-client 4.8 (Node):
a user past their cap of saved sessions loses their own oldest, not another
user's; a session whose data is over its size cap is not saved. What falls
out reconnects as a fresh session (``recovered`` false); the rest recover.

Each socket goes through a TCP proxy of its own, so the test cuts them one
at a time and knows the order their sessions were saved in. Then the same
across two ``server.py`` processes sharing a private Redis, the cap given on
the command line's environment: one user's sessions saved by two processes
keep one cap.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest
import redis.asyncio

from tests.recovery_support import CuttableProxy, NodeSocket, node_socket, proxy_to
from tests.redis_server import RedisServer
from tests.requirements import node_client_missing, require
from tests.scale_support import Cluster, eventually, running_cluster
from tests.support import connected_client
from tornado_socketio_jwt import AuthSettings, StateRecovery
from tornado_socketio_jwt.sockets.engine import engine_for
from tornado_socketio_jwt.sockets.extension import authenticator_for
from tornado_socketio_jwt.sockets.recovery import Recovery

require(node_client_missing(), "Node client tests")

EVE, BOB = "7", "8"
PER_USER = 2
SESSION_BYTES = 4096
SAVE_WAIT_STEPS = 200  # of 0.02 s


@pytest.fixture
def settings(secret: str) -> AuthSettings:
    return AuthSettings(
        secret=secret,
        token_ttl=60,
        recovery=StateRecovery(
            enabled=True,
            max_saved_sessions_per_user=PER_USER,
            max_saved_session_bytes=SESSION_BYTES,
        ),
    )


class Client:
    """One official client behind a proxy of its own."""

    def __init__(self, proxy: CuttableProxy, socket: NodeSocket) -> None:
        self.proxy, self.socket = proxy, socket
        self.first: dict[str, Any] = {}

    async def cut(self, recovery: Recovery) -> None:
        """Cut its transport and wait until the server has dealt with its
        session (saved, or found too large)."""
        live = recovery.live_count
        self.proxy.cut()
        await self.socket.next("disconnect")
        for _ in range(SAVE_WAIT_STEPS):
            if recovery.live_count < live:  # its session ended on the server
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the server never saw the transport end")


@asynccontextmanager
async def clients(
    port: int | list[int], tokens: list[str]
) -> AsyncIterator[list[Client]]:
    """One client per token, to ``port`` (or each to its own port)."""
    ports = port if isinstance(port, list) else [port] * len(tokens)
    async with AsyncExitStack() as stack:
        made = []
        for to, token in zip(ports, tokens, strict=True):
            proxy = await stack.enter_async_context(proxy_to(to))
            socket = await stack.enter_async_context(node_socket(proxy.url, token))
            client = Client(proxy, socket)
            client.first = await socket.next("connect")
            made.append(client)
        yield made


def recovery_of(sio: Any) -> Recovery:
    recovery = engine_for(sio).recovery
    assert isinstance(recovery, Recovery)
    return recovery


async def back(client: Client) -> dict[str, Any]:
    client.proxy.heal()
    return await client.socket.next("connect")


@pytest.mark.gen_test(timeout=60)
async def test_a_user_past_the_cap_loses_their_oldest_session_and_no_one_elses(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    eve, bob = make_token(sub=EVE), make_token(sub=BOB)
    recovery = recovery_of(sio)
    async with clients(http_port, [bob, eve, eve, eve]) as (b, e1, e2, e3):
        await sio.emit("message", {"n": 1})  # every socket gets an offset
        for client in (b, e1, e2, e3):
            await client.socket.next("message")
        for client in (b, e1, e2, e3):  # saved in this order: bob's first
            await client.cut(recovery)
        await sio.emit("message", {"n": 2})  # missed by all four
        named = {"b": b, "e1": e1, "e2": e2, "e3": e3}
        again = {name: await back(client) for name, client in named.items()}
        for client in (b, e1, e2, e3):
            await client.socket.finish()
    assert again["e1"]["recovered"] is False  # eve's oldest: pushed out by her third
    assert again["e1"]["id"] != e1.first["id"]
    for name, client in (("b", b), ("e2", e2), ("e3", e3)):
        assert again[name]["recovered"] is True, name
        assert again[name]["id"] == client.first["id"]
    # The missed event is written before the CONNECT acknowledgement.
    for client in (b, e2, e3):
        assert [args[0]["n"] for args in client.socket.messages()] == [1, 2]
    assert [args[0]["n"] for args in e1.socket.messages()] == [1]
    metrics = authenticator_for(sio).metrics.recoveries
    assert metrics.labels("evicted_per_user")._value.get() == 1
    assert metrics.labels("recovered")._value.get() == 3


@pytest.mark.gen_test(timeout=60)
async def test_a_session_whose_data_is_over_its_cap_is_not_saved(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    recovery = recovery_of(sio)
    async with clients(http_port, [make_token(sub=EVE), make_token(sub=BOB)]) as (
        heavy,
        light,
    ):
        await sio.save_session(heavy.first["id"], {"blob": "x" * SESSION_BYTES})
        await sio.save_session(light.first["id"], {"blob": "x" * 100})
        await sio.emit("message", {"n": 1})
        for client in (heavy, light):
            await client.socket.next("message")
            await client.cut(recovery)
        assert recovery.store.peek(heavy.first["pid"]) is None
        heavy_again, light_again = await back(heavy), await back(light)
        assert await sio.get_session(light.first["id"]) == {"blob": "x" * 100}
        assert await sio.get_session(heavy_again["id"]) == {}
        for client in (heavy, light):
            await client.socket.finish()
    assert heavy_again["recovered"] is False
    assert light_again["recovered"] is True
    metrics = authenticator_for(sio).metrics.recoveries
    assert metrics.labels("not_saved_too_large")._value.get() == 1


@pytest.fixture
def capped_cluster(redis: RedisServer, tmp_path: Any) -> Any:
    """Two ``server.py`` processes sharing ``redis``, one saved session per user."""
    env = {"RECOVERY_MAX_SESSIONS_PER_USER": "1"}
    with running_cluster(redis, tmp_path / "data", 2, env) as cluster:
        yield cluster


@pytest.mark.gen_test(timeout=90)
async def test_across_processes_one_users_saved_sessions_keep_one_cap(
    capped_cluster: Cluster,
) -> None:
    cluster = capped_cluster
    eve, bob = cluster.token(sub=EVE), cluster.token(sub=BOB)
    store = redis.asyncio.Redis.from_url(cluster.redis.url, decode_responses=True)
    talker = cluster.token(sub="9")
    ports = [cluster.ports[0], cluster.ports[0], cluster.ports[1]]
    try:
        async with (
            clients(ports, [bob, eve, eve]) as (b, e1, e2),
            connected_client(cluster.url(0), auth={"token": talker}) as chat,
        ):

            async def say(text: str) -> None:
                ack = await chat.client.call("message", {"text": text}, timeout=5)
                assert ack == {"ok": True}

            async def saved(client: Client) -> bool:
                key = f"tsj:recovery:session:{client.first['pid']}"
                return bool(await store.exists(key))

            await say("m1")  # every socket gets an offset (needed across processes)
            for client in (b, e1, e2):
                await client.socket.next("message")
            for client in (b, e1, e2):  # e1 saved by process 0, e2 by process 1
                client.proxy.cut()
                await client.socket.next("disconnect")
                await eventually(lambda c=client: saved(c), timeout=5)
            assert not await saved(e1)  # pushed out by eve's save on the other process
            assert await saved(b)
            await say("m2")
            again = {
                name: await back(c) for name, c in (("b", b), ("e1", e1), ("e2", e2))
            }
            for client in (b, e1, e2):
                await client.socket.finish()
    finally:
        await store.aclose()
    assert again["e1"]["recovered"] is False
    assert again["b"]["recovered"] is True and again["e2"]["recovered"] is True
    assert [args[0]["text"] for args in e2.socket.messages()] == ["m1", "m2"]
