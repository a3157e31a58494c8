"""``AuthNamespace``: class-based namespaces whose sockets must present a token."""

from __future__ import annotations

import logging
from typing import Any

import socketio

from .authorization import Requirement
from .socket_auth import admit_handshake, authenticator_for

__all__ = ["AuthNamespace"]

log = logging.getLogger("tornado_socketio_jwt")


class AuthNamespace(socketio.AsyncNamespace):
    """A class-based namespace whose sockets must present a valid token.

    ``on_connect(sid, environ, auth)`` runs only after authentication; the
    claims are then in :meth:`claims` and :func:`current_user`. Set the class
    attribute ``requirement`` to a :class:`Requirement` to admit only tokens
    that meet it (others: ``connect_error`` code ``forbidden``). In the
    ``authenticate`` event flow, no ``on_<event>`` method runs before the
    socket has authenticated. ``refresh`` is handled by :meth:`on_refresh`.
    """

    requirement: Requirement | None = None

    async def trigger_event(self, event: str, *args: Any) -> Any:
        try:
            authenticator = authenticator_for(self.server)
        except LookupError:
            # Fail closed: a namespace that cannot check tokens admits nobody.
            log.error(
                "AuthNamespace %s on a server without attach_jwt_auth()", self.namespace
            )
            if event == "connect":
                raise socketio.exceptions.ConnectionRefusedError(
                    "Server misconfigured."
                ) from None
            return None
        if authenticator.event_flow is not None:
            return await authenticator.event_flow.trigger(self, event, args)
        if event == "connect":
            sid, environ = args[0], args[1]
            auth = args[2] if len(args) > 2 else None
            handler = getattr(self, "on_connect", None)
            return await admit_handshake(
                authenticator, sid, self.namespace, environ, auth, handler
            )
        if event == "disconnect":
            authenticator.forget(args[0], self.namespace)
        return await super().trigger_event(event, *args)

    async def on_refresh(self, sid: str, data: object = None) -> dict[str, Any]:
        """``refresh`` ``{"token"}``: move the socket to a newer token (see ack)."""
        from .refresh import refresh_socket  # refresh.py builds on this module

        authenticator = authenticator_for(self.server)
        return await refresh_socket(authenticator, sid, self.namespace, data)

    async def claims(self, sid: str) -> dict[str, Any] | None:
        """The verified claims of ``sid`` in this namespace."""
        authenticator = authenticator_for(self.server)
        return authenticator.live.claims(sid, self.namespace)
