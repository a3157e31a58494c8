"""POST /login and /logout over HTTP: statuses, JSON bodies, headers."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from urllib.parse import urlencode

import jwt
import pytest

from tests.support import ALICE, BOB, server_url
from tornado_socketio_jwt import AuthSettings

JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def post(http_client, port, path, body, headers=None):
    return await http_client.fetch(
        server_url(port) + path,
        method="POST",
        body=body,
        headers=headers or JSON,
        raise_error=False,
    )


def login_body(user=ALICE, **overrides):
    data = {"username": user["username"], "password": user["password"], **overrides}
    return json.dumps(data)


@pytest.mark.gen_test
async def test_login_with_json_returns_a_bearer_token(
    http_server, http_port, http_client, secret
):
    response = await post(http_client, http_port, "/login", login_body())
    assert response.code == 200
    body = json.loads(response.body)
    assert body["token_type"] == "Bearer" and body["expires_in"] == 60
    claims = jwt.decode(
        body["token"], secret, algorithms=["HS256"], issuer="tornado-socketio-jwt"
    )
    assert claims["sub"] == "1" and claims["email"] == ALICE["email"]
    assert claims["first_name"] == "Alice" and claims["last_name"] == "Liddell"
    assert claims["exp"] == int(claims["iat"]) + 60
    assert abs(claims["auth_time"] - time.time()) < 10 and len(claims["jti"]) == 32
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.gen_test
async def test_login_with_a_form_body_works_like_the_seed_client(
    http_server, http_port, http_client
):
    body = urlencode({"username": BOB["username"], "password": BOB["password"]})
    response = await post(http_client, http_port, "/login", body, FORM)
    assert response.code == 200 and json.loads(response.body)["token"]


@pytest.mark.gen_test
async def test_wrong_password_and_unknown_user_get_the_same_401(
    http_server, http_port, http_client
):
    wrong = await post(http_client, http_port, "/login", login_body(password="nope"))
    unknown = await post(
        http_client,
        http_port,
        "/login",
        login_body(username="mallory", password="nope"),
    )
    assert wrong.code == unknown.code == 401
    assert wrong.body == unknown.body
    assert json.loads(wrong.body)["error"] == "invalid_credentials"
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.gen_test
async def test_unknown_user_still_costs_one_password_hash(
    http_server, http_port, http_client, users, monkeypatch
):
    checked = []
    original = users._check

    def check(digest, password):
        checked.append(digest)
        return original(digest, password)

    monkeypatch.setattr(users, "_check", check)
    await post(http_client, http_port, "/login", login_body(username="mallory"))
    assert checked == [users._dummy_hash]


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b"null",
        b'{"username": "alice"}',
        b'{"username": 1, "password": 2}',
        b'{"username": "", "password": "x"}',
        b"\xff\xfe",
    ],
)
@pytest.mark.gen_test
async def test_malformed_login_body_is_400_bad_request(
    http_server, http_port, http_client, body
):
    response = await post(http_client, http_port, "/login", body)
    assert response.code == 400
    assert json.loads(response.body)["error"] == "bad_request"


@pytest.mark.parametrize("body", [b"username=%ff&password=x", b"username=alice"])
@pytest.mark.gen_test
async def test_malformed_form_body_is_400_bad_request(
    http_server, http_port, http_client, body
):
    response = await post(http_client, http_port, "/login", body, FORM)
    assert response.code == 400
    assert json.loads(response.body)["error"] == "bad_request"


@pytest.mark.gen_test
async def test_deeply_nested_json_is_400_not_a_crash(
    http_server, http_port, http_client
):
    response = await post(http_client, http_port, "/login", b"[" * 3000)
    assert response.code == 400


@pytest.mark.gen_test
async def test_chunked_body_past_the_limit_is_cut_off(
    http_server, http_port, http_client
):
    async def producer(write):
        for _ in range(100):
            await write(b"x" * 1024)

    response = await http_client.fetch(
        server_url(http_port) + "/login",
        method="POST",
        body_producer=producer,
        headers=JSON,
        raise_error=False,
    )
    assert response.code != 200


@pytest.mark.gen_test
async def test_credentials_in_the_query_string_are_ignored(
    http_server, http_port, http_client
):
    query = urlencode({"username": ALICE["username"], "password": ALICE["password"]})
    response = await post(http_client, http_port, "/login?" + query, b"", FORM)
    assert response.code == 400


@pytest.mark.gen_test
async def test_oversized_login_body_is_413(http_server, http_port, http_client):
    response = await post(
        http_client, http_port, "/login", login_body(password="x" * 10_000)
    )
    assert response.code == 413
    assert json.loads(response.body)["error"] == "request_entity_too_large"


@pytest.mark.gen_test
async def test_repeated_failures_get_429_with_retry_after(
    http_server, http_port, http_client, settings
):
    for _ in range(settings.login_max_failures):
        assert (
            await post(http_client, http_port, "/login", login_body(password="no"))
        ).code == 401
    response = await post(http_client, http_port, "/login", login_body())
    assert response.code == 429
    assert json.loads(response.body)["error"] == "too_many_attempts"
    assert 1 <= int(response.headers["Retry-After"]) <= settings.login_window
    other = await post(http_client, http_port, "/login", login_body(BOB))
    assert other.code == 200


@pytest.mark.gen_test
async def test_concurrent_failures_cannot_pass_the_limit(
    http_server, http_port, http_client, settings
):
    attempts = [
        post(http_client, http_port, "/login", login_body(password="no"))
        for _ in range(settings.login_max_failures * 3)
    ]
    codes = [r.code for r in await asyncio.gather(*attempts)]
    assert codes.count(401) == settings.login_max_failures
    assert codes.count(429) == len(codes) - settings.login_max_failures


@pytest.mark.gen_test
async def test_address_limit_counts_failures_across_usernames(
    http_server, http_port, http_client, settings
):
    limit = settings.login_max_failures * 4
    for n in range(limit):
        await post(http_client, http_port, "/login", login_body(username=f"user{n}"))
    response = await post(http_client, http_port, "/login", login_body())
    assert response.code == 429


@pytest.mark.gen_test
async def test_get_on_login_is_405_json(http_server, http_port, http_client):
    response = await http_client.fetch(
        server_url(http_port) + "/login", raise_error=False
    )
    assert response.code == 405
    assert json.loads(response.body) == {
        "error": "method_not_allowed",
        "message": "Method Not Allowed.",
    }


@pytest.mark.gen_test
async def test_login_logs_no_password_and_no_token(
    http_server, http_port, http_client, caplog
):
    caplog.set_level(logging.DEBUG)
    response = await post(http_client, http_port, "/login", login_body())
    token = json.loads(response.body)["token"]
    assert any("POST /login" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        assert token not in record.getMessage()
        assert ALICE["password"] not in record.getMessage()


@pytest.mark.gen_test
async def test_logout_revokes_the_token(http_server, http_port, http_client):
    token = json.loads(
        (await post(http_client, http_port, "/login", login_body())).body
    )["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    response = await http_client.fetch(
        server_url(http_port) + "/logout",
        method="POST",
        body=b"",
        headers=bearer,
        raise_error=False,
    )
    assert response.code == 204
    again = await http_client.fetch(
        server_url(http_port) + "/logout",
        method="POST",
        body=b"",
        headers=bearer,
        raise_error=False,
    )
    assert again.code == 401
    assert json.loads(again.body)["error"] == "token_revoked"


@pytest.mark.parametrize(
    "header, code",
    [
        (None, "credentials_required"),
        ("Basic abc", "credentials_bad_format"),
        ("Bearer not.a.token", "invalid_token"),
    ],
)
@pytest.mark.gen_test
async def test_logout_without_a_valid_bearer_is_401(
    http_server, http_port, http_client, header, code
):
    headers = {"Authorization": header} if header else {}
    response = await http_client.fetch(
        server_url(http_port) + "/logout",
        method="POST",
        body=b"",
        headers=headers,
        raise_error=False,
    )
    assert response.code == 401
    assert json.loads(response.body)["error"] == code


@pytest.mark.gen_test
async def test_logout_all_does_not_revoke_a_login_made_right_after(
    http_server, http_port, http_client
):
    first = json.loads(
        (await post(http_client, http_port, "/login", login_body())).body
    )["token"]
    response = await http_client.fetch(
        server_url(http_port) + "/logout",
        method="POST",
        body=json.dumps({"all": True}),
        headers={"Authorization": f"Bearer {first}", **JSON},
        raise_error=False,
    )
    assert response.code == 204
    second = json.loads(
        (await post(http_client, http_port, "/login", login_body())).body
    )["token"]
    for token, expected in ((first, 401), (second, 204)):
        answer = await http_client.fetch(
            server_url(http_port) + "/logout",
            method="POST",
            body=b"",
            headers={"Authorization": f"Bearer {token}"},
            raise_error=False,
        )
        assert answer.code == expected


@pytest.fixture
def settings(request, secret):
    claims = getattr(request, "param", ("exp", "iat", "sub", "jti"))
    return AuthSettings(secret=secret, token_ttl=60, required_claims=claims)


@pytest.mark.parametrize("settings", [("exp", "iat", "sub")], indirect=True)
@pytest.mark.gen_test
async def test_logout_of_a_token_without_jti_is_400_not_a_crash(
    http_server, http_port, http_client, make_token, settings
):
    token = make_token(jti=None)
    response = await http_client.fetch(
        server_url(http_port) + "/logout",
        method="POST",
        body=b"",
        headers={"Authorization": f"Bearer {token}"},
        raise_error=False,
    )
    assert response.code == 400
    assert json.loads(response.body)["error"] == "bad_request"
