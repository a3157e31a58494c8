"""Test helpers for asymmetric keys: key pairs, an external issuer's JWKS
endpoint on 127.0.0.1 that the test controls, and a clock to freeze time."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
import tornado.httpserver
import tornado.testing
import tornado.web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tornado_socketio_jwt.keys.jwk import public_jwk

ISSUER = "https://tenant.example.com/"
AUDIENCE = "https://api.example.com/"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(key: Any) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def private_pem(key: Any) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_private(path: Any, key: Any) -> None:
    """Write ``key`` as a PEM file only its owner can read, as the server requires."""
    Path(path).write_bytes(private_pem(key))
    Path(path).chmod(0o600)


def jwk_of(key: Any, alg: Any = "RS256", **members: Any) -> dict[str, Any]:
    """The public JWK of ``key`` (kid = thumbprint unless given)."""
    return {**public_jwk(key, alg), **members}


def issuer_token(
    key: Any,
    kid: str | None,
    alg: str = "RS256",
    headers: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """A token as an OIDC issuer would sign it: iss, aud, no jti by default."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "sub": "auth0|42",
        "iat": now,
        "exp": now + 60,
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    header = dict(headers or {})
    if kid is not None:
        header["kid"] = kid
    return jwt.encode(payload, key, algorithm=alg, headers=header)


class Clock:
    """A monotonic clock the test advances by hand (no sleeping)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class _JWKSHandler(tornado.web.RequestHandler):
    def initialize(self, issuer: FakeIssuer) -> None:
        self.issuer = issuer

    def get(self) -> None:
        self.issuer.requests += 1
        self.set_header("Content-Type", "application/json")
        self.write(self.issuer.body)


class FakeIssuer:
    """``GET /jwks.json`` on 127.0.0.1, serving whatever the test publishes."""

    def __init__(self) -> None:
        self.requests = 0
        self.body: str | bytes = '{"keys": []}'
        self._server: tornado.httpserver.HTTPServer | None = None
        sock, self.port = tornado.testing.bind_unused_port()
        app = tornado.web.Application(
            [(r"/jwks\.json", _JWKSHandler, {"issuer": self})]
        )
        self._server = tornado.httpserver.HTTPServer(app)
        self._server.add_sockets([sock])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/jwks.json"

    def publish(self, *jwks: dict[str, Any]) -> None:
        self.body = json.dumps({"keys": list(jwks)})

    def stop(self) -> None:
        """Go down: later fetches get connection refused."""
        if self._server is not None:
            self._server.stop()

    async def close(self) -> None:
        self.stop()
        if self._server is not None:
            await self._server.close_all_connections()
            self._server = None
