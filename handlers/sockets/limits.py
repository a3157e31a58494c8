"""How much one client may hold: connections per user and per address, idle sessions.

python-socketio limits none of these: one token could hold thousands of
sockets, and an Engine.IO session that never sends CONNECT stays open as long
as it answers pings. :class:`SessionTracker` wraps Engine.IO's ``connect`` and
``disconnect`` handlers (``eio.on``) to count sessions by address and to close
those that connect no namespace within ``connect_timeout``; the flows ask
:meth:`SessionTracker.check` before admitting a socket.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ..authenticator import Authenticator
from ..config import SocketLimits
from ..credentials import remote_address
from ..deadlines import DeadlineScheduler
from ..errors import TooManyConnectionsError
from .transport import close_session

__all__ = ["SocketLimits", "SessionTracker"]

log = logging.getLogger("tornado_socketio_jwt")

Handler = Callable[..., Awaitable[Any]]
# Marks, in its own environ, a session opened past the per-address limit.
OVER_LIMIT = "tsj.over_address_limit"


class SessionTracker:
    """Engine.IO sessions of one server: by address, and the CONNECT deadline."""

    def __init__(
        self,
        authenticator: Authenticator,
        limits: SocketLimits,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sio = authenticator.sio
        self.authenticator = authenticator
        self.limits = limits
        self.clock = clock
        self._address: dict[str, str] = {}
        self._by_address: Counter[str] = Counter()
        self._deadlines: DeadlineScheduler[str] = DeadlineScheduler(
            self._timed_out, clock
        )
        self._tasks: set[asyncio.Task[None]] = set()
        handlers = self.sio.eio.handlers
        self._on_connect: Handler = handlers["connect"]  # python-socketio's
        self._on_disconnect: Handler = handlers["disconnect"]

    def install(self) -> None:
        """Count sessions from now on (Engine.IO's ``connect``/``disconnect``)."""
        self.sio.eio.on("connect", self.session_opened)
        self.sio.eio.on("disconnect", self.session_closed)

    async def session_opened(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        address = remote_address(environ) or ""
        per_address = self.limits.max_connections_per_address
        if per_address is not None and self._by_address[address] >= per_address:
            environ[OVER_LIMIT] = True
        self._address[eio_sid] = address
        self._by_address[address] += 1
        self._deadlines.schedule(eio_sid, self.clock() + self.limits.connect_timeout)
        return await self._on_connect(eio_sid, environ)

    async def session_closed(self, eio_sid: str, *args: Any) -> Any:
        self._deadlines.cancel(eio_sid)
        address = self._address.pop(eio_sid, None)
        if address is not None:
            self._by_address[address] -= 1
            if self._by_address[address] <= 0:
                del self._by_address[address]
        return await self._on_disconnect(eio_sid, *args)

    def check(self, environ: Mapping[str, Any], claims: Mapping[str, Any]) -> None:
        """:raises TooManyConnectionsError: admitting one more socket would pass
        a per-user or per-address limit."""
        if environ.get(OVER_LIMIT):
            raise TooManyConnectionsError()
        per_user = self.limits.max_connections_per_user
        held = len(self.authenticator.live.by_sub(str(claims.get("sub"))))
        if per_user is not None and held >= per_user:
            raise TooManyConnectionsError()

    def _timed_out(self, sessions: list[str]) -> None:
        task = asyncio.ensure_future(self._close_idle(sessions))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close_idle(self, sessions: list[str]) -> None:
        manager = self.sio.manager
        for eio_sid in sessions:
            if not any(
                manager.sid_from_eio_sid(eio_sid, namespace) is not None
                for namespace in list(manager.get_namespaces())
            ):
                log.debug("session closed: no namespace connected in time")
                await close_session(self.sio, eio_sid)
