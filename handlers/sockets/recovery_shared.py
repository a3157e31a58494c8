"""Connection state recovery across processes: a client that drops from one
process and comes back to another gets its socket back.

Chosen when the server's client manager is python-socketio's pub/sub manager
(``AsyncRedisManager``): the buffer and the saved sessions live in Redis
(``scale/recovery_store.py`` says what is kept there, and why). What differs
from one process's recovery (:mod:`.recovery`):

- **Every kept event goes through Redis, the emitter's own too.** Its offset
  is given and it is published in one step, and each process delivers it
  when its subscriber receives it: every client sees the offsets in one
  order, the buffer's, whichever process emitted them.
- **The restore holds back live events.** Reading the missed events from
  Redis takes a round trip, and events keep arriving meanwhile. So the
  restoring socket's live events are held back (:meth:`Engine.hold`) *before*
  the buffer is read; then, with no suspension in between, the rooms are
  joined, the hold released, and the socket sent the missed events followed
  by the held ones it did not already get from the buffer. An event
  published before the read is in the buffer; one published after it
  reaches this process's subscriber after the hold began. And since a busy
  subscriber lags behind Redis, an event the socket got from the buffer may
  reach it live after the release: such events (offsets up to the last one
  replayed) are dropped for that socket until a newer one arrives. None is
  lost, none sent twice (tests/test_recovery_cluster.py sends 2,000 a second
  through both processes during a recovery).
- **A ``pid`` is claimed once, cluster-wide** (``GETDEL``) when the CONNECT
  asks for it, has passed every check and its token is the owner's: two
  processes can never both give the same sid back. A claim the app's connect
  handler then refuses is spent: the client gets a fresh session next time.
- **A socket's start is the buffer's end when it was admitted.** A client
  may name any offset still in the buffer (a rewound one, another socket's);
  it is replayed nothing from before its socket existed. Once a CONNECT has
  passed every check, and before the socket joins a room, the stream's last
  id is read (one round trip): that is its start, saved with its session and
  kept across recoveries; a restore replays from ``max(offset, start)`` (a
  client that never got an event: from its start). Read from Redis rather
  than from what this process's subscriber delivered: pub/sub is not
  durable, and a subscription that dropped and came back has missed events
  that are in the stream.
- **A socket being restored has its live events held back from the moment
  its old sid is chosen** (:meth:`Recovery._hold`), not only while the buffer
  is read: the app's connect handler may await, and events sent to the
  socket's rooms meanwhile would otherwise reach it live and again in the
  replay, out of order.
- A socket whose transport is cut but still open on its old process (a
  long-poll not yet timed out) is not saved until that process notices (at
  its ping timeout); coming back to *another* process before then gets a
  fresh session. Coming back to the same process takes it over, as before.

The token is verified again before anything is restored or sent, through the
same steps as on one process; a logout on any process reaches every
process's denylist through Redis first.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any, Protocol

from ..authenticator import Authenticator
from ..config import StateRecovery
from ..task_set import TaskSet
from .engine import HeldEvent, offset_order
from .recovery import Recovery, _names
from .recovery_store import SavedSession, estimate_size

__all__ = ["SharedRecovery", "SharedRecoveryStore"]

log = logging.getLogger("tornado_socketio_jwt")

PAGE = 500  # buffer entries read per round trip at a restore
SAVE_WAIT_SECONDS = 2.0  # a take-over waits this long for the save it caused
PLACEHOLDER_PREFIX = "tsj-offset-"
# A socket's start as an int (``SavedSession.start``): ``<ms> << 64 | <seq>``,
# so that comparing ints compares stream ids. Unknown (Redis unreachable when it
# connected): not recoverable.
SEQ_BITS = 64
UNKNOWN_START = -1
# After Redis failed to give a stream's last id, CONNECTs do not wait for it
# again (their sockets' starts are unknown) for this long.
START_RETRY_SECONDS = 1.0
STREAM_END_TIMEOUT = 0.5  # seconds an admitted CONNECT waits for the stream's end


class SharedRecoveryStore(Protocol):
    """What several processes share (``scale.RedisRecoveryStore``)."""

    async def publish(
        self, namespace: str, channel: str, message: str, placeholder: str
    ) -> str | None: ...

    async def last_offset(self, namespace: str) -> str | None: ...

    async def events_after(
        self, namespace: str, offset: str, count: int
    ) -> list[tuple[str, str]] | None: ...

    async def save(
        self, pid: str, session: dict[str, Any], *, estimated_size: int
    ) -> list[str]: ...

    async def peek(self, pid: str) -> dict[str, Any] | None: ...

    async def claim(self, pid: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class _Claim:
    saved: SavedSession
    after: str  # the offset to replay from


class SharedRecovery(Recovery):
    """Connection state recovery over a buffer several processes share."""

    shared = True

    def __init__(
        self,
        authenticator: Authenticator,
        bounds: StateRecovery,
        store: SharedRecoveryStore,
    ) -> None:
        self._setup(authenticator)
        self.bounds = bounds
        self.shared_store = store
        self._saves = TaskSet("recovery saves")
        self._saving: dict[str, asyncio.Task[Any]] = {}
        self._stream_end_failed_at = -START_RETRY_SECONDS

    # -- a reconnecting client --------------------------------------------

    async def admitting(self, sid: str, namespace: str) -> None:
        await super().admitting(sid, namespace)
        connect = self._this_connect(self.engine.eio_sid_of(sid, namespace), namespace)
        if connect is not None:  # (a restore that fails after this: a fresh start)
            connect.stream_end = await self._read_stream_end(namespace)

    async def _read_stream_end(self, namespace: str) -> str | None:
        """The buffer's last id, read once the CONNECT passed every check and
        before the socket joins any room: its start (:meth:`_start`). Every
        kept event after it reaches the socket through this process's
        subscriber, or is replayed to it; nothing before it ever is, whatever
        this process's subscriber missed (pub/sub is not durable: a dropped
        subscription loses what was published meanwhile).

        What remains inexact: kept events published before this read that
        reach this process's subscriber only after the socket joined its
        rooms (the subscriber behind Redis): the socket gets them live, but
        one that drops before they arrive has lost them. ``None`` (Redis
        unreachable or slower than ``STREAM_END_TIMEOUT``; reads are skipped
        for a while after a failure): the socket is not recoverable.
        """
        if time.monotonic() - self._stream_end_failed_at < START_RETRY_SECONDS:
            return None
        try:
            end = await asyncio.wait_for(
                self.shared_store.last_offset(namespace), STREAM_END_TIMEOUT
            )
        except asyncio.TimeoutError:
            end = None  # a stalled Redis does not hold every CONNECT up
        if end is None:
            self._stream_end_failed_at = time.monotonic()
        return end

    def _readable(self, offset: str) -> bool:
        return stream_position(offset) is not None

    async def _saved(self, pid: str) -> SavedSession | None:
        return _session(await self.shared_store.peek(pid))

    async def _reserve(
        self, eio_sid: str, namespace: str, pid: str, offset: str | None
    ) -> str | None:
        saving = self._saving.get(pid)
        if saving is not None:  # a take-over (or a quick return) is saving it
            await asyncio.wait([saving], timeout=SAVE_WAIT_SECONDS)
        saved = _session(await self.shared_store.claim(pid))
        after = None if saved is None else _replay_from(saved.start, offset)
        if (
            saved is None
            or after is None
            or saved.namespace != namespace
            or self.engine.eio_sid_of(saved.sid, namespace) is not None
        ):
            self._count("not_recoverable")
            return None
        connect = self._this_connect(eio_sid, namespace)
        if connect is None:
            return None
        connect.plan = _Claim(saved, after)
        self._hold(connect, saved)
        return saved.sid

    async def restore(self, sid: str, namespace: str, claims: dict[str, Any]) -> bool:
        eio_sid, connect, claim = self._taken_plan(sid, namespace)
        if eio_sid is None:
            return False
        if not isinstance(claim, _Claim) or claim.saved.sid != sid:
            return await self._restore_failed(eio_sid, connect)
        saved = claim.saved
        if saved.sub != str(claims.get("sub")):
            self._count("not_recoverable")
            return await self._restore_failed(eio_sid, connect)
        # Held back since its old sid was chosen (:meth:`Recovery._hold`).
        try:
            missed = await self._missed(namespace, claim.after, saved.rooms, sid)
        except BaseException:
            self._release(connect)
            raise
        if missed is None:
            self._count("not_recoverable")
            return await self._restore_failed(eio_sid, connect)
        # No suspension from here until every event is queued: nothing live
        # reaches the socket in between.
        self.engine.join_now(sid, namespace, saved.rooms)
        written = [offset for offset, _ in missed]
        held = self._release(connect, written[-1] if written else None, written)
        await self._give_back(eio_sid, saved, _in_order(missed, held, claim.after))
        return True

    async def _missed(
        self, namespace: str, offset: str, rooms: tuple[str, ...], sid: str
    ) -> list[tuple[str, list[Any]]] | None:
        """The kept events after ``offset`` that socket ``sid`` in ``rooms``
        would have got, in order; ``None`` past the bounds or when ``offset``
        is no longer in the buffer (``"0-0"``, the start of a socket whose
        stream did not exist yet: when the stream has lost an entry)."""
        bounds = self.bounds
        member = frozenset(rooms) | {sid}
        found: list[tuple[str, list[Any]]] = []
        size = scanned = 0
        after = offset
        while True:
            page = await self.shared_store.events_after(namespace, after, PAGE)
            if page is None:
                return None
            for entry_id, text in page:
                event = self.engine.pubsub_event(text)
                if event is None:
                    continue
                room, skip, packet = event
                if sid in _names(skip):
                    continue
                if room is not None and member.isdisjoint(_names(room)):
                    continue
                size += estimate_size(packet)
                found.append((entry_id, packet))
                if (
                    len(found) > bounds.max_missed_packets
                    or size > bounds.max_missed_bytes
                ):
                    return None
            scanned += len(page)
            if len(page) < PAGE or scanned > bounds.buffer_packets:
                return found
            after = page[-1][0]

    # -- every socket -----------------------------------------------------

    def _start(self, eio_sid: str, namespace: str) -> int:
        """The buffer's end read as this CONNECT was admitted
        (:meth:`_read_stream_end`)."""
        connect = self._this_connect(eio_sid, namespace)
        end = connect.stream_end if connect is not None else None
        if end is None:
            return UNKNOWN_START
        position = stream_position(end)
        return UNKNOWN_START if position is None else position

    def emitted(
        self,
        namespace: str,
        room: object,
        skip_sid: object,
        event: str,
        args: list[Any],
    ) -> str | None:
        return None  # kept events go through publish_kept

    async def publish_kept(
        self,
        namespace: str,
        room: object,
        skip_sid: object,
        event: str,
        args: list[Any],
    ) -> bool:
        """Keep the event in Redis and publish it with its offset; ``False``
        (emitted as usual, without an offset) when it is not kept or Redis
        failed."""
        if not self._keeps(namespace, room, event):
            return False
        placeholder = PLACEHOLDER_PREFIX + secrets.token_hex(16)
        engine = self.engine
        try:
            message = engine.pubsub_message(
                event, [*args, placeholder], namespace, room, skip_sid
            )
        except (TypeError, ValueError):  # python-socketio could not publish it either
            return False
        offset = await self.shared_store.publish(
            namespace, engine.pubsub_channel, message, placeholder
        )
        return offset is not None

    def transport_ended(self, eio_sid: str, reason: object) -> None:
        limit = self.bounds.max_saved_session_bytes
        for session in self._ended_sessions(eio_sid, reason):
            pid = session.pid
            # Measured as the in-process store measures it, and no further
            # than the bound: the store refuses a larger one unserialised.
            size = estimate_size([session.rooms, session.data], limit)
            task = self._saves.spawn(self._save_and_count(pid, _record(session), size))
            self._saving[pid] = task
            task.add_done_callback(functools.partial(self._forget_save, pid))

    async def _save_and_count(
        self, pid: str, record: dict[str, Any], estimated_size: int
    ) -> None:
        saved = self.shared_store.save(pid, record, estimated_size=estimated_size)
        for outcome in await saved:
            self._count(outcome)

    def _forget_save(self, pid: str, task: asyncio.Task[Any]) -> None:
        if self._saving.get(pid) is task:
            del self._saving[pid]


def stream_position(offset: str) -> int | None:
    """A stream id as an int that compares as the id; ``None``: not one."""
    order = offset_order(offset)
    if order is None or max(order) >> SEQ_BITS:
        return None
    ms, seq = order
    return ms << SEQ_BITS | seq


def stream_offset(position: int) -> str:
    """The stream id of a :func:`stream_position`."""
    return f"{position >> SEQ_BITS}-{position & ((1 << SEQ_BITS) - 1)}"


def _replay_from(start: int, offset: str | None) -> str | None:
    """Where a restore replays from: the client's offset, never before the
    socket's start (a rewound offset would replay what its rooms got before
    it existed); ``None``: not recoverable."""
    if start == UNKNOWN_START:
        return None
    if offset is None:  # it never got an event: all since it connected
        return stream_offset(start)
    position = stream_position(offset)
    return None if position is None else stream_offset(max(position, start))


def _in_order(
    missed: list[tuple[str, list[Any]]],
    held: list[HeldEvent],
    after: str,
) -> list[list[Any]]:
    """What the stream replays after ``after`` (through the saved rooms) and
    what was held back since the socket was admitted (to its rooms then, old
    or new), each kept event once, in the stream's order; events not kept
    last, as held. A held event at or before ``after`` is left out: the
    client had it (a lagging subscriber delivers it late here after the
    client got it from another process) or it predates the socket."""
    kept: dict[str, list[Any]] = dict(missed)
    unkept = []
    floor = offset_order(after)
    for offset, packet, _ in held:
        order = offset_order(offset)
        if offset is None or order is None:
            unkept.append(packet)
        elif floor is None or order > floor:
            kept.setdefault(offset, packet)
    ordered = sorted(kept, key=lambda offset: offset_order(offset) or (0, 0))
    return [kept[offset] for offset in ordered] + unkept


def _record(session: SavedSession) -> dict[str, Any]:
    start = session.start
    return {
        "pid": session.pid,
        "sid": session.sid,
        "namespace": session.namespace,
        "sub": session.sub,
        "rooms": list(session.rooms),
        "data": session.data,
        "start": None if start == UNKNOWN_START else stream_offset(start),
    }


def _session(record: dict[str, Any] | None) -> SavedSession | None:
    """A saved session read back from the store; ``None`` if it is not one."""
    if record is None:
        return None
    fields = ("pid", "sid", "namespace", "sub")
    rooms, data = record.get("rooms"), record.get("data")
    start = record.get("start")
    position = stream_position(start) if isinstance(start, str) else None
    if (
        not all(isinstance(record.get(name), str) for name in fields)
        or not isinstance(rooms, list)
        or not all(isinstance(room, str) for room in rooms)
        or not isinstance(data, dict)
    ):
        log.warning("recovery: a saved session in Redis is not one of ours")
        return None
    return SavedSession(
        record["pid"],
        record["sid"],
        record["namespace"],
        record["sub"],
        tuple(rooms),
        data,
        UNKNOWN_START if position is None else position,
    )
