"""Per-socket state: the verified claims (kept once, in the authenticator's live
index) and the rooms of an authenticated socket."""

from __future__ import annotations

from typing import Any

from ..authenticator import Authenticator
from ..live import departed_claims
from .extension import ATTRIBUTE, SocketAuth

__all__ = ["current_user", "user_room", "AUTHENTICATED_ROOM", "admit"]

USER_ROOM_PREFIX = "user:"
AUTHENTICATED_ROOM = "tsj:authenticated"
"""The room every admitted socket joins: broadcast here to reach only
authenticated sockets (the demo chat does)."""


def user_room(sub: str) -> str:
    """The room every socket of user ``sub`` is in: ``user:<sub>``."""
    return f"{USER_ROOM_PREFIX}{sub}"


async def current_user(
    sio: Any, sid: str, namespace: str = "/"
) -> dict[str, Any] | None:
    """The verified claims of socket ``sid``, or ``None`` if it is not authenticated.

    A copy: changing it changes nothing. In the socket's ``disconnect``
    handler, the claims it had. ``None`` on a server without
    :func:`attach_jwt_auth` and in an exempt namespace.

    :param sio: the ``socketio.AsyncServer``.
    :param namespace: the namespace the socket is connected to.
    """
    state = getattr(sio, ATTRIBUTE, None)
    if not isinstance(state, SocketAuth) or state.authenticator is None:
        return None
    claims = state.authenticator.live.claims(sid, namespace)
    if claims is None:
        claims = departed_claims((sid, namespace))
    return dict(claims) if claims is not None else None


async def admit(
    authenticator: Authenticator, sid: str, namespace: str, claims: dict[str, Any]
) -> None:
    """Record a socket as authenticated: its rooms, then its claims and expiry."""
    sio = authenticator.sio
    await sio.enter_room(sid, user_room(str(claims["sub"])), namespace=namespace)
    await sio.enter_room(sid, AUTHENTICATED_ROOM, namespace=namespace)
    authenticator.track(sid, namespace, claims)
