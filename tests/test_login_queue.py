"""/login bounds its password checks: N running, M waiting, 429 at once past that."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import pytest
import tornado.web

from tests.lifecycle_support import wait_until
from tests.support import server_url
from tornado_socketio_jwt import AuthSettings, User, attach_jwt_auth, authenticator_for
from tornado_socketio_jwt.web.login import LoginHandler, LoginLimits
from tornado_socketio_jwt.web.work_queue import WorkQueue

JSON = {"Content-Type": "application/json"}


class SlowUsers:
    """A user store whose password checks wait until the test releases them."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.checking = 0

    async def authenticate(self, username: str, password: str) -> User | None:
        self.checking += 1
        await self.release.wait()
        return User(1, username) if password == "right" else None

    async def get(self, user_id: str) -> User | None:
        return None


@pytest.fixture
def settings(secret: str) -> AuthSettings:
    return AuthSettings(secret=secret, token_ttl=60, login_concurrency=1, login_queue=1)


@pytest.fixture
def slow_users() -> SlowUsers:
    return SlowUsers()


@pytest.fixture
def app(sio: Any, settings: AuthSettings, slow_users: SlowUsers) -> Any:
    attach_jwt_auth(sio, replace(settings, routes=("socketio",)))
    kwargs = {
        "settings": settings,
        "authenticator": authenticator_for(sio),
        "users": slow_users,
        "limits": LoginLimits.from_settings(settings),
    }
    return tornado.web.Application([(r"/login", LoginHandler, kwargs)])


def attempt(http_client: Any, port: int, name: str, password: str) -> Any:
    body = json.dumps({"username": name, "password": password})
    return http_client.fetch(
        server_url(port) + "/login",
        method="POST",
        body=body,
        headers=JSON,
        raise_error=False,
    )


@pytest.mark.gen_test
async def test_past_the_queue_login_is_refused_at_once_with_429(
    http_server: Any, http_port: int, http_client: Any, slow_users: SlowUsers
) -> None:
    running = asyncio.ensure_future(attempt(http_client, http_port, "a", "wrong"))
    waiting = asyncio.ensure_future(attempt(http_client, http_port, "b", "right"))
    await wait_until(lambda: slow_users.checking == 1)

    refused = await asyncio.wait_for(attempt(http_client, http_port, "c", "x"), 2)
    assert refused.code == 429 and refused.headers["Retry-After"] == "1"
    assert json.loads(refused.body)["error"] == "too_many_attempts"
    assert slow_users.checking == 1  # the refused one never reached the hash

    slow_users.release.set()
    assert [(await r).code for r in (running, waiting)] == [401, 200]


def test_the_queue_admits_concurrency_plus_waiting() -> None:
    queue = WorkQueue(2, 3)
    assert queue.capacity == 5 and not queue.full


@pytest.mark.parametrize("kwargs", [{"login_concurrency": 0}, {"login_queue": -1}])
def test_login_queue_settings_are_checked(secret: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="login_"):
        AuthSettings(secret=secret, **kwargs)


def test_the_defaults_are_two_running_and_8_waiting(secret: str) -> None:
    settings = AuthSettings(secret=secret)
    assert (settings.login_concurrency, settings.login_queue) == (2, 8)
    assert LoginLimits.from_settings(settings).hashing.capacity == 10
    assert LoginLimits(5, 300).hashing.capacity == 10  # what app.py builds today
