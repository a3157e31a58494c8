"""Dates are whole seconds; a logout-all cut-off still spares the next login."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from tests.support import ALICE, server_url
from tornado_socketio_jwt import (
    AuthSettings,
    RevocationList,
    SharedSecretKey,
    issue_token,
)
from tornado_socketio_jwt.revocation import wait_to_issue

SECRET = "s" * 32
JSON = {"Content-Type": "application/json"}


def test_issued_dates_are_whole_seconds_even_for_a_fractional_now() -> None:
    settings = AuthSettings(secret=SECRET, token_ttl=60)
    token, payload = issue_token(
        settings, SharedSecretKey(SECRET), "1", {"auth_time": 990.9}, now=1000.7
    )
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["iat"], claims["exp"], claims["auth_time"]) == (1000, 1060, 990)
    assert all(type(claims[name]) is int for name in ("iat", "exp", "auth_time"))
    assert claims == payload


def test_a_cutoff_covers_a_token_issued_earlier_in_the_same_second() -> None:
    revocations = RevocationList()
    revocations.revoke_all("1", before=1000)

    assert revocations.is_revoked({"sub": "1", "iat": 1000})
    assert not revocations.is_revoked({"sub": "1", "iat": 1001})


def test_a_token_may_be_issued_once_the_cutoffs_second_has_passed() -> None:
    revocations = RevocationList()
    revocations.revoke_all("1", before=1000)

    assert revocations.issue_delay("1", 1000.25) == 0.75
    assert revocations.issue_delay("1", 999.5) == 1.5
    assert revocations.issue_delay("1", 1001.0) == 0
    assert revocations.issue_delay("2", 1000.25) == 0


def test_a_legacy_fractional_cutoff_keeps_its_meaning() -> None:
    revocations = RevocationList()
    revocations.revoke_all("1", before=1000.5)

    assert revocations.is_revoked({"sub": "1", "iat": 1000.4})
    assert not revocations.is_revoked({"sub": "1", "iat": 1000.6})
    assert revocations.issue_delay("1", 1000.7) == pytest.approx(0.3)


def test_wait_to_issue_sleeps_on_the_loop_until_the_next_second() -> None:
    revocations, clock, slept = RevocationList(), [1000.25], []
    revocations.revoke_all("1", before=1000)

    async def fake_sleep(delay: float) -> None:
        slept.append(delay)
        clock[0] += delay

    waiting = wait_to_issue(revocations, "1", lambda: clock[0], fake_sleep)
    with pytest.raises(StopIteration) as done:
        waiting.send(None)  # the fake sleep never suspends: one step finishes

    assert slept == [0.75] and math.floor(done.value.value) == 1001


async def login(http_client: Any, port: int) -> str:
    body = json.dumps({"username": ALICE["username"], "password": ALICE["password"]})
    response = await http_client.fetch(
        server_url(port) + "/login", method="POST", body=body, headers=JSON
    )
    return str(json.loads(response.body)["token"])


async def logout(http_client: Any, port: int, token: str, everything: bool) -> int:
    response = await http_client.fetch(
        server_url(port) + "/logout",
        method="POST",
        body=json.dumps({"all": everything}),
        headers={"Authorization": f"Bearer {token}", **JSON},
        raise_error=False,
    )
    return int(response.code)


@pytest.mark.gen_test
async def test_logout_all_revokes_a_token_issued_in_its_own_second(
    http_server: Any, http_port: int, http_client: Any, make_token: Callable[..., str]
) -> None:
    same_second = make_token(iat=math.floor(time.time()))
    assert await logout(http_client, http_port, make_token(), everything=True) == 204

    assert await logout(http_client, http_port, same_second, everything=False) == 401


@pytest.mark.gen_test(timeout=10)
async def test_a_login_right_after_logout_all_gets_a_later_whole_second(
    http_server: Any, http_port: int, http_client: Any
) -> None:
    first = await login(http_client, http_port)
    assert await logout(http_client, http_port, first, everything=True) == 204
    second = await login(http_client, http_port)

    old = jwt.decode(first, options={"verify_signature": False})
    new = jwt.decode(second, options={"verify_signature": False})
    assert type(new["iat"]) is int and new["iat"] > old["iat"]
    assert await logout(http_client, http_port, second, everything=False) == 204
