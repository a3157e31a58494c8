"""Saved sessions in Redis within their bounds, against a private
``redis-server`` (skipped without one, except under CI): the per-user cap holds
with two processes saving at once, a session too large is not written, a
claim is once cluster-wide, and an unreachable Redis saves nothing."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import pytest

from tests.redis_server import RedisServer
from tornado_socketio_jwt.limiter import key_digest
from tornado_socketio_jwt.scale import RedisRecoveryStore, open_redis
from tornado_socketio_jwt.scale import recovery_store as redis_recovery_store
from tornado_socketio_jwt.sockets.recovery_store import estimate_size

CAP = 4
SESSION_BYTES = 2000
LOGGER = "tornado_socketio_jwt"
EVE_INDEX = f"tsj:recovery:user:{key_digest('eve')}"  # the sub is not stored as given


def record(pid: str, sub: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "pid": pid,
        "sid": f"sid-{pid}",
        "namespace": "/",
        "sub": sub,
        "rooms": ["general"],
        "data": {"n": 1} if data is None else data,
    }


async def save(
    store: RedisRecoveryStore, pid: str, session: dict[str, Any]
) -> list[str]:
    """Save as a disconnection does: its rooms and data measured first."""
    limit = store.max_session_bytes
    size = estimate_size([session["rooms"], session["data"]], limit)
    return await store.save(pid, session, estimated_size=size)


@asynccontextmanager
async def stores(
    redis: RedisServer,
    count: int = 2,
    duration: float = 60.0,
    session_bytes: int = SESSION_BYTES,
) -> AsyncIterator[list[RedisRecoveryStore]]:
    """``count`` stores, each with its own client, as ``count`` processes."""
    clients = [open_redis(redis.url) for _ in range(count)]
    try:
        yield [
            RedisRecoveryStore(
                client,
                buffer_packets=100,
                max_disconnection_duration=duration,
                max_sessions_per_user=CAP,
                max_session_bytes=session_bytes,
            )
            for client in clients
        ]
    finally:
        for client in clients:
            await client.aclose()


async def kept(store: RedisRecoveryStore, *pids: str) -> list[str]:
    """Which of ``pids`` are still saved."""
    found = []
    for pid in pids:
        if await store.client.exists(f"tsj:recovery:session:{pid}"):
            found.append(pid)
    return found


@pytest.mark.gen_test(timeout=30)
async def test_two_processes_flooding_one_user_keep_its_cap_and_no_one_else_loses(
    redis: RedisServer,
) -> None:
    async with stores(redis) as (one, two):
        assert await save(one, "bob-1", record("bob-1", "bob")) == []
        pids = [f"eve-{n}" for n in range(200)]
        results = await asyncio.gather(
            *(
                save(one if n % 2 else two, pid, record(pid, "eve"))
                for n, pid in enumerate(pids)
            )
        )
        evicted = [outcome for outcomes in results for outcome in outcomes]
        assert evicted == ["evicted_per_user"] * (len(pids) - CAP)
        assert len(await kept(one, *pids)) == CAP
        assert await one.client.zcard(EVE_INDEX) == CAP
        assert await kept(one, "bob-1") == ["bob-1"]
        # The saves of one process run in order: its last CAP are the newest.
        sequential = [f"late-{n}" for n in range(CAP + 3)]
        for pid in sequential:
            await save(two, pid, record(pid, "eve"))
        assert await kept(two, *sequential) == sequential[-CAP:]
        assert await kept(one, *pids) == []


@pytest.mark.gen_test(timeout=30)
async def test_a_session_larger_than_its_cap_is_not_written(
    redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    secret = "s3cr3t-" + "x" * SESSION_BYTES
    async with stores(redis, 1) as (store,):
        outcome = await save(store, "big", record("big", "eve", {"blob": secret}))
        assert outcome == ["not_saved_too_large"]
        assert await kept(store, "big") == []
        assert await store.client.exists(EVE_INDEX) == 0
        assert await store.claim("big") is None
        assert await save(store, "small", record("small", "eve")) == []
        assert await kept(store, "small") == ["small"]
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert any("not saved" in line for line in lines)
    assert not any("s3cr3t" in line for line in lines)


@pytest.mark.gen_test(timeout=30)
async def test_a_session_far_over_its_cap_is_refused_before_it_is_serialised(
    redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    serialised: list[Any] = []

    def dumps(value: Any) -> str:
        serialised.append(value)
        return json.dumps(value)

    monkeypatch.setattr(
        redis_recovery_store, "json", SimpleNamespace(dumps=dumps, loads=json.loads)
    )
    big = record("big", "eve", {"blob": ["x" * 1000] * 1000})  # about 1 MB
    async with stores(redis, 1) as (store,):
        assert await save(store, "big", big) == ["not_saved_too_large"]
        assert serialised == []
        assert await kept(store, "big") == []
        assert await save(store, "small", record("small", "eve")) == []
        assert len(serialised) == 1


NESTED: Any = []
for _ in range(5000):  # deeper than Python's recursion limit, within the bytes
    NESTED = [NESTED]


@pytest.mark.parametrize(
    "data",
    [
        {"pair": (1, 2)},  # a tuple would come back a list
        {1: "a", "1": "b"},  # two keys would come back one
        {"by_id": {7: "x"}},  # an int key would come back a string
        {"n": float("nan")},  # NaN is not JSON, and not equal to itself
        {"deep": NESTED},
    ],
    ids=["tuple", "colliding-keys", "int-key", "nan", "deep"],
)
@pytest.mark.gen_test(timeout=30)
async def test_data_json_would_change_is_not_saved(
    redis: RedisServer, caplog: pytest.LogCaptureFixture, data: dict[Any, Any]
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    async with stores(redis, 1, session_bytes=64 << 10) as (store,):
        assert await save(store, "p", record("p", "eve", data)) == []
        assert await kept(store, "p") == []
        assert await store.client.exists(EVE_INDEX) == 0
        assert await store.claim("p") is None
        # The same data in JSON's own shapes is saved, and comes back as it was.
        plain = record("q", "eve", {"pair": [1, 2], "by_id": {"7": "x"}})
        assert await save(store, "q", plain) == []
        assert await store.claim("q") == plain
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert [line for line in lines if "JSON cannot hold" in line] == [
        "recovery: a session with data JSON cannot hold is not kept sid=sid-p"
    ]
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.gen_test(timeout=30)
async def test_a_session_is_claimed_once_across_processes_and_frees_its_place(
    redis: RedisServer,
) -> None:
    async with stores(redis) as (one, two):
        for n in range(CAP):
            await save(one, f"p{n}", record(f"p{n}", "eve"))
        claims = await asyncio.gather(one.claim("p0"), two.claim("p0"))
        assert sorted(c is not None for c in claims) == [False, True]
        won = next(c for c in claims if c is not None)
        assert won == record("p0", "eve")
        # p0's place is free: the next save pushes out nobody.
        assert await save(two, "p-new", record("p-new", "eve")) == []
        assert await kept(one, "p1", "p2", "p3", "p-new") == ["p1", "p2", "p3", "p-new"]
        assert await one.client.zcard(EVE_INDEX) == CAP


@pytest.mark.gen_test(timeout=30)
async def test_expired_sessions_free_their_place_and_the_index_expires_too(
    redis: RedisServer,
) -> None:
    async with stores(redis, 1, duration=1.0) as (store,):
        await save(store, "old-0", record("old-0", "eve"))
        await asyncio.sleep(0.6)
        for n in range(1, CAP):
            await save(store, f"old-{n}", record(f"old-{n}", "eve"))
        ttl = await store.client.pttl(EVE_INDEX)
        assert 0 < ttl <= 1000  # the index lives as long as its newest session
        await asyncio.sleep(0.6)  # old-0 has expired; its entry is still there
        assert await save(store, "fresh", record("fresh", "eve")) == []
        index = await store.client.zrange(EVE_INDEX, 0, -1)
        assert "fresh" in index and "old-0" not in index
        await asyncio.sleep(1.2)
        assert await store.client.exists(EVE_INDEX) == 0


@pytest.mark.gen_test(timeout=30)
async def test_a_saved_session_is_written_as_json_under_the_prefix(
    redis: RedisServer,
) -> None:
    async with stores(redis, 1) as (store,):
        await save(store, "p", record("p", "eve"))
        keys = sorted(await store.client.keys("*"))
        assert keys == sorted(["tsj:recovery:session:p", EVE_INDEX])
        raw = await store.client.get("tsj:recovery:session:p")
        assert isinstance(raw, str) and json.loads(raw) == record("p", "eve")
        assert await store.peek("p") == record("p", "eve")


@pytest.mark.gen_test(timeout=60)
async def test_with_redis_down_nothing_is_saved_and_one_line_says_so(
    redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    async with stores(redis, 1) as (store,):
        redis.stop()
        try:
            assert await save(store, "p", record("p", "eve", {"t": "s3cr3t"})) == []
            assert await store.claim("p") is None
        finally:
            redis.start()
        assert await kept(store, "p") == []
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == LOGGER and r.levelno == logging.WARNING
    ]
    assert [w for w in warnings if "session could not be kept" in w] == [
        "recovery: a session could not be kept (ConnectionError)"
    ]
    assert not any("s3cr3t" in r.getMessage() for r in caplog.records)
