"""How much one client may hold: connections per user and per address, idle sessions.

python-socketio limits none of these: one token could hold thousands of
sockets, and an Engine.IO session that never sends CONNECT stays open as long
as it answers pings. :class:`SessionTracker` listens to every Engine.IO
session (through the engine room, :mod:`.engine`, whatever handlers Engine.IO
runs): it counts them by address, whether or not they CONNECT, refuses the
Engine.IO session itself past ``max_connections_per_address`` (HTTP 401, a
WebSocket before its upgrade), and closes those that connect no
namespace within ``connect_timeout``; the flows ask
:meth:`SessionTracker.check` before admitting a socket (per user).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from ..authenticator import Authenticator
from ..config import SocketLimits
from ..credentials import remote_address
from ..deadlines import DeadlineScheduler
from ..errors import TooManyConnectionsError, refusal_data
from .engine import engine_for

__all__ = ["SocketLimits", "SessionTracker"]

log = logging.getLogger("tornado_socketio_jwt")


class SessionTracker:
    """Engine.IO sessions of one server: by address, and the CONNECT deadline."""

    def __init__(
        self,
        authenticator: Authenticator,
        limits: SocketLimits,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine_for(authenticator.sio)
        self.authenticator = authenticator
        self.limits = limits
        self.clock = clock
        self._address: dict[str, str] = {}
        self._by_address: Counter[str] = Counter()
        self._deadlines: DeadlineScheduler[str] = DeadlineScheduler(
            self._timed_out, clock
        )

    def install(self) -> None:
        """Count sessions from now on."""
        self.engine.listeners.append(self)

    def session_refusal(self, environ: Mapping[str, Any]) -> dict[str, str] | None:
        """The refusal of one more session from ``environ``'s address, if past
        the per-address limit."""
        address = remote_address(environ) or ""
        per_address = self.limits.max_connections_per_address
        if per_address is None or self._by_address[address] < per_address:
            return None
        return refusal_data(TooManyConnectionsError())

    def session_opened(
        self, eio_sid: str, environ: Mapping[str, Any]
    ) -> dict[str, str] | None:
        """Count the session; past the per-address limit, refuse it."""
        refusal = self.session_refusal(environ)
        if refusal is not None:
            log.debug("engine.io session refused: too many from one address")
            return refusal
        address = remote_address(environ) or ""
        self._address[eio_sid] = address
        self._by_address[address] += 1
        self._deadlines.schedule(eio_sid, self.clock() + self.limits.connect_timeout)
        return None

    def session_closed(self, eio_sid: str) -> None:
        self._deadlines.cancel(eio_sid)
        address = self._address.pop(eio_sid, None)
        if address is not None:
            self._by_address[address] -= 1
            if self._by_address[address] <= 0:
                del self._by_address[address]

    def namespace_left(self, sid: str, namespace: str) -> None:
        """A socket left ``namespace`` or was refused it: unless a deadline is
        already pending, its session has ``connect_timeout`` from now to be
        connected somewhere, or it is closed (a session kicked, refused or
        disconnected from its last namespace would otherwise stay open for as
        long as it answers pings). A pending deadline is never moved later, so
        refused CONNECTs in a row do not keep a session open."""
        eio_sid = self.engine.eio_sid_of(sid, namespace)
        if (
            eio_sid is not None
            and eio_sid in self._address
            and self._deadlines.deadline(eio_sid) is None
        ):
            deadline = self.clock() + self.limits.connect_timeout
            self._deadlines.schedule(eio_sid, deadline)

    def held(self, address: str | None = None) -> int:
        """Sessions counted for ``address`` (or in all)."""
        return len(self._address) if address is None else self._by_address[address]

    def check(
        self,
        environ: Mapping[str, Any],
        claims: Mapping[str, Any],
        replacing: tuple[str, str] | None = None,
    ) -> None:
        """:raises TooManyConnectionsError: admitting one more socket would pass
        the per-user limit.

        :param replacing: ``(sid, namespace)`` of a live socket this one takes
                          over (a recovery): it is not counted.
        """
        per_user = self.limits.max_connections_per_user
        sockets = self.authenticator.live.by_sub(str(claims.get("sub")))
        held = len(sockets) - (replacing in sockets)
        if per_user is not None and held >= per_user:
            raise TooManyConnectionsError()

    def _timed_out(self, sessions: list[str]) -> None:
        for eio_sid in sessions:
            if not self.engine.connected_anywhere(eio_sid):
                self.engine.close_soon(eio_sid, "no namespace connected in time")
