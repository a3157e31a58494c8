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
from dataclasses import dataclass
from typing import Any

from ..authenticator import Authenticator
from ..credentials import remote_address
from ..deadlines import DeadlineScheduler
from ..errors import TooManyConnectionsError, refusal_data
from .buffered import DEFAULT_MAX_BUFFERED_BYTES
from .engine import engine_for

__all__ = ["SocketLimits", "SessionTracker"]

log = logging.getLogger("tornado_socketio_jwt")


@dataclass(frozen=True)
class SocketLimits:
    """Per-client limits on the Socket.IO side; ``None`` means no limit.

    :param max_connections_per_user: sockets (per namespace) one ``sub`` may
                                     hold; more: ``too_many_connections``.
    :param max_connections_per_address: Engine.IO sessions one address may
                                        hold, connected to a namespace or
                                        not; one more is refused at the
                                        Engine.IO handshake: HTTP 401 with
                                        ``too_many_connections`` (a WebSocket
                                        before its upgrade).
    :param connect_timeout: seconds an Engine.IO session has to connect a
                            namespace before it is closed.
    :param max_attachments: binary attachments one packet may announce.
    :param max_buffered_bytes: bytes of binary packets still waiting for
                               their attachments (header and attachments
                               received) that one address, and one
                               authenticated user, may have the server
                               buffer across all their sessions; past it the
                               session that adds more is closed. Default
                               16 MiB: above one full packet (10 attachments
                               of python-engineio's 1 MB message limit).
                               ``None``: no limit.

    .. warning::
       Behind a proxy every client shares the proxy's address: raise
       ``max_connections_per_address`` or serve with ``xheaders=True``.
    """

    max_connections_per_user: int | None = 50
    max_connections_per_address: int | None = 200
    connect_timeout: float = 10.0
    max_attachments: int = 10
    max_buffered_bytes: int | None = DEFAULT_MAX_BUFFERED_BYTES

    def __post_init__(self) -> None:
        for name in (
            "max_connections_per_user",
            "max_connections_per_address",
            "max_buffered_bytes",
        ):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a whole number >= 1, or None")
        if not isinstance(self.max_attachments, int) or self.max_attachments < 0:
            raise ValueError("max_attachments must be a whole number >= 0")
        if not self.connect_timeout > 0:
            raise ValueError("connect_timeout must be positive")


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

    def held(self, address: str | None = None) -> int:
        """Sessions counted for ``address`` (or in all)."""
        return len(self._address) if address is None else self._by_address[address]

    def check(self, environ: Mapping[str, Any], claims: Mapping[str, Any]) -> None:
        """:raises TooManyConnectionsError: admitting one more socket would pass
        the per-user limit."""
        per_user = self.limits.max_connections_per_user
        held = len(self.authenticator.live.by_sub(str(claims.get("sub"))))
        if per_user is not None and held >= per_user:
            raise TooManyConnectionsError()

    def _timed_out(self, sessions: list[str]) -> None:
        for eio_sid in sessions:
            if not self.engine.connected_anywhere(eio_sid):
                self.engine.close_soon(eio_sid, "no namespace connected in time")
