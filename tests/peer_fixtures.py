"""The servers of socketio-jwt's and @thream/socketio-jwt's test suites, set up
here as their fixtures set them up, on this library.

Upstream (read from the peers' repositories):

- auth0-socketio-jwt ``test/fixture/index.js``: one namespace, ``handshake``
  true (the token in the query or the header) or false (the ``authenticate``
  event, ``timeout: 1000``), an ``echo`` event for authenticated sockets;
- ``test/fixture/secret_function.js``: the same with ``secret`` a callback;
- ``test/fixture/namespace.js``: ``/`` public, ``/admin`` authenticate-event,
  ``/admin_hs`` handshake, on one server;
- @thream/socketio-jwt ``src/__test__/fixture/index.ts``: handshake with the
  token as ``auth: {token: "Bearer ..."}``, ``secret`` a string or an async
  callback, ``onAuthentication`` optional.

Their ``/login`` signs a profile with jsonwebtoken; :func:`login` does the
same here, with the ``sub`` this library requires.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from tornado_socketio_jwt import (
    AuthSettings,
    NamespacePolicy,
    SecretCallback,
    UnauthorizedError,
    attach_jwt_auth,
    current_user,
)

__all__ = [
    "Peer",
    "login",
    "AUTH0_SECRET",
    "AUTH0_SECRETS",
    "THREAM_SECRET",
    "PROFILE",
    "THREAM_PROFILE",
    "UNSIGNED_TOKEN",
]

# Upstream's secrets ("aaafoo super sercret", "other", "super secret") are
# under the 32 bytes this library requires of an HMAC secret: padded here.
AUTH0_SECRET = "aaafoo super sercret" + "-padded-to-32-bytes"
AUTH0_SECRETS = {"123": AUTH0_SECRET, "555": "other" + "-padded-to-be-32-bytes-long!!"}
THREAM_SECRET = "super secret" + "-padded-to-be-32-bytes-long"
THREAM_CALLBACK_SECRET = "somesecret" + "-padded-to-be-32-bytes-long!"
PROFILE = {"first_name": "John", "last_name": "Doe", "email": "john@doe.com", "id": 123}
THREAM_PROFILE = {"email": "john@doe.com", "id": 123, "checkField": True}
# authorizer.test.js "unsigned token": alg none, no signature.
UNSIGNED_TOKEN = "eyJhbGciOiJub25lIiwiY3R5IjoiSldUIn0.eyJuYW1lIjoiSm9obiBGb28ifQ."
FIVE_HOURS = 60 * 60 * 5


def login(
    secret: str,
    kid: str | None = None,
    profile: Mapping[str, Any] = PROFILE,
    **changes: Any,
) -> str:
    """The fixtures' ``/login``: ``jwt.sign(profile, secret, {expiresIn: 5h})``."""
    now = int(time.time())
    claims = {**profile, **changes}
    payload = {**claims, "sub": str(claims["id"]), "iat": now, "exp": now + FIVE_HOURS}
    headers = {"kid": kid} if kid is not None else None
    return jwt.encode(payload, secret, algorithm="HS256", headers=headers)


@dataclass
class Peer:
    """One upstream fixture: what it attaches, and what its handlers saw."""

    name: str
    build: Callable[[Peer, Any], list[Any]]
    options: Mapping[str, Any] = field(default_factory=dict)
    seen: list[Any] = field(default_factory=list)

    def attach(self, sio: Any) -> list[Any]:
        self.seen.clear()
        return self.build(self, sio)

    def __str__(self) -> str:
        return self.name


def _settings(**fields: Any) -> AuthSettings:
    """What every fixture shares: jsonwebtoken's tokens (no iss, no jti), the
    socket route only, no built-in events."""
    base: dict[str, Any] = {
        "issuer": None,
        "required_claims": ("exp", "iat", "sub"),
        "routes": ("socketio",),
        "events": (),
    }
    return AuthSettings(**(base | fields))


def _echo(sio: Any, to_all: bool) -> None:
    @sio.on("echo")
    async def echo(sid: str, message: Any = None) -> None:
        await sio.emit("echo-response", message, to=None if to_all else sid)


def auth0_index(peer: Peer, sio: Any, keys: Any = None) -> list[Any]:
    """test/fixture/index.js: ``{secret, timeout: 1000, handshake: true}``
    plus the test's options (``handshake``, ``auth_header_required``)."""
    handshake = peer.options.get("handshake", True)
    fields: dict[str, Any] = {
        "secret": None if keys is not None else AUTH0_SECRET,
        "auth_flow": "handshake" if handshake else "event",
        "auth_timeout": 1.0,
    }
    if peer.options.get("auth_header_required"):
        fields["token_sources"] = ("header",)
    if "callback" in peer.options:  # socketio-jwt's callback: false, or N ms
        callback = peer.options["callback"]
        fields["unauthorized_ack_timeout"] = 0 if callback is False else callback / 1000
    _echo(sio, to_all=handshake)
    return attach_jwt_auth(sio, _settings(**fields), keys=keys)


def auth0_secret_function(peer: Peer, sio: Any) -> list[Any]:
    """test/fixture/secret_function.js: ``secret(request, decoded, cb)`` picks
    the secret by the token's ``id``. Here the lookup is given the header only
    (a key is never chosen from unverified claims): the token names it by
    ``kid``."""

    async def lookup(header: Mapping[str, Any]) -> str | None:
        kid = header.get("kid")
        return AUTH0_SECRETS.get(kid) if isinstance(kid, str) else None

    return auth0_index(peer, sio, keys=SecretCallback(lookup))


def auth0_namespace(peer: Peer, sio: Any) -> list[Any]:
    """test/fixture/namespace.js: ``/`` public, ``/admin`` authenticate
    event (``timeout: 1000``), ``/admin_hs`` handshake; one server."""
    settings = _settings(
        secret=AUTH0_SECRET,
        namespace_policies={
            "/": "public",
            "/admin": NamespacePolicy("event", auth_timeout=1.0),
            "/admin_hs": "handshake",
        },
    )

    @sio.on("connect")
    async def hi(sid: str, environ: Any, auth: Any = None) -> None:
        await sio.emit("hi", to=sid)

    for namespace in ("/admin", "/admin_hs"):

        @sio.on("connect", namespace=namespace)
        async def hi_admin(
            sid: str, environ: Any, auth: Any = None, namespace: str = namespace
        ) -> None:
            await sio.emit("hi admin", to=sid, namespace=namespace)

    return attach_jwt_auth(sio, settings)


async def _thream_secret(header: Mapping[str, Any]) -> str:
    """authorize.test.ts ``secretCallback``: always "somesecret"."""
    return THREAM_CALLBACK_SECRET


class CheckFieldFailed(UnauthorizedError):
    code = "check_field_failed"
    message = "Check Field validation failed"


def thream(peer: Peer, sio: Any) -> list[Any]:
    """src/__test__/fixture/index.ts: ``instance.use(authorize(options))``,
    the token in ``auth``; ``secret`` a string or ``secretCallback``;
    ``onAuthentication`` refusing a profile without ``checkField``."""
    callback = peer.options.get("secret") == "callback"
    keys = SecretCallback(_thream_secret) if callback else None
    settings = _settings(
        secret=None if callback else THREAM_SECRET, token_sources=("auth",)
    )
    additional_auth = None
    if peer.options.get("on_authentication"):

        async def on_authentication(
            claims: Mapping[str, Any], environ: Mapping[str, Any]
        ) -> None:
            if not claims.get("checkField"):
                raise CheckFieldFailed()

        additional_auth = on_authentication

    @sio.on("connect")
    async def connection(sid: str, environ: Any, auth: Any = None) -> None:
        # Thream's test reads socket.user.email; here the handler reads the
        # verified claims.
        user = await current_user(sio, sid)
        peer.seen.append(user["email"] if user else None)

    return attach_jwt_auth(sio, settings, keys=keys, additional_auth=additional_auth)


def thream_secret(peer: Peer) -> str:
    """The secret the Thream fixture's ``/login`` signs with."""
    return THREAM_CALLBACK_SECRET if peer.options.get("secret") else THREAM_SECRET


AUTH0_INDEX = Peer("auth0 index", auth0_index)
AUTH0_INDEX_NOQS = Peer(
    "auth0 index, handshake false", auth0_index, {"handshake": False}
)
AUTH0_CALLBACK_FALSE = Peer(
    "auth0 index, handshake false, callback false",
    auth0_index,
    {"handshake": False, "callback": False},
)
AUTH0_CALLBACK_MS = Peer(
    "auth0 index, handshake false, callback 1000",
    auth0_index,
    {"handshake": False, "callback": 1000},
)
AUTH0_HEADER_REQUIRED = Peer(
    "auth0 index, auth_header_required", auth0_index, {"auth_header_required": True}
)
AUTH0_SECRET_FUNCTION = Peer("auth0 secret_function", auth0_secret_function)
AUTH0_SECRET_FUNCTION_NOQS = Peer(
    "auth0 secret_function, handshake false",
    auth0_secret_function,
    {"handshake": False},
)
AUTH0_NAMESPACE = Peer("auth0 namespace", auth0_namespace)
THREAM_STRING = Peer("thream secret string", thream)
THREAM_CALLBACK = Peer("thream secret callback", thream, {"secret": "callback"})
THREAM_ON_AUTHENTICATION = Peer(
    "thream onAuthentication", thream, {"secret": "callback", "on_authentication": True}
)
THREAM_PEERS = (THREAM_STRING, THREAM_CALLBACK, THREAM_ON_AUTHENTICATION)
