"""One verification key verifies a token without ``kid`` (Node's jsonwebtoken)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.issuer import (
    AUDIENCE,
    ISSUER,
    FakeIssuer,
    ec_key,
    issuer_token,
    jwk_of,
    rsa_key,
)
from tests.support import sign
from tornado_socketio_jwt import (
    AuthSettings,
    JWKSKeySource,
    KeyRing,
    TokenInvalidError,
    verify_token,
)
from tornado_socketio_jwt.keys import prepare_keys


@pytest.mark.parametrize("alg, make_key", [("RS256", rsa_key), ("ES256", ec_key)])
def test_a_single_key_ring_verifies_a_token_without_kid(
    alg: str, make_key: Any
) -> None:
    key = make_key()
    settings = AuthSettings(algorithms=(alg,))
    ring = KeyRing(settings.algorithms, public_keys=[key.public_key()])
    token = sign(key, alg, sub="node")

    assert verify_token(token, settings, ring)["sub"] == "node"


def test_a_single_key_ring_refuses_a_kid_naming_no_held_key() -> None:
    key = rsa_key()
    settings = AuthSettings(algorithms=("RS256",))
    ring = KeyRing(settings.algorithms, signing_key=key)
    token = sign(key, "RS256", {"kid": "someone-else"})

    with pytest.raises(TokenInvalidError, match=r"kid.*unknown"):
        verify_token(token, settings, ring)


def test_a_single_key_still_refuses_an_alg_it_does_not_serve() -> None:
    key = rsa_key()
    settings = AuthSettings(algorithms=("RS256", "RS384"))
    ring = KeyRing(("RS256",), signing_key=key)

    with pytest.raises(TokenInvalidError, match="algorithm"):
        verify_token(sign(key, "RS384"), settings, ring)


def test_a_single_key_ring_refuses_a_token_signed_by_another_key() -> None:
    settings = AuthSettings(algorithms=("RS256",))
    ring = KeyRing(settings.algorithms, signing_key=rsa_key())

    with pytest.raises(TokenInvalidError):
        verify_token(sign(rsa_key(), "RS256"), settings, ring)


@pytest.mark.gen_test
async def test_a_single_key_jwks_verifies_a_token_without_kid_on_first_use() -> None:
    key, issuer = rsa_key(), FakeIssuer()
    issuer.publish(jwk_of(key))
    settings = AuthSettings(
        algorithms=("RS256",),
        issuer=ISSUER,
        audience=AUDIENCE,
        required_claims=("exp", "iat", "sub"),
    )
    keys = JWKSKeySource(issuer.url, settings.algorithms)
    token = issuer_token(key, None)
    try:
        await prepare_keys(keys, {"alg": "RS256"})  # the cache was empty: fetched
        assert verify_token(token, settings, keys)["sub"] == "auth0|42"
        assert issuer.requests == 1
    finally:
        await issuer.close()
