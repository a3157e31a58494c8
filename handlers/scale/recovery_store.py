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
  One bigger than ``max_saved_session_bytes`` (estimated before it is
  serialised, then its JSON) is not written, nor one whose data JSON would
  change (tuples, keys that are not strings): it comes back as it was or not.
- **Each user's saved sessions are indexed** in a sorted set
  (``<prefix>recovery:user:<hash of sub>``, the pids in order of saving, expiring
  with the newest). The session and its index entry are written, and the
  user's oldest past ``max_saved_sessions_per_user`` deleted, in one Lua
  script: two processes saving at once cannot pass the cap, and one user's
  disconnections never push out another's. A claimed or expired session
  leaves its entry behind until the user's next save drops it (before the
  count), so it never takes the place of a live one.

What falls out (trimmed, expired, Redis unreachable) is not recoverable: the
client gets a fresh session.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import redis.asyncio

from ..limiter import key_digest
from ..metrics import EVICTED_PER_USER, NOT_SAVED_TOO_LARGE
from .redis_client import KEY_PREFIX, REDIS_ERRORS

__all__ = ["RedisRecoveryStore", "STREAM_ID", "EMPTY_STREAM", "exact_json"]

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

# KEYS: the session, the user's index. ARGV: the session (JSON), its pid, the
# TTL in ms, the per-user cap, the prefix of session keys. Returns how many of
# the user's older sessions it deleted. The index holds at most the cap, so
# the walk that drops entries whose session is gone (claimed or expired) is
# bounded by it. Scores count up per index: ties would let ZPOPMIN pick the
# new pid over an older one. The session keys it checks and deletes are named
# from ARGV, not KEYS: fine on one Redis (as the pub/sub manager needs), not
# on a Redis Cluster.
SAVE_SCRIPT = """
local session, index = KEYS[1], KEYS[2]
local pid, ttl, cap, prefix = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
for _, member in ipairs(redis.call('ZRANGE', index, 0, -1)) do
  if member ~= pid and redis.call('EXISTS', prefix .. member) == 0 then
    redis.call('ZREM', index, member)
  end
end
local top = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
local score = 1
if top[2] then score = tonumber(top[2]) + 1 end
redis.call('SET', session, ARGV[1], 'PX', ttl)
redis.call('ZADD', index, score, pid)
local evicted = 0
local excess = redis.call('ZCARD', index) - cap
if excess > 0 then
  local oldest = redis.call('ZPOPMIN', index, excess)
  for i = 1, #oldest, 2 do
    redis.call('DEL', prefix .. oldest[i])
    evicted = evicted + 1
  end
end
redis.call('PEXPIRE', index, ttl)
return evicted
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
        max_sessions_per_user: int,
        max_session_bytes: int,
        prefix: str = KEY_PREFIX,
    ) -> None:
        self.client = client
        self.buffer_packets = buffer_packets
        self.ttl_ms = max(1, int(max_disconnection_duration * 1000))
        self.max_sessions_per_user = max_sessions_per_user
        self.max_session_bytes = max_session_bytes
        self.prefix = prefix
        self._publish = client.register_script(PUBLISH_SCRIPT)
        self._save = client.register_script(SAVE_SCRIPT)

    def _stream(self, namespace: str) -> str:
        return f"{self.prefix}recovery:stream:{namespace}"

    def _session(self, pid: str) -> str:
        return f"{self.prefix}recovery:session:{pid}"

    def _user(self, sub: str) -> str:
        return f"{self.prefix}recovery:user:{key_digest(sub)}"

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

    async def save(
        self, pid: str, session: dict[str, Any], *, estimated_size: int
    ) -> list[str]:
        """Keep a disconnected socket's session (JSON, with its ``sub``) for
        the duration; return the outcome of each session this dropped
        (itself when too large; its user's oldest past the per-user cap).

        :param estimated_size: the size of its rooms and data as the caller
            measured them (``estimate_size``, walked no further than
            ``max_session_bytes``): past the bound, the session is refused
            before it is serialised. Its JSON text is held to the bound too.

        Not kept either, with a log line, when its data is not JSON or would
        not come back from JSON as it is (see :func:`exact_json`), or Redis
        failed.
        """
        if estimated_size > self.max_session_bytes:
            return self._too_large(session)
        text = exact_json(session)
        if text is None:
            log.info(
                "recovery: a session with data JSON cannot hold is not kept sid=%s",
                session.get("sid"),
                extra={"tsj_event": "recovery_not_saved"},
            )
            return []
        if len(text.encode()) > self.max_session_bytes:
            return self._too_large(session)
        prefix = self._session("")
        try:
            evicted = await self._save(
                keys=[self._session(pid), self._user(str(session.get("sub")))],
                args=[text, pid, self.ttl_ms, self.max_sessions_per_user, prefix],
            )
        except REDIS_ERRORS as exc:
            log.warning(
                "recovery: a session could not be kept (%s)", type(exc).__name__
            )
            return []
        return [EVICTED_PER_USER] * int(evicted)

    def _too_large(self, session: dict[str, Any]) -> list[str]:
        log.info(
            "recovery: a session over %d bytes is not saved sid=%s",
            self.max_session_bytes,
            session.get("sid"),
            extra={"tsj_event": "recovery_not_saved"},
        )
        return [NOT_SAVED_TOO_LARGE]

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


def exact_json(value: Any) -> str | None:
    """``value`` as JSON text, if reading the text back gives ``value``;
    ``None`` if JSON cannot hold it, or would hand back something else: a
    tuple read back as a list, keys that are not strings read back as strings
    (``{1: "a", "1": "b"}`` as one key), NaN. A recovered socket gets the
    data it had, or none (a fresh session)."""
    try:
        text = json.dumps(value)
        return text if json.loads(text) == value else None
    except (TypeError, ValueError, RecursionError):  # RecursionError: deep nesting
        return None


def _entry(entry_id: Any, fields: Any) -> tuple[str, str]:
    """``(offset, message)`` of a buffer entry, its offset put in its place."""
    fields = fields if isinstance(fields, dict) else {}
    message, placeholder = str(fields.get("m", "")), str(fields.get("p", ""))
    entry_id = str(entry_id)
    return entry_id, message.replace(placeholder, entry_id) if placeholder else message
