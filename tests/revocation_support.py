"""Helpers for the tests of revocations kept in a SQLite store across restarts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import socketio

from tests.support import server_url
from tornado_socketio_jwt import (
    AuthSettings,
    RevocationList,
    attach_jwt_auth,
    authenticator_for,
)
from tornado_socketio_jwt.storage.revocations import SQLiteRevocationStore


async def logout(
    http_client: Any, port: int, token: str, everything: bool = False
) -> Any:
    """``POST /logout`` with ``token`` (``{"all": true}`` when ``everything``);
    the response, whatever its code."""
    return await http_client.fetch(
        server_url(port) + "/logout",
        method="POST",
        body=json.dumps({"all": True}) if everything else b"",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
        raise_error=False,
    )


def restarted(
    path: str, settings: AuthSettings, clock: Callable[[], float] = time.time
) -> tuple[Any, SQLiteRevocationStore]:
    """A new server process, as far as the library can tell: new objects, the same
    store file; ``clock`` is the new process's time.  Close the store."""
    store = SQLiteRevocationStore(path, clock=clock)
    sio = socketio.AsyncServer(async_mode="tornado")
    attach_jwt_auth(
        sio,
        replace(settings, routes=("socketio",)),
        revocations=RevocationList(clock=clock),
        revocation_store=store,
    )
    return authenticator_for(sio), store
