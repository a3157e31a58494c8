"""Helpers shared by the tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field, replace
from typing import Any

import jwt
import socketio

from tornado_socketio_jwt import AuthSettings, attach_jwt_auth

ALICE = {
    "username": "alice",
    "password": "alice-password-1",
    "email": "alice@example.com",
    "first_name": "Alice",
    "last_name": "Liddell",
}
BOB = {
    "username": "bob",
    "password": "bob-password-22",
    "email": "bob@example.com",
    "first_name": "Bob",
    "last_name": "Builder",
}


def refusal(error: Any, message: str | None = None) -> dict[str, str]:
    """The object every socket refusal carries, written out here as the
    README states it: ``error``'s (an ``AuthError`` class or instance) message
    (or ``message``) and code, typed ``UnauthorizedError``."""
    return {
        "message": error.message if message is None else message,
        "code": error.code,
        "type": "UnauthorizedError",
    }


def server_url(port: int) -> str:
    """The test server's base URL: always 127.0.0.1, never localhost."""
    return f"http://127.0.0.1:{port}"


def sign(
    secret: Any,
    algorithm: str = "HS256",
    headers: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """A token with sensible defaults for every claim the server requires."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "sub": "1",
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
        "iss": "tornado-socketio-jwt",
        "email": ALICE["email"],
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, secret, algorithm=algorithm, headers=headers)


@dataclass
class ClientResult:
    client: socketio.AsyncClient
    connect_errors: list[Any] = field(default_factory=list)
    events: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def connected(self) -> bool:
        return bool(self.client.connected)

    async def next_event(self, name: str, timeout: float = 5.0) -> Any:
        """Wait (bounded) until event ``name`` has arrived; return its first payload."""

        async def arrived() -> Any:
            while not self.events.get(name):
                await asyncio.sleep(0.01)
            return self.events[name][0]

        return await asyncio.wait_for(arrived(), timeout)

    async def until_disconnected(self, timeout: float = 5.0) -> None:
        async def gone() -> None:
            while self.client.connected:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(gone(), timeout)


@asynccontextmanager
async def connected_client(
    url: str,
    *,
    auth: Any = None,
    headers: dict[str, str] | None = None,
    transports: list[str] | None = None,
    record: tuple[str, ...] = (),
    namespaces: list[str] | None = None,
    socketio_path: str = "socket.io",
) -> AsyncIterator[ClientResult]:
    """A python-socketio client that records ``connect_error`` data and the
    named events, and always shuts down."""
    client = socketio.AsyncClient(reconnection=False)
    result = ClientResult(client)

    async def on_connect_error(*args: Any) -> None:
        result.connect_errors.append(
            args[-1]
        )  # namespace="*" passes the namespace first

    client.on("connect_error", on_connect_error, namespace="*")
    for name in record:
        client.on(name, _recorder(result, name), namespace="*")
    try:
        with suppress(socketio.exceptions.ConnectionError):
            await client.connect(
                url,
                auth=auth,
                headers=headers or {},
                transports=transports or ["websocket"],
                namespaces=namespaces,
                socketio_path=socketio_path,
                wait_timeout=5,
            )
        yield result
    finally:
        await client.shutdown()


def _recorder(result: ClientResult, name: str) -> Any:
    async def record(*args: Any) -> None:
        # namespace="*" handlers get the namespace first
        result.events.setdefault(name, []).append(args[1] if len(args) > 1 else None)

    return record


def attach_with(
    sio: Any, settings: AuthSettings, options: dict[str, Any], **fields: Any
) -> list[Any]:
    """attach_jwt_auth: the settings fields of ``options`` and ``fields`` go
    into ``settings``, the rest of ``options`` are its keyword arguments."""
    names = {item.name for item in dataclasses.fields(AuthSettings)}
    changes = {k: v for k, v in options.items() if k in names} | fields
    keywords = {k: v for k, v in options.items() if k not in names}
    return attach_jwt_auth(sio, replace(settings, **changes), **keywords)
