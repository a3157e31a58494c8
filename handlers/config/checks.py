"""The checks ``AuthSettings`` runs at construction, one function per concern."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from ..origins import normalize_origins
from .errors import SettingError

__all__ = [
    "AUTH_FLOWS",
    "EVENTS",
    "LOOPBACK",
    "ROUTES",
    "SUPPORTED_ALGORITHMS",
    "SYMMETRIC_PREFIX",
    "TOKEN_SOURCES",
    "check_algorithms",
    "check_choices",
    "check_names",
    "check_networks",
    "check_prefix",
    "check_secret",
    "normalized_origins",
    "names_tuple",
]

TOKEN_SOURCES = ("auth", "query", "header")
AUTH_FLOWS = ("handshake", "event")
ROUTES = ("socketio", "login", "logout", "refresh", "client", "health", "jwks")
EVENTS = ("whoami", "message")
LOOPBACK = ("127.0.0.0/8", "::1/128")
SYMMETRIC_PREFIX = "HS"
MIN_SECRET_BYTES = 32
SUPPORTED_ALGORITHMS = frozenset(
    {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "PS256"}
)


def names_tuple(name: str, value: Any) -> tuple[str, ...]:
    """``value`` as a tuple of strings; one bare string is refused (a classic slip)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a tuple of strings")
    items = tuple(value)
    if not all(isinstance(item, str) for item in items):
        raise TypeError(f"{name} must be a tuple of strings")
    return items


def check_algorithms(algorithms: Any) -> None:
    if isinstance(algorithms, str) or not isinstance(algorithms, tuple):
        raise TypeError("algorithms must be a tuple of algorithm names")
    if not algorithms:
        raise SettingError("algorithms", "must not be empty")
    unknown = [a for a in algorithms if a not in SUPPORTED_ALGORITHMS]
    if unknown:
        raise SettingError("algorithms", f"has unsupported {', '.join(unknown)}")
    if len({a.startswith(SYMMETRIC_PREFIX) for a in algorithms}) > 1:
        raise SettingError("algorithms", "must not mix HS* with public-key ones")


def check_secret(secret: Any, secret_bytes: bytes, algorithms: tuple[str, ...]) -> None:
    if secret is None:
        return
    if not isinstance(secret, (str, bytes)):
        raise TypeError("secret must be str or bytes")
    if not all(a.startswith(SYMMETRIC_PREFIX) for a in algorithms):
        raise SettingError("secret", "needs HS* algorithms (a shared secret)")
    # PyJWT's key-length rule: an HMAC key at least as long as the hash.
    needed = max(max(MIN_SECRET_BYTES, int(a[2:]) // 8) for a in algorithms)
    if len(secret_bytes) < needed:
        raise SettingError(
            "secret",
            f"is {len(secret_bytes)} bytes; it must be at least {needed} bytes",
        )


def normalized_origins(origins: Any) -> tuple[str, ...] | None:
    if origins is None:
        return None
    if not isinstance(origins, tuple) or not all(isinstance(o, str) for o in origins):
        raise TypeError("cors_allowed_origins must be a tuple of strings or None")
    # Normalised once: a trailing slash or an upper-case host never matches.
    try:
        return normalize_origins(origins)
    except ValueError as exc:
        raise SettingError("cors_allowed_origins", f"is refused: {exc}") from exc


def check_choices(name: str, given: tuple[str, ...], allowed: tuple[str, ...]) -> None:
    unknown = [item for item in given if item not in allowed]
    if unknown:
        raise SettingError(
            name, f"has unknown {', '.join(unknown)} (one of {', '.join(allowed)})"
        )


def check_names(name: str, namespaces: tuple[str, ...]) -> None:
    for namespace in namespaces:
        if not namespace.startswith("/"):
            raise SettingError(name, f"must start with '/': {namespace!r}")


def check_prefix(prefix: Any) -> None:
    if not isinstance(prefix, str):
        raise TypeError("prefix must be a string")
    if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
        raise SettingError("prefix", "must be empty or like '/chat' (no trailing '/')")


def check_networks(name: str, networks: tuple[str, ...]) -> None:
    for network in networks:
        try:
            ipaddress.ip_network(network)
        except ValueError as exc:
            raise SettingError(name, f"has {network!r}, not a network") from exc
