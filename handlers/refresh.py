"""Token refresh: ``POST /token/refresh`` and the in-band ``refresh`` socket event.

A client refreshes in two steps: it trades its (still valid) token for a new
one over HTTP, then hands the new token to its live socket with ``refresh``,
which moves the socket's expiry without reconnecting.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any, Mapping

from .authenticator import Authenticator
from .config import AuthSettings
from .errors import CredentialsRequiredError, SessionExpiredError, TokenMismatchError
from .errors import UnauthorizedError
from .bearer import BearerHandler
from .keys import KeySource
from .sessions import store_claims
from .authorization import check_namespace
from .socket_auth import extract_token
from .tokens import issue_token

__all__ = ["TokenRefreshHandler", "refresh_socket", "reissue_token", "register_refresh"]

log = logging.getLogger("tornado_socketio_jwt")

REFRESH_EVENT = "refresh"
AUTH_TIME = "auth_time"
# Set afresh by issue_token (or by the issuer's settings), never carried over.
REGISTERED_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti"})


def reissue_token(
    settings: AuthSettings, keys: KeySource, claims: Mapping[str, Any], now: float
) -> tuple[str, dict[str, Any]]:
    """A new token (new ``jti``) carrying every claim of ``claims`` but the
    registered ones (``sub``'s profile, roles, scopes, ``auth_time``...).

    Its lifetime is ``token_ttl``, cut short so that it never outlives the
    session: ``auth_time`` (else ``iat``) plus ``max_session_age``.

    :raises SessionExpiredError: the session is already that old.
    """
    started = claims.get(AUTH_TIME, claims.get("iat"))
    if not isinstance(started, (int, float)):
        raise SessionExpiredError()
    remaining = math.floor(started + settings.max_session_age - now)
    if remaining < 1:
        raise SessionExpiredError()
    profile = {k: v for k, v in claims.items() if k not in REGISTERED_CLAIMS}
    profile[AUTH_TIME] = int(started)
    ttl = min(settings.token_ttl, remaining)
    return issue_token(settings, keys, str(claims["sub"]), profile, now=now, ttl=ttl)


class TokenRefreshHandler(BearerHandler):
    """``POST /token/refresh`` with ``Authorization: Bearer T``: a new token.

    T must verify and not be revoked; T itself stays valid until it expires
    (a socket still using it can move to the new token with ``refresh``).
    """

    async def post(self) -> None:
        try:
            claims = await self.bearer_claims()
            settings, keys = self.authenticator.settings, self.authenticator.keys
            new_token, payload = reissue_token(settings, keys, claims, time.time())
        except (UnauthorizedError, SessionExpiredError) as err:
            log.info("token refresh refused code=%s", err.code)
            raise
        log.info("token refreshed sub=%s", payload["sub"])
        expires_in = int(payload["exp"]) - int(payload["iat"])
        self.write(
            {"token": new_token, "token_type": "Bearer", "expires_in": expires_in}
        )


async def refresh_socket(
    authenticator: Authenticator, sid: str, namespace: str, data: object
) -> dict[str, Any]:
    """Replace socket ``sid``'s token with a newer one for the same ``sub``.

    :return: the ack, ``{"ok": True, "exp": ...}`` or ``{"ok": False, "code": ...}``;
             a refused refresh leaves the socket exactly as it was.
    """
    current = authenticator.live.claims(sid, namespace)
    try:
        if current is None:
            raise CredentialsRequiredError()
        claims = await authenticator.verify(extract_token({}, data, ("auth",)))
        if authenticator.live.claims(sid, namespace) is not current:
            raise TokenMismatchError()  # cut or refreshed while we verified
        _check_successor(current, claims)
        # The new token must meet the namespace's rules too: a refresh must
        # not keep a socket where a handshake with this token would be refused.
        check_namespace(authenticator.sio, namespace, claims)
    except UnauthorizedError as err:
        environ = authenticator.sio.get_environ(sid, namespace) or {}
        await authenticator.refused(err, sid, environ, action="refresh")
        return {"ok": False, "code": err.code}
    # Index before awaiting the session write, so a revocation or expiry from
    # now on sees the new token.
    authenticator.track(sid, namespace, claims)
    await store_claims(authenticator.sio, sid, namespace, claims)
    log.info("socket refreshed sid=%s sub=%s", sid, claims.get("sub"))
    return {"ok": True, "exp": claims.get("exp")}


def _check_successor(current: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    if str(new.get("sub")) != str(current.get("sub")):
        raise TokenMismatchError()
    if float(new.get("exp", math.inf)) < float(current.get("exp", -math.inf)):
        raise TokenMismatchError()


def register_refresh(authenticator: Authenticator, namespace: str = "/") -> None:
    """``refresh`` ``{"token"}`` (with ack) on a decorator-style namespace."""

    async def refresh(sid: str, data: object = None) -> dict[str, Any]:
        return await refresh_socket(authenticator, sid, namespace, data)

    authenticator.sio.on(REFRESH_EVENT, refresh, namespace=namespace)
