"""One server's JWT state, kept on the ``socketio.AsyncServer`` it extends.

As Flask extensions keep theirs on the app, :class:`SocketAuth` lives on
``sio`` itself: no module-level registry, and two servers never share state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..authenticator import Authenticator
from .gate import Gate
from .rules import NamespaceRules

__all__ = ["SocketAuth", "socket_auth", "authenticator_for", "is_gated", "ATTRIBUTE"]

ATTRIBUTE = "tornado_socketio_jwt"


@dataclass
class SocketAuth:
    """The authenticator, the gate (which holds the flow) and the namespace rules
    of one server.

    ``rules`` exists from the first :func:`authorize_namespace`; the rest from
    :func:`attach_jwt_auth`.
    """

    rules: NamespaceRules = field(default_factory=NamespaceRules)
    authenticator: Authenticator | None = None
    gate: Gate | None = None


def socket_auth(sio: Any) -> SocketAuth:
    """The :class:`SocketAuth` of ``sio``, created empty on first use."""
    state = getattr(sio, ATTRIBUTE, None)
    if not isinstance(state, SocketAuth):
        state = SocketAuth()
        setattr(sio, ATTRIBUTE, state)
    return state


def authenticator_for(sio: Any) -> Authenticator:
    """The :class:`Authenticator` attached to ``sio``.

    :raises LookupError: when :func:`attach_jwt_auth` was not called on it.
    """
    state = getattr(sio, ATTRIBUTE, None)
    if not isinstance(state, SocketAuth) or state.authenticator is None:
        raise LookupError("attach_jwt_auth() was not called on this server")
    return state.authenticator


def is_gated(sio: Any) -> bool:
    """Whether :func:`attach_jwt_auth` installed the gate on ``sio``."""
    state = getattr(sio, ATTRIBUTE, None)
    return isinstance(state, SocketAuth) and state.gate is not None
