"""The event flow's rule: before ``authenticate``, no application handler runs.

python-socketio keeps handlers in its public ``sio.handlers`` dict: ``sio.on()``
stores into ``sio.handlers[namespace]`` and dispatch looks events up there.
:func:`install_event_gate` replaces a gated namespace's table (and the
catch-all ``"*"`` table) with :class:`GatedHandlers`, a ``dict`` that wraps each
handler *as it is stored*. Handlers registered before or after
:func:`attach_jwt_auth` are therefore guarded alike, and python-socketio's
dispatch is neither patched nor copied.
"""

from __future__ import annotations

import functools
import inspect
import logging
from typing import Any, Callable, Mapping

from .event_auth import AUTHENTICATE, EventFlow
from .gate import CATCH_ALL, OWN, RESERVED, GateTable, app_handler, own

__all__ = ["GatedHandlers", "install_event_gate", "gate_catch_all"]

log = logging.getLogger("tornado_socketio_jwt")

Handler = Callable[..., Any]


class GatedHandlers(GateTable):
    """One namespace's handler table whose handlers run only for admitted sockets.

    As in the handshake gate's :class:`GateTable`, the app's
    ``connect``/``disconnect`` handlers are kept aside in :attr:`app` (the
    flow runs them after ``authenticate``); ``authenticate`` itself is reserved.
    """

    def __init__(
        self, flow: EventFlow, namespace: str, existing: Mapping[str, Handler]
    ) -> None:
        self.flow = flow
        self.namespace = namespace
        super().__init__(existing)

    def __setitem__(self, event: str, handler: Handler) -> None:
        if getattr(handler, OWN, False) or event in RESERVED:
            super().__setitem__(event, handler)
        elif event == AUTHENTICATE and self.namespace != CATCH_ALL:
            raise ValueError(
                "'authenticate' is handled by the event flow; do not register it"
            )
        else:
            dict.__setitem__(
                self, event, _guarded(self.flow, self.namespace, event, handler)
            )


def _positions(table: str, event: str) -> tuple[int | None, int]:
    # Where python-socketio passes the namespace and the sid: catch-all events
    # get the event name first, catch-all namespaces the namespace name.
    if table == CATCH_ALL:
        return (1, 2) if event == CATCH_ALL else (0, 1)
    return (None, 1) if event == CATCH_ALL else (None, 0)


def _guarded(flow: EventFlow, table: str, event: str, handler: Handler) -> Handler:
    ns_at, sid_at = _positions(table, event)

    @functools.wraps(handler)
    async def guarded(*args: Any) -> Any:
        namespace = table if ns_at is None else args[ns_at]
        sid = args[sid_at]
        if event == CATCH_ALL and args[0] == AUTHENTICATE:
            # python-socketio resolves a catch-all event handler before a
            # class-based namespace: hand authenticate to the namespace's flow.
            target = flow.authenticator.sio.namespace_handlers.get(namespace)
            if hasattr(target, "trigger_event"):
                return await target.trigger_event(AUTHENTICATE, *args[sid_at:])
        if namespace in flow.namespaces and not flow.is_admitted(sid, namespace):
            log.debug("event dropped before authenticate sid=%s", sid)
            return flow.authenticator.sio.not_handled
        result = handler(*args)
        return await result if inspect.isawaitable(result) else result

    return guarded


def gate_catch_all(flow: EventFlow) -> None:
    """Guard the catch-all namespace's handlers (``sio.on(..., namespace="*")``).

    The table is created if missing, so later registrations are guarded too;
    an empty one changes nothing (no wire namespace can be named ``*``).
    """
    sio = flow.authenticator.sio
    if not isinstance(sio.handlers.get(CATCH_ALL), GatedHandlers):
        sio.handlers[CATCH_ALL] = GatedHandlers(
            flow, CATCH_ALL, sio.handlers.get(CATCH_ALL, {})
        )


def install_event_gate(flow: EventFlow, namespace: str = "/") -> None:
    """Run the ``authenticate`` flow on a decorator-style namespace."""
    sio = flow.authenticator.sio
    flow.namespaces.add(namespace)
    sio.handlers[namespace] = GatedHandlers(
        flow, namespace, sio.handlers.get(namespace, {})
    )
    gate_catch_all(flow)

    async def connect(sid: str, environ: dict[str, Any], auth: object = None) -> bool:
        return await flow.connect(sid, namespace, environ, auth)

    async def authenticate(sid: str, data: object = None) -> dict[str, Any]:
        inner = app_handler(sio, namespace, "connect")
        return await flow.authenticate(sid, namespace, data, inner)

    async def disconnect(sid: str, reason: object = None) -> None:
        inner = app_handler(sio, namespace, "disconnect")
        await flow.disconnect(sid, namespace, reason, inner)

    for event, handler in (
        ("connect", connect),
        (AUTHENTICATE, authenticate),
        ("disconnect", disconnect),
    ):
        sio.on(event, own(handler), namespace=namespace)
