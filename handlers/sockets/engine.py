"""The engine room: the one module that touches python-socketio's and
python-engineio's internals. Every other module talks to :class:`Engine`.

What it rests on (each checked by ``tests/test_socketio_contract.py``, the
versions pinned in setup.cfg):

- ``AsyncServer._trigger_event`` / ``_handle_event`` (python-socketio's
  dispatch to the application, and where a client's EVENT enters): the gate
  is put in front of them by :meth:`Engine.wrap_dispatch`;
- ``engineio.AsyncServer._trigger_event(event, *args, run_async=...)``: every
  Engine.IO ``connect``, ``message`` and ``disconnect`` goes through it, from
  the server and from each ``AsyncSocket``;
- ``eio.sockets`` (the Engine.IO sessions), ``AsyncSocket.close``,
  ``.closing``/``.closed``/``.upgraded``/``.queue``; ``sio.environ`` (the WSGI
  environ python-socketio keeps per session) and its ``tornado.handler``
  (python-engineio's Tornado driver); ``sio.namespace_handlers``,
  ``sio.not_handled``; ``sio.packet_class.json``; ``eio.ping_interval`` and
  ``eio.ping_timeout`` (set from ``AuthSettings.transport``); with recovery
  across processes, python-socketio's pub/sub manager: its ``emit`` message,
  ``_handle_emit`` (where each process delivers a published emit),
  ``channel`` and ``json``, and ``Packet.deconstruct_binary``/
  ``reconstruct_binary``.

Why the Engine.IO side is wrapped at ``eio._trigger_event`` on the instance,
and not through ``eio.on(...)``: ``eio.on`` keeps one handler per event, and
whoever registers last wins. python-socketio's Admin UI (``instrument()``)
registers ``connect`` and ``disconnect`` again, calling python-socketio's
own handlers directly: a session tracker registered there is silently cut
out (no per-address limit, no CONNECT deadline). The method through which
python-engineio calls *whatever* handler is registered is one level lower,
and nothing re-registers it: wrapped there, the session listeners and the
packet screen see every event whatever ``eio.on`` holds, before or after
``instrument()``, ``uninstrument()`` or another extension's ``eio.on``.

- ``connect``: the listeners decide first (a refusal is python-engineio's
  401, and the session never reaches python-socketio); a refusal by the
  handler behind is undone in the listeners too;
- ``disconnect``: the handler behind first, then the listeners;
- ``message``: the screen reads the header inline, then the *current*
  ``message`` handler is called by the adapter itself, so that a packet
  python-socketio cannot decode closes the session with one debug line (called
  through python-engineio, it would be logged with a traceback). When
  python-engineio is asked to run handlers as tasks (``run_async``; python-
  socketio turns it off), the screen still runs inline and only delivery is a
  task. A message for a session already closed (an earlier packet of the same
  POST was refused) is dropped.

Why the dispatch hooks are wrapped on the instance, and how they stay in the
chain: something installed *after* the gate (the Admin UI) saves the gate as
the method it calls and puts it back on ``uninstrument()``. Something
installed *before* (``instrument()`` first) saved python-socketio's own
method on the server: those saved references are pointed at the gate, so the
chain is that wrapper, then the gate, then python-socketio, and restoring
them restores the gate.

Closing (:meth:`Engine.close`) never waits for the polling queue: python-
engineio's ``close(wait=True)`` waits until a GET takes the CLOSE packet, and
GETs are refused once the session is closed, so a POST (or a batch of
deadline closes) would wait forever. The session is closed without waiting,
its CLOSE packet left for a GET already pending, and removed from
``eio.sockets`` (later requests: 400 "Invalid session"). A WebSocket gets its
CLOSE packet written, then is closed, within ``CLOSE_SECONDS``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import contextvars
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import MethodType
from typing import Any, NamedTuple, Protocol

from socketio import packet as sio_packet
from socketio.async_pubsub_manager import AsyncPubSubManager

from ..task_set import TaskSet
from . import engine_websocket
from .engine_websocket import CONNECTION_KEY

__all__ = [
    "Engine",
    "SessionListener",
    "engine_for",
    "check_dispatch_hooks",
    "DROP",
    "MALFORMED",
    "CLOSE_SECONDS",
    "offset_order",
    "CONNECTION_KEY",
    "packet_json",
    "RecoveryHooks",
]

log = logging.getLogger("tornado_socketio_jwt")

DISPATCH_HOOKS = ("_trigger_event", "_handle_event")
# What python-socketio's decoder raises on a malformed packet (JSON included).
MALFORMED = (ValueError, RecursionError)
# A screen's verdict: drop the message unread, keep the session.
DROP = "drop"
CLOSE_SECONDS = 5.0
# The host_id of kept events' pub/sub messages: no process's, so every
# process, the emitter too, delivers them from Redis.
SHARED_HOST_ID = "tornado-socketio-jwt:recovery"
ATTRIBUTE = "tornado_socketio_jwt_engine"
Dispatch = Callable[..., Awaitable[Any]]
Screen = Callable[[str, Any], "str | None"]


class RecoveryHooks(Protocol):
    """What connection state recovery (:mod:`.recovery`) is told by the adapter."""

    async def before_connect(
        self, eio_sid: str, namespace: str, auth: object
    ) -> str | None:
        """A CONNECT arrives: the sid the socket must get back, or ``None``."""

    def after_connect(self, eio_sid: str, namespace: str) -> None:
        """python-socketio is done with that CONNECT (admitted or refused)."""

    def connect_ack(self, eio_sid: str, namespace: str, sid: str) -> str | None:
        """The CONNECT acknowledgement is being sent: the ``pid`` to add."""

    def emitted(
        self,
        namespace: str,
        room: object,
        skip_sid: object,
        event: str,
        args: list[Any],
    ) -> str | None:
        """An event without an ack is emitted: the offset to append, if kept."""

    def transport_ended(self, eio_sid: str, reason: object) -> None:
        """The Engine.IO session ends; its sockets are still in python-socketio."""

    @property
    def shared(self) -> bool:
        """Whether kept events go through :meth:`publish_kept` (several
        processes share the buffer) rather than :meth:`emitted`."""

    async def publish_kept(
        self,
        namespace: str,
        room: object,
        skip_sid: object,
        event: str,
        args: list[Any],
    ) -> bool:
        """Keep and publish an event without an ack; ``False``: not kept, the
        adapter emits it as usual (without an offset)."""


# The sid python-socketio's pre_connect is to give the socket being connected
# (a recovered one gets its old sid back); read once, by generate_id.
_CHOSEN_SID: ContextVar[str | None] = ContextVar("tsj_chosen_sid", default=None)


class SessionListener(Protocol):
    """Told of every Engine.IO session, whatever handler Engine.IO runs."""

    def session_refusal(self, environ: dict[str, Any]) -> object:
        """What :meth:`session_opened` would answer now, counting nothing."""

    def session_opened(self, eio_sid: str, environ: dict[str, Any]) -> object:
        """``None`` admits the session; anything else refuses it (python-
        engineio answers 401 with it as the JSON body)."""

    def session_closed(self, eio_sid: str) -> None:
        """The session is gone (also after a refusal further down)."""


def _tell_closed(listeners: list[SessionListener], eio_sid: str) -> None:
    """Each listener hears of the end, whatever an earlier one raised (a count
    left behind would refuse that address's sessions for good)."""
    for listener in listeners:
        try:
            listener.session_closed(eio_sid)
        except Exception:
            log.exception("session listener failed on close")


def check_dispatch_hooks(sio: Any) -> None:
    """:raises RuntimeError: the installed python-socketio lacks the hooks."""
    for hook in DISPATCH_HOOKS:
        if not inspect.iscoroutinefunction(getattr(sio, hook, None)):
            raise RuntimeError(f"unsupported python-socketio: no {hook}()")


def engine_for(sio: Any) -> Engine:
    """The :class:`Engine` of ``sio``, created (and its Engine.IO hook
    installed) on first use."""
    engine = getattr(sio, ATTRIBUTE, None)
    if not isinstance(engine, Engine):
        engine = Engine(sio)
        setattr(sio, ATTRIBUTE, engine)
    return engine


class Engine:
    """python-socketio's and python-engineio's internals for one server."""

    def __init__(self, sio: Any) -> None:
        self.sio = sio
        self.eio = sio.eio
        self.listeners: list[SessionListener] = []
        self.screen: Screen | None = None
        self._tasks = TaskSet("engine closes and deliveries")
        self.recovery: RecoveryHooks | None = None
        # Sockets being restored from a shared buffer: (namespace, sid) ->
        # (the rooms they are restored into, the live events held back).
        self._holds: dict[tuple[str, str], _Hold] = {}
        # namespace -> the offset of the last kept event this process's
        # subscriber delivered there (or, before the first, the stream's
        # last id as Redis gave it): where a new socket's replay starts.
        self._behind: Dispatch = self.eio._trigger_event
        self.eio._trigger_event = self._engineio_event
        self.pinger: engine_websocket.Pinger | None = None
        if getattr(self.eio, "async_mode", None) == "tornado":
            self.pinger = engine_websocket.install(self.eio)
        start_events_eagerly(sio)

    # -- the gate's place -------------------------------------------------

    def wrap_dispatch(
        self, trigger_event: Dispatch, handle_event: Dispatch
    ) -> tuple[Dispatch, Dispatch]:
        """Put ``trigger_event`` and ``handle_event`` in front of python-socketio's
        ``_trigger_event`` and ``_handle_event``.

        :return: what each calls behind it.
        """
        check_dispatch_hooks(self.sio)
        return (
            self._wrap("_trigger_event", trigger_event),
            self._wrap("_handle_event", handle_event),
        )

    def _wrap(self, name: str, wrapper: Dispatch, on: Any = None) -> Dispatch:
        """Put ``wrapper`` in front of method ``name`` of the server (or of
        ``on``, e.g. its client manager); return what it must call behind it."""
        sio = self.sio if on is None else on
        own = getattr(type(sio), name)
        current = getattr(sio, name)
        if name not in vars(sio):  # nothing wrapped it yet
            setattr(sio, name, wrapper)
            return current  # type: ignore[no-any-return]
        # Wrapped before us: whatever that wrapper calls behind it was saved
        # on the object (the Admin UI does so, and restores it when undone).
        saved = [
            key
            for key, value in vars(sio).items()
            if key != name
            and isinstance(value, MethodType)
            and value.__self__ is sio
            and value.__func__ is own
        ]
        if not saved:  # unknown wrapper: in front of it, as the last resort
            setattr(sio, name, wrapper)
            return current  # type: ignore[no-any-return]
        for key in saved:
            setattr(sio, key, wrapper)
        return MethodType(own, sio)

    def refusal(self, environ: dict[str, Any]) -> object:
        """Whether a new session with ``environ`` would be refused, and how:
        asked before a WebSocket upgrade, so that it can still get an HTTP
        answer (once upgraded, a refusal can only close it)."""
        for listener in self.listeners:
            refusal = listener.session_refusal(environ)
            if refusal is not None:
                return refusal
        return None

    # -- Engine.IO events -------------------------------------------------

    async def _engineio_event(self, event: str, *args: Any, **kwargs: Any) -> Any:
        if event == "message":
            eio_sid, data = args
            await self._message(eio_sid, data, bool(kwargs.get("run_async")))
            return None
        if event == "connect":
            return await self._connect(*args, **kwargs)
        if event == "disconnect":
            if self.recovery is not None:
                try:
                    reason = args[1] if len(args) > 1 else None
                    self.recovery.transport_ended(args[0], reason)
                except Exception:  # not saved is safe; the disconnect must run
                    log.exception("saving a session for recovery failed")
            try:
                return await self._behind(event, *args, **kwargs)
            finally:
                _tell_closed(self.listeners, args[0])
        return await self._behind(event, *args, **kwargs)

    async def _connect(
        self, eio_sid: str, environ: dict[str, Any], **kwargs: Any
    ) -> Any:
        admitted: list[SessionListener] = []
        for listener in self.listeners:
            try:
                refusal = listener.session_opened(eio_sid, environ)
            except Exception:  # fail closed: a listener that cannot decide refuses
                log.exception("session listener failed; session refused")
                refusal = False
            if refusal is not None:
                _tell_closed(admitted, eio_sid)
                return refusal
            admitted.append(listener)
        ret = await self._behind("connect", eio_sid, environ, **kwargs)
        if ret is not None and ret is not True:  # refused behind us
            _tell_closed(admitted, eio_sid)
        elif self.pinger is not None and eio_sid in self.eio.sockets:
            # Before python-engineio schedules its first ping.
            engine_websocket.lean(self.eio.sockets[eio_sid], self.pinger)
        return ret

    async def _message(self, eio_sid: str, data: Any, run_async: bool) -> None:
        if not self.is_open(eio_sid):
            return  # closed under an earlier packet of the same request
        try:
            verdict = self.screen(eio_sid, data) if self.screen is not None else None
        except Exception:  # fail closed: a packet the screen cannot read is refused
            log.exception("packet screen failed; session closed")
            verdict = "packet screen failed"
        if verdict == DROP:
            log.debug("packet dropped: namespace not connected")
            return
        if verdict is not None:
            await self.close(eio_sid, verdict)
            return
        if run_async:
            self.background(self._deliver(eio_sid, data))
        else:
            await self._deliver(eio_sid, data)

    async def _deliver(self, eio_sid: str, data: Any) -> None:
        handler = self.eio.handlers.get("message")
        if handler is None:
            return
        try:
            result = handler(eio_sid, data)
            if inspect.isawaitable(result):
                await result
        except MALFORMED as exc:
            await self.close(eio_sid, f"malformed packet ({type(exc).__name__})")
        except Exception:
            log.exception("message handler failed")

    # -- sessions ---------------------------------------------------------

    def is_open(self, eio_sid: str) -> bool:
        """Whether the Engine.IO session exists and is not closing."""
        socket = self.eio.sockets.get(eio_sid)
        return socket is not None and not socket.closing and not socket.closed

    def is_websocket(self, eio_sid: str) -> bool:
        """Whether the session's transport is (now) a WebSocket."""
        return bool(getattr(self.eio.sockets.get(eio_sid), "upgraded", False))

    def session_count(self) -> int:
        """Engine.IO sessions the server holds (closed ones not yet reaped too)."""
        return len(self.eio.sockets)

    def environ(self, eio_sid: str) -> dict[str, Any] | None:
        """The WSGI environ python-socketio keeps for the session."""
        environ = self.sio.environ.get(eio_sid)
        return environ if isinstance(environ, dict) else None

    def environ_count(self) -> int:
        """How many sessions python-socketio keeps an environ for."""
        return len(self.sio.environ)

    def has_environ(self, eio_sid: str) -> bool:
        """Whether python-socketio still knows the session (it forgets it on
        Engine.IO's ``disconnect``)."""
        return eio_sid in self.sio.environ

    def connection(self, eio_sid: str) -> Any:
        """The Tornado handler that is the session's connection, or ``None``."""
        return (self.environ(eio_sid) or {}).get(CONNECTION_KEY)

    def set_connection(self, eio_sid: str, handler: Any) -> None:
        """Make ``handler`` (a WebSocket upgrading a polling session) the
        session's connection: python-socketio keeps the first request's."""
        environ = self.environ(eio_sid)
        if environ is not None:
            environ[CONNECTION_KEY] = handler

    def connections(self) -> list[tuple[str, Any]]:
        """``(eio_sid, Tornado handler)`` of each session (a copy: safe to close)."""
        return [
            (eio_sid, environ[CONNECTION_KEY])
            for eio_sid, environ in list(self.sio.environ.items())
            if environ.get(CONNECTION_KEY) is not None
        ]

    def reap_if_closed(self, eio_sid: str | None) -> None:
        """Forget a session python-engineio closed but still lists: a request
        for it then gets 400 "Invalid session", not python-engineio's
        ``KeyError`` outside its error handling (a 500)."""
        socket = self.eio.sockets.get(eio_sid) if eio_sid else None
        if socket is not None and socket.closed:
            self.eio.sockets.pop(eio_sid, None)

    def eio_sid_of(self, sid: str, namespace: str) -> str | None:
        """The Engine.IO session of socket ``sid`` on ``namespace``, if any."""
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, namespace)
        return eio_sid if isinstance(eio_sid, str) else None

    def forget_refused(self, sid: str) -> None:
        """Forget what python-socketio's Admin UI noted of a socket on its
        ``connect`` (``manager._timestamps``, set before the gate decides and
        removed only on ``disconnect``, which a refused socket never gets)."""
        timestamps = getattr(self.sio.manager, "_timestamps", None)
        if isinstance(timestamps, dict):
            timestamps.pop(sid, None)

    def holds_binary_packet(self, eio_sid: str) -> bool:
        """Whether python-socketio holds an incomplete binary packet of the
        session (``AsyncServer._binary_packet``): it takes the session's next
        message as an attachment, and drops the packet on any namespace
        disconnect, the server's own included."""
        return eio_sid in self.sio._binary_packet

    def connected_anywhere(self, eio_sid: str) -> bool:
        """Whether the session has connected (or is connecting) any namespace."""
        manager = self.sio.manager
        return any(
            manager.sid_from_eio_sid(eio_sid, namespace) is not None
            for namespace in list(manager.get_namespaces())
        )

    def socket_connected(self, eio_sid: str, namespace: str) -> bool:
        """Whether the session's socket on ``namespace`` is connected."""
        manager = self.sio.manager
        sid = manager.sid_from_eio_sid(eio_sid, namespace)
        return sid is not None and bool(manager.is_connected(sid, namespace))

    def sid_of(self, eio_sid: str, namespace: str) -> str | None:
        """The Socket.IO sid of the session on ``namespace``, if any."""
        sid = self.sio.manager.sid_from_eio_sid(eio_sid, namespace)
        return sid if isinstance(sid, str) else None

    def transport_open(self, sid: str, namespace: str) -> bool:
        """Whether socket ``sid``'s Engine.IO session is still there."""
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, namespace)
        return eio_sid is not None and self.has_environ(eio_sid)

    async def close(self, eio_sid: str, why: str = "") -> None:
        """End an Engine.IO session without waiting for a poll; a WebSocket gets
        its CLOSE packet, then is closed (within ``CLOSE_SECONDS``).

        python-socketio's state for the session goes at once (its
        ``disconnect`` runs here); python-engineio's ping task still holds
        the closed socket object until its sleep of one ping interval ends.
        """
        socket = self.eio.sockets.get(eio_sid)
        if socket is None:
            return
        if why:
            log.debug("client disconnected: %s", why)
        websocket = self.connection(eio_sid) if socket.upgraded else None
        try:
            await socket.close(wait=False, reason=self.eio.reason.SERVER_DISCONNECT)
        finally:
            if self.eio.sockets.get(eio_sid) is socket:
                del self.eio.sockets[eio_sid]
        if websocket is not None:
            # The writer task takes the CLOSE packet off the queue and writes
            # it; then the connection is closed even if the client ignores it.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(socket.queue.join(), CLOSE_SECONDS)
            websocket.close()

    def close_soon(self, eio_sid: str, why: str = "") -> None:
        """:meth:`close` as a task of its own: closes never queue behind one another."""
        self.background(self.close(eio_sid, why))

    def background(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run ``work`` as a task kept referenced until done; a failure is logged."""
        self._tasks.spawn(work)

    # -- python-engineio's request side -----------------------------------

    def set_heartbeat(
        self, ping_interval: float | None, ping_timeout: float | None
    ) -> None:
        """Set python-engineio's ``ping_interval``/``ping_timeout`` (constructor
        arguments it keeps as attributes, read for each session it opens: the
        OPEN packet, the ping loop, the timeout check); ``None`` keeps the
        server's own. Sessions already open keep theirs."""
        if ping_interval is not None:
            self.eio.ping_interval = ping_interval
        if ping_timeout is not None:
            self.eio.ping_timeout = ping_timeout

    @property
    def cors_allowed_origins(self) -> Any:
        """python-engineio's ``cors_allowed_origins`` setting."""
        return self.eio.cors_allowed_origins

    @property
    def max_message_size(self) -> int:
        """python-engineio's ``max_http_buffer_size``: the largest message."""
        return int(self.eio.max_http_buffer_size)

    async def handle_request(self, handler: Any) -> Any:
        """Hand a Tornado request (or opened WebSocket) to python-engineio."""
        return await self.eio.handle_request(handler)

    # -- the WebSocket driver (sockets/engine_websocket.py) ----------------

    async def websocket_message(self, connection: Any, message: str | bytes) -> None:
        """A frame Tornado read from ``connection``, for its Engine.IO session;
        a frame python-engineio cannot decode ends the session."""
        socket = getattr(connection, "engine_socket", None)
        if socket is None:
            connection.close()
            return
        try:
            await socket.feed(connection, message)
        except Exception as exc:
            log.debug("websocket closed: %s", type(exc).__name__)
            self.close_soon(socket.sid)
            connection.close()

    def websocket_message_now(
        self, connection: Any, message: str | bytes
    ) -> Awaitable[None] | None:
        """:meth:`websocket_message` started at once: ``None`` when it is
        done already, else what to await before the connection's next frame."""
        started = start_eagerly(self.websocket_message(connection, message))
        return None if started is DONE else started  # type: ignore[no-any-return]

    def websocket_closed(self, connection: Any) -> None:
        """Tornado closed ``connection``: its session ends (unless it was an
        upgrade that never finished: the polling session goes on)."""
        socket = getattr(connection, "engine_socket", None)
        closing = socket.transport_closed(connection) if socket is not None else None
        if closing is not None:
            self.background(closing)

    # -- python-socketio's odds and ends ----------------------------------

    @property
    def not_handled(self) -> Any:
        """What a dispatch returns for "no handler, no ack"."""
        return self.sio.not_handled

    def namespace_handler(self, namespace: str) -> Any:
        """The class-based handler of ``namespace`` (or of ``"*"``), if any."""
        handlers = self.sio.namespace_handlers
        return handlers.get(namespace) or handlers.get("*")

    # -- connection state recovery ----------------------------------------
    #
    # The hooks :mod:`.recovery` needs (socket.io 4.8's wire: the CONNECT ack
    # carries ``pid``, packages/socket.io/lib/socket.ts ``_onconnect``; every
    # event without an ack carries its offset as the last argument,
    # packages/socket.io-adapter/lib/in-memory-adapter.ts
    # ``SessionAwareAdapter.broadcast``). Each internal is checked by
    # tests/test_socketio_contract.py:
    #
    # - ``sio._handle_connect(eio_sid, namespace, data)``: every CONNECT;
    # - ``manager.pre_connect`` takes the new sid from ``eio.generate_id()``
    #   (a recovered socket gets its old sid back through it);
    # - ``sio._send_packet(eio_sid, pkt)`` sends the CONNECT ack
    #   ``{"sid": sid}`` (``pid`` is added there);
    # - ``manager.emit(event, data, namespace, room, skip_sid, callback, to)``:
    #   every emit, to a room, everyone or one sid;
    # - ``manager.get_rooms``/``basic_enter_room``/``is_sid_room`` and the
    #   Engine.IO socket's ``session`` dict (python-socketio's per-namespace
    #   session data lives there);
    # - ``AsyncSocket.send`` does not suspend on an open socket (an unbounded
    #   queue), so missed packets are queued before any new one.

    def install_recovery(self, hooks: RecoveryHooks) -> None:
        """Route the server's CONNECTs, CONNECT acks and emits through ``hooks``."""
        if self.recovery is not None:
            raise ValueError("connection state recovery is already installed")
        self.recovery = hooks
        sio, eio, manager = self.sio, self.eio, self.sio.manager
        handle_connect: Dispatch = sio._handle_connect
        send_packet: Dispatch = sio._send_packet
        generate_id: Callable[[], str] = eio.generate_id
        connect_type = sio_packet.CONNECT

        async def recovering_connect(eio_sid: str, namespace: Any, data: Any) -> Any:
            name = namespace or "/"
            chosen = None
            try:
                try:
                    sid = await hooks.before_connect(eio_sid, name, data)
                except Exception:  # a bug, not the client's: a fresh session,
                    # which the handshake still authenticates in full
                    log.exception("connection state recovery failed")
                    sid = None
                chosen = _CHOSEN_SID.set(sid)
                return await handle_connect(eio_sid, namespace, data)
            finally:
                if chosen is not None:
                    _CHOSEN_SID.reset(chosen)
                hooks.after_connect(eio_sid, name)

        def chosen_or_new_id() -> str:
            sid = _CHOSEN_SID.get()
            if sid is None:
                return generate_id()
            _CHOSEN_SID.set(None)
            return sid

        async def send_with_pid(eio_sid: str, pkt: Any) -> Any:
            data = pkt.data
            if (
                pkt.packet_type == connect_type
                and isinstance(data, dict)
                and isinstance(data.get("sid"), str)
            ):
                pid = hooks.connect_ack(eio_sid, pkt.namespace or "/", data["sid"])
                if pid is not None:
                    pkt.data = {**data, "pid": pid}
            return await send_packet(eio_sid, pkt)

        async def emit_with_offset(
            event: str,
            data: Any,
            namespace: str,
            room: Any = None,
            skip_sid: Any = None,
            callback: Any = None,
            to: Any = None,
            **kwargs: Any,
        ) -> Any:
            # An event with an ack is not kept: its callback cannot be replayed
            # (in-memory-adapter.ts: "packets with acknowledgement are not stored").
            if callback is None:
                args = _event_args(data)
                if shared:
                    if await hooks.publish_kept(
                        namespace, to or room, skip_sid, event, args
                    ):
                        return None  # every process delivers it from Redis
                else:
                    offset = hooks.emitted(namespace, to or room, skip_sid, event, args)
                    if offset is not None:
                        data = (*args, offset)
                        if self._holds:  # restoring sockets get it from the replay
                            skip_sid = self._skip_held(
                                namespace, to or room, skip_sid, [event, *data]
                            )
            return await emit(
                event,
                data,
                namespace,
                room=room,
                skip_sid=skip_sid,
                callback=callback,
                to=to,
                **kwargs,
            )

        shared = hooks.shared
        if shared:
            if not isinstance(manager, AsyncPubSubManager):
                raise ValueError(
                    "a shared recovery buffer needs a pub/sub client manager"
                )
            handle_emit: Dispatch = manager._handle_emit

            async def handle_emit_holding(message: Any) -> Any:
                return await handle_emit(self._hold_back(message))

            manager._handle_emit = handle_emit_holding
        sio._handle_connect = recovering_connect
        sio._send_packet = send_with_pid
        # As the dispatch hooks: the Admin UI's instrument() (before or after
        # us) and its uninstrument() keep the offsets and holds on.
        emit = self._wrap("emit", emit_with_offset, on=manager)
        eio.generate_id = chosen_or_new_id

    # -- a recovery buffer several processes share ------------------------
    #
    # python-socketio's pub/sub manager (``AsyncPubSubManager``): ``emit``
    # delivers on this process, then publishes a JSON message ``{"method":
    # "emit", "event", "data", "binary", "namespace", "room", "skip_sid",
    # "callback", "host_id"}``; its listener hands every message whose
    # ``host_id`` is not its own to ``_handle_emit``, which delivers it here
    # (``data``: the arguments; binary ones deconstructed, attachments in
    # base64, as ``emit`` builds it). A kept event is published with a
    # ``host_id`` no process has, so the emitter delivers it from Redis too,
    # in the order every process sees.

    @property
    def pubsub_channel(self) -> str:
        """The channel python-socketio's pub/sub manager publishes on."""
        return str(self.sio.manager.channel)

    def pubsub_message(
        self,
        event: str,
        args: list[Any],
        namespace: str,
        room: Any,
        skip_sid: Any,
    ) -> str:
        """python-socketio's pub/sub ``emit`` message for an event, as JSON."""
        binary = sio_packet.Packet.data_is_binary(args)
        data: Any = args
        if binary:
            data, attachments = sio_packet.Packet.deconstruct_binary(args)
            data = [data, *[base64.b64encode(a).decode() for a in attachments]]
        message = {
            "method": "emit",
            "event": event,
            "data": data,
            "binary": binary,
            "namespace": namespace,
            "room": room,
            "skip_sid": skip_sid,
            "callback": None,
            "host_id": SHARED_HOST_ID,
        }
        return str(self.sio.manager.json.dumps(message))

    def pubsub_event(self, text: str) -> tuple[Any, Any, list[Any]] | None:
        """``(room, skip_sid, [event, *args])`` of a pub/sub ``emit`` message."""
        try:
            message = self.sio.manager.json.loads(text)
        except MALFORMED:
            return None
        if not isinstance(message, dict):
            return None
        return _message_event(message)

    def hold(self, sid: str, namespace: str, rooms: Iterable[str]) -> None:
        """From now on, hold back the live events socket ``sid`` would get
        (in ``rooms``, or in those it is in): :meth:`release` hands them over."""
        self._holds[(namespace, sid)] = _Hold(frozenset(rooms))

    def release(
        self,
        sid: str,
        namespace: str,
        replayed_through: str | None = None,
        written: Iterable[str] = (),
        admitted_at: str | None = None,
    ) -> list[HeldEvent]:
        """Stop holding; the events held, in order.

        ``replayed_through``: the newest offset the socket is being sent from
        the buffer. This process's subscriber may not have reached it yet (it
        lags behind Redis when busy): kept events up to it that arrive later
        are dropped for the socket if it was ``written`` them or they predate
        its admission (``admitted_at``, the buffer's end then: sent to a room
        it joined only since); the others reach it. The filter ends at the
        first event past ``replayed_through``.
        """
        hold = self._holds.pop((namespace, sid), None)
        through = offset_order(replayed_through)
        if through is not None:
            self._holds[(namespace, sid)] = _Hold(
                frozenset(),
                None,
                through,
                frozenset(written),
                offset_order(admitted_at),
            )
        return [] if hold is None or hold.held is None else hold.held

    def _held_recipients(
        self, namespace: str, room: Any, skipped: list[Any]
    ) -> list[tuple[tuple[str, str], _Hold]]:
        """The holds (still holding) of sockets an event to ``room`` reaches."""
        targets = None if room is None else set(_as_list(room))
        manager = self.sio.manager
        found = []
        for key, hold in self._holds.items():
            held_namespace, sid = key
            if held_namespace != namespace or sid in skipped or hold.held is None:
                continue
            if targets is not None and targets.isdisjoint(
                hold.rooms | {sid} | set(manager.get_rooms(sid, namespace))
            ):
                continue
            found.append((key, hold))
        return found

    def _skip_held(
        self, namespace: str, room: Any, skip_sid: Any, packet: list[Any]
    ) -> list[Any]:
        """``skip_sid`` and the sockets being restored that a kept event
        (``[event, *args, offset]``) to ``room`` would reach now: held for
        them (:meth:`release` hands it over), not written."""
        skipped = _as_list(skip_sid)
        held = self._held_recipients(namespace, room, skipped)
        rooms = None if room is None else frozenset(_as_list(room))
        for _, hold in held:
            if hold.held is not None:
                hold.held.append(HeldEvent(str(packet[-1]), packet, rooms))
        return [*skipped, *(sid for (_, sid), _ in held)]

    def _hold_back(self, message: Any) -> Any:
        """``message`` without the sockets whose events are held back (theirs
        kept) or were already sent from the buffer."""
        if not self._holds or not isinstance(message, dict):
            return message
        if message.get("callback") is not None:
            return message  # its ack cannot be held nor replayed: written live
        namespace = message.get("namespace") or "/"
        room, skip = message.get("room"), message.get("skip_sid")
        skipped = _as_list(skip)
        targets = None if room is None else set(_as_list(room))
        event = _message_event(message)
        packet = event[2] if event is not None else None
        kept = message.get("host_id") == SHARED_HOST_ID and packet and len(packet) > 1
        offset = str(packet[-1]) if kept and packet else None
        order = offset_order(offset)
        manager = self.sio.manager
        left_out: list[str] = []
        for key, hold in list(self._holds.items()):
            held_namespace, sid = key
            if held_namespace != namespace or sid in skipped:
                continue
            if hold.held is None:  # replayed: drop what it already got
                if order is None:
                    continue
                if hold.through is not None and order <= hold.through:
                    if offset in hold.written or (
                        hold.before is not None and order <= hold.before
                    ):
                        left_out.append(sid)
                else:  # the subscriber is past the replay: nothing more to drop
                    del self._holds[key]
                continue
            if targets is not None and targets.isdisjoint(
                hold.rooms | {sid} | set(manager.get_rooms(sid, namespace))
            ):
                continue
            if packet is not None:
                rooms = None if targets is None else frozenset(targets)
                hold.held.append(HeldEvent(offset, packet, rooms))
            left_out.append(sid)
        if not left_out:
            return message
        return {**message, "skip_sid": [*skipped, *left_out]}

    def socket_rooms(self, sid: str, namespace: str) -> list[str]:
        """The rooms socket ``sid`` is in, its own sid room left out."""
        return [
            room
            for room in self.sio.manager.get_rooms(sid, namespace)
            if isinstance(room, str) and room != sid
        ]

    def is_socket_room(self, namespace: str, room: str) -> bool:
        """Whether ``room`` is a socket's own room (its sid)."""
        return bool(self.sio.manager.is_sid_room(namespace, room))

    def join_now(self, sid: str, namespace: str, rooms: Iterable[str]) -> None:
        """Put socket ``sid`` in ``rooms`` at once (no await: nothing is emitted
        between two joins). Another socket's sid room is never joined."""
        manager = self.sio.manager
        for room in rooms:
            if room != sid and not manager.is_sid_room(namespace, room):
                manager.basic_enter_room(sid, namespace, room)

    def namespace_session(self, eio_sid: str, namespace: str) -> dict[str, Any] | None:
        """python-socketio's session data of the session's socket on ``namespace``."""
        socket = self.eio.sockets.get(eio_sid)
        data = getattr(socket, "session", {}).get(namespace) if socket else None
        return data if isinstance(data, dict) else None

    def set_namespace_session(
        self, eio_sid: str, namespace: str, data: dict[str, Any]
    ) -> None:
        """Replace that session data (a recovered socket gets its own back)."""
        socket = self.eio.sockets.get(eio_sid)
        if socket is not None:
            socket.session[namespace] = data

    async def send_events(
        self, eio_sid: str, namespace: str, events: Iterable[list[Any]]
    ) -> None:
        """Send EVENT packets (``[name, *args]`` each) to one session, in order."""
        sio = self.sio
        event_type = sio_packet.EVENT
        for data in events:
            await sio._send_packet(
                eio_sid, sio.packet_class(event_type, namespace=namespace, data=data)
            )

    def reason_is_server(self, reason: object) -> bool:
        """Whether an Engine.IO ``disconnect`` reason means the server closed it."""
        return reason == self.eio.reason.SERVER_DISCONNECT


class HeldEvent(NamedTuple):
    """An event held back from a socket being restored."""

    offset: str | None  # None: not kept
    packet: list[Any]  # [event, *args]
    rooms: frozenset[str] | None  # where it was sent (None: everyone)


@dataclass
class _Hold:
    """A socket being restored: its live events held back (``held``), or,
    once replayed from a shared buffer, those it was written (``written``) or
    that predate its admission (``before``) dropped up to ``through``."""

    rooms: frozenset[str]
    held: list[HeldEvent] | None = field(default_factory=list)
    through: tuple[int, int] | None = None
    written: frozenset[str] = frozenset()
    before: tuple[int, int] | None = None


def offset_order(offset: str | None) -> tuple[int, int] | None:
    """A shared buffer's offset (``<ms>-<seq>``) as something to compare."""
    if offset is None:
        return None
    ms, _, seq = offset.partition("-")
    if not (
        (ms + seq).isascii()
        and ms.isdigit()
        and seq.isdigit()
        and len(ms) <= 20
        and len(seq) <= 20
    ):
        return None
    return int(ms), int(seq)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _message_event(message: dict[str, Any]) -> tuple[Any, Any, list[Any]] | None:
    """As python-socketio's ``_handle_emit`` rebuilds an emit's arguments."""
    data, event = message.get("data"), message.get("event")
    if not isinstance(event, str) or not isinstance(data, list):
        return None
    if message.get("binary"):
        try:
            attachments = [base64.b64decode(a) for a in data[1:]]
            data = sio_packet.Packet.reconstruct_binary(data[0], attachments)
        except (ValueError, TypeError, IndexError, KeyError):
            return None
    return message.get("room"), message.get("skip_sid"), [event, *data]


def _event_args(data: Any) -> list[Any]:
    """An emit's ``data`` as python-socketio sends it: a tuple is the
    arguments, ``None`` none, anything else one argument."""
    if isinstance(data, tuple):
        return list(data)
    return [] if data is None else [data]


# -- python-socketio's task per event, started eagerly ---------------------


class Done:
    """What an event task that finished while it was started stands for:
    python-socketio only keeps it referenced until it is done."""

    __slots__ = ()

    def add_done_callback(self, callback: Callable[[Any], object]) -> None:
        callback(self)

    def done(self) -> bool:
        return True

    def cancelled(self) -> bool:
        return False

    def result(self) -> None:
        return None


DONE = Done()


class Resume:
    """Awaiting it drives a coroutine already started (and now waiting on
    ``pending``) to its end, as a task drives any coroutine."""

    __slots__ = ("coro", "pending")

    def __init__(self, coro: Any, pending: Any) -> None:
        self.coro, self.pending = coro, pending

    def __await__(self) -> Any:
        coro, pending = self.coro, self.pending
        while True:
            try:
                sent = yield pending
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # a cancellation: the coroutine's to handle
                try:
                    pending = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    pending = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


async def _resume(coro: Any, pending: Any) -> Any:
    return await Resume(coro, pending)


def start_eagerly(coro: Any) -> Any:
    """Run ``coro`` now, up to its first wait, in a context of its own; only
    if it waits does the rest become a task. What an asyncio task of the same
    coroutine would be (python-socketio keeps a reference until it is done)."""
    context = contextvars.copy_context()
    try:
        pending = context.run(coro.send, None)
    except StopIteration:
        return DONE
    except Exception as exc:  # as a task's: logged if never retrieved
        failed = asyncio.get_running_loop().create_future()
        failed.set_exception(exc)
        return failed
    loop = asyncio.get_running_loop()
    return loop.create_task(_resume(coro, pending), context=context)


def start_events_eagerly(sio: Any) -> None:
    """python-socketio (``async_handlers``, its default) runs each client
    event as a task of its own: a task, a loop callback per step and a copied
    context for a handler that usually finishes without waiting. Each event's
    task is started eagerly instead (Python 3.12's eager task factory, for
    these tasks only): a handler that does not wait answers inline, in order;
    one that waits goes on as a task, so a slow handler stalls neither its
    socket's next packets nor other sockets, and ``call()`` keeps working.
    Every other background task python-socketio starts is left as it is."""
    own = type(sio).start_background_task
    internal = type(sio)._handle_event_internal

    def start_background_task(target: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(target, "__func__", None) is internal:
            return start_eagerly(target(*args, **kwargs))
        return own(sio, target, *args, **kwargs)

    sio.start_background_task = start_background_task


def packet_json(sio: Any) -> Any:
    """The JSON module python-socketio's packets are encoded and decoded with."""
    return getattr(sio.packet_class, "json", None)
