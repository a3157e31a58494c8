"""Connection state recovery across processes: the replay buffer and the
saved sessions in Redis.

What is kept, and why this shape:

- **The buffer is a Redis Stream per namespace** (``<prefix>recovery:stream:
  <namespace>``), as Node's ``@socket.io/redis-streams-adapter`` keeps its
  events: the entry id (``<ms>-<seq>``) *is* the offset the client gets,
  ``XRANGE`` from the client's offset gives what it missed, and ``MAXLEN``
  (``buffer_packets``) and ``MINID`` (now minus ``max_disconnection_duration``)
  bound it; the key expires when nothing is emitted for that long.
- **The offset is given and the event published in one Lua script**
  (``XADD`` then ``PUBLISH`` of python-socketio's pub/sub message with the new
  id spliced in). Redis runs a script alone, so every process's subscriber
  receives the events in stream order; and every process, the emitter too,
  delivers a kept event only when its subscriber gets it (see
  ``sockets/recovery_shared.py``). A client therefore sees offsets in stream
  order, and "everything after my last offset" is exactly what it missed.
  python-socketio's own emit delivers on the emitting process first and
  publishes after: with events from several processes a client's last offset
  would not delimit what it got (measured: a client back on the same process
  was told ``recovered`` and had lost the other process's events).
- **A saved session is one string key** (``<prefix>recovery:session:<pid>``,
  JSON, ``PX`` = ``max_disconnection_duration``), taken with ``GETDEL``: the
  first process to claim a ``pid`` gets it, so one sid never comes back twice.

What falls out (trimmed, expired, Redis unreachable) is not recoverable: the
client gets a fresh session.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import redis.asyncio

from .redis_client import KEY_PREFIX, REDIS_ERRORS

__all__ = ["RedisRecoveryStore", "STREAM_ID", "EMPTY_STREAM"]

log = logging.getLogger("tornado_socketio_jwt")

# An offset this store hands out: a stream entry id.
STREAM_ID = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")

# The offset before any: a stream that does not exist (or is empty) "ends" here.
EMPTY_STREAM = "0-0"

# KEYS: stream, channel. ARGV: message (with the placeholder), placeholder,
# MAXLEN, max age in ms. The placeholder is a fresh random token the message
# holds once, where the offset goes.
PUBLISH_SCRIPT = """
local stream, age = KEYS[1], tonumber(ARGV[4])
local id = redis.call('XADD', stream, 'MAXLEN', ARGV[3], '*',
                      'm', ARGV[1], 'p', ARGV[2])
local now = redis.call('TIME')
local oldest = tonumber(now[1]) * 1000
               + math.floor(tonumber(now[2]) / 1000) - age
if oldest > 0 then redis.call('XTRIM', stream, 'MINID', oldest) end
redis.call('PEXPIRE', stream, age)
local s, e = string.find(ARGV[1], ARGV[2], 1, true)
redis.call('PUBLISH', KEYS[2],
           string.sub(ARGV[1], 1, s - 1) .. id .. string.sub(ARGV[1], e + 1))
return id
"""


class RedisRecoveryStore:
    """The buffer and the saved sessions every process of a cluster shares.

    Every method answers ``None`` (or ``False``) when Redis cannot be
    reached: recovery then fails closed to a fresh session.
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        buffer_packets: int,
        max_disconnection_duration: float,
        prefix: str = KEY_PREFIX,
    ) -> None:
        self.client = client
        self.buffer_packets = buffer_packets
        self.ttl_ms = max(1, int(max_disconnection_duration * 1000))
        self.prefix = prefix
        self._publish = client.register_script(PUBLISH_SCRIPT)

    def _stream(self, namespace: str) -> str:
        return f"{self.prefix}recovery:stream:{namespace}"

    def _session(self, pid: str) -> str:
        return f"{self.prefix}recovery:session:{pid}"

    async def publish(
        self, namespace: str, channel: str, message: str, placeholder: str
    ) -> str | None:
        """Keep ``message`` (a pub/sub message whose text holds ``placeholder``
        once, where its offset goes) and publish it on ``channel`` with its
        offset; return the offset, or ``None`` if Redis failed."""
        try:
            offset = await self._publish(
                keys=[self._stream(namespace), channel],
                args=[message, placeholder, self.buffer_packets, self.ttl_ms],
            )
        except REDIS_ERRORS as exc:
            log.warning("recovery: an event could not be kept (%s)", type(exc).__name__)
            return None
        return str(offset)

    async def last_offset(self, namespace: str) -> str | None:
        """The newest offset kept on ``namespace`` (:data:`EMPTY_STREAM` when
        none is); ``None`` if Redis failed."""
        try:
            entries = await self.client.xrevrange(
                self._stream(namespace), max="+", min="-", count=1
            )
        except REDIS_ERRORS as exc:
            log.warning("recovery: the buffer is unreachable (%s)", type(exc).__name__)
            return None
        return str(entries[0][0]) if entries else EMPTY_STREAM

    async def events_after(
        self, namespace: str, offset: str, count: int
    ) -> list[tuple[str, str]] | None:
        """Up to ``count`` ``(offset, message)`` kept after ``offset``, oldest
        first; ``None`` when ``offset`` itself is no longer (or never was) in
        the buffer: what followed it may have fallen out.

        ``offset`` :data:`EMPTY_STREAM` (the stream did not exist): the stream
        from its first entry, if it has never lost one.
        """
        if offset == EMPTY_STREAM:
            return await self._whole_stream(namespace, count)
        if not STREAM_ID.fullmatch(offset):
            return None
        try:
            entries = await self.client.xrange(
                self._stream(namespace), min=offset, max="+", count=count + 1
            )
        except REDIS_ERRORS as exc:
            log.warning("recovery: the buffer is unreachable (%s)", type(exc).__name__)
            return None
        if not entries or entries[0][0] != offset:
            return None
        return [_entry(entry_id, fields) for entry_id, fields in entries[1:]]

    async def _whole_stream(
        self, namespace: str, count: int
    ) -> list[tuple[str, str]] | None:
        """The first ``count`` entries, if no entry was ever trimmed from the
        stream (it holds every entry ever added: ``entries-added``, Redis 7;
        older: ``None``)."""
        stream = self._stream(namespace)
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.exists(stream)
                pipe.xinfo_stream(stream)
                pipe.xrange(stream, min="-", max="+", count=count)
                exists, info, entries = await pipe.execute(raise_on_error=False)
        except REDIS_ERRORS as exc:
            log.warning("recovery: the buffer is unreachable (%s)", type(exc).__name__)
            return None
        if exists == 0:
            return []  # nothing kept since
        if not isinstance(info, dict) or isinstance(entries, BaseException):
            return None
        added, length = info.get("entries-added"), info.get("length")
        if not isinstance(added, int) or added != length:
            return None
        return [_entry(entry_id, fields) for entry_id, fields in entries]

    async def save(self, pid: str, session: dict[str, Any]) -> bool:
        """Keep a disconnected socket's session (JSON) for the duration."""
        try:
            await self.client.set(
                self._session(pid), json.dumps(session), px=self.ttl_ms
            )
        except (TypeError, ValueError):
            log.info("recovery: a session with data JSON cannot hold is not kept")
            return False
        except REDIS_ERRORS as exc:
            log.warning(
                "recovery: a session could not be kept (%s)", type(exc).__name__
            )
            return False
        return True

    async def peek(self, pid: str) -> dict[str, Any] | None:
        """The saved session of ``pid``, left in place."""
        return await self._read("get", pid)

    async def claim(self, pid: str) -> dict[str, Any] | None:
        """The saved session of ``pid``, taken: only one caller ever gets it."""
        return await self._read("getdel", pid)

    async def _read(self, command: str, pid: str) -> dict[str, Any] | None:
        try:
            raw = await getattr(self.client, command)(self._session(pid))
        except REDIS_ERRORS as exc:
            log.warning("recovery: sessions are unreachable (%s)", type(exc).__name__)
            return None
        if not isinstance(raw, str):
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


def _entry(entry_id: Any, fields: Any) -> tuple[str, str]:
    """``(offset, message)`` of a buffer entry, its offset put in its place."""
    fields = fields if isinstance(fields, dict) else {}
    message, placeholder = str(fields.get("m", "")), str(fields.get("p", ""))
    entry_id = str(entry_id)
    return entry_id, message.replace(placeholder, entry_id) if placeholder else message
