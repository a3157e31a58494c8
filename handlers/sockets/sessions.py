"""Per-socket state: verified claims in the Socket.IO session, and rooms."""

from __future__ import annotations

from typing import Any

from ..authenticator import Authenticator

__all__ = [
    "current_user",
    "user_room",
    "CLAIMS_KEY",
    "AUTHENTICATED_ROOM",
    "admit",
    "store_claims",
]

CLAIMS_KEY = "tsj.claims"
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

    :param sio: the ``socketio.AsyncServer``.
    :param namespace: the namespace the socket is connected to.
    """
    session = await sio.get_session(sid, namespace=namespace)
    claims = session.get(CLAIMS_KEY)
    return dict(claims) if claims is not None else None


async def store_claims(
    sio: Any, sid: str, namespace: str, claims: dict[str, Any]
) -> None:
    """Merge ``claims`` into the socket's session under the reserved key."""
    async with sio.session(sid, namespace=namespace) as session:
        session[CLAIMS_KEY] = claims


async def admit(
    authenticator: Authenticator, sid: str, namespace: str, claims: dict[str, Any]
) -> None:
    """Record a socket as authenticated: session, rooms, live index and expiry."""
    sio = authenticator.sio
    await store_claims(sio, sid, namespace, claims)
    await sio.enter_room(sid, user_room(str(claims["sub"])), namespace=namespace)
    await sio.enter_room(sid, AUTHENTICATED_ROOM, namespace=namespace)
    authenticator.track(sid, namespace, claims)
