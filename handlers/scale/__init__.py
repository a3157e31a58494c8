"""Several server processes sharing one Redis: the scale-out layer.

Chosen by :func:`~tornado_socketio_jwt.attach_jwt_auth` when the server's
client manager is a ``socketio.AsyncRedisManager``; without one nothing here
is used. python-socketio's manager carries emits (rooms, ``user:<sub>``) and
remote disconnects; this package adds what the library itself keeps:

- :class:`RedisRevocations`: the denylist and per-user cut-offs in Redis (with
  expiry), published on a channel; each process keeps its local
  :class:`~tornado_socketio_jwt.RevocationList` current from it, so a
  handshake never waits for Redis (``Authenticator(shared=...)``).
- :class:`SharedLoginLimits`: failed-login counters in Redis, and
  :meth:`SharedState.call_limits` the ``/token/refresh`` and ``/logout``
  budgets (:class:`SharedFailureLimiter` both).
- :class:`RedisRecoveryStore`: connection state recovery's replay buffer (a
  Stream per namespace) and saved sessions, so that a client may come back
  to any process.

It knows neither python-socketio nor the HTTP handlers; ``app`` wires it in.
"""

from .limits import SharedFailureLimiter, SharedLoginLimits
from .recovery_store import RedisRecoveryStore
from .redis_client import (
    RedisUnavailableError,
    RevocationsUnavailableError,
    open_redis,
)
from .revocations import RedisRevocations
from .shared import SharedState, shared_state

__all__ = [
    "shared_state",
    "SharedState",
    "RedisRevocations",
    "RedisRecoveryStore",
    "SharedLoginLimits",
    "SharedFailureLimiter",
    "RedisUnavailableError",
    "RevocationsUnavailableError",
    "open_redis",
]
