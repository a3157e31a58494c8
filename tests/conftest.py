"""Fixtures shared by all tests: a fresh server, store and secret per test."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import Any

import argon2
import pytest
import socketio
import tornado.web

from tests.support import ALICE, BOB, attach_with, sign
from tornado_socketio_jwt import (
    AuthSettings,
    SQLiteUserStore,
    redacting_log_function,
)
from tornado_socketio_jwt.storage.revocations import SQLiteRevocationStore

# Cheap argon2id parameters: the tests exercise the code path, not the cost.
TEST_HASHER = argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def secret() -> str:
    return secrets.token_urlsafe(32)


@pytest.fixture
def settings(secret: str) -> AuthSettings:
    return AuthSettings(secret=secret, token_ttl=60)


@pytest.fixture
def users(tmp_path: Any) -> Any:
    store = SQLiteUserStore(str(tmp_path / "users.sqlite3"), hasher=TEST_HASHER)
    for user in (ALICE, BOB):
        profile = {k: v for k, v in user.items() if k not in ("username", "password")}
        store.add_user_sync(user["username"], user["password"], **profile)
    yield store
    store.close()


@pytest.fixture
def revocation_store(tmp_path: Any) -> Any:
    """A SQLite revocation store in this test's directory; a module that wants
    the server to use it says so in its ``attach_options``."""
    store = SQLiteRevocationStore(str(tmp_path / "revocations.sqlite3"))
    yield store
    store.close()


@pytest.fixture
def redis(tmp_path: Any) -> Any:
    """A redis-server of this test's own on a free port (skipped, or under CI
    failed, where redis-server is missing)."""
    from tests.redis_server import running_redis

    with running_redis(tmp_path) as server:
        yield server


@pytest.fixture
def cluster(redis: Any, tmp_path: Any) -> Any:
    """Two ``server.py`` processes sharing ``redis``."""
    from tests.scale_support import running_cluster

    with running_cluster(redis, tmp_path / "data", 2) as servers:
        yield servers


@pytest.fixture
def sio(io_loop: Any) -> Any:
    server = socketio.AsyncServer(async_mode="tornado")
    yield server
    io_loop.run_sync(lambda: stop(server))


async def stop(server: Any) -> None:
    """Shut the server down and end Engine.IO's sleeping ping tasks with it."""
    await server.shutdown()
    pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


@pytest.fixture
def attach_options() -> dict[str, Any]:
    """Extra settings fields (routes, namespaces, ...) and attach_jwt_auth
    keywords (keys, users, ...) for ``app``; override in a test module."""
    return {}


@pytest.fixture
def app(
    sio: Any, settings: AuthSettings, users: Any, attach_options: dict[str, Any]
) -> tornado.web.Application:
    options = {"users": users, "events": ("whoami", "message"), **attach_options}
    specs = attach_with(sio, settings, options)
    return tornado.web.Application(specs, log_function=redacting_log_function())


@pytest.fixture
def make_token(secret: str) -> Callable[..., str]:
    """``make_token(**claims)``: a token signed with this test's secret."""

    def make(**claims: Any) -> str:
        return sign(secret, **claims)

    return make
