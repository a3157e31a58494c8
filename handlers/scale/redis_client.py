"""The Redis connection and the errors its absence turns into."""

from __future__ import annotations

from typing import Any

import redis.asyncio
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from ..errors import AuthError, UnauthorizedError

__all__ = [
    "open_redis",
    "REDIS_ERRORS",
    "KEY_PREFIX",
    "RedisUnavailableError",
    "RevocationsUnavailableError",
]

KEY_PREFIX = "tsj:"
# A client's own retries would hide an outage from the subscriber (which must
# resynchronise after one) and delay the 503 of a logout: fail fast instead.
REDIS_ERRORS: tuple[type[BaseException], ...] = (redis.exceptions.RedisError, OSError)
CONNECT_TIMEOUT = 1.0
COMMAND_TIMEOUT = 2.0


def open_redis(url: str, *, retries: int = 1, **options: Any) -> redis.asyncio.Redis:
    """A ``redis.asyncio`` client for ``url``; connects on first use (no I/O here).

    :param retries: reconnect attempts per command (``0`` for a subscriber).
    :param options: more keyword arguments for ``Redis.from_url``.
    """
    settings: dict[str, Any] = {
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "socket_timeout": COMMAND_TIMEOUT,
        "retry": Retry(NoBackoff(), retries),
        "decode_responses": True,
        **options,
    }
    return redis.asyncio.Redis.from_url(url, **settings)


class RedisUnavailableError(AuthError):
    """HTTP 503 with ``Retry-After``: a write that every process must see could
    not reach Redis (e.g. ``/logout``). It took effect on this process only."""

    code = "service_unavailable"
    message = "Shared state is unreachable; this process applied it, retry later."
    status = 503
    retry_after = 1


class RevocationsUnavailableError(UnauthorizedError):
    """A process that has never loaded the shared denylist admits no token."""

    code = "service_unavailable"
    message = "The revocation list is not available yet; try again shortly."
    status = 503
