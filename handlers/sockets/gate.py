"""The gate: the one point that every Socket.IO dispatch passes through.

python-socketio calls ``AsyncServer._trigger_event(event, namespace, *args)``
for every ``connect``, event and ``disconnect`` it dispatches, whatever holds
the handler: ``sio.on``/``sio.event``, a table written into ``sio.handlers``
by any means, the catch-alls (``namespace="*"``, event ``"*"``,
``sio.namespaces = "*"``) or a class-based namespace (``register_namespace``).
Its own Admin UI instrumentation wraps that method the same way.
:meth:`Gate.install` puts the gate in front of it (through the engine room,
:mod:`.engine`, which keeps it in the chain whatever wraps before or after),
so no application handler runs before the flow (handshake or
``authenticate`` event) says so.

That method cannot tell the transport's ``connect`` from a client's EVENT
packet named ``connect``, so client packets are screened one step earlier, in
``_handle_event(eio_sid, namespace, id, data)``: reserved and malformed event
names are dropped there. Lifecycle events come only from the transport.

Both methods are private python-socketio API: the supported range is pinned in
setup.cfg and ``tests/test_socketio_contract.py`` fails if either changes. In
front of both, :mod:`.packets` screens raw packets.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

import socketio

from .engine import check_dispatch_hooks, engine_for

__all__ = ["Gate", "Flow", "RESERVED_EVENTS"]

log = logging.getLogger("tornado_socketio_jwt")

# The server's and the client's reserved names (python-socketio's
# reserved_events): no client may send an event called any of these.
RESERVED_EVENTS = frozenset(
    {"connect", "disconnect", "connect_error", "__disconnect_final"}
)
# "*" too: python-socketio hands a client event named "*" to a catch-all
# handler without the event name, so its first argument would be client data
# where the handler expects the sid.
DROPPED_EVENTS = RESERVED_EVENTS | {"*"}
SERVER_FAULT = "The server could not accept the connection."
Dispatch = Callable[..., Awaitable[Any]]


async def _not_installed(*args: Any) -> Any:
    raise RuntimeError("the gate is not installed")


class Flow(Protocol):
    """What the gate runs instead of the application's handlers."""

    async def connect(
        self, namespace: str, sid: str, environ: dict[str, Any], auth: object = None
    ) -> Any: ...

    async def event(
        self, event: str, namespace: str, sid: str, args: tuple[Any, ...]
    ) -> Any: ...

    async def disconnect(
        self, namespace: str, sid: str, reason: object = None
    ) -> None: ...


class Gate:
    """Wraps one server's dispatch; ``dispatch`` calls the application behind it.

    :param exempt: namespaces that authenticate their own sockets (e.g. the
                   Admin UI's ``"/admin"``); dispatched untouched.
    :raises RuntimeError: the installed python-socketio lacks the hooks.
    """

    def __init__(self, sio: Any, exempt: Iterable[str] = ()) -> None:
        check_dispatch_hooks(sio)
        self.sio = sio
        self.exempt = frozenset(exempt)
        self.dispatch: Dispatch = _not_installed
        self._handle_event: Dispatch = _not_installed
        self.flow: Flow | None = None
        # Told ``(sid, namespace)`` whenever a socket leaves a namespace or is
        # refused one (the CONNECT deadline starts again from there).
        self.left: list[Callable[[str, str], None]] = []

    def install(self, flow: Flow) -> None:
        """From now on, every dispatch of the server goes through ``flow``."""
        self.flow = flow
        self.dispatch, self._handle_event = engine_for(self.sio).wrap_dispatch(
            self.trigger_event, self.handle_event
        )

    async def handle_event(
        self, eio_sid: str, namespace: str | None, id: int | None, data: Any
    ) -> None:
        """A client's EVENT packet: drop reserved or malformed names."""
        name = data[0] if isinstance(data, list) and data else None
        if not isinstance(name, str) or name in DROPPED_EVENTS:
            log.debug("client event dropped: reserved or malformed name")
            return
        await self._handle_event(eio_sid, namespace, id, data)

    async def trigger_event(self, event: str, namespace: str, *args: Any) -> Any:
        """python-socketio's dispatch, with the flow in front of the application."""
        flow = self.flow
        if event == "connect":
            return await self._connect(flow, namespace, *args)
        if event == "disconnect":
            try:
                if flow is None or namespace in self.exempt:
                    return await self.dispatch(event, namespace, *args)
                return await flow.disconnect(namespace, *args)
            finally:
                self._left(args[0], namespace)
        if flow is None or namespace in self.exempt:
            return await self.dispatch(event, namespace, *args)
        return await flow.event(event, namespace, args[0], args[1:])

    async def _connect(self, flow: Flow | None, namespace: str, *args: Any) -> Any:
        sid = args[0]
        try:
            if flow is None or namespace in self.exempt:
                result = await self.dispatch("connect", namespace, *args)
            else:
                result = await flow.connect(namespace, *args)
        except BaseException:
            self._refused(sid, namespace)
            raise
        if result is False:
            self._refused(sid, namespace)
        return result

    def _refused(self, sid: str, namespace: str) -> None:
        # A refused socket never gets a disconnect: what was noted of it on
        # the way in (the Admin UI's timestamp) is forgotten here.
        engine_for(self.sio).forget_refused(sid)
        self._left(sid, namespace)

    def _left(self, sid: str, namespace: str) -> None:
        for listener in self.left:
            try:
                listener(sid, namespace)
            except Exception:
                log.exception("namespace-left listener failed sid=%s", sid)

    async def dispatch_connect(
        self, namespace: str, sid: str, environ: dict[str, Any], auth: object
    ) -> Any:
        """The application's ``connect`` handlers; a fault refuses the socket.

        Tries the ``(sid, environ, auth)`` signature, then the legacy
        ``(sid, environ)`` (python-socketio retries only when no ``auth`` was
        sent; with the token in ``auth``, a legacy handler would always fail).
        """
        try:
            try:
                return await self.dispatch("connect", namespace, sid, environ, auth)
            except TypeError:
                return await self.dispatch("connect", namespace, sid, environ)
        except (socketio.exceptions.ConnectionRefusedError, ConnectionRefusedError):
            raise
        except Exception:
            # Left to python-socketio, the socket would wait for an answer
            # that never comes; a clean refusal tells the client.
            log.exception("connect handler failed sid=%s namespace=%s", sid, namespace)
            raise socketio.exceptions.ConnectionRefusedError(SERVER_FAULT) from None

    async def dispatch_disconnect(
        self, namespace: str, sid: str, reason: object = None
    ) -> None:
        """The application's ``disconnect`` handlers; a fault is logged, so the
        clean-up around it (python-socketio's and ours) still runs."""
        try:
            await self.dispatch("disconnect", namespace, sid, reason)
        except Exception:
            log.exception(
                "disconnect handler failed sid=%s namespace=%s", sid, namespace
            )
