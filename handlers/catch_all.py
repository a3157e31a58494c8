"""The fail-closed default: every namespace is gated, not only those named.

python-socketio accepts a connection to any namespace that has handlers. A
catch-all ``connect`` handler (``namespace="*"``) runs for every namespace
without a ``connect`` handler of its own, so registering one here means that
a namespace the host forgot to list in ``attach_jwt_auth(namespaces=...)``
is still authenticated, never open. (Decorator-style namespaces get the gate
when their handler table appears: see :mod:`.gating`.)
"""

from __future__ import annotations

import logging
from typing import Any, Callable

import socketio

from .auth_namespace import AuthNamespace
from .authenticator import Authenticator
from .gate import CATCH_ALL, GateTable, app_handler, own
from .socket_auth import admit_handshake

__all__ = ["install_catch_all_gate"]

log = logging.getLogger("tornado_socketio_jwt")

UNGATED_MESSAGE = "This namespace is not configured for authentication."


def install_catch_all_gate(
    authenticator: Authenticator, install: Callable[[str], None]
) -> None:
    """Authenticate connections to namespaces that have no gate of their own.

    Class-based :class:`AuthNamespace` handlers gate themselves and are
    delegated to. A namespace served by a plain class-based handler gets its
    handler table, and so the gate, from ``install`` on its first connection.
    In the ``authenticate`` event flow such a namespace is refused instead:
    plain ``AsyncNamespace`` methods cannot be held back until
    ``authenticate``; use :class:`AuthNamespace`.
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
        if handler is not None:
            install(namespace)
            gate = sio.handlers[namespace]["connect"]
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
