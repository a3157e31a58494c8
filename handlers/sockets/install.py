"""Put the gate on a server: the socket half of :func:`attach_jwt_auth`."""

from __future__ import annotations

import logging
from typing import Any

from ..authenticator import Authenticator
from ..hooks import AdditionalAuth
from .engine import engine_for
from .event_flow import EventFlow
from .extension import SocketAuth, socket_auth
from .gate import Flow, Gate
from .handshake import HandshakeFlow
from .limits import SessionTracker, SocketLimits
from .packets import PacketScreen
from .recovery import Admission, Recovery
from .recovery_shared import SharedRecovery, SharedRecoveryStore
from .recovery_store import MemoryRecoveryStore

__all__ = ["install_socket_auth"]

log = logging.getLogger("tornado_socketio_jwt")


def install_socket_auth(
    authenticator: Authenticator,
    limits: SocketLimits | None = None,
    additional_auth: AdditionalAuth | None = None,
    recovery_store: SharedRecoveryStore | None = None,
) -> SocketAuth:
    """Gate every namespace of ``authenticator.sio`` behind the packet screen,
    each with the flow its policy names (``settings.policy_for``).

    :param limits: per-client limits; default :class:`SocketLimits()`.
    :param additional_auth: the application's check after verification.
    :param recovery_store: the recovery buffer several processes share (the
                           server's client manager is then python-socketio's
                           pub/sub manager); default: this process's memory.
    :raises ValueError: the server already has a gate.
    """
    sio: Any = authenticator.sio
    settings = authenticator.settings
    state = socket_auth(sio)
    if state.gate is not None:
        raise ValueError("attach_jwt_auth() was already called on this server")
    public = settings.public_namespaces
    limits = limits or SocketLimits()
    screen = PacketScreen(
        engine_for(sio),
        authenticator.live,
        limits,
        public,
    )
    sessions = SessionTracker(authenticator, limits, authenticator.clock)
    gate = Gate(sio)
    parts = (authenticator, state.rules, gate, sessions, additional_auth)
    handshake = HandshakeFlow(*parts)
    flows: dict[str, Flow | None] = {
        "handshake": handshake,
        "event": EventFlow(*parts),
        "public": None,
    }

    def route(namespace: str) -> Flow | None:
        return flows[settings.policy_for(namespace).flow]

    gate.install(route)
    gate.left.append(sessions.namespace_left)
    if authenticator.settings.recovers:
        recovery = install_recovery(
            authenticator, handshake.recovery_admission, recovery_store
        )
        gate.left.append(recovery.socket_left)
    elif authenticator.settings.recovery.enabled:
        log.info("connection state recovery is off: it needs the handshake flow")
    screen.install()
    sessions.install()
    state.authenticator, state.gate = authenticator, gate
    log_policies(authenticator)
    return state


def log_policies(authenticator: Authenticator) -> None:
    """Say at start-up which namespaces are public and which differ from the
    default flow: a public namespace is never a surprise."""
    settings = authenticator.settings
    for namespace in settings.public_namespaces:
        log.warning(
            "namespace %s is exempt from JWT authentication (public): "
            "it must authenticate its own sockets",
            namespace,
        )
    for namespace in settings.namespace_policies:
        flow = settings.policy_for(namespace).flow
        if flow != "public":
            log.info("namespace %s authenticates with the %s flow", namespace, flow)


def install_recovery(
    authenticator: Authenticator,
    admission: Admission,
    shared: SharedRecoveryStore | None = None,
) -> Recovery:
    """Turn connection state recovery on, bounded by the settings; a
    recovering CONNECT is admitted through ``admission`` (the handshake's
    checks); over ``shared`` when several processes share the buffer."""
    bounds = authenticator.settings.recovery
    recovery = (
        Recovery(authenticator, MemoryRecoveryStore(bounds))
        if shared is None
        else SharedRecovery(authenticator, bounds, shared)
    )
    recovery.install(admission)
    return recovery
