"""Put the gate on a server: the socket half of :func:`attach_jwt_auth`."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from ..authenticator import Authenticator
from .event_flow import EventFlow
from .extension import SocketAuth, socket_auth
from .gate import Gate
from .handshake import HandshakeFlow
from .packets import DEFAULT_MAX_ATTACHMENTS, PacketScreen

__all__ = ["install_socket_auth"]

log = logging.getLogger("tornado_socketio_jwt")


def install_socket_auth(
    authenticator: Authenticator,
    exempt: Iterable[str] = (),
    max_attachments: int = DEFAULT_MAX_ATTACHMENTS,
) -> SocketAuth:
    """Gate every namespace of ``authenticator.sio`` with the configured flow,
    behind the packet screen.

    :param exempt: namespaces that authenticate their own sockets; logged.
    :param max_attachments: the most binary attachments one packet may carry.
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
    screen = PacketScreen(sio, max_attachments)
    gate = Gate(sio, exempt)
    flow_class = (
        EventFlow if authenticator.settings.auth_flow == "event" else HandshakeFlow
    )
    flow = flow_class(authenticator, state.rules, gate)
    gate.install(flow)
    screen.install()
    state.authenticator, state.gate, state.flow = authenticator, gate, flow
    for namespace in exempt:
        log.warning(
            "namespace %s is exempt from JWT authentication: "
            "it must authenticate its own sockets",
            namespace,
        )
    return state
