"""A JWK whose members have the wrong JSON type is skipped, never a TypeError."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.issuer import AUDIENCE, ISSUER, FakeIssuer, issuer_token, jwk_of, rsa_key
from tornado_socketio_jwt import AuthSettings, JWKSKeySource, verify_token
from tornado_socketio_jwt.keys.remote import parse_jwks


@pytest.fixture(scope="module")
def good() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture(scope="module")
def broken() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.mark.parametrize(
    "change", [{"alg": ["RS256"]}, {"alg": {"RS256": 1}}, {"kty": 7}, {"e": 65537}]
)
def test_a_jwk_member_of_the_wrong_type_skips_that_key_only(
    good: Any, broken: Any, change: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    bad = jwk_of(broken, kid="bad", **change)
    with caplog.at_level(logging.WARNING, logger="tornado_socketio_jwt"):
        keys = parse_jwks({"keys": [bad, jwk_of(good, kid="good")]}, ("RS256",))

    assert list(keys) == ["good"]
    assert "kid=bad skipped" in caplog.text


@pytest.mark.gen_test
async def test_verify_only_mode_serves_the_other_keys_of_such_a_jwks(
    good: Any, broken: Any
) -> None:
    issuer = FakeIssuer()
    issuer.publish(jwk_of(broken, kid="bad", alg=["RS256"]), jwk_of(good, kid="good"))
    settings = AuthSettings(
        algorithms=("RS256",),
        issuer=ISSUER,
        audience=AUDIENCE,
        required_claims=("exp", "iat", "sub"),
    )
    keys = JWKSKeySource(issuer.url, settings.algorithms)
    try:
        assert await keys.refresh()
        token = issuer_token(good, "good")
        assert verify_token(token, settings, keys)["sub"] == "auth0|42"
    finally:
        await issuer.close()
