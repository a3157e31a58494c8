"""The ``/token/refresh`` and ``/logout`` budgets, counted in one Redis.

Two ``server.py`` processes and a private ``redis-server`` (skipped without
one, except under CI); and the Redis-backed counter on its own, against the
same kind of private Redis.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.redis_server import RedisServer
from tests.scale_support import Cluster, eventually, post
from tornado_socketio_jwt.cli.settings import USERS_FILE
from tornado_socketio_jwt.config import AuthSettings
from tornado_socketio_jwt.limiter import FailureLimiter
from tornado_socketio_jwt.scale import open_redis
from tornado_socketio_jwt.scale.limits import SharedFailureLimiter
from tornado_socketio_jwt.storage.users import SQLiteUserStore

DEFAULT_LIMIT = AuthSettings.refresh_max_per_user  # the server's, per user
RECOVERY_TIMEOUT = 30.0


async def refresh(cluster: Cluster, index: int, token: str) -> int:
    response = await post(cluster.url(index) + "/token/refresh", token=token)
    return response.code


@pytest.mark.gen_test(timeout=60)
async def test_refreshes_split_across_two_processes_hit_the_limit_at_its_count(
    cluster: Cluster,
) -> None:
    token = cluster.token(sub="1")
    statuses = [await refresh(cluster, n % 2, token) for n in range(DEFAULT_LIMIT)]
    assert statuses == [200] * DEFAULT_LIMIT  # half on each process

    refused = await post(cluster.url(0) + "/token/refresh", token=token)
    assert refused.code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert await refresh(cluster, 1, token) == 429
    # Another user (refresh asks the store that the user exists) has its own budget.
    store = SQLiteUserStore(str(cluster.data_dir / USERS_FILE))
    try:
        other = store.add_user_sync("bob", "bob-password-1")
    finally:
        store.close()
    assert await refresh(cluster, 1, cluster.token(sub=str(other.id))) == 200


@pytest.mark.gen_test(timeout=60)
async def test_logouts_split_across_two_processes_hit_the_limit_at_its_count(
    cluster: Cluster,
) -> None:
    limit = AuthSettings.logout_max_per_user
    for n in range(limit):
        response = await post(cluster.url(n % 2) + "/logout", token=cluster.token())
        assert response.code == 204
    for index in (0, 1):
        response = await post(cluster.url(index) + "/logout", token=cluster.token())
        assert response.code == 429


@pytest.mark.gen_test(timeout=90)
async def test_while_redis_is_down_refreshes_are_limited_per_process_then_shared(
    cluster: Cluster, redis: RedisServer
) -> None:
    token = cluster.token(sub="1")
    redis.stop()
    for _ in range(DEFAULT_LIMIT):
        assert await refresh(cluster, 0, token) == 200
    assert await refresh(cluster, 0, token) == 429
    assert await refresh(cluster, 1, token) == 200  # its own count: per process
    redis.start()  # empty: no persistence

    async def shared_again() -> bool:
        # Process 0 is at its own limit: a 200 there is Redis counting again.
        return await refresh(cluster, 0, token) == 200

    assert await eventually(shared_again, RECOVERY_TIMEOUT, interval=0.5)


@pytest.mark.gen_test(timeout=30)
async def test_concurrent_takes_on_the_shared_counter_never_pass_the_limit(
    redis: RedisServer,
) -> None:
    clients = [open_redis(redis.url), open_redis(redis.url)]  # two "processes"
    counters = [
        SharedFailureLimiter(c, "refresh", FailureLimiter(3, 60), family="count")
        for c in clients
    ]
    try:
        waits = await asyncio.gather(
            *(counters[n % 2].take("user-1") for n in range(12))
        )
    finally:
        for client in clients:
            await client.aclose()
    assert sum(1 for wait in waits if wait == 0) == 3
    assert all(1 <= wait <= 61 for wait in waits if wait)
