"""Claim policy: audience, issuer, required claims, leeway.

Each refusal names its check."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import jwt
import pytest

from tests.issuer import rsa_key
from tests.support import sign
from tornado_socketio_jwt import (
    AuthSettings,
    SharedSecretKey,
    TokenExpiredError,
    TokenInvalidError,
    verify_token,
)

SECRET = "s" * 40
KEYS = SharedSecretKey(SECRET)


def settings(**overrides: Any) -> AuthSettings:
    return AuthSettings(secret=SECRET, **overrides)


def test_token_for_another_audience_is_refused_naming_aud() -> None:
    token = sign(SECRET, aud="https://other.example.com/")
    with pytest.raises(TokenInvalidError, match=r"audience \(aud\)") as info:
        verify_token(token, settings(audience="https://api.example.com/"), KEYS)
    assert type(info.value) is TokenInvalidError


def test_token_with_an_audience_is_refused_when_none_is_configured() -> None:
    token = sign(SECRET, aud="https://other.example.com/")
    with pytest.raises(TokenInvalidError, match="aud"):
        verify_token(token, settings(), KEYS)


def test_token_without_the_configured_audience_is_refused_naming_aud() -> None:
    with pytest.raises(TokenInvalidError, match="'aud'"):
        verify_token(sign(SECRET), settings(audience="https://api.example.com/"), KEYS)


def test_token_from_another_issuer_is_refused_naming_iss() -> None:
    with pytest.raises(TokenInvalidError, match=r"issuer \(iss\)"):
        verify_token(sign(SECRET, iss="https://evil.example.com/"), settings(), KEYS)


def test_missing_required_claim_is_refused_naming_it() -> None:
    token = sign(SECRET, jti=None)
    with pytest.raises(TokenInvalidError, match="required claim 'jti'"):
        verify_token(token, settings(), KEYS)


def test_required_claims_are_configurable() -> None:
    token = sign(SECRET, jti=None)
    claims = verify_token(token, settings(required_claims=("exp", "iat", "sub")), KEYS)
    assert "jti" not in claims


def test_required_claims_must_include_sub() -> None:
    with pytest.raises(ValueError, match="sub"):
        settings(required_claims=("exp",))


def test_leeway_accepts_a_token_that_expired_within_it() -> None:
    token = sign(SECRET, exp=int(time.time()) - 5)
    assert verify_token(token, settings(leeway=30), KEYS)["sub"] == "1"


def test_token_expired_beyond_the_leeway_is_refused_with_token_expired() -> None:
    token = sign(SECRET, exp=int(time.time()) - 60)
    with pytest.raises(TokenExpiredError):
        verify_token(token, settings(leeway=30), KEYS)


def test_token_not_valid_yet_is_refused_naming_nbf() -> None:
    token = sign(SECRET, nbf=int(time.time()) + 600)
    with pytest.raises(TokenInvalidError, match="not valid yet"):
        verify_token(token, settings(), KEYS)


def test_bad_signature_says_what_jsonwebtoken_says() -> None:
    with pytest.raises(TokenInvalidError, match=r"^invalid signature$"):
        verify_token(sign("t" * 40), settings(), KEYS)


class UnusableKey:
    """A key source whose key PyJWT cannot load: a server fault."""

    def signing_key(self) -> tuple[Any, str | None]:
        raise RuntimeError("verify only")

    def verification_key(self, header: Mapping[str, Any]) -> Any:
        return b"not a PEM key"


def test_unusable_verification_key_is_logged_as_a_server_fault(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rs_settings = AuthSettings(algorithms=("RS256",))
    token = sign(rsa_key(), "RS256")  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="tornado_socketio_jwt"):
        with pytest.raises(TokenInvalidError, match="cannot be verified") as info:
            verify_token(token, rs_settings, UnusableKey())
    assert info.value.code == "invalid_token"
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    assert "verification key unusable" in caplog.records[0].getMessage()
    assert token not in caplog.text


class FailingJWKClient:
    """A key source built on PyJWT's PyJWKClient whose endpoint is down."""

    def signing_key(self) -> tuple[Any, str | None]:
        raise RuntimeError("verify only")

    def verification_key(self, header: Mapping[str, Any]) -> Any:
        raise jwt.PyJWKClientConnectionError("Fail to fetch data from the url")


def test_jwk_client_error_is_a_server_fault_not_the_clients_bad_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = sign(rsa_key(), "RS256", {"kid": "k"})  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="tornado_socketio_jwt"):
        with pytest.raises(TokenInvalidError, match="cannot be verified") as info:
            verify_token(token, AuthSettings(algorithms=("RS256",)), FailingJWKClient())
    assert isinstance(info.value.__cause__, jwt.PyJWKClientError)
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    assert token not in caplog.text
