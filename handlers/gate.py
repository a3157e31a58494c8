"""The handshake gate on a decorator-style namespace.

The gate owns the namespace's ``connect`` and ``disconnect`` entries in
python-socketio's public ``sio.handlers`` table. The table is replaced by a
:class:`GateTable`, a ``dict`` that keeps the app's own ``connect`` and
``disconnect`` handlers aside *whenever* they are registered, before or after
:func:`attach_jwt_auth`: a late ``@sio.event async def connect`` can neither
replace the gate nor skip its clean-up.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from .authenticator import Authenticator
from .dispatch import call_handler
from .socket_auth import admit_handshake

__all__ = ["GateTable", "install_gate", "app_handler", "own"]

OWN = "__tsj_gate__"
RESERVED = ("connect", "disconnect")
CATCH_ALL = "*"
Handler = Callable[..., Any]


def own(handler: Handler) -> Handler:
    """Mark a handler as the library's, so a :class:`GateTable` stores it as is."""
    setattr(handler, OWN, True)
    return handler


class GateTable(dict):  # type: ignore[type-arg]
    """A namespace's handler table whose ``connect``/``disconnect`` the gate runs."""

    def __init__(self, existing: Mapping[str, Handler]) -> None:
        super().__init__()
        self.app: dict[str, Handler] = getattr(existing, "app", {})
        for event, handler in existing.items():
            self[event] = handler

    def __setitem__(self, event: str, handler: Handler) -> None:
        if event in RESERVED and not getattr(handler, OWN, False):
            self.app[event] = handler
        else:
            super().__setitem__(event, handler)


def app_handler(sio: Any, namespace: str, event: str) -> Handler | None:
    """The app's ``connect``/``disconnect`` handler for ``namespace``, chosen
    as python-socketio would choose it, callable as ``(sid, ...)``."""
    own_table = sio.handlers.get(namespace)
    handler = getattr(own_table, "app", {}).get(event)
    if handler is not None:
        return handler  # type: ignore[no-any-return]
    star = getattr(sio.handlers.get(CATCH_ALL), "app", {}).get(event)
    if star is not None:
        return _with_namespace(star, namespace)
    ns_handler = sio.namespace_handlers.get(namespace)
    if ns_handler is None:
        ns_handler = sio.namespace_handlers.get(CATCH_ALL)
        method = getattr(ns_handler, "on_" + event, None)
        return _with_namespace(method, namespace) if method else None
    return getattr(ns_handler, "on_" + event, None)


def _with_namespace(handler: Handler, namespace: str) -> Handler:
    # Catch-all handlers take the namespace first.
    async def bound(*args: Any) -> Any:
        return await call_handler(handler, namespace, *args)

    return bound


def install_gate(authenticator: Authenticator, namespace: str = "/") -> Handler:
    """Gate ``namespace``: no socket connects without a valid token.

    The app's connect handler (looked up at each connection) runs after
    authentication, with the claims available; its disconnect handler runs
    after the gate's clean-up. Returns the gate's connect handler.
    """
    sio = authenticator.sio
    sio.handlers[namespace] = GateTable(sio.handlers.get(namespace, {}))

    @own
    async def connect(sid: str, environ: dict[str, Any], auth: object = None) -> Any:
        inner = app_handler(sio, namespace, "connect")
        return await admit_handshake(
            authenticator, sid, namespace, environ, auth, inner
        )

    @own
    async def disconnect(sid: str, reason: str | None = None) -> None:
        authenticator.forget(sid, namespace)
        inner = app_handler(sio, namespace, "disconnect")
        if inner is not None:
            await call_handler(inner, sid, reason)

    sio.on("connect", connect, namespace=namespace)
    sio.on("disconnect", disconnect, namespace=namespace)
    return connect
