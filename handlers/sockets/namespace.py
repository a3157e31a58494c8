"""``AuthNamespace``: a class-based namespace with a token requirement and claims."""

from __future__ import annotations

import logging
from typing import Any

import socketio

from ..grants import Requirement
from .extension import authenticator_for, is_gated

__all__ = ["AuthNamespace"]

log = logging.getLogger("tornado_socketio_jwt")


class AuthNamespace(socketio.AsyncNamespace):
    """A class-based namespace whose sockets must present a valid token.

    Every namespace of a server with :func:`attach_jwt_auth` is gated, plain
    ``socketio.AsyncNamespace`` ones included; this class adds two things:
    the class attribute ``requirement`` (a :class:`Requirement`; tokens that
    do not meet it get ``connect_error`` code ``forbidden``) and
    :meth:`claims`. ``on_connect(sid, environ, auth)`` runs only after
    authentication (in the event flow, after ``authenticate``).
    """

    requirement: Requirement | None = None

    async def trigger_event(self, event: str, *args: Any) -> Any:
        # Fail closed: registered on a server without the gate, nobody gets in.
        if not is_gated(self.server):
            log.error(
                "AuthNamespace %s on a server without attach_jwt_auth()", self.namespace
            )
            if event == "connect":
                raise socketio.exceptions.ConnectionRefusedError(
                    "Server misconfigured."
                )
            return None
        return await super().trigger_event(event, *args)

    async def claims(self, sid: str) -> dict[str, Any] | None:
        """The verified claims of ``sid`` in this namespace."""
        return authenticator_for(self.server).live.claims(sid, self.namespace)
