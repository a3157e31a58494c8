"""What connection state recovery keeps: the replay buffer of emitted events
and the sessions of disconnected sockets, in this process's memory.

Modelled on socket.io's ``SessionAwareAdapter``
(packages/socket.io-adapter/lib/in-memory-adapter.ts): one buffer of events
per server, each with the rooms it went to, and a session saved per
disconnected socket under its private id (``pid``); the missed events are
found at restore time by replaying the buffer after the client's offset
through the session's rooms. Unlike Node's, everything is bounded: the
buffer by packets and bytes (the oldest fall out), each restore by the
packets and bytes it may replay, the saved sessions by number, bytes and
age, in all and per user, and each by its size
(:class:`~tornado_socketio_jwt.config.StateRecovery`). What
falls out is simply not recoverable: the client gets a fresh session.

The saved sessions are kept in order of saving twice over: once in all and
once per ``sub``, so that a user who drops many sockets pushes out only their
own oldest, and every eviction is a pop from the front of one of the two.

Offsets are ``<epoch>-<sequence>``: the epoch (random per store) makes an
offset from another process or an earlier run unknown rather than wrong.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..config import StateRecovery
from ..metrics import EVICTED_PER_USER, EVICTED_PROCESS_CAP, NOT_SAVED_TOO_LARGE

__all__ = ["SavedSession", "MemoryRecoveryStore", "estimate_size"]

log = logging.getLogger("tornado_socketio_jwt")


@dataclass(frozen=True)
class SavedSession:
    """A disconnected socket, as it will be given back."""

    pid: str
    sid: str
    namespace: str
    sub: str
    rooms: tuple[str, ...]
    data: dict[str, Any]
    start: int  # the buffer's last sequence when the socket first connected
    saved_at: float = 0.0


@dataclass(frozen=True)
class _Kept:
    session: SavedSession
    size: int


@dataclass
class _Buffered:
    seq: int
    namespace: str
    rooms: frozenset[str] | None  # None: the whole namespace
    skip: frozenset[str]
    packet: list[Any]  # [event, *args, offset]
    size: int
    at: float


@dataclass
class MemoryRecoveryStore:
    """The buffer and saved sessions of one server process."""

    bounds: StateRecovery = field(default_factory=StateRecovery)
    clock: Callable[[], float] = time.monotonic
    epoch: str = field(default_factory=lambda: secrets.token_hex(4))

    def __post_init__(self) -> None:
        self._packets: deque[_Buffered] = deque()
        self._bytes = 0
        self._last = 0
        self._sessions: OrderedDict[str, _Kept] = OrderedDict()
        self._by_user: dict[str, OrderedDict[str, None]] = {}
        self._saved_bytes = 0

    # -- the buffer -------------------------------------------------------

    @property
    def last(self) -> int:
        """The sequence of the newest event kept so far (0: none yet)."""
        return self._last

    @property
    def buffered(self) -> tuple[int, int]:
        """``(packets, estimated bytes)`` the buffer holds now."""
        return len(self._packets), self._bytes

    def append(
        self,
        namespace: str,
        rooms: Iterable[str] | None,
        skip: Iterable[str],
        event: str,
        args: list[Any],
    ) -> str:
        """Keep an emitted event; return the offset it carries as its last argument."""
        self._last += 1
        offset = f"{self.epoch}-{self._last}"
        packet = [event, *args, offset]
        size = estimate_size(packet)
        now = self.clock()
        self._packets.append(
            _Buffered(
                self._last,
                namespace,
                None if rooms is None else frozenset(rooms),
                frozenset(skip),
                packet,
                size,
                now,
            )
        )
        self._bytes += size
        self._trim(now)
        return offset

    def sequence_of(self, offset: str) -> int | None:
        """The sequence an offset of this store names, or ``None``."""
        epoch, _, seq = offset.partition("-")
        if (
            epoch != self.epoch
            or not (seq.isascii() and seq.isdigit())
            or len(seq) > 19
        ):
            return None
        value = int(seq)
        return value if 0 < value <= self._last else None

    def missed(
        self,
        namespace: str,
        after: int,
        rooms: Iterable[str],
        sid: str,
        through: int | None = None,
    ) -> list[list[Any]] | None:
        """The events after sequence ``after`` (up to ``through``, if given)
        that a socket ``sid`` in ``rooms`` would have got, in order; ``None``
        when some fell out of the buffer or there are more than one recovery
        may replay."""
        self._trim(self.clock())
        first = self._packets[0].seq if self._packets else self._last + 1
        if after < first - 1 or after > self._last:
            return None
        bounds = self.bounds
        member = frozenset(rooms) | {sid}
        found: list[list[Any]] = []
        size = 0
        end = len(self._packets)
        if through is not None:
            end = max(0, min(end, through - first + 1))
        for index in range(after - first + 1, end):
            item = self._packets[index]
            if item.namespace != namespace or sid in item.skip:
                continue
            if item.rooms is not None and item.rooms.isdisjoint(member):
                continue
            size += item.size
            found.append(item.packet)
            if len(found) > bounds.max_missed_packets or size > bounds.max_missed_bytes:
                return None
        return found

    def _trim(self, now: float) -> None:
        bounds, packets = self.bounds, self._packets
        oldest = now - bounds.max_disconnection_duration
        while packets and (
            len(packets) > bounds.buffer_packets
            or self._bytes > bounds.buffer_bytes
            or packets[0].at < oldest
        ):
            self._bytes -= packets.popleft().size

    # -- saved sessions ---------------------------------------------------

    def save(self, session: SavedSession) -> list[str]:
        """Keep a disconnected socket's session under its ``pid``; return
        the outcome of each session this dropped (itself when it is too
        large; the oldest of its user past the per-user cap, the oldest of
        all past the process's caps), empty when nothing was."""
        bounds = self.bounds
        now = self.clock()
        self._drop(session.pid)  # its newer state replaces any older one
        self._expire(now)
        limit = bounds.max_saved_session_bytes
        size = estimate_size([session.rooms, session.data], limit)
        if size > limit:
            log.info(
                "recovery: a session over %d bytes is not saved sid=%s",
                limit,
                session.sid,
                extra={"tsj_event": "recovery_not_saved", "tsj_sid": session.sid},
            )
            return [NOT_SAVED_TOO_LARGE]
        self._sessions[session.pid] = _Kept(
            SavedSession(**{**vars(session), "saved_at": now}), size
        )
        self._saved_bytes += size
        mine = self._by_user.setdefault(session.sub, OrderedDict())
        mine[session.pid] = None
        dropped = []
        while len(mine) > bounds.max_saved_sessions_per_user:
            self._drop(next(iter(mine)))
            dropped.append(EVICTED_PER_USER)
        while (
            len(self._sessions) > bounds.max_saved_sessions
            or self._saved_bytes > bounds.saved_sessions_bytes
        ):
            self._drop(next(iter(self._sessions)))
            dropped.append(EVICTED_PROCESS_CAP)
        return dropped

    def peek(self, pid: str) -> SavedSession | None:
        """The saved session of ``pid`` if it is still recoverable."""
        self._expire(self.clock())
        kept = self._sessions.get(pid)
        return None if kept is None else kept.session

    def take(self, pid: str) -> SavedSession | None:
        """:meth:`peek`, and forget it: a session is given back once."""
        self._expire(self.clock())
        return self._drop(pid)

    @property
    def saved_count(self) -> int:
        """Saved sessions kept now."""
        return len(self._sessions)

    @property
    def saved_bytes(self) -> int:
        """Their estimated size in all."""
        return self._saved_bytes

    def saved_count_of(self, sub: str) -> int:
        """Saved sessions of user ``sub`` kept now."""
        return len(self._by_user.get(sub, ()))

    def _drop(self, pid: str) -> SavedSession | None:
        """Forget the saved session of ``pid``, everywhere it is indexed."""
        kept = self._sessions.pop(pid, None)
        if kept is None:
            return None
        self._saved_bytes -= kept.size
        sub = kept.session.sub
        mine = self._by_user[sub]
        del mine[pid]
        if not mine:
            del self._by_user[sub]
        return kept.session

    def _expire(self, now: float) -> None:
        oldest = now - self.bounds.max_disconnection_duration
        sessions = self._sessions
        while sessions:
            first = next(iter(sessions.values()))
            if first.session.saved_at >= oldest:
                break
            self._drop(first.session.pid)


def estimate_size(value: Any, limit: int | None = None) -> int:
    """About the bytes ``value`` takes in a packet (its JSON text, binary
    attachments at their length); once past ``limit`` (if given) the walk
    stops and returns a size above it, the rest uncounted.

    Walked with a stack, to every depth: a bound that stopped counting at some
    depth let a deeply nested payload (an app that relays client JSON) past the
    buffer's byte limits. Each container is counted once, so a structure that
    contains itself (which python-socketio would refuse to encode) ends the
    walk instead of hanging it.
    """
    size, stack, seen = 0, [value], set()
    while stack and (limit is None or size <= limit):
        item = stack.pop()
        if isinstance(item, str):
            size += len(item) + 2
        elif isinstance(item, (bytes, bytearray, memoryview)):
            size += len(item)
        elif isinstance(item, (dict, list, tuple)):
            if id(item) in seen:
                continue
            seen.add(id(item))
            if isinstance(item, dict):
                size += 2 + 3 * len(item)
                stack.extend(item.keys())
                stack.extend(item.values())
            else:
                size += 2 + len(item)
                stack.extend(item)
        else:
            size += 8
    return size
