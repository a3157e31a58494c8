"""The fail-closed default: every namespace is gated, not only those named.

python-socketio accepts a connection to any namespace that has handlers. A
catch-all ``connect`` handler (``namespace="*"``) runs for every namespace
without a ``connect`` handler of its own, so registering one here means that
a namespace the host forgot to list in ``attach_jwt_auth(namespaces=...)``
is still authenticated, never open: on its first connection the handshake
gate is installed on it, exactly as if it had been listed.
"""

from __future__ import annotations

import logging
from typing import Any

import socketio

from .auth_namespace import AuthNamespace
from .authenticator import Authenticator
from .gate import CATCH_ALL, GateTable, app_handler, install_gate, own
from .socket_auth import admit_handshake

__all__ = ["install_catch_all_gate"]

log = logging.getLogger("tornado_socketio_jwt")

UNGATED_MESSAGE = "This namespace is not configured for authentication."


def install_catch_all_gate(authenticator: Authenticator) -> None:
    """Authenticate connections to namespaces that have no gate of their own.

    Class-based :class:`AuthNamespace` handlers gate themselves and are
    delegated to. In the ``authenticate`` event flow any other such namespace
    is refused instead: name it in ``namespaces=``.
    """
    sio = authenticator.sio
    sio.handlers[CATCH_ALL] = GateTable(sio.handlers.get(CATCH_ALL, {}))

    @own
    async def connect(
        namespace: str, sid: str, environ: dict[str, Any], auth: object = None
    ) -> Any:
        handler = sio.namespace_handlers.get(namespace)
        if isinstance(handler, AuthNamespace):
            return await handler.trigger_event("connect", sid, environ, auth)
        if authenticator.event_flow is not None:
            log.error("namespace %s is not gated: pass it in namespaces=", namespace)
            raise socketio.exceptions.ConnectionRefusedError(UNGATED_MESSAGE)
        if namespace in sio.handlers or handler is not None:
            gate = install_gate(authenticator, namespace)
            return await gate(sid, environ, auth)
        inner = app_handler(sio, namespace, "connect")  # sio.namespaces="*"
        return await admit_handshake(
            authenticator, sid, namespace, environ, auth, inner
        )

    @own
    async def disconnect(namespace: str, sid: str, reason: object = None) -> None:
        handler = sio.namespace_handlers.get(namespace)
        if isinstance(handler, AuthNamespace):
            await handler.trigger_event("disconnect", sid, reason)
            return
        authenticator.forget(sid, namespace)
        inner = app_handler(sio, namespace, "disconnect")
        if inner is not None:
            await inner(sid, reason)

    sio.on("connect", connect, namespace=CATCH_ALL)
    sio.on("disconnect", disconnect, namespace=CATCH_ALL)
