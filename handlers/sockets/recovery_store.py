"""What connection state recovery keeps: the replay buffer of emitted events
and the sessions of disconnected sockets, in this process's memory.

Modelled on socket.io's ``SessionAwareAdapter``
(packages/socket.io-adapter/lib/in-memory-adapter.ts): one buffer of events
per server, each with the rooms it went to, and a session saved per
disconnected socket under its private id (``pid``); the missed events are
found at restore time by replaying the buffer after the client's offset
through the session's rooms. Unlike Node's, everything is bounded: the
buffer by packets and bytes (the oldest fall out), each restore by the
packets and bytes it may replay, the saved sessions by number and age
(:class:`~tornado_socketio_jwt.config.StateRecovery`). What
falls out is simply not recoverable: the client gets a fresh session.

Offsets are ``<epoch>-<sequence>``: the epoch (random per store) makes an
offset from another process or an earlier run unknown rather than wrong.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..config import StateRecovery

__all__ = ["SavedSession", "MemoryRecoveryStore", "estimate_size"]


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
        self._sessions: OrderedDict[str, SavedSession] = OrderedDict()

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
        if epoch != self.epoch or not seq.isdigit() or len(seq) > 19:
            return None
        value = int(seq)
        return value if 0 < value <= self._last else None

    def missed(
        self, namespace: str, after: int, rooms: Iterable[str], sid: str
    ) -> list[list[Any]] | None:
        """The events after sequence ``after`` that a socket ``sid`` in ``rooms``
        would have got, in order; ``None`` when some fell out of the buffer or
        there are more than one recovery may replay."""
        self._trim(self.clock())
        first = self._packets[0].seq if self._packets else self._last + 1
        if after < first - 1 or after > self._last:
            return None
        bounds = self.bounds
        member = frozenset(rooms) | {sid}
        found: list[list[Any]] = []
        size = 0
        for index in range(after - first + 1, len(self._packets)):
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

    def save(self, session: SavedSession) -> None:
        """Keep a disconnected socket's session under its ``pid``."""
        now = self.clock()
        self._sessions.pop(session.pid, None)
        self._sessions[session.pid] = SavedSession(**{**vars(session), "saved_at": now})
        self._expire(now)
        while len(self._sessions) > self.bounds.max_saved_sessions:
            self._sessions.popitem(last=False)

    def peek(self, pid: str) -> SavedSession | None:
        """The saved session of ``pid`` if it is still recoverable."""
        self._expire(self.clock())
        return self._sessions.get(pid)

    def take(self, pid: str) -> SavedSession | None:
        """:meth:`peek`, and forget it: a session is given back once."""
        self._expire(self.clock())
        return self._sessions.pop(pid, None)

    @property
    def saved_count(self) -> int:
        return len(self._sessions)

    def _expire(self, now: float) -> None:
        oldest = now - self.bounds.max_disconnection_duration
        sessions = self._sessions
        while sessions:
            first = next(iter(sessions.values()))
            if first.saved_at >= oldest:
                break
            sessions.popitem(last=False)


def estimate_size(value: Any) -> int:
    """About the bytes ``value`` takes in a packet (its JSON text, binary
    attachments at their length).

    Walked with a stack, to every depth: a bound that stopped counting at some
    depth let a deeply nested payload (an app that relays client JSON) past the
    buffer's byte limits. Each container is counted once, so a structure that
    contains itself (which python-socketio would refuse to encode) ends the
    walk instead of hanging it.
    """
    size, stack, seen = 0, [value], set()
    while stack:
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
