"""Put the gate on a server: the socket half of :func:`attach_jwt_auth`."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from ..authenticator import Authenticator
from .engine import engine_for
from .event_flow import EventFlow
from .extension import SocketAuth, socket_auth
from .gate import Gate
from .handshake import HandshakeFlow
from .limits import SessionTracker, SocketLimits
from .packets import PacketScreen
from .recovery import Recovery
from .recovery_store import MemoryRecoveryStore

__all__ = ["install_socket_auth"]

log = logging.getLogger("tornado_socketio_jwt")


def install_socket_auth(
    authenticator: Authenticator,
    exempt: Iterable[str] = (),
    limits: SocketLimits | None = None,
) -> SocketAuth:
    """Gate every namespace of ``authenticator.sio`` with the configured flow,
    behind the packet screen.

    :param exempt: namespaces that authenticate their own sockets; logged.
    :param limits: per-client limits; default :class:`SocketLimits()`.
    :raises ValueError: the server already has a gate, or a bad namespace.
    """
    sio: Any = authenticator.sio
    state = socket_auth(sio)
    if state.gate is not None:
        raise ValueError("attach_jwt_auth() was already called on this server")
    exempt = tuple(exempt)
    for namespace in exempt:
        if not isinstance(namespace, str) or not namespace.startswith("/"):
            raise ValueError(f"exempt namespace must start with '/': {namespace!r}")
    limits = limits or SocketLimits()
    screen = PacketScreen(
        engine_for(sio),
        authenticator.live,
        limits,
        exempt,
    )
    sessions = SessionTracker(authenticator, limits, authenticator.clock)
    gate = Gate(sio, exempt)
    flow_class = (
        EventFlow if authenticator.settings.auth_flow == "event" else HandshakeFlow
    )
    flow = flow_class(authenticator, state.rules, gate, sessions)
    gate.install(flow)
    gate.left.append(sessions.namespace_left)
    if authenticator.settings.recovers:
        install_recovery(authenticator, frozenset(exempt))
    elif authenticator.settings.recovery.enabled:
        log.info("connection state recovery is off: it needs the handshake flow")
    screen.install()
    sessions.install()
    state.authenticator, state.gate = authenticator, gate
    for namespace in exempt:
        log.warning(
            "namespace %s is exempt from JWT authentication: "
            "it must authenticate its own sockets",
            namespace,
        )
    return state


def install_recovery(authenticator: Authenticator, exempt: frozenset[str]) -> Recovery:
    """Turn connection state recovery on, bounded by the settings."""
    store = MemoryRecoveryStore(authenticator.settings.recovery)
    recovery = Recovery(authenticator, store, exempt)
    recovery.install()
    return recovery
