"""The configuration layer: :class:`AuthSettings` and its groups.

It knows nothing of Tornado or python-socketio; everything above reads its
behaviour from one ``AuthSettings``.
"""

from .checks import AUTH_FLOWS, EVENTS, LOOPBACK, ROUTES, TOKEN_SOURCES
from .errors import SettingError
from .groups import (
    DEFAULT_MAX_BUFFERED_BYTES,
    NAMESPACE_FLOWS,
    NamespacePolicy,
    SocketLimits,
    StateRecovery,
    Transport,
)
from .settings import DEFAULT_ISSUER, AuthSettings

__all__ = [
    "AuthSettings",
    "SocketLimits",
    "Transport",
    "NamespacePolicy",
    "NAMESPACE_FLOWS",
    "StateRecovery",
    "SettingError",
    "DEFAULT_ISSUER",
    "TOKEN_SOURCES",
    "AUTH_FLOWS",
    "ROUTES",
    "EVENTS",
    "LOOPBACK",
    "DEFAULT_MAX_BUFFERED_BYTES",
]
