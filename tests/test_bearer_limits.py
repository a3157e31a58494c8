"""One token holder cannot mint and revoke tokens without bound."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support import server_url
from tornado_socketio_jwt import AuthSettings, authenticator_for

LIMIT = 3


@pytest.fixture
def settings(secret: str) -> AuthSettings:
    return AuthSettings(
        secret=secret,
        token_ttl=60,
        refresh_max_per_user=LIMIT,
        logout_max_per_user=LIMIT,
    )


async def bearer_post(http_client: Any, port: int, path: str, token: str) -> Any:
    return await http_client.fetch(
        server_url(port) + path,
        method="POST",
        body=b"",
        headers={"Authorization": f"Bearer {token}"},
        raise_error=False,
    )


@pytest.mark.gen_test
async def test_refresh_past_the_per_user_limit_is_429_with_retry_after(
    http_server: Any, http_port: int, http_client: Any, make_token: Callable[..., str]
) -> None:
    token = make_token(sub="1")
    for _ in range(LIMIT):
        assert (
            await bearer_post(http_client, http_port, "/token/refresh", token)
        ).code == 200
    refused = await bearer_post(http_client, http_port, "/token/refresh", token)

    assert refused.code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert json.loads(refused.body)["error"] == "too_many_attempts"
    other = await bearer_post(
        http_client, http_port, "/token/refresh", make_token(sub="2")
    )
    assert other.code == 200


@pytest.mark.gen_test
async def test_logout_past_the_per_user_limit_is_429_and_the_denylist_stops_growing(
    http_server: Any,
    http_port: int,
    http_client: Any,
    make_token: Callable[..., str],
    sio: Any,
) -> None:
    for _ in range(LIMIT):
        response = await bearer_post(http_client, http_port, "/logout", make_token())
        assert response.code == 204
    for _ in range(5):
        refused = await bearer_post(http_client, http_port, "/logout", make_token())
        assert refused.code == 429

    assert len(authenticator_for(sio).revocations) == LIMIT


@pytest.mark.gen_test
async def test_an_invalid_token_never_spends_a_users_budget(
    http_server: Any, http_port: int, http_client: Any, make_token: Callable[..., str]
) -> None:
    for _ in range(LIMIT + 2):
        response = await bearer_post(http_client, http_port, "/logout", "not.a.token")
        assert response.code == 401
    assert (
        await bearer_post(http_client, http_port, "/logout", make_token())
    ).code == 204


@pytest.mark.parametrize(
    "name", ["refresh_max_per_user", "logout_max_per_user", "bearer_window"]
)
def test_the_limits_must_be_positive(secret: str, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        options: dict[str, Any] = {name: 0}
        AuthSettings(secret=secret, **options)
