"""``shared_state``: the Redis-backed parts of one server, from a Redis URL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import redis.asyncio

from ..config import StateRecovery
from ..limiter import Limiter
from .limits import SharedFailureLimiter, SharedLoginLimits
from .recovery_store import RedisRecoveryStore
from .redis_client import KEY_PREFIX, open_redis
from .revocations import RedisRevocations

__all__ = ["SharedState", "shared_state"]

SCHEMES = ("redis", "rediss", "unix")


@dataclass(frozen=True)
class SharedState:
    """What several processes share: the denylist store and the Redis client."""

    client: redis.asyncio.Redis
    revocations: RedisRevocations
    prefix: str

    def login_limits(self, local: Any) -> SharedLoginLimits:
        """Login limits counted in Redis, falling back to ``local``."""
        return SharedLoginLimits(self.client, local, self.prefix)

    def recovery_store(self, bounds: StateRecovery) -> RedisRecoveryStore:
        """Connection state recovery's buffer and saved sessions in Redis,
        within ``bounds``."""
        return RedisRecoveryStore(
            self.client,
            buffer_packets=bounds.buffer_packets,
            max_disconnection_duration=bounds.max_disconnection_duration,
            max_sessions_per_user=bounds.max_saved_sessions_per_user,
            max_session_bytes=bounds.max_saved_session_bytes,
            prefix=self.prefix,
        )

    def call_limits(self, scope: str, local: Limiter) -> SharedFailureLimiter:
        """``local``'s limit on calls (``scope`` e.g. ``"refresh"``), counted
        in Redis under ``<prefix>count:<scope>:``, falling back to ``local``."""
        return SharedFailureLimiter(
            self.client,
            scope,
            local,
            self.prefix,
            family="count",
            label=f"{scope} limits",
        )


def shared_state(
    url: str, options: Mapping[str, Any] | None = None, prefix: str = KEY_PREFIX
) -> SharedState:
    """Clients for ``url`` (no connection yet) and the stores built on them.

    :param options: extra ``Redis.from_url`` keyword arguments, e.g. the
                    ``redis_options`` given to ``AsyncRedisManager``.
    :raises ValueError: a URL scheme other than ``redis``, ``rediss``, ``unix``.
    """
    scheme = urlparse(url).scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(
            f"shared revocations need a {', '.join(SCHEMES)} URL, not {scheme}://"
        )
    extra = dict(options or {})
    client = open_redis(url, **extra)
    subscriber = open_redis(url, retries=0, **extra)
    return SharedState(client, RedisRevocations(client, subscriber, prefix), prefix)
