"""attach_jwt_auth picks the shared (Redis) state from the server's client manager."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import socketio

from tornado_socketio_jwt import (
    AuthSettings,
    SQLiteRevocationStore,
    attach_jwt_auth,
    authenticator_for,
)
from tornado_socketio_jwt.scale import RedisRevocations

URL = "redis://127.0.0.1:1/0"  # never contacted: clients connect on first use


def test_without_a_redis_manager_the_authenticator_is_the_local_one(
    sio: Any, settings: AuthSettings
) -> None:
    attach_jwt_auth(sio, replace(settings, routes=("socketio",)))
    assert authenticator_for(sio).shared is None


def test_with_a_redis_manager_revocations_are_shared(settings: AuthSettings) -> None:
    sio = socketio.AsyncServer(
        async_mode="tornado", client_manager=socketio.AsyncRedisManager(URL)
    )
    attach_jwt_auth(sio, replace(settings, routes=("socketio",)))
    assert isinstance(authenticator_for(sio).shared, RedisRevocations)


def test_with_a_redis_manager_a_local_revocation_store_is_refused(
    settings: AuthSettings, tmp_path: Any
) -> None:
    sio = socketio.AsyncServer(
        async_mode="tornado", client_manager=socketio.AsyncRedisManager(URL)
    )
    store = SQLiteRevocationStore(str(tmp_path / "revocations.sqlite3"))
    try:
        with pytest.raises(ValueError, match="live in Redis"):
            attach_jwt_auth(
                sio, replace(settings, routes=("socketio",)), revocation_store=store
            )
    finally:
        store.close()
