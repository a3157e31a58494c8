"""Limits shared through Redis, so N processes allow what one does: failed
logins, and the per-user budgets of ``/token/refresh`` and ``/logout``.

Each is a :class:`~..limiter.Limiter`, like the local ``FailureLimiter``. Each
key is a sorted set of attempt times (``<prefix><family>:<scope>:<digest>``)
that expires one window after its last attempt. While Redis is unreachable
each call falls back to this process's own limiter: the limit then holds per
process, as without Redis.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis.asyncio

from ..limiter import Limiter, key_digest
from .redis_client import KEY_PREFIX, REDIS_ERRORS

__all__ = ["SharedFailureLimiter", "SharedLoginLimits"]

log = logging.getLogger("tornado_socketio_jwt")
T = TypeVar("T")

# KEYS[1] the counter; ARGV now, window, limit, member. In one step, so that
# processes cannot both pass a check before either counts: "0" when counted,
# else the oldest attempt's time.
TAKE = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  return redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return '0'
"""


class SharedFailureLimiter:
    """``fallback``'s limit (``max_failures`` per ``window``), counted in Redis:
    a :class:`~..limiter.Limiter`.

    :param scope: names the counter, e.g. ``"user"`` or ``"address"``.
    :param family: the keys' group: ``"fail"`` (failed logins, the default)
                   or ``"count"`` (calls counted whatever their outcome).
    :param label: what the outage warning calls these limits.
    :param clock: epoch seconds (shared by all processes); injectable for tests.
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        scope: str,
        fallback: Limiter,
        prefix: str = KEY_PREFIX,
        clock: Callable[[], float] = time.time,
        *,
        family: str = "fail",
        label: str = "login limits",
    ) -> None:
        self.client, self.fallback, self.clock = client, fallback, clock
        self.max_failures, self.window = fallback.max_failures, fallback.window
        self.label = label
        self._prefix = f"{prefix}{family}:{scope}:"
        self._take_script = client.register_script(TAKE)
        self._degraded = False

    async def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again; 0 when it may try now."""
        return await self._shared(self._retry_after, self.fallback.retry_after, key)

    async def attempt(self, key: str) -> None:
        """Count one failure against ``key`` now (on every process)."""
        await self._shared(self._attempt, self.fallback.attempt, key)

    async def take(self, key: str) -> int:
        """Count one attempt against ``key`` unless it is at its limit (one
        step in Redis: no two processes both take the last place).

        :return: 0 when counted; else the seconds until ``key`` may try again.
        """
        return await self._shared(self._take, self.fallback.take, key, _taken)

    async def forgive(self, key: str) -> None:
        """Take back the most recent failure of ``key``."""
        await self._shared(self._forgive, self.fallback.forgive, key)

    async def reset(self, key: str) -> None:
        """Forget every failure of ``key``."""
        await self._shared(self._reset, self.fallback.reset, key)

    async def _retry_after(self, name: str) -> int:
        now = self.clock()
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(name, "-inf", now - self.window)
            pipe.zcard(name)
            pipe.zrange(name, 0, 0, withscores=True)
            _, count, oldest = await pipe.execute()
        if count < self.max_failures or not oldest:
            return 0
        return int(oldest[0][1] + self.window - now) + 1

    async def _attempt(self, name: str) -> None:
        now = self.clock()
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.zadd(name, {f"{now!r}:{uuid.uuid4().hex[:8]}": now})
            pipe.zremrangebyscore(name, "-inf", now - self.window)
            pipe.pexpire(name, math.ceil(self.window * 1000))
            await pipe.execute()

    async def _take(self, name: str) -> int:
        now = self.clock()
        member = f"{now!r}:{uuid.uuid4().hex[:8]}"
        args: list[str | float] = [now, self.window, self.max_failures, member]
        oldest = float(await self._take_script(keys=[name], args=args))
        return 0 if oldest == 0 else int(oldest + self.window - now) + 1

    async def _forgive(self, name: str) -> None:
        await self.client.zpopmax(name)

    async def _reset(self, name: str) -> None:
        await self.client.delete(name)

    async def _shared(
        self,
        shared: Callable[[str], Awaitable[T]],
        local: Callable[[str], Awaitable[T]],
        key: str,
        in_step: Callable[[Limiter, str, T], Awaitable[None]] | None = None,
    ) -> T:
        try:
            result = await shared(self._prefix + key_digest(key))
        except REDIS_ERRORS as exc:
            if not self._degraded:
                log.warning(
                    "%s are per process: Redis unreachable (%s)",
                    self.label,
                    type(exc).__name__,
                )
            self._degraded = True
            return await local(key)
        if self._degraded:
            log.info("%s are shared again", self.label)
        self._degraded = False
        # Kept in step, so a fallback starts from this process's recent counts.
        if in_step is None:
            await local(key)
        else:
            await in_step(self.fallback, key, result)
        return result


class SharedLoginLimits:
    """``by_user`` and ``by_address`` of a ``LoginLimits``, counted in Redis;
    the queue in front of the password hashes stays the process's own.

    :param local: the process's ``LoginLimits`` (``by_user``, ``by_address``,
                  ``hashing``); its counters serve while Redis is unreachable.
    """

    def __init__(
        self, client: redis.asyncio.Redis, local: Any, prefix: str = KEY_PREFIX
    ) -> None:
        self.by_user = SharedFailureLimiter(client, "user", local.by_user, prefix)
        self.by_address = SharedFailureLimiter(
            client, "address", local.by_address, prefix
        )
        self.hashing = local.hashing  # hashing is per process: its cores


async def _taken(local: Limiter, key: str, wait: int) -> None:
    if not wait:  # counted in Redis: count it here too (refusals are not)
        await local.attempt(key)
