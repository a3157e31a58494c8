"""The small groups nested in ``AuthSettings``: per-client limits, transport,
and how one namespace authenticates its sockets."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from .errors import SettingError

__all__ = [
    "SocketLimits",
    "Transport",
    "NamespacePolicy",
    "PolicyTable",
    "NAMESPACE_FLOWS",
    "StateRecovery",
    "DEFAULT_MAX_BUFFERED_BYTES",
]

# How a namespace admits sockets: the two flows, or not at all ("public").
NAMESPACE_FLOWS = ("handshake", "event", "public")

# Above one full packet: 10 attachments of python-engineio's 1 MB message limit.
DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class SocketLimits:
    """Per-client limits on the Socket.IO side; ``None`` means no limit.

    :param max_connections_per_user: sockets (per namespace) one ``sub`` may
                                     hold; more: ``too_many_connections``.
                                     Default 50.
    :param max_connections_per_address: Engine.IO sessions one address may
                                        hold, connected to a namespace or
                                        not; one more is refused at the
                                        Engine.IO handshake: HTTP 401 with
                                        ``too_many_connections`` (a WebSocket
                                        before its upgrade). Default 200.
    :param connect_timeout: seconds an Engine.IO session has to connect a
                            namespace before it is closed. Default 10.
    :param max_attachments: binary attachments one packet may announce.
                            Default 10.
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
                raise SettingError(name, "must be a whole number >= 1, or None")
        if not isinstance(self.max_attachments, int) or self.max_attachments < 0:
            raise SettingError("max_attachments", "must be a whole number >= 0")
        if not self.connect_timeout > 0:
            raise SettingError("connect_timeout", "must be positive")


@dataclass(frozen=True)
class Transport:
    """Engine.IO's heartbeat and WebSocket compression.

    :param ping_interval: seconds between the server's pings. Default
                          ``None``: the server's own (python-engineio's
                          25 s unless ``socketio.AsyncServer`` was given one).
    :param ping_timeout: seconds a client has to answer a ping before its
                         session is closed. Default ``None``: the server's own
                         (python-engineio's 20 s).
    :param websocket_compression: offer permessage-deflate on the Socket.IO
                                  route. Default off.

    :func:`attach_jwt_auth` sets a heartbeat value that is not ``None`` on
    the server's Engine.IO server, over what ``socketio.AsyncServer`` was
    created with; sessions opened from then on use it.

    .. warning::
       ``websocket_compression=True`` costs about 150 KiB per connection, and
       a 1 KB frame can inflate to 1 MB.
    """

    ping_interval: float | None = None
    ping_timeout: float | None = None
    websocket_compression: bool = False

    def __post_init__(self) -> None:
        for name in ("ping_interval", "ping_timeout"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise SettingError(name, "must be positive, or None")
        if not isinstance(self.websocket_compression, bool):
            raise TypeError("websocket_compression must be True or False")


@dataclass(frozen=True)
class NamespacePolicy:
    """How one namespace admits sockets (``AuthSettings.namespace_policies``).

    :param flow: ``"handshake"`` (the token in the connect request),
                 ``"event"`` (socketio-jwt's ``authenticate`` event) or
                 ``"public"`` (no JWT authentication: the namespace's own
                 ``connect`` handler decides; logged as a warning at start-up).
    :param auth_timeout: seconds to send ``authenticate`` in an ``"event"``
                         namespace; ``None`` (default): the settings'
                         ``auth_timeout``. Only for ``"event"``.
    """

    flow: str
    auth_timeout: float | None = None

    def __post_init__(self) -> None:
        if self.flow not in NAMESPACE_FLOWS:
            raise SettingError(
                "namespace_policies",
                f"flow must be one of {', '.join(NAMESPACE_FLOWS)}",
            )
        if self.auth_timeout is not None:
            if self.flow != "event":
                raise SettingError(
                    "namespace_policies", "auth_timeout is only for the event flow"
                )
            if not self.auth_timeout > 0:
                raise SettingError(
                    "namespace_policies", "auth_timeout must be positive"
                )


class PolicyTable(Mapping[str, NamespacePolicy]):
    """``AuthSettings.namespace_policies`` once checked: read-only, and hashable
    and picklable like every other settings value."""

    def __init__(self, policies: Mapping[str, NamespacePolicy]) -> None:
        self._policies = dict(policies)

    def __getitem__(self, namespace: str) -> NamespacePolicy:
        return self._policies[namespace]

    def __iter__(self) -> Iterator[str]:
        return iter(self._policies)

    def __len__(self) -> int:
        return len(self._policies)

    def __hash__(self) -> int:
        return hash(frozenset(self._policies.items()))

    def __repr__(self) -> str:
        return f"PolicyTable({self._policies!r})"


@dataclass(frozen=True)
class StateRecovery:
    """Connection state recovery (the socket.io 4.6+ protocol) and its bounds.

    A client that lost its transport gets its socket back (same sid, rooms,
    session data) and the events it missed, in order, once the token it
    presents is verified again (handshake flow only). What falls out of a
    bound is simply not recoverable: the client gets a fresh session.

    :param enabled: off by default for embedders: while on, every event sent
                    without an ack carries its offset as one more argument,
                    which clients other than socket.io-client 4.6+ see. The
                    command line turns it on.
    :param max_disconnection_duration: seconds a disconnected socket stays
                                       recoverable, and an event buffered
                                       (Node's ``maxDisconnectionDuration``).
                                       0 turns recovery off. Default 120.
    :param max_missed_packets: events one recovery may replay. Default 1,000.
    :param max_missed_bytes: their estimated size. Default 1 MiB.
    :param buffer_packets: events kept for replay in all (one buffer per
                           process, shared by all sockets; with an
                           ``AsyncRedisManager``, per namespace in Redis,
                           shared by all processes). Default 50,000.
    :param buffer_bytes: their estimated size in all (one process's buffer;
                         Redis bounds its streams by entries). Default 32 MiB.
    :param max_saved_sessions: disconnected sockets kept at once; the oldest
                               go first (one process's; in Redis each expires
                               after ``max_disconnection_duration``).
                               Default 10,000.
    :param max_saved_sessions_per_user: disconnected sockets of one ``sub``
                                        kept at once; past it that user's
                                        oldest goes first, never another
                                        user's (in Redis too, across
                                        processes). Default 32.
    :param max_saved_session_bytes: the estimated size of one saved session
                                    (its rooms and session data; in Redis its
                                    JSON); a bigger one is not saved, and its
                                    client gets a fresh session. At most
                                    ``saved_sessions_bytes``. Default 64 KiB.
    :param saved_sessions_bytes: their estimated size in all (one process's
                                 saved sessions; the oldest go first; Redis
                                 bounds them by the per-user cap and the
                                 duration). Default 32 MiB.
    """

    enabled: bool = False
    max_disconnection_duration: float = 120.0
    max_missed_packets: int = 1000
    max_missed_bytes: int = 1 << 20
    buffer_packets: int = 50_000
    buffer_bytes: int = 32 << 20
    max_saved_sessions: int = 10_000
    max_saved_sessions_per_user: int = 32
    max_saved_session_bytes: int = 64 << 10
    saved_sessions_bytes: int = 32 << 20

    def __post_init__(self) -> None:
        if not isinstance(self.enabled, bool):
            raise TypeError("enabled must be True or False")
        if not self.max_disconnection_duration >= 0:
            raise SettingError("max_disconnection_duration", "must not be negative")
        for name in (
            "max_missed_packets",
            "max_missed_bytes",
            "buffer_packets",
            "buffer_bytes",
            "max_saved_sessions",
            "max_saved_sessions_per_user",
            "max_saved_session_bytes",
            "saved_sessions_bytes",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise SettingError(name, "must be a whole number >= 1")
        if self.max_saved_session_bytes > self.saved_sessions_bytes:
            raise SettingError(
                "max_saved_session_bytes", "must not exceed saved_sessions_bytes"
            )

    @property
    def on(self) -> bool:
        """Whether it is enabled with a duration above 0."""
        return self.enabled and self.max_disconnection_duration > 0
