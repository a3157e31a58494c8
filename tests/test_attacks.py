"""The classic JWT attacks against an RS256 server: each handshake is refused with
invalid_token, and no key is ever taken from the token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.issuer import FakeIssuer, jwk_of, public_pem, rsa_key
from tests.support import connected_client, server_url
from tornado_socketio_jwt import AuthSettings, KeyRing

ROUTES = ("socketio", "health")
REFUSED = {"code": "invalid_token", "type": "UnauthorizedError"}


@pytest.fixture(scope="module")
def server_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture(scope="module")
def attacker_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture
def ring(server_key: Any) -> KeyRing:
    return KeyRing(("RS256",), signing_key=server_key)


@pytest.fixture
def settings() -> AuthSettings:
    return AuthSettings(algorithms=("RS256",), token_ttl=60)


@pytest.fixture
def attach_options(ring: KeyRing) -> dict[str, Any]:
    return {"keys": ring, "routes": ROUTES}


@pytest.fixture
def attacker(io_loop: Any, attacker_key: Any) -> Any:
    """The attacker's own JWKS server, which must never be asked for anything."""
    fake = FakeIssuer()
    fake.publish(jwk_of(attacker_key))
    yield fake
    io_loop.run_sync(fake.close)


def claims() -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": "1",
        "iat": now,
        "exp": now + 60,
        "jti": "j",
        "iss": "tornado-socketio-jwt",
    }


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], secret: bytes | None, rsa_key: Any = None) -> str:
    """A token built by hand: PyJWT refuses to produce these."""
    signing_input = (
        f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims()).encode())}"
    )
    if rsa_key is not None:
        signature = rsa_key.sign(
            signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    elif secret is not None:
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    else:
        return signing_input + "."
    return f"{signing_input}.{b64(signature)}"


async def refusal(port: int, token: str) -> Any:
    """The refusal's code and type (its message, which names the failed check,
    is the ``connect_error``'s own)."""
    async with connected_client(server_url(port), auth={"token": token}) as result:
        assert not result.connected
        error = result.connect_errors[0]
    data = dict(error["data"])
    assert data.pop("message") == error["message"]
    return data


@pytest.mark.gen_test
async def test_unsigned_alg_none_token_is_refused(
    http_server: Any, http_port: int, ring: KeyRing
) -> None:
    token = forge({"alg": "none", "typ": "JWT", "kid": ring.kids[0]}, None)
    assert await refusal(http_port, token) == REFUSED


@pytest.mark.gen_test
async def test_hs256_token_signed_with_the_rsa_public_key_pem_is_refused(
    http_server: Any, http_port: int, ring: KeyRing, server_key: Any
) -> None:
    # Algorithm confusion: the public PEM (which anyone can fetch) as an HMAC secret.
    token = forge(
        {"alg": "HS256", "typ": "JWT", "kid": ring.kids[0]}, public_pem(server_key)
    )
    assert await refusal(http_port, token) == REFUSED


@pytest.mark.parametrize(
    "kid",
    [
        "../../etc/passwd",
        "/dev/null",
        "jwt-public.pem",
        "",
        "' OR '1'='1",
        0,
        None,
        ["a"],
    ],
)
@pytest.mark.gen_test
async def test_kid_path_tricks_are_refused(
    http_server: Any, http_port: int, server_key: Any, kid: Any
) -> None:
    token = forge({"alg": "RS256", "typ": "JWT", "kid": kid}, None, server_key)
    assert await refusal(http_port, token) == REFUSED


@pytest.mark.parametrize("pointer", ["jku", "x5u"])
@pytest.mark.gen_test
async def test_jku_and_x5u_headers_are_ignored(
    http_server: Any,
    http_port: int,
    attacker: FakeIssuer,
    attacker_key: Any,
    pointer: str,
) -> None:
    kid = jwk_of(attacker_key)["kid"]
    token = jwt.encode(
        claims(),
        attacker_key,
        algorithm="RS256",
        headers={"kid": kid, pointer: attacker.url},
    )
    assert await refusal(http_port, token) == REFUSED
    assert attacker.requests == 0


@pytest.mark.gen_test
async def test_embedded_jwk_header_is_ignored(
    http_server: Any, http_port: int, attacker_key: Any, ring: KeyRing
) -> None:
    embedded = jwk_of(attacker_key, kid=ring.kids[0])  # even claiming the server's kid
    token = jwt.encode(
        claims(),
        attacker_key,
        algorithm="RS256",
        headers={"kid": ring.kids[0], "jwk": embedded},
    )
    assert await refusal(http_port, token) == REFUSED


@pytest.mark.gen_test
async def test_genuine_hand_built_token_is_accepted_by_the_same_server(
    http_server: Any, http_port: int, server_key: Any, ring: KeyRing
) -> None:
    # The control for the kid tricks: the same forging path, with the right kid.
    token = forge({"alg": "RS256", "typ": "JWT", "kid": ring.kids[0]}, None, server_key)
    async with connected_client(server_url(http_port), auth={"token": token}) as result:
        assert result.connected
