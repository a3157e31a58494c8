"""``RedisRevocations``: a revocation store shared by every process, kept in sync.

Each process checks its own in-memory :class:`~..revocation.RevocationList`;
this store writes every revocation to Redis (with expiry) and publishes it, and
a subscription applies the others' revocations to the local list and cuts the
local sockets they revoke. After any gap in the subscription (start-up, Redis
restarted) the whole denylist is read again, so nothing published meanwhile is
missed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import redis.asyncio

from ..authenticator import Authenticator
from ..errors import TokenRevokedError
from .denylist import Denylist, apply_message
from .redis_client import (
    KEY_PREFIX,
    REDIS_ERRORS,
    RedisUnavailableError,
    RevocationsUnavailableError,
)

__all__ = ["RedisRevocations"]

log = logging.getLogger("tornado_socketio_jwt")

SYNC_TIMEOUT = 5.0
RETRY_DELAYS = (0.1, 0.25, 0.5, 1.0)  # then every second while Redis is away


class RedisRevocations:
    """:class:`~..authenticator.SharedRevocations` in Redis: every revocation
    written there, and the subscription that keeps every process's local
    denylist current (``Authenticator(shared=...)``).

    :param client: a ``redis.asyncio`` client for commands.
    :param subscriber: one for the subscription, without retries of its own.
    :param prefix: prefix of every key and of the channel; default ``"tsj:"``.
    :param sync_timeout: how long a first handshake waits for the denylist.
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        subscriber: redis.asyncio.Redis,
        prefix: str = KEY_PREFIX,
        sync_timeout: float = SYNC_TIMEOUT,
    ) -> None:
        self.denylist = Denylist(client, prefix)
        self.client, self.subscriber = client, subscriber
        self.sync_timeout = sync_timeout
        self.synced = asyncio.Event()  # set while the subscription is current
        self.loaded = False  # the denylist was read at least once
        self._task: asyncio.Task[None] | None = None
        self._pending: list[tuple[Any, ...]] = []

    async def add_jti(self, jti: str, expires_at: float) -> None:
        await self._write(("jti", jti, expires_at))

    async def add_cutoff(
        self, sub: str, not_after_iat: float, expires_at: float
    ) -> None:
        await self._write(("sub", sub, not_after_iat, expires_at))

    async def ready(self, authenticator: Authenticator) -> None:
        """Start the subscription if needed; wait (bounded) for the first load.

        :raises RevocationsUnavailableError: never loaded within ``sync_timeout``.
        """
        if self.loaded:
            return
        self._start(authenticator)
        try:
            await asyncio.wait_for(self.synced.wait(), self.sync_timeout)
        except TimeoutError:
            raise RevocationsUnavailableError() from None

    async def aclose(self) -> None:
        """Stop the subscription and close both clients."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.subscriber.aclose()
        await self.client.aclose()

    async def _write(self, entry: tuple[Any, ...]) -> None:
        try:
            await self._store(entry)
        except REDIS_ERRORS as exc:
            # Applied locally already; written and published once Redis is back.
            self._pending.append(entry)
            log.warning(
                "revocation not shared: Redis unreachable (%s)", type(exc).__name__
            )
            raise RedisUnavailableError() from exc

    async def _store(self, entry: tuple[Any, ...]) -> None:
        if entry[0] == "jti":
            await self.denylist.add_jti(entry[1], entry[2])
        else:
            await self.denylist.add_cutoff(entry[1], entry[2], entry[3])

    def _start(self, authenticator: Authenticator) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._follow(authenticator))

    async def _follow(self, authenticator: Authenticator) -> None:
        attempt = 0
        while True:
            try:
                await self._subscribe_and_listen(authenticator)
            except REDIS_ERRORS as exc:
                if self.synced.is_set() or attempt == 0:
                    attempt = 0
                    log.warning(
                        "Redis subscription lost (%s); handshakes use the local "
                        "denylist until it is back",
                        type(exc).__name__,
                    )
            except Exception:  # a bug must not end the subscription for good
                log.exception("revocation subscription failed; restarting it")
            self.synced.clear()
            await asyncio.sleep(RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)])
            attempt += 1

    async def _subscribe_and_listen(self, authenticator: Authenticator) -> None:
        pubsub = self.subscriber.pubsub(ignore_subscribe_messages=True)
        try:
            # Subscribed before reading, so nothing falls between the two.
            await pubsub.subscribe(self.denylist.channel)
            await self._catch_up(authenticator)
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    await self._received(authenticator, message["data"])
        finally:
            await pubsub.aclose()

    async def _catch_up(self, authenticator: Authenticator) -> None:
        while self._pending:
            await self._store(self._pending[0])
            self._pending.pop(0)
        count = await self.denylist.load_into(authenticator.revocations)
        await authenticator.kick_matching(list(authenticator.live), TokenRevokedError())
        self.loaded = True
        self.synced.set()
        log.info("Redis denylist loaded: %d entries", count)

    async def _received(self, authenticator: Authenticator, data: Any) -> None:
        try:
            changed = apply_message(authenticator.revocations, str(data))
        except (KeyError, TypeError, ValueError):
            changed = None
        if changed is None:
            log.warning("ignored a malformed revocation message")
            return
        kind, name = changed
        live = authenticator.live
        sockets = live.by_jti(name) if kind == "jti" else live.by_sub(name)
        await authenticator.kick_matching(sockets, TokenRevokedError())
