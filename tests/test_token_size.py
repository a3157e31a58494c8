"""A token over max_token_bytes is refused before anything decodes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
import pytest

from tests.support import connected_client, server_url, sign
from tornado_socketio_jwt import (
    Authenticator,
    AuthSettings,
    SharedSecretKey,
    TokenInvalidError,
    tokens,
    verify_token,
)
from tornado_socketio_jwt.credentials import check_token_size, extract_token
from tornado_socketio_jwt.tokens import read_header

SECRET = "s" * 32
HUGE = 64 * 1024


@pytest.fixture
def huge_token() -> str:
    token = sign(SECRET, padding="x" * HUGE)
    assert len(token) > HUGE
    return token


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the token was decoded")

    monkeypatch.setattr(jwt, "decode", refuse)
    monkeypatch.setattr(jwt, "get_unverified_header", refuse)
    monkeypatch.setattr(jwt.api_jws, "base64url_decode", refuse)


def test_a_64_kib_validly_signed_token_is_refused_without_decoding(
    huge_token: str, no_decoding: None
) -> None:
    settings = AuthSettings(secret=SECRET)
    with pytest.raises(TokenInvalidError, match="larger than this server accepts"):
        verify_token(huge_token, settings, SharedSecretKey(SECRET))


def test_read_header_refuses_it_before_decoding(
    huge_token: str, no_decoding: None
) -> None:
    with pytest.raises(TokenInvalidError):
        read_header(huge_token, max_bytes=8192)


def test_the_refusal_never_carries_the_token(
    huge_token: str, no_decoding: None
) -> None:
    with pytest.raises(TokenInvalidError) as refused:
        read_header(huge_token, max_bytes=8192)
    assert refused.value.code == "invalid_token"
    assert huge_token not in str(refused.value)


@pytest.mark.gen_test
async def test_a_handshake_checks_the_size_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []

    def counted(token: str, max_bytes: int) -> str:
        calls.append(max_bytes)
        return check_token_size(token, max_bytes)

    monkeypatch.setattr(tokens, "check_token_size", counted)
    settings = AuthSettings(secret=SECRET)
    authenticator = Authenticator(None, settings, SharedSecretKey(SECRET))
    token = extract_token({}, {"token": sign(SECRET)}, ("auth",))
    assert (await authenticator.verify(token))["sub"] == "1"
    assert calls == [settings.max_token_bytes]


def test_a_token_of_exactly_the_limit_is_accepted() -> None:
    token = sign(SECRET)
    keys = SharedSecretKey(SECRET)
    exact = AuthSettings(secret=SECRET, max_token_bytes=len(token))
    assert verify_token(token, exact, keys)["sub"] == "1"
    with pytest.raises(TokenInvalidError):
        verify_token(
            token, AuthSettings(secret=SECRET, max_token_bytes=len(token) - 1), keys
        )


def test_non_ascii_characters_count_as_their_utf8_bytes() -> None:
    with pytest.raises(TokenInvalidError):
        check_token_size("é" * 5, 8)
    assert check_token_size("é" * 4, 8) == "é" * 4


@pytest.mark.parametrize("value", [0, -1])
def test_max_token_bytes_must_be_positive(value: int) -> None:
    with pytest.raises(ValueError, match="max_token_bytes"):
        AuthSettings(secret=SECRET, max_token_bytes=value)


def test_the_default_is_8_kib() -> None:
    assert AuthSettings(secret=SECRET).max_token_bytes == 8192


@pytest.mark.gen_test
async def test_a_handshake_with_a_64_kib_token_is_refused_with_invalid_token(
    http_server: Any, http_port: int, make_token: Callable[..., str]
) -> None:
    token = make_token(padding="x" * HUGE)
    async with connected_client(server_url(http_port), auth={"token": token}) as result:
        assert not result.connected
    assert result.connect_errors[0]["data"]["code"] == "invalid_token"
    assert "larger" in result.connect_errors[0]["message"]


@pytest.mark.gen_test
async def test_logout_with_an_oversized_bearer_is_401_invalid_token(
    http_server: Any, http_port: int, http_client: Any, make_token: Callable[..., str]
) -> None:
    response = await http_client.fetch(
        server_url(http_port) + "/logout",
        method="POST",
        body=b"",
        headers={"Authorization": f"Bearer {make_token(padding='x' * 16384)}"},
        raise_error=False,
    )
    assert response.code == 401 and b"invalid_token" in response.body
