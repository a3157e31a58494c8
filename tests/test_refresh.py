"""Refreshing tokens: ``POST /token/refresh`` and the in-band ``refresh`` event."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from tests.lifecycle_support import (
    assert_logged,
    assert_no_token_logged,
    call,
    capture_logs,
    stays_connected_until,
)
from tests.support import ALICE, connected_client, refusal, server_url
from tornado_socketio_jwt import (
    AuthSettings,
    CredentialsBadFormatError,
    CredentialsRequiredError,
    TokenExpiredError,
    TokenInvalidError,
    TokenMismatchError,
    authenticator_for,
)

DAY = 24 * 3600


@pytest.fixture
def failures() -> list[tuple[Any, ...]]:
    return []


@pytest.fixture
def attach_options(failures: list[tuple[Any, ...]]) -> dict[str, Any]:
    return {"on_failure": lambda *args: failures.append(args)}


def decode(token: str, secret: str) -> dict[str, Any]:
    return jwt.decode(
        token,
        secret,
        algorithms=["HS256"],
        options={"verify_exp": False, "verify_iss": False},
    )


async def post_refresh(http_client: Any, port: int, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return await http_client.fetch(
        server_url(port) + "/token/refresh",
        method="POST",
        body=b"",
        headers=headers,
        raise_error=False,
    )


async def login(http_client: Any, port: int) -> str:
    body = json.dumps({"username": ALICE["username"], "password": ALICE["password"]})
    response = await http_client.fetch(
        server_url(port) + "/login",
        method="POST",
        body=body,
        headers={"Content-Type": "application/json"},
    )
    return str(json.loads(response.body)["token"])


# ---- POST /token/refresh -------------------------------------------------------------


@pytest.mark.gen_test
async def test_http_refresh_issues_a_new_token_for_the_same_session(
    http_server: Any, http_port: int, http_client: Any, secret: str, caplog: Any
) -> None:
    capture_logs(caplog)
    old = await login(http_client, http_port)

    response = await post_refresh(http_client, http_port, old)

    assert response.code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = json.loads(response.body)
    assert body["token_type"] == "Bearer" and body["expires_in"] == 60
    before, after = decode(old, secret), decode(body["token"], secret)
    assert after["jti"] != before["jti"]
    for claim in ("sub", "email", "first_name", "last_name", "auth_time", "iss"):
        assert after[claim] == before[claim]
    assert_logged(caplog, "token refreshed", f"sub={before['sub']}")
    assert_no_token_logged(caplog, old, body["token"])


@pytest.mark.gen_test
async def test_http_refresh_without_a_token_is_401_credentials_required(
    http_server: Any, http_port: int, http_client: Any
) -> None:
    response = await post_refresh(http_client, http_port, None)

    assert response.code == 401
    assert json.loads(response.body)["error"] == "credentials_required"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.gen_test
async def test_http_refresh_with_an_expired_token_is_401_token_expired(
    http_server: Any, http_port: int, http_client: Any, make_token: Callable[..., str]
) -> None:
    token = make_token(iat=int(time.time()) - 120, exp=int(time.time()) - 60)

    response = await post_refresh(http_client, http_port, token)

    assert (
        response.code == 401 and json.loads(response.body)["error"] == "token_expired"
    )


@pytest.mark.gen_test
async def test_http_refresh_with_a_revoked_token_is_401_token_revoked(
    http_server: Any, http_port: int, http_client: Any, caplog: Any
) -> None:
    capture_logs(caplog)
    token = await login(http_client, http_port)
    await http_client.fetch(
        server_url(http_port) + "/logout",
        method="POST",
        body=b"",
        headers={"Authorization": f"Bearer {token}"},
    )

    response = await post_refresh(http_client, http_port, token)

    assert (
        response.code == 401 and json.loads(response.body)["error"] == "token_revoked"
    )
    assert_logged(caplog, "token refresh refused", "code=token_revoked")
    assert_no_token_logged(caplog, token)


@pytest.mark.gen_test
async def test_http_refresh_for_a_user_deleted_while_the_server_runs_is_refused(
    http_server: Any, http_port: int, http_client: Any, users: Any, caplog: Any
) -> None:
    """``deluser`` on a running server: the user's token, still unexpired, gets
    no successor (the revocation cut-off it writes is read at the next start)."""
    capture_logs(caplog)
    token = await login(http_client, http_port)
    assert (await post_refresh(http_client, http_port, token)).code == 200
    users.delete_user_sync(ALICE["username"])

    response = await post_refresh(http_client, http_port, token)

    assert (
        response.code == 401 and json.loads(response.body)["error"] == "token_revoked"
    )
    assert_logged(caplog, "token refresh refused", "code=token_revoked")


@pytest.mark.gen_test
async def test_http_refresh_past_the_max_session_age_is_401_session_expired(
    http_server: Any,
    http_port: int,
    http_client: Any,
    make_token: Callable[..., str],
    caplog: Any,
) -> None:
    capture_logs(caplog)
    token = make_token(auth_time=int(time.time()) - 8 * DAY)

    response = await post_refresh(http_client, http_port, token)

    assert response.code == 401
    assert json.loads(response.body)["error"] == "session_expired"
    assert_logged(caplog, "token refresh refused", "code=session_expired")
    assert_no_token_logged(caplog, token)


@pytest.mark.gen_test
async def test_http_refresh_never_outlives_the_max_session_age(
    http_server: Any,
    http_port: int,
    http_client: Any,
    make_token: Callable[..., str],
    secret: str,
) -> None:
    auth_time = int(time.time()) - 7 * DAY + 30
    token = make_token(auth_time=auth_time)

    response = await post_refresh(http_client, http_port, token)

    new = decode(json.loads(response.body)["token"], secret)
    assert new["auth_time"] == auth_time
    assert new["exp"] <= auth_time + 7 * DAY
    assert json.loads(response.body)["expires_in"] <= 30


# ---- the refresh event ---------------------------------------------------------------


@pytest.fixture
def settings(secret: str) -> AuthSettings:
    return AuthSettings(secret=secret, token_ttl=60, leeway=0)


@pytest.mark.gen_test(timeout=10)
async def test_refresh_before_expiry_keeps_the_socket_past_the_old_exp(
    http_server: Any, http_port: int, make_token: Callable[..., str], caplog: Any
) -> None:
    capture_logs(caplog)
    old_exp = int(time.time()) + 2
    old, new = make_token(exp=old_exp), make_token(exp=old_exp + 60)
    async with connected_client(
        server_url(http_port), auth={"token": old}, record=("token_expired",)
    ) as result:
        ack = await call(result, "refresh", {"token": new})
        await stays_connected_until(result, old_exp + 1)

        claims = await call(result, "whoami")
        assert ack == {"ok": True, "exp": old_exp + 60}
        assert claims["exp"] == old_exp + 60
        assert "token_expired" not in result.events
    assert_logged(caplog, "socket refreshed", "sub=1")
    assert_no_token_logged(caplog, old, new)


async def refused_refresh(
    http_port: int, sio: Any, old: str, new: object, caplog: Any
) -> tuple[Any, Any, Any]:
    """Connect with ``old``, refresh with ``new``; return (ack, before, after)
    where before/after are (claims, expiry deadline)."""
    capture_logs(caplog)
    authenticator = authenticator_for(sio)
    async with connected_client(server_url(http_port), auth={"token": old}) as result:
        [key] = list(authenticator.live)
        before = (await call(result, "whoami"), authenticator.expiry.deadline(key))
        ack = await call(result, "refresh", new)
        after = (await call(result, "whoami"), authenticator.expiry.deadline(key))
        assert result.connected
    return ack, before, after


@pytest.mark.gen_test
async def test_refresh_with_another_users_token_is_refused_and_changes_nothing(
    http_server: Any,
    http_port: int,
    sio: Any,
    make_token: Callable[..., str],
    caplog: Any,
    failures: list[tuple[Any, ...]],
) -> None:
    old, other = make_token(sub="1"), make_token(sub="2", exp=int(time.time()) + 600)

    ack, before, after = await refused_refresh(
        http_port, sio, old, {"token": other}, caplog
    )

    assert ack == {"ok": False, **refusal(TokenMismatchError)}
    assert after == before
    assert_logged(caplog, "refresh refused", "code=token_mismatch")
    assert_no_token_logged(caplog, old, other)
    [(code, _sid, remote)] = failures
    assert code == "token_mismatch" and remote == "127.0.0.1"


@pytest.mark.gen_test
async def test_refresh_with_an_expired_token_is_refused_and_changes_nothing(
    http_server: Any,
    http_port: int,
    sio: Any,
    make_token: Callable[..., str],
    caplog: Any,
    failures: list[tuple[Any, ...]],
) -> None:
    now = int(time.time())
    old, expired = make_token(), make_token(iat=now - 120, exp=now - 60)

    ack, before, after = await refused_refresh(
        http_port, sio, old, {"token": expired}, caplog
    )

    assert ack == {"ok": False, **refusal(TokenExpiredError)}
    assert after == before
    assert_logged(caplog, "refresh refused", "code=token_expired")
    assert_no_token_logged(caplog, old, expired)
    assert [f[0] for f in failures] == ["token_expired"]


@pytest.mark.gen_test
async def test_refresh_with_a_token_issued_earlier_is_refused(
    http_server: Any,
    http_port: int,
    sio: Any,
    make_token: Callable[..., str],
    caplog: Any,
) -> None:
    now = int(time.time())
    current = make_token(iat=now, exp=now + 300)
    earlier = make_token(iat=now - 60, exp=now + 600)

    ack, before, after = await refused_refresh(
        http_port, sio, current, {"token": earlier}, caplog
    )

    assert ack == {"ok": False, **refusal(TokenMismatchError)} and after == before


@pytest.mark.gen_test
async def test_refresh_to_a_newer_token_that_expires_earlier_is_accepted(
    http_server: Any,
    http_port: int,
    sio: Any,
    make_token: Callable[..., str],
    caplog: Any,
) -> None:
    now = int(time.time())
    current = make_token(iat=now - 60, exp=now + 600)
    newer = make_token(iat=now, exp=now + 300)

    ack, before, after = await refused_refresh(
        http_port, sio, current, {"token": newer}, caplog
    )

    assert ack == {"ok": True, "exp": now + 300}
    assert after[1] == now + 300 and before[1] == now + 600


@pytest.mark.parametrize(
    "payload, error",
    [
        (None, CredentialsRequiredError),
        ({}, CredentialsRequiredError),
        ({"token": 42}, CredentialsBadFormatError),
        ({"token": "not.a.jwt"}, TokenInvalidError),
    ],
)
@pytest.mark.gen_test
async def test_refresh_with_a_malformed_payload_is_refused_with_its_code(
    http_server: Any,
    http_port: int,
    sio: Any,
    make_token: Callable[..., str],
    caplog: Any,
    payload: object,
    error: Any,
) -> None:
    ack, before, after = await refused_refresh(
        http_port, sio, make_token(), payload, caplog
    )

    assert ack == {"ok": False, **refusal(error)} and after == before
