"""Connection state recovery (the socket.io 4.6+ protocol), with the token
checked again.

The wire, as socket.io-client 4.8 speaks it (socketio/socket.io at
socket.io@4.8.3):

- the CONNECT acknowledgement carries ``{"sid", "pid"}``: ``pid`` is the
  socket's private session id (packages/socket.io/lib/socket.ts,
  ``_onconnect``); the client keeps it as ``_pid``
  (packages/socket.io-client/lib/socket.ts, ``onconnect``);
- every event sent without an ack carries its offset as the last argument
  (packages/socket.io-adapter/lib/in-memory-adapter.ts,
  ``SessionAwareAdapter.broadcast``; with recovery on, ``socket.emit`` goes
  through it too, socket.ts ``emit``); the client keeps the last string
  argument of each event as ``_lastOffset`` (client socket.ts ``emitEvent``);
- a reconnecting client sends ``Object.assign({pid, offset}, auth)`` as its
  CONNECT payload (client socket.ts ``_sendConnectPacket``); ``offset`` is
  absent when it never got an event;
- the server gives the socket back (same id, rooms, data) and writes the
  missed events before the CONNECT acknowledgement (socket.io's ``Socket``
  constructor replays them, ``_onconnect`` then sends CONNECT); the client
  buffers them until CONNECT, then reports ``socket.recovered === true``
  (the ``pid`` it gets is the one it sent).

What differs from Node's, on purpose:

- a recovery is an authenticated act. Before anything is restored or taken
  over, the CONNECT passes every check the handshake makes (the token
  verified, the namespace's rules, the per-user limit, the application's
  ``additional_auth``: :meth:`Recovery.before_connect`, once; the handshake
  flow reuses its outcome, :meth:`Recovery.checked`) and the token's ``sub``
  must be the one that owned the ``pid``; only then is an old session still
  open taken over and the old sid reserved. The state is restored and the
  missed events written after the application's connect handler, once the
  token is still good (:meth:`Recovery.restore`). Expired, revoked,
  malformed or another user's token, or a refusal by any check: the normal
  refusal, nothing taken over, restored or replayed. Node skips its
  middlewares on recovery by default.
- a client that never got an event still recovers (replayed from where its
  socket first connected); Node needs an offset.
- a valid recovery takes over its old Engine.IO session if the server still
  holds it (a cut long-poll is noticed only at the ping timeout).
- everything is bounded (:class:`~tornado_socketio_jwt.config.StateRecovery`).

Recovery is offered in the handshake flow only. In the ``authenticate``
event flow the CONNECT carries no token, and the sid is handed out before
the token is seen: restoring there would give rooms and missed events to an
unauthenticated socket, and restoring after ``authenticate`` would change a
sid the client already has.

Sessions are saved when the transport ends for any reason but the server's
own (``transport close``/``error``, ``ping timeout``, the client's Engine.IO
close, as ``engine.close()`` sends): a socket the client disconnected (a
Socket.IO DISCONNECT, socket.io's "client namespace disconnect", as
socket.io-client's ``socket.disconnect()`` sends), or the server cut (expiry,
revocation, refusal), is not recoverable. python-socketio's
``AsyncClient.disconnect()`` over WebSocket closes the connection without
writing its DISCONNECT (python-engineio's client closes the WebSocket at once):
the server sees a transport close, as from a network drop, and keeps the
session recoverable, by its ``pid`` and its user's valid token only.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from ..authenticator import Authenticator
from ..errors import UnauthorizedError
from .engine import Engine, HeldEvent, engine_for
from .recovery_store import MemoryRecoveryStore, SavedSession
from .shutdown import SHUTDOWN_EVENT

__all__ = [
    "Admission",
    "Recovery",
    "recovery_of",
    "PID_BYTES",
]

log = logging.getLogger("tornado_socketio_jwt")

PID_BYTES = 18  # secrets.token_urlsafe: 144 random bits, 24 characters
MAX_PID_CHARS = 64
MAX_OFFSET_CHARS = 64

Admission = Callable[
    [str, Mapping[str, Any], object, "tuple[str, str] | None"],
    Awaitable[dict[str, Any]],
]
"""``(namespace, environ, auth, replacing) -> claims``: the handshake's checks
(``FlowBase.admissible_claims``); ``replacing`` is the live socket a recovery
takes over, not counted against the per-user limit.

:raises UnauthorizedError: the first check that refuses.
"""


@dataclass(frozen=True)
class _Live:
    pid: str
    sid: str
    namespace: str
    eio_sid: str
    sub: str
    start: int


@dataclass(frozen=True)
class _Plan:
    pid: str
    sid: str
    after: int


@dataclass
class _Connect:
    """What one CONNECT carries from :meth:`Recovery.before_connect` to its
    acknowledgement: held in a context variable, so that no other CONNECT (of
    another request on the same Engine.IO session) ever sees it."""

    eio_sid: str
    namespace: str
    checked: dict[str, Any] | UnauthorizedError | None = None
    plan: Any = None  # _Plan here; the shared recovery's claim there
    holding: str | None = None  # the sid whose live events are held back
    admitted_at: int = 0  # one process: the buffer's last sequence then
    restored: SavedSession | None = None
    stream_end: str | None = None  # shared: the buffer's end read at this CONNECT


_CONNECT: ContextVar[_Connect | None] = ContextVar("tsj_recovery_connect", default=None)


class Recovery:
    """Connection state recovery for one server's handshake-flow sockets.

    Only namespaces whose policy is the handshake flow recover (an event-flow
    CONNECT carries no token; a public namespace authenticates its own).
    """

    shared = False  # the buffer is this process's (see :mod:`.recovery_shared`)
    store: MemoryRecoveryStore

    def __init__(
        self, authenticator: Authenticator, store: MemoryRecoveryStore
    ) -> None:
        self.store = store
        self._setup(authenticator)

    def _setup(self, authenticator: Authenticator) -> None:
        self.authenticator = authenticator
        self.engine: Engine = engine_for(authenticator.sio)
        self._live: dict[str, _Live] = {}
        self._by_eio: dict[str, set[str]] = {}
        self._taking_over: set[str] = set()
        self.admission: Admission | None = None

    def _recovers(self, namespace: str) -> bool:
        return self.authenticator.settings.policy_for(namespace).flow == "handshake"

    def install(self, admission: Admission) -> None:
        """From now on, the server speaks the recovery protocol; a recovering
        CONNECT must pass ``admission`` before anything is taken over."""
        self.admission = admission
        self.engine.install_recovery(self)

    def _count(self, outcome: str) -> None:
        self.authenticator.metrics.recoveries.labels(outcome).inc()

    # -- a reconnecting client --------------------------------------------

    async def before_connect(
        self, eio_sid: str, namespace: str, auth: object
    ) -> str | None:
        """The sid to give back if ``auth`` asks for a recovery it may have.

        Nothing is restored here. The CONNECT first passes the handshake's
        checks (their outcome is kept for the handshake flow, which does not
        run them again); only if it is admitted and its token's ``sub`` owned
        the ``pid`` is an old session still open taken over and the old sid
        reserved.
        """
        _CONNECT.set(None)
        if not self._recovers(namespace):
            return None
        connect = _Connect(eio_sid, namespace)
        _CONNECT.set(connect)
        if not isinstance(auth, dict) or auth.get("pid") is None:
            return None
        pid, offset = auth.get("pid"), auth.get("offset")
        if (
            not isinstance(pid, str)
            or len(pid) > MAX_PID_CHARS
            or (offset is not None and not isinstance(offset, str))
            or (isinstance(offset, str) and len(offset) > MAX_OFFSET_CHARS)
        ):
            self._count("malformed")
            return None
        if self.engine.sid_of(eio_sid, namespace) is not None:
            return None  # python-socketio refuses a second socket there
        if offset is not None and not self._readable(offset):
            self._count("not_recoverable")  # e.g. another run's or process's
            return None
        live = self._live.get(pid)
        owner = live or await self._saved(pid)
        if owner is None or owner.namespace != namespace:
            self._count("unknown_session")
            return None
        replacing = (live.sid, namespace) if live is not None else None
        try:
            claims = await self._admit(eio_sid, namespace, auth, replacing)
        except UnauthorizedError as err:
            connect.checked = err  # the handshake's refusal
            self._count("refused")
            return None
        except Exception:  # not expected (verify fails closed): the handshake decides
            log.exception("verifying a recovery failed")
            self._count("refused")
            return None
        connect.checked = claims
        if str(claims.get("sub")) != owner.sub:
            self._count("foreign_session")
            return None
        if live is not None:
            if live.eio_sid == eio_sid or not self._still_connected(live):
                self._count("not_recoverable")
                return None
            await self._take_over(live.eio_sid)
        return await self._reserve(eio_sid, namespace, pid, offset)

    async def _saved(self, pid: str) -> SavedSession | None:
        """The saved session of ``pid``, left in place."""
        return self.store.peek(pid)

    def _readable(self, offset: str) -> bool:
        """Whether ``offset`` names an event this buffer still holds."""
        return self.store.sequence_of(offset) is not None

    @staticmethod
    def _this_connect(eio_sid: str | None, namespace: str) -> _Connect | None:
        """The CONNECT being handled (in this task), if it is that one."""
        connect = _CONNECT.get()
        if connect is None or connect.eio_sid != eio_sid:
            return None
        return connect if connect.namespace == namespace else None

    async def _reserve(
        self, eio_sid: str, namespace: str, pid: str, offset: str | None
    ) -> str | None:
        """Plan the restore of ``pid`` for this CONNECT: the sid it gets back."""
        # No suspension from here to python-socketio's pre_connect: the checks hold.
        saved = self.store.peek(pid)
        after = self._after(saved, offset) if saved is not None else None
        if (
            saved is None
            or after is None
            or self.engine.eio_sid_of(saved.sid, namespace) is not None  # a twin won
            or self.store.missed(namespace, after, saved.rooms, saved.sid) is None
        ):
            self._count("not_recoverable")
            return None
        connect = self._this_connect(eio_sid, namespace)
        if connect is None:
            return None
        connect.plan = _Plan(pid, saved.sid, after)
        connect.admitted_at = self.store.last
        self._hold(connect, saved)
        return saved.sid

    async def _admit(
        self,
        eio_sid: str,
        namespace: str,
        auth: dict[str, Any],
        replacing: tuple[str, str] | None,
    ) -> dict[str, Any]:
        """The claims of the CONNECT's token once it passes every check of the
        handshake (:data:`Admission`)."""
        if self.admission is None:  # not installed: nothing is admitted
            raise RuntimeError("connection state recovery is not installed")
        environ = self.engine.environ(eio_sid) or {}
        return await self.admission(namespace, environ, auth, replacing)

    def _hold(self, connect: _Connect, saved: SavedSession) -> None:
        """From the moment its old sid is chosen (before python-socketio puts
        it in any room), the socket being restored has its live events held
        back: :meth:`restore` writes them after the older missed events, once
        (the app's connect handler, or what runs before it, may await)."""
        self.engine.hold(saved.sid, connect.namespace, saved.rooms)
        connect.holding = saved.sid

    async def admitting(self, sid: str, namespace: str) -> None:
        """The handshake admits socket ``sid`` (every check passed) and is
        about to put it in its rooms and run the app's connect handler."""

    def _release(
        self,
        connect: _Connect | None,
        through: str | None = None,
        written: Iterable[str] = (),
    ) -> list[HeldEvent]:
        """Stop holding this CONNECT's socket back; what was held (see
        :meth:`Engine.release`)."""
        if connect is None or connect.holding is None:
            return []
        sid, connect.holding = connect.holding, None
        return self.engine.release(
            sid, connect.namespace, through, written, connect.stream_end
        )

    def _taken_plan(
        self, sid: str, namespace: str
    ) -> tuple[str | None, _Connect | None, Any]:
        """Socket ``sid``'s Engine.IO session, its CONNECT's state and the
        restore planned for it (taken: a plan is carried out once)."""
        eio_sid = self.engine.eio_sid_of(sid, namespace)
        connect = self._this_connect(eio_sid, namespace)
        plan = None
        if connect is not None:
            plan, connect.plan = connect.plan, None
        return eio_sid, connect, plan

    async def _restore_failed(self, eio_sid: str, connect: _Connect | None) -> bool:
        """A restore that cannot be done: the socket goes on as a fresh one,
        and gets what was held back since it was admitted and sent to where it
        is now (everyone, its own room, the rooms it joined): what it would
        have got live; not what went to its saved rooms."""
        sid = connect.holding if connect is not None else None
        held = self._release(connect)
        if connect is None or sid is None or not held:
            return False
        where = {*self.engine.socket_rooms(sid, connect.namespace), sid}
        events = [
            event.packet
            for event in held
            if event.rooms is None or not event.rooms.isdisjoint(where)
        ]
        await self.engine.send_events(eio_sid, connect.namespace, events)
        return False

    def checked(
        self, sid: str, namespace: str
    ) -> dict[str, Any] | UnauthorizedError | None:
        """What :meth:`before_connect` found of socket ``sid``'s CONNECT, taken
        once: its admitted claims, the refusal, or ``None`` (not checked)."""
        connect = self._this_connect(self.engine.eio_sid_of(sid, namespace), namespace)
        if connect is None:
            return None
        checked, connect.checked = connect.checked, None
        return checked

    def _after(self, saved: SavedSession, offset: str | None) -> int | None:
        if offset is None:
            return saved.start  # it never got an event: all since it connected
        after = self.store.sequence_of(offset)
        # Never before the socket existed: a rewound offset would replay what
        # was sent to its rooms before it was there.
        return None if after is None else max(after, saved.start)

    def _still_connected(self, live: _Live) -> bool:
        engine = self.engine
        return engine.sid_of(live.eio_sid, live.namespace) == live.sid and (
            engine.socket_connected(live.eio_sid, live.namespace)
        )

    async def _take_over(self, eio_sid: str) -> None:
        """Close the Engine.IO session a recovering client left behind; its
        sockets are saved as if its transport had closed."""
        self._taking_over.add(eio_sid)
        try:
            await self.engine.close(eio_sid, "taken over by its recovery")
        finally:
            self._taking_over.discard(eio_sid)
        self._count("taken_over")

    async def restore(self, sid: str, namespace: str, claims: dict[str, Any]) -> bool:
        """Give a verified socket its state back and write the events it
        missed; called by the handshake flow once the connection is verified.

        The rooms are joined and the missed events taken from the buffer with
        no await in between, and they are queued before any later event.
        """
        eio_sid, connect, plan = self._taken_plan(sid, namespace)
        if eio_sid is None:
            return False
        if not isinstance(plan, _Plan) or connect is None or plan.sid != sid:
            return await self._restore_failed(eio_sid, connect)
        saved = self.store.take(plan.pid)
        if saved is None or saved.sub != str(claims.get("sub")):
            self._count("not_recoverable")
            return await self._restore_failed(eio_sid, connect)
        # What the saved socket missed up to its admission, through its saved
        # rooms; then what was held back since (sent to its rooms, old or
        # joined since, while the app's connect handler ran), in order.
        missed = self.store.missed(
            namespace, plan.after, saved.rooms, sid, connect.admitted_at
        )
        if missed is None:
            self._count("not_recoverable")
            return await self._restore_failed(eio_sid, connect)
        held = self._release(connect)
        self.engine.join_now(sid, namespace, saved.rooms)
        await self._give_back(eio_sid, saved, missed + [e.packet for e in held])
        return True

    async def _give_back(
        self, eio_sid: str, saved: SavedSession, missed: list[list[Any]]
    ) -> None:
        """The socket (its rooms joined) gets its data and its missed events."""
        sid, namespace = saved.sid, saved.namespace
        self.engine.set_namespace_session(eio_sid, namespace, dict(saved.data))
        connect = self._this_connect(eio_sid, namespace)
        if connect is not None:
            connect.restored = saved
        await self.engine.send_events(eio_sid, namespace, missed)
        self._count("recovered")
        log.info(
            "socket recovered sid=%s missed=%d",
            sid,
            len(missed),
            extra={"tsj_event": "socket_recovered", "tsj_sid": sid},
        )

    def after_connect(self, eio_sid: str, namespace: str) -> None:
        """Forget what one CONNECT left behind (refused ones too)."""
        self._release(self._this_connect(eio_sid, namespace))
        _CONNECT.set(None)

    # -- every socket -----------------------------------------------------

    def connect_ack(self, eio_sid: str, namespace: str, sid: str) -> str | None:
        """The ``pid`` of an admitted socket: its old one if it was restored."""
        if not self._recovers(namespace):
            return None
        claims = self.authenticator.live.claims(sid, namespace)
        if claims is None:
            return None
        connect = self._this_connect(eio_sid, namespace)
        restored = connect.restored if connect is not None else None
        if restored is not None:
            pid, start = restored.pid, restored.start
        else:
            pid = secrets.token_urlsafe(PID_BYTES)
            start = self._start(eio_sid, namespace)
        # One socket per namespace per Engine.IO session: an earlier one on
        # this namespace has left it (DISCONNECT, then CONNECT again), so its
        # entry goes, and CONNECT/DISCONNECT in a loop holds one entry, not more.
        self._forget_live(eio_sid, namespace)
        self._live[pid] = _Live(pid, sid, namespace, eio_sid, str(claims["sub"]), start)
        self._by_eio.setdefault(eio_sid, set()).add(pid)
        return pid

    def socket_left(self, sid: str, namespace: str) -> None:
        """Socket ``sid`` left ``namespace`` (the client's DISCONNECT, the
        server's, a refusal; the gate tells): it is not recoverable, and its
        entry goes now rather than with its Engine.IO session (a session that
        connects and leaves namespace after namespace holds none)."""
        eio_sid = self.engine.eio_sid_of(sid, namespace)
        if eio_sid is not None:
            self._forget_live(eio_sid, namespace)

    def _forget_live(self, eio_sid: str, namespace: str) -> None:
        """The session's socket on ``namespace`` is gone: not recoverable."""
        pids = self._by_eio.get(eio_sid)
        if not pids:
            return
        for old in [p for p in pids if self._live[p].namespace == namespace]:
            pids.discard(old)
            del self._live[old]
        if not pids:
            del self._by_eio[eio_sid]

    def _start(self, eio_sid: str, namespace: str) -> int:
        """Where a new socket's missed events would start (no offset yet);
        called as its CONNECT is acknowledged."""
        return self.store.last

    def emitted(
        self,
        namespace: str,
        room: object,
        skip_sid: object,
        event: str,
        args: list[Any],
    ) -> str | None:
        """Keep an event for replay; return its offset.

        Not kept, and so sent without an offset: the server's shutdown notice
        (the buffer goes with the process), and anything sent to one socket
        that is no longer authenticated (the server is cutting it: why it
        was cut, e.g. ``token_expired``; such a socket is not recoverable).
        """
        if not self._keeps(namespace, room, event):
            return None
        rooms = _names(room)
        return self.store.append(
            namespace, None if room is None else rooms, _names(skip_sid), event, args
        )

    async def publish_kept(
        self,
        namespace: str,
        room: object,
        skip_sid: object,
        event: str,
        args: list[Any],
    ) -> bool:
        """Not used here: this process's buffer keeps events through :meth:`emitted`."""
        return False

    def _keeps(self, namespace: str, room: object, event: str) -> bool:
        """Whether an event without an ack is kept for replay (and so carries
        an offset)."""
        if not self._recovers(namespace) or event == SHUTDOWN_EVENT:
            return False
        return not (
            isinstance(room, str)
            and self.engine.is_socket_room(namespace, room)
            and self.authenticator.live.claims(room, namespace) is None
        )

    def transport_ended(self, eio_sid: str, reason: object) -> None:
        """Save the sockets of an Engine.IO session that ended for a reason
        the client can recover from."""
        for session in self._ended_sessions(eio_sid, reason):
            for outcome in self.store.save(session):
                self._count(outcome)

    def _ended_sessions(self, eio_sid: str, reason: object) -> list[SavedSession]:
        """The sessions to save of an Engine.IO session that ends; read now,
        while python-socketio still holds their rooms and data."""
        pids = self._by_eio.pop(eio_sid, set())
        keep = eio_sid in self._taking_over or not self.engine.reason_is_server(reason)
        engine = self.engine
        sessions = []
        for pid in pids:
            live = self._live.pop(pid, None)
            if live is None or not keep:
                continue
            if not self._still_connected(live):
                continue  # disconnected by itself or by the server before
            sessions.append(
                SavedSession(
                    pid,
                    live.sid,
                    live.namespace,
                    live.sub,
                    tuple(engine.socket_rooms(live.sid, live.namespace)),
                    dict(engine.namespace_session(eio_sid, live.namespace) or {}),
                    live.start,
                )
            )
        return sessions

    @property
    def live_count(self) -> int:
        """Sockets that hold a ``pid`` now."""
        return len(self._live)


def _names(value: object) -> list[str]:
    """A room or skip_sid argument of python-socketio's emit as a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [v for v in value if isinstance(v, str)]
    return []


def recovery_of(sio: Any) -> Recovery | None:
    """The server's connection state recovery, or ``None`` when it is off.

    The handshake flow asks it, for each CONNECT: :meth:`Recovery.checked`
    (the checks a recovering CONNECT already ran), :meth:`Recovery.admitting`
    (before the socket joins its rooms) and :meth:`Recovery.restore` (once the
    app's connect handler accepted it and its token is still good).
    """
    recovery = engine_for(sio).recovery
    return recovery if isinstance(recovery, Recovery) else None
