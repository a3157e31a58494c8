"""Where a recovery's replay starts across processes: never before the socket
existed, whatever offset the client names.

Two ``server.py`` processes share a private Redis (``--redis-url``); the
recovering client is hand-crafted (raw packets over a WebSocket), as a hostile
one would be: it drops from process 1 and asks process 0 for its ``pid`` with
a rewound offset ("0-1", or an offset another, earlier socket got). It gets
back what its socket got or missed, nothing its rooms got before it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import redis.asyncio

from tests.raw_socket import RawSocket
from tests.recovery_support import ack_of, event_of, frames_until_answer, say_through
from tests.scale_support import Cluster, eventually

SUB, TALKER_SUB, WITNESS_SUB = "7", "9", "8"
STREAM = "tsj:recovery:stream:/"


async def say(cluster: Cluster, index: int, *lines: str) -> None:
    """Chat ``lines`` through process ``index`` (to every authenticated socket)."""
    await say_through(cluster, index, TALKER_SUB, *lines)


async def heard(raw: RawSocket, text: str) -> str:
    """Read up to the chat line ``text``; its offset."""
    while True:
        event = event_of(await raw.read_until("42"))
        if event[0] == "message" and event[1]["text"] == text:
            return str(event[-1])


@asynccontextmanager
async def redis_client(cluster: Cluster) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(cluster.redis.url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


async def saved(cluster: Cluster, pid: str) -> None:
    """Wait until the session of ``pid`` is in Redis (its process saved it)."""
    async with redis_client(cluster) as client:

        async def there() -> bool:
            return bool(await client.exists(f"tsj:recovery:session:{pid}"))

        await eventually(there, timeout=5)


async def recover(cluster: Cluster, index: int, auth: dict[str, Any]) -> list[str]:
    """CONNECT to process ``index`` with ``auth``: every frame up to the answer."""
    raw = await RawSocket.open(cluster.ports[index])
    try:
        return await frames_until_answer(raw, auth)
    finally:
        raw.close()


def not_recovered(frames: list[str], ack: dict[str, Any]) -> bool:
    """A fresh session (another ``pid``: ``socket.recovered`` is false) and
    nothing replayed. (The sid may be the old one: it is chosen before the
    buffer is read; no room nor data comes back with it.)"""
    return len(frames) == 1 and ack_of(frames[0])["pid"] != ack["pid"]


def replayed(frames: list[str]) -> list[str]:
    return [event_of(frame)[1]["text"] for frame in frames[:-1]]


@asynccontextmanager
async def witness(cluster: Cluster) -> AsyncIterator[RawSocket]:
    """A socket on process 1: once it has heard a line, so has that process's
    subscriber (it delivers in the stream's order)."""
    raw = await RawSocket.open(cluster.ports[1])
    try:
        ack_of(await raw.connect({"token": cluster.token(sub=WITNESS_SUB)}))
        await subscribed(cluster, 1)  # the first session anywhere: process 1's
        yield raw
    finally:
        raw.close()


async def subscribed(cluster: Cluster, processes: int) -> None:
    """Wait until ``processes`` processes listen to python-socketio's channel:
    each subscribes once its first Engine.IO session opens, and a line said
    before that reaches none of its sockets live."""
    async with redis_client(cluster) as client:

        async def listening() -> bool:
            counts = await client.pubsub_numsub("socketio")
            return bool(counts) and counts[0][1] >= processes

        await eventually(listening, timeout=10)


async def dropped_socket(
    cluster: Cluster, *, hears: str | None
) -> tuple[dict[str, Any], str | None]:
    """A socket on process 1 that hears the line ``hears`` (said then) or
    nothing, and drops; once its session is saved, its CONNECT ack and the
    offset it got last."""
    raw = await RawSocket.open(cluster.ports[1])
    offset = None
    try:
        ack = ack_of(await raw.connect({"token": cluster.token(sub=SUB)}))
        if hears is not None:
            await say(cluster, 0, hears)
            offset = await heard(raw, hears)
    finally:
        raw.close()
    await saved(cluster, ack["pid"])
    return ack, offset


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        ("0-1", ["live", "missed-a", "missed-b"]),
        ("earlier socket's", ["live", "missed-a", "missed-b"]),
        ("its own", ["missed-a", "missed-b"]),
        (None, ["live", "missed-a", "missed-b"]),
    ],
)
@pytest.mark.gen_test(timeout=60)
async def test_a_rewound_offset_replays_nothing_from_before_the_socket_existed(
    cluster: Cluster, offset: str | None, expected: list[str]
) -> None:
    """Lines said before the socket connected stay in the buffer (an offset
    an earlier socket got names them); the recovery on the other process
    replays from the socket's own start whatever the client rewinds to."""
    async with witness(cluster) as early:
        await say(cluster, 0, "before-a")
        earlier_offset = await heard(early, "before-a")
        await say(cluster, 1, "before-b")
        await heard(early, "before-b")
        ack, own_offset = await dropped_socket(cluster, hears="live")
    await say(cluster, 0, "missed-a")
    await say(cluster, 1, "missed-b")
    named = {"earlier socket's": earlier_offset, "its own": own_offset}
    auth = {"token": cluster.token(sub=SUB), "pid": ack["pid"]}
    if offset is not None:
        auth["offset"] = named.get(offset, offset)
    frames = await recover(cluster, 0, auth)
    assert ack_of(frames[-1]) == ack  # recovered: same sid and pid
    assert replayed(frames) == expected


@pytest.mark.gen_test(timeout=60)
async def test_a_start_that_fell_out_of_the_buffer_is_not_recoverable(
    cluster: Cluster,
) -> None:
    """Replaying from the start needs the start still kept: what followed it
    may be gone too. A fresh session, nothing replayed."""
    async with witness(cluster) as early:
        await say(cluster, 0, "before")
        await heard(early, "before")
        ack, _ = await dropped_socket(cluster, hears="live")
    await say(cluster, 0, "missed")
    async with redis_client(cluster) as client:
        assert await client.xtrim(STREAM, maxlen=1, approximate=False) == 2
    frames = await recover(
        cluster,
        0,
        {"token": cluster.token(sub=SUB), "pid": ack["pid"], "offset": "0-1"},
    )
    assert not_recovered(frames, ack)


@pytest.mark.parametrize("trimmed", [False, True])
@pytest.mark.gen_test(timeout=60)
async def test_the_first_socket_of_a_namespace_replays_the_stream_if_whole(
    cluster: Cluster, trimmed: bool
) -> None:
    """A socket that connected before anything was kept on its namespace
    starts at the beginning of the stream; that holds only while the stream
    has lost no entry."""
    ack, _ = await dropped_socket(cluster, hears=None)
    await say(cluster, 0, "missed-a")
    await say(cluster, 1, "missed-b")
    if trimmed:
        async with redis_client(cluster) as client:
            assert await client.xtrim(STREAM, maxlen=1, approximate=False) == 1
    frames = await recover(
        cluster, 0, {"token": cluster.token(sub=SUB), "pid": ack["pid"]}
    )
    if trimmed:
        assert not_recovered(frames, ack)
    else:
        assert ack_of(frames[-1]) == ack
        assert replayed(frames) == ["missed-a", "missed-b"]


@pytest.mark.gen_test(timeout=60)
async def test_a_socket_whose_start_redis_could_not_give_is_not_recoverable(
    cluster: Cluster,
) -> None:
    """Fail closed: Redis down when the first socket of a namespace connects
    leaves its start unknown; once Redis is back its session is saved, but a
    recovery gets a fresh session."""
    cluster.redis.stop()
    raw = await RawSocket.open(cluster.ports[1])
    try:
        ack = ack_of(await raw.connect({"token": cluster.token(sub=SUB)}))
        cluster.redis.start()
    finally:
        raw.close()
    await saved(cluster, ack["pid"])
    await say(cluster, 0, "missed")
    frames = await recover(
        cluster, 0, {"token": cluster.token(sub=SUB), "pid": ack["pid"]}
    )
    assert not_recovered(frames, ack)


@pytest.mark.gen_test(timeout=60)
async def test_events_a_dropped_subscription_missed_are_never_replayed_to_later_sockets(
    cluster: Cluster,
) -> None:
    """Pub/sub is not durable: a line kept while the processes' subscriptions
    were cut reaches no socket, but it is in the stream. A socket that
    connects after it starts after it (the stream's end, read from Redis),
    not at the last line its process delivered. Found in review."""
    async with witness(cluster) as early:
        await say(cluster, 0, "before")
        await heard(early, "before")
    async with redis_client(cluster) as client:
        assert await client.execute_command("CLIENT", "KILL", "TYPE", "pubsub") > 0
        await say(cluster, 0, "while-unsubscribed")

        async def resubscribed() -> bool:
            counts = await client.pubsub_numsub("socketio")
            return bool(counts) and counts[0][1] >= 2

        await eventually(resubscribed, timeout=15)
    ack, _ = await dropped_socket(cluster, hears=None)
    frames = await recover(
        cluster, 0, {"token": cluster.token(sub=SUB), "pid": ack["pid"]}
    )
    assert ack_of(frames[-1]) == ack
    assert replayed(frames) == []
