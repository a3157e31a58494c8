"""GET /.well-known/jwks.json: this server's public keys, usable by PyJWKClient."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
import tornado.ioloop
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.issuer import rsa_key
from tests.support import ALICE, server_url
from tornado_socketio_jwt import AuthSettings, KeyRing

JWKS = "/.well-known/jwks.json"
ROUTES = ("socketio", "login", "logout", "health", "jwks")  # no static client


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture(scope="module")
def retired_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture
def ring(signing_key: Any, retired_key: Any) -> KeyRing:
    return KeyRing(
        ("RS256",), signing_key=signing_key, public_keys=[retired_key.public_key()]
    )


@pytest.fixture
def settings() -> AuthSettings:
    return AuthSettings(algorithms=("RS256",), token_ttl=60)


@pytest.fixture
def attach_options(ring: KeyRing) -> dict[str, Any]:
    return {"keys": ring, "routes": ROUTES}


async def login(http_client: Any, port: int) -> str:
    body = json.dumps({"username": ALICE["username"], "password": ALICE["password"]})
    response = await http_client.fetch(
        f"{server_url(port)}/login",
        method="POST",
        body=body,
        headers={"Content-Type": "application/json"},
    )
    return str(json.loads(response.body)["token"])


@pytest.mark.gen_test
async def test_jwks_route_publishes_every_verification_key_with_kid_alg_and_use(
    http_client: Any, http_port: int, http_server: Any, ring: KeyRing
) -> None:
    response = await http_client.fetch(server_url(http_port) + JWKS)
    keys = json.loads(response.body)["keys"]
    assert [k["kid"] for k in keys] == list(ring.kids)
    assert {(k["alg"], k["use"]) for k in keys} == {("RS256", "sig")}
    assert response.headers["Content-Type"].startswith("application/json")


@pytest.mark.gen_test
async def test_published_jwks_verifies_this_servers_tokens_with_pyjwkclient(
    http_client: Any, http_port: int, http_server: Any, ring: KeyRing
) -> None:
    token = await login(http_client, http_port)

    def verify_elsewhere() -> dict[str, Any]:
        # PyJWKClient is blocking urllib: run it off the loop that serves the test.
        client = jwt.PyJWKClient(server_url(http_port) + JWKS)
        key = client.get_signing_key_from_jwt(token)
        return jwt.decode(
            token, key, algorithms=["RS256"], issuer="tornado-socketio-jwt"
        )

    loop = tornado.ioloop.IOLoop.current()
    claims = await loop.run_in_executor(None, verify_elsewhere)
    assert claims["email"] == ALICE["email"]
    assert jwt.get_unverified_header(token)["kid"] == ring.signing_key()[1]


@pytest.mark.gen_test
async def test_rotated_in_key_is_published_at_once(
    http_client: Any, http_port: int, http_server: Any, ring: KeyRing
) -> None:
    new_kid = ring.set_signing_key(rsa_key())
    response = await http_client.fetch(server_url(http_port) + JWKS)
    assert new_kid in [k["kid"] for k in json.loads(response.body)["keys"]]


class TestSharedSecret:
    @pytest.fixture
    def settings(self, secret: str) -> AuthSettings:
        return AuthSettings(secret=secret, token_ttl=60)

    @pytest.fixture
    def attach_options(self) -> dict[str, Any]:
        return {"routes": ("socketio", "login", "jwks")}

    @pytest.mark.gen_test
    async def test_no_jwks_route_with_a_shared_secret(
        self, http_client: Any, http_port: int, http_server: Any
    ) -> None:
        response = await http_client.fetch(
            server_url(http_port) + JWKS, raise_error=False
        )
        assert response.code == 404


class TestVerifyOnlyRing:
    @pytest.fixture
    def ring(self, signing_key: Any) -> KeyRing:
        return KeyRing(("RS256",), public_keys=[signing_key.public_key()])

    @pytest.fixture
    def attach_options(self, ring: KeyRing) -> dict[str, Any]:
        return {"keys": ring, "users": None, "routes": ROUTES}

    @pytest.mark.parametrize("path", ["/login", "/logout", JWKS])
    @pytest.mark.gen_test
    async def test_verify_only_key_source_serves_no_login_logout_or_jwks(
        self, http_client: Any, http_port: int, http_server: Any, path: str
    ) -> None:
        method = "GET" if path == JWKS else "POST"
        response = await http_client.fetch(
            server_url(http_port) + path,
            method=method,
            body=None if method == "GET" else "{}",
            raise_error=False,
        )
        assert response.code == 404
