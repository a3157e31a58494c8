"""The fail-closed default: every namespace is gated, not only those named.

python-socketio accepts a connection to any namespace that has handlers. A
catch-all ``connect`` handler (``namespace="*"``) runs for every namespace
without a ``connect`` handler of its own, so registering one here means that
a namespace the host forgot to list in ``attach_jwt_auth(namespaces=...)``
is still authenticated, never open.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

import socketio

from .auth_namespace import AuthNamespace
from .authenticator import Authenticator
from .dispatch import call_handler
from .socket_auth import authenticate_handshake, run_inner_connect

__all__ = ["install_catch_all_gate"]

log = logging.getLogger("tornado_socketio_jwt")

CATCH_ALL = "*"
UNGATED_MESSAGE = "This namespace is not configured for authentication."


def install_catch_all_gate(authenticator: Authenticator) -> None:
    """Authenticate connections to namespaces that have no gate of their own.

    Class-based :class:`AuthNamespace` handlers gate themselves and are
    delegated to; a plain ``AsyncNamespace`` or decorator-style namespace is
    gated by the handshake flow. In the ``authenticate`` event flow such a
    namespace is refused instead: name it in ``namespaces=``.
    """
    sio = authenticator.sio
    table = sio.handlers.get(CATCH_ALL, {})
    inner_connect, inner_disconnect = table.get("connect"), table.get("disconnect")

    async def connect(
        namespace: str, sid: str, environ: dict[str, Any], auth: object = None
    ) -> Any:
        handler = _namespace_handler(sio, namespace)
        if isinstance(handler, AuthNamespace):
            return await handler.trigger_event("connect", sid, environ, auth)
        if authenticator.event_flow is not None:
            log.error("namespace %s is not gated: pass it in namespaces=", namespace)
            raise socketio.exceptions.ConnectionRefusedError(UNGATED_MESSAGE)
        await authenticate_handshake(authenticator, sid, namespace, environ, auth)
        inner = _inner(inner_connect, namespace, getattr(handler, "on_connect", None))
        return await run_inner_connect(
            authenticator, inner, sid, namespace, environ, auth
        )

    async def disconnect(namespace: str, sid: str, reason: object = None) -> None:
        handler = _namespace_handler(sio, namespace)
        if isinstance(handler, AuthNamespace):
            await handler.trigger_event("disconnect", sid, reason)
            return
        authenticator.forget(sid, namespace)
        if inner_disconnect is not None:
            await call_handler(inner_disconnect, namespace, sid, reason)
        elif handler is not None:
            await handler.trigger_event("disconnect", sid, reason)

    sio.on("connect", connect, namespace=CATCH_ALL)
    sio.on("disconnect", disconnect, namespace=CATCH_ALL)


def _namespace_handler(sio: Any, namespace: str) -> Any:
    handlers = sio.namespace_handlers
    return handlers.get(namespace) or handlers.get(CATCH_ALL)


def _inner(
    catch_all: Callable[..., Any] | None,
    namespace: str,
    method: Callable[..., Any] | None,
) -> Callable[..., Any] | None:
    """The host's connect handler for this namespace, as ``(sid, environ, auth)``."""
    if catch_all is None:
        return method

    async def bound(sid: str, environ: dict[str, Any], auth: object = None) -> Any:
        return await call_handler(catch_all, namespace, sid, environ, auth)

    return bound
