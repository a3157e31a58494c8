"""JWKSKeySource and parse_jwks without a network: which JWKs are ever used."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import socketio
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.issuer import ec_key, jwk_of, rsa_key
from tornado_socketio_jwt import AuthSettings, JWKSKeySource, KeyRing, attach_jwt_auth
from tornado_socketio_jwt.keys.remote import parse_jwks

ALLOWED = ("RS256", "ES256")


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa_key()


def test_usable_rsa_and_ec_keys_are_kept_by_kid(key: Any) -> None:
    ec = ec_key()
    keys = parse_jwks({"keys": [jwk_of(key), jwk_of(ec, "ES256")]}, ALLOWED)
    assert sorted(keys) == sorted([jwk_of(key)["kid"], jwk_of(ec, "ES256")["kid"]])


@pytest.mark.parametrize(
    "change",
    [
        {"kid": None},
        {"kid": ""},
        {"use": "enc"},
        {"alg": "RS512"},
        {"d": "AQAB"},
    ],
)
def test_unusable_jwks_are_skipped(key: Any, change: dict[str, Any]) -> None:
    jwk = {k: v for k, v in {**jwk_of(key), **change}.items() if v is not None}
    assert parse_jwks({"keys": [jwk]}, ALLOWED) == {}


def test_symmetric_jwk_is_never_used() -> None:
    oct_key = {
        "kty": "oct",
        "kid": "k",
        "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA",
    }
    assert parse_jwks({"keys": [oct_key]}, ("HS256", "RS256")) == {}


def test_malformed_jwk_is_skipped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="tornado_socketio_jwt"):
        keys = parse_jwks(
            {"keys": [{"kty": "RSA", "kid": "bad", "n": "!!", "e": "AQAB"}]}, ALLOWED
        )
    assert keys == {}
    assert "kid=bad skipped" in caplog.text


@pytest.mark.parametrize("data", [[], {"keys": "nope"}, "text", None])
def test_a_body_that_is_not_a_jwk_set_is_refused(data: Any) -> None:
    with pytest.raises(ValueError):
        parse_jwks(data, ALLOWED)


def test_jwks_source_refuses_hmac_algorithms() -> None:
    with pytest.raises(ValueError, match="public-key"):
        JWKSKeySource("https://tenant.example.com/jwks.json", ("HS256",))


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://x/jwks.json", "jwks.json"]
)
def test_jwks_source_refuses_urls_that_are_not_http(url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        JWKSKeySource(url)


def test_jwks_source_never_signs() -> None:
    source = JWKSKeySource("https://tenant.example.com/jwks.json")
    assert not source.can_sign
    with pytest.raises(RuntimeError):
        source.signing_key()


def test_attach_refuses_a_key_ring_under_hs256_settings(
    sio: socketio.AsyncServer, key: Any
) -> None:
    ring = KeyRing(("RS256",), signing_key=key)
    with pytest.raises(ValueError, match="serves RS256"):
        attach_jwt_auth(
            sio, AuthSettings(secret="s" * 40, routes=("socketio",)), keys=ring
        )


def test_attach_refuses_a_signing_key_whose_algorithm_is_not_configured(
    sio: socketio.AsyncServer, key: Any
) -> None:
    ring = KeyRing(
        signing_key=ec_key(), public_keys=[key.public_key()]
    )  # RS256 + ES256
    with pytest.raises(ValueError, match="ES256 is not configured"):
        settings = AuthSettings(algorithms=("RS256",), routes=("socketio",))
        attach_jwt_auth(sio, settings, keys=ring)
