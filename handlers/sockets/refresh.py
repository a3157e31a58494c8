"""The in-band ``refresh`` socket event: move a live socket to a newer token."""

from __future__ import annotations

import logging
from typing import Any

from ..authenticator import Authenticator
from ..credentials import extract_token, is_successor
from ..errors import (
    CredentialsRequiredError,
    TokenMismatchError,
    UnauthorizedError,
    refusal_data,
)
from .rules import NamespaceRules

__all__ = ["refresh_socket", "REFRESH_EVENT"]

log = logging.getLogger("tornado_socketio_jwt")

REFRESH_EVENT = "refresh"


async def refresh_socket(
    authenticator: Authenticator,
    rules: NamespaceRules,
    sid: str,
    namespace: str,
    data: object,
) -> dict[str, Any]:
    """Replace socket ``sid``'s token with a newer one for the same ``sub``.

    The admission sequence without the per-client limits (the socket already
    holds its place): extract, verify, successor, the namespace's rules.

    :return: the ack, ``{"ok": True, "exp": ...}`` or ``{"ok": False}`` with
             :func:`~..errors.refusal_data`; a refused refresh leaves the
             socket exactly as it was.
    """
    current = authenticator.live.claims(sid, namespace)
    try:
        if current is None:
            raise CredentialsRequiredError()
        claims = await authenticator.verify(extract_token({}, data, ("auth",)))
        if authenticator.live.claims(sid, namespace) is not current:
            raise TokenMismatchError()  # cut or refreshed while we verified
        if not is_successor(current, claims):
            raise TokenMismatchError()
        # The new token must meet the namespace's rules too: a refresh must
        # not keep a socket where a handshake with this token would be refused.
        rules.check(authenticator.sio, namespace, claims)
    except UnauthorizedError as err:
        environ = authenticator.sio.get_environ(sid, namespace) or {}
        await authenticator.outcomes.refused(err, sid, environ, action="refresh")
        return {"ok": False, **refusal_data(err)}
    # From now on a revocation or the expiry timer sees the new token.
    authenticator.track(sid, namespace, claims)
    log.info("socket refreshed sid=%s sub=%s", sid, claims.get("sub"))
    return {"ok": True, "exp": claims.get("exp")}
