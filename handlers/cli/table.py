"""Every option of ``serve`` in one table: flag, variable, type, default, help,
the settings field it fills, and its group in ``--help``.

A field is a dotted path from one of two roots: ``auth`` (the library's
:class:`AuthSettings`, groups included, e.g. ``auth.limits.connect_timeout``)
or ``server`` (:class:`ServerOptions`: what only the standalone server has,
such as the port and the key files). ``tests/test_cli_table.py`` fails when a
field has no option here and is not in :data:`NOT_ON_CLI`, or the reverse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..config import AUTH_FLOWS, DEFAULT_ISSUER
from . import values as v

__all__ = ["Option", "OPTIONS", "GROUPS", "NOT_ON_CLI", "ServerOptions", "by_flag"]

LOG_LEVELS = ("debug", "info", "warning", "error", "none")
EVENT_LOOPS = ("auto", "asyncio")
JSON_LIBRARIES = ("auto", "json")


@dataclass(frozen=True)
class Option:
    """One command-line option; ``default`` is text, converted like a value."""

    flag: str
    env: str
    kind: Callable[[str], Any]
    default: str
    help: str
    field: str
    group: str
    metavar: str = "N"


@dataclass(frozen=True)
class ServerOptions:
    """What the standalone server has beyond :class:`AuthSettings`."""

    host: str = "127.0.0.1"
    port: int = 9000
    data_dir: str = "./data"
    private_key: str | None = None
    public_key: str | None = None
    verify_keys: tuple[str, ...] = ()
    jwks_url: str | None = None
    jwks_refresh_interval: float = 30.0
    redis_url: str | None = None
    trusted_proxies: tuple[str, ...] = ()
    public_namespaces: tuple[str, ...] = ()
    event_namespaces: tuple[str, ...] = ()
    handshake_namespaces: tuple[str, ...] = ()
    event_loop: str = "auto"
    json_library: str = "auto"
    log_level: str = "info"


GROUPS = {
    "server": "server",
    "keys": "tokens and keys",
    "lifecycle": "lifecycle (seconds)",
    "limits": "limits",
    "scale": "scale-out",
    "operations": "operations",
}


def rows(group: str, *table: tuple[Any, ...]) -> tuple[Option, ...]:
    """The options of one ``--help`` group."""
    return tuple(
        Option(flag, env, kind, default, text, field, group, metavar)
        for flag, env, default, kind, field, metavar, text in table
    )


# fmt: off
# flag, environment variable, default (text, converted as a value would be);
# type, settings field, metavar; the help line.
OPTIONS: tuple[Option, ...] = (
    *rows("server",
        ("--host", "HOST", "127.0.0.1",
         v.text, "server.host", "ADDR",
         "address to listen on"),
        ("--port", "PORT", "9000",
         v.port, "server.port", "N",
         "port to listen on"),
        ("--data-dir", "DATA_DIR", "./data",
         v.text, "server.data_dir", "DIR",
         "users, revocations, secret"),
        ("--static-dir", "STATIC_DIR", "",
         v.optional_text, "auth.static_dir", "DIR",
         "browser client; empty: bundled"),
        ("--cors-origins", "CORS_ALLOWED_ORIGINS", "",
         v.names, "auth.cors_allowed_origins", "LIST",
         "origins; empty: own"),
    ),
    *rows("keys",
        ("--algorithms", "JWT_ALGORITHMS", "",
         v.names, "auth.algorithms", "LIST",
         "HS256 or the key's"),
        ("--private-key", "JWT_PRIVATE_KEY", "",
         v.optional_text, "server.private_key", "PEM",
         "signs RS256/ES256 tokens"),
        ("--public-key", "JWT_PUBLIC_KEY", "",
         v.optional_text, "server.public_key", "PEM",
         "its pair; alone: verify-only"),
        ("--verify-keys", "JWT_VERIFY_KEYS", "",
         v.names, "server.verify_keys", "LIST",
         "more keys, dirs: rotation"),
        ("--jwks-url", "JWKS_URL", "",
         v.optional_text, "server.jwks_url", "URL",
         "verify-only: an issuer's JWKS"),
        ("--jwks-refresh-interval", "JWKS_REFRESH_INTERVAL", "30",
         v.positive_float, "server.jwks_refresh_interval", "S",
         "least seconds between fetches"),
        ("--issuer", "JWT_ISSUER", DEFAULT_ISSUER,
         v.optional_text, "auth.issuer", "ISS",
         "iss claim"),
        ("--audience", "JWT_AUDIENCE", "",
         v.optional_text, "auth.audience", "AUD",
         "aud claim"),
        ("--required-claims", "JWT_REQUIRED_CLAIMS", "",
         v.names, "auth.required_claims", "LIST",
         "exp,iat,sub(,jti)"),
        ("--token-sources", "TOKEN_SOURCES", "auth,query,header",
         v.names, "auth.token_sources", "LIST",
         "socket token from; header: only it"),
        ("--public-namespaces", "PUBLIC_NAMESPACES", "",
         v.names, "server.public_namespaces", "LIST",
         "no JWT there (logged)"),
        ("--event-namespaces", "EVENT_NAMESPACES", "",
         v.names, "server.event_namespaces", "LIST",
         "authenticate event there"),
        ("--handshake-namespaces", "HANDSHAKE_NAMESPACES", "",
         v.names, "server.handshake_namespaces", "LIST",
         "token at connect there"),
        ("--max-token-bytes", "MAX_TOKEN_BYTES", "8192",
         v.positive_int, "auth.max_token_bytes", "N",
         "largest token accepted"),
    ),
    *rows("lifecycle",
        ("--token-ttl", "TOKEN_TTL", "18000",
         v.positive_int, "auth.token_ttl", "S",
         "lifetime of issued tokens"),
        ("--leeway", "JWT_LEEWAY", "0",
         v.non_negative_float, "auth.leeway", "S",
         "clock skew on exp/iat/nbf"),
        ("--max-session-age", "MAX_SESSION_AGE", "604800",
         v.positive_int, "auth.max_session_age", "S",
         "no refresh past login + this"),
        ("--auth-flow", "AUTH_FLOW", "handshake",
         v.choice(*AUTH_FLOWS), "auth.auth_flow", "FLOW",
         "or event: emit authenticate"),
        ("--auth-timeout", "AUTH_TIMEOUT", "5",
         v.positive_float, "auth.auth_timeout", "S",
         "to authenticate, event flow"),
        ("--unauthorized-ack-timeout", "UNAUTHORIZED_ACK_TIMEOUT", "5",
         v.non_negative_float, "auth.unauthorized_ack_timeout", "S",
         "wait for unauthorized's ack; 0: none"),
        ("--connect-timeout", "CONNECT_TIMEOUT", "10",
         v.positive_float, "auth.limits.connect_timeout", "S",
         "for a session to CONNECT"),
        ("--ping-interval", "PING_INTERVAL", "25",
         v.positive_float, "auth.transport.ping_interval", "S",
         "between Engine.IO pings"),
        ("--ping-timeout", "PING_TIMEOUT", "20",
         v.positive_float, "auth.transport.ping_timeout", "S",
         "to answer a ping"),
        ("--recovery", "RECOVERY", "on",
         v.switch, "auth.recovery.enabled", "ON",
         "state recovery (--no-recovery)"),
        ("--max-disconnection-duration", "MAX_DISCONNECTION_DURATION", "120",
         v.non_negative_float, "auth.recovery.max_disconnection_duration", "S",
         "recoverable after a cut; 0: off"),
    ),
    *rows("limits",
        ("--max-connections-per-user", "MAX_CONNECTIONS_PER_USER", "50",
         v.limit, "auth.limits.max_connections_per_user", "N",
         "sockets per sub; 0: none"),
        ("--max-connections-per-address", "MAX_CONNECTIONS_PER_ADDRESS", "200",
         v.limit, "auth.limits.max_connections_per_address", "N",
         "sessions per address; 0: none"),
        ("--max-attachments", "MAX_ATTACHMENTS", "10",
         v.non_negative_int, "auth.limits.max_attachments", "N",
         "binary attachments per packet"),
        ("--max-buffered-bytes", "MAX_BUFFERED_BYTES", "16777216",
         v.limit, "auth.limits.max_buffered_bytes", "N",
         "held binary per client; 0: none"),
        ("--max-login-body", "MAX_LOGIN_BODY", "4096",
         v.positive_int, "auth.max_login_body", "N",
         "bytes of a login body, then 413"),
        ("--login-max-failures", "LOGIN_MAX_FAILURES", "5",
         v.positive_int, "auth.login_max_failures", "N",
         "failed logins, then 429"),
        ("--login-window", "LOGIN_WINDOW", "300",
         v.positive_int, "auth.login_window", "N",
         "seconds failures count"),
        ("--login-concurrency", "LOGIN_CONCURRENCY", "2",
         v.positive_int, "auth.login_concurrency", "N",
         "password checks at once"),
        ("--login-queue", "LOGIN_QUEUE", "8",
         v.non_negative_int, "auth.login_queue", "N",
         "checks waiting, then 429"),
        ("--refresh-max-per-user", "REFRESH_MAX_PER_USER", "10",
         v.positive_int, "auth.refresh_max_per_user", "N",
         "refreshes per window"),
        ("--logout-max-per-user", "LOGOUT_MAX_PER_USER", "10",
         v.positive_int, "auth.logout_max_per_user", "N",
         "logouts per window"),
        ("--bearer-window", "BEARER_WINDOW", "60",
         v.positive_int, "auth.bearer_window", "N",
         "seconds those count"),
        ("--recovery-max-missed", "RECOVERY_MAX_MISSED", "1000",
         v.positive_int, "auth.recovery.max_missed_packets", "N",
         "events one recovery replays"),
        ("--recovery-max-missed-bytes", "RECOVERY_MAX_MISSED_BYTES", "1048576",
         v.positive_int, "auth.recovery.max_missed_bytes", "N",
         "their bytes, then a fresh session"),
        ("--recovery-buffer-packets", "RECOVERY_BUFFER_PACKETS", "50000",
         v.positive_int, "auth.recovery.buffer_packets", "N",
         "events kept for replay in all"),
        ("--recovery-buffer-bytes", "RECOVERY_BUFFER_BYTES", "33554432",
         v.positive_int, "auth.recovery.buffer_bytes", "N",
         "their bytes; the oldest go"),
        ("--recovery-max-sessions", "RECOVERY_MAX_SESSIONS", "10000",
         v.positive_int, "auth.recovery.max_saved_sessions", "N",
         "disconnected sockets kept"),
        ("--recovery-max-sessions-per-user", "RECOVERY_MAX_SESSIONS_PER_USER", "32",
         v.positive_int, "auth.recovery.max_saved_sessions_per_user", "N",
         "per sub; that sub's oldest go"),
        ("--recovery-max-session-bytes", "RECOVERY_MAX_SESSION_BYTES", "65536",
         v.positive_int, "auth.recovery.max_saved_session_bytes", "N",
         "one session's; bigger: not kept"),
        ("--recovery-sessions-bytes", "RECOVERY_SESSIONS_BYTES", "33554432",
         v.positive_int, "auth.recovery.saved_sessions_bytes", "N",
         "all sessions'; the oldest go"),
    ),
    *rows("scale",
        ("--redis-url", "REDIS_URL", "",
         v.optional_text, "server.redis_url", "URL",
         "Redis shared by processes"),
        ("--trusted-proxies", "TRUSTED_PROXIES", "",
         v.names, "server.trusted_proxies", "LIST",
         "proxies whose X-Forwarded-* count"),
    ),
    *rows("operations",
        ("--metrics", "METRICS", "",
         v.metrics_networks, "auth.metrics_allowed", "NETS",
         "/metrics: on (loopback) or networks"),
        ("--websocket-compression", "WEBSOCKET_COMPRESSION", "off",
         v.switch, "auth.transport.websocket_compression", "ON",
         "on: permessage-deflate"),
        ("--event-loop", "EVENT_LOOP", "auto",
         v.choice(*EVENT_LOOPS), "server.event_loop", "LOOP",
         "uvloop if installed, or asyncio"),
        ("--json-library", "JSON_LIBRARY", "auto",
         v.choice(*JSON_LIBRARIES), "server.json_library", "LIB",
         "orjson if installed, or json"),
        ("--log-level", "LOG_LEVEL", "info",
         v.choice(*LOG_LEVELS), "server.log_level", "LEVEL",
         "debug, info, warning, error, none"),
    ),
)
# fmt: on

# AuthSettings fields the command line leaves at what the standalone server needs.
NOT_ON_CLI = {
    "auth.secret": "env JWT_SECRET or the generated file; never a flag's default",
    "auth.routes": "all of them; verify-only drops login, logout, refresh",
    "auth.prefix": "the bundled page is served at the root",
    "auth.namespaces": "the demo events are on '/'",
    "auth.events": "the demo: whoami and message",
    "auth.exempt_namespaces": "the standalone server has no namespace of its own",
    "auth.namespace_policies": "built from --public-namespaces, --event-namespaces "
    "and --handshake-namespaces (a per-namespace auth timeout: the library only)",
}


def by_flag(flag: str) -> Option:
    """The row of ``flag``."""
    return next(option for option in OPTIONS if option.flag == flag)
