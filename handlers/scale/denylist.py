"""The denylist's layout in Redis, and the messages that announce changes.

- ``<prefix>revoked:jti:<jti>`` = ``until``, expiring at ``until``;
- ``<prefix>revoked:sub:<sub>`` = ``"<before> <until>"``, expiring at ``until``
  (merged by a script: the later cut-off and the later expiry win);
- channel ``<prefix>revocations``: one JSON message per change.

``until`` is epoch seconds; ``None`` (on the wire) for a token without ``exp``,
whose revocation never expires.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import redis.asyncio

from ..revocation import RevocationList

__all__ = ["Denylist"]

# KEYS[1] the cut-off; ARGV before, until (0: never expires).
MERGE_CUTOFF = """
local before, untl = tonumber(ARGV[1]), tonumber(ARGV[2])
local old = redis.call('GET', KEYS[1])
if old then
  local b, u = string.match(old, '^(%S+) (%S+)$')
  before = math.max(before, tonumber(b))
  if untl == 0 or tonumber(u) == 0 then untl = 0
  else untl = math.max(untl, tonumber(u)) end
end
redis.call('SET', KEYS[1], string.format('%.6f %.3f', before, untl))
if untl ~= 0 then redis.call('PEXPIREAT', KEYS[1], math.ceil(untl * 1000)) end
return 1
"""


class Denylist:
    """Reads and writes the shared denylist under ``prefix``."""

    def __init__(self, client: redis.asyncio.Redis, prefix: str) -> None:
        self.client = client
        self.channel = f"{prefix}revocations"
        self._jti_prefix = f"{prefix}revoked:jti:"
        self._sub_prefix = f"{prefix}revoked:sub:"
        self._merge = client.register_script(MERGE_CUTOFF)

    async def add_jti(self, jti: str, until: float) -> None:
        """Store a revoked token id until ``until`` and announce it."""
        key = self._jti_prefix + jti
        if math.isfinite(until):
            await self.client.set(key, repr(until), pxat=math.ceil(until * 1000))
        else:
            await self.client.set(key, "inf")
        await self._announce({"jti": jti, "until": _wire(until)})

    async def add_cutoff(self, sub: str, before: float, until: float) -> None:
        """Store a per-user cut-off (merged with any older one) and announce it."""
        expiry = until if math.isfinite(until) else 0
        await self._merge(keys=[self._sub_prefix + sub], args=[before, expiry])
        await self._announce({"sub": sub, "before": before, "until": _wire(until)})

    async def load_into(self, revocations: RevocationList) -> int:
        """Add every stored entry to ``revocations``; returns how many."""
        count = 0
        async for key in self.client.scan_iter(match=self._jti_prefix + "*"):
            value = await self.client.get(key)
            if value is not None:
                revocations.revoke(key[len(self._jti_prefix) :], float(value))
                count += 1
        async for key in self.client.scan_iter(match=self._sub_prefix + "*"):
            value = await self.client.get(key)
            if value is not None:
                before, until = (float(part) for part in value.split())
                sub = key[len(self._sub_prefix) :]
                revocations.revoke_all(sub, before, until or math.inf)
                count += 1
        return count

    async def _announce(self, message: dict[str, Any]) -> None:
        await self.client.publish(self.channel, json.dumps(message))


def apply_message(revocations: RevocationList, data: str) -> tuple[str, str] | None:
    """Apply one channel message; returns ``("jti", jti)`` or ``("sub", sub)``,
    or ``None`` for a message this version does not understand."""
    try:
        message = json.loads(data)
    except ValueError:
        return None
    if not isinstance(message, Mapping):
        return None
    until = message.get("until")
    until = math.inf if until is None else float(until)
    if isinstance(message.get("jti"), str):
        revocations.revoke(message["jti"], until)
        return ("jti", message["jti"])
    if isinstance(message.get("sub"), str):
        revocations.revoke_all(message["sub"], float(message["before"]), until)
        return ("sub", message["sub"])
    return None


def _wire(until: float) -> float | None:
    return until if math.isfinite(until) else None
