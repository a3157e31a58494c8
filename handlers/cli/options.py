"""The one parser: commands, and every option with its environment variable."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from ..config import AUTH_FLOWS, DEFAULT_ISSUER

__all__ = ["Parser", "HelpFormatter", "typed", "env_default", "PROG", "LOG_LEVELS"]

PROG = "tornado-socketio-jwt"


def limit(text: str) -> int | None:
    """A connection limit: a whole number, 0 for none."""
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value or None


def port(text: str) -> int:
    """A TCP port number: a whole number from 0 to 65535."""
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError(text)
    return value


LOG_LEVELS = ("debug", "info", "warning", "error", "none")
DATA_DIR = (
    "--data-dir",
    "DATA_DIR",
    str,
    "./data",
    "directory of the user store, the revocation list, and the secret generated "
    "when env JWT_SECRET (32 bytes or more) is not set",
)
# flag, environment variable, type, default, help; lists are comma-separated
SERVE_OPTIONS: tuple[tuple[str, str, Any, Any, str], ...] = (
    ("--host", "HOST", str, "127.0.0.1", "address to listen on"),
    ("--port", "PORT", port, 9000, "port to listen on (0 to 65535)"),
    ("--token-ttl", "TOKEN_TTL", int, 5 * 3600, "lifetime of issued tokens, seconds"),
    ("--issuer", "JWT_ISSUER", str, DEFAULT_ISSUER, "iss claim issued and required"),
    (
        "--cors-origins",
        "CORS_ALLOWED_ORIGINS",
        str,
        "",
        "comma-separated origins allowed to open sockets; empty means this "
        "server's own origin only",
    ),
    (
        "--auth-flow",
        "AUTH_FLOW",
        str,
        "handshake",
        "handshake (token in the connect request) or event (the client emits "
        "authenticate within --auth-timeout seconds)",
    ),
    (
        "--auth-timeout",
        "AUTH_TIMEOUT",
        float,
        5.0,
        "seconds a socket has to authenticate in the event flow",
    ),
    (
        "--static-dir",
        "STATIC_DIR",
        str,
        "",
        "directory of the browser client; empty means the bundled one",
    ),
    (
        "--private-key",
        "JWT_PRIVATE_KEY",
        str,
        "",
        "PEM private key that signs RS256/ES256 tokens",
    ),
    (
        "--public-key",
        "JWT_PUBLIC_KEY",
        str,
        "",
        "its PEM public key (checked); alone: verify-only",
    ),
    (
        "--verify-keys",
        "JWT_VERIFY_KEYS",
        str,
        "",
        "PEM public keys, or directories of *.pem, that also verify: key rotation "
        "(kid = RFC 7638 thumbprint)",
    ),
    (
        "--algorithms",
        "JWT_ALGORITHMS",
        str,
        "",
        "allowed algorithms; default HS256, the key type's (RS256/ES256), or "
        "RS256 with --jwks-url",
    ),
    (
        "--jwks-url",
        "JWKS_URL",
        str,
        "",
        "verify-only mode: the external issuer's JWKS URL (needs --issuer and "
        "--audience; no /login)",
    ),
    ("--audience", "JWT_AUDIENCE", str, "", "aud claim required (and issued)"),
    (
        "--redis-url",
        "REDIS_URL",
        str,
        "",
        "Redis shared by several server processes: rooms, revocations, login "
        "limits (README: Scaling out); empty: this process alone",
    ),
    (
        "--trusted-proxies",
        "TRUSTED_PROXIES",
        str,
        "",
        "comma-separated addresses or networks of reverse proxies whose "
        "X-Forwarded-For/-Proto are believed; empty: none",
    ),
    (
        "--metrics",
        "METRICS",
        str,
        "",
        "serve GET /metrics: 'on' for loopback clients, or comma-separated networks "
        "(CIDR) that may read it; empty: off",
    ),
    (
        "--required-claims",
        "JWT_REQUIRED_CLAIMS",
        str,
        "",
        "claims a token must carry; default exp,iat,sub,jti (exp,iat,sub with "
        "--jwks-url)",
    ),
    (
        "--leeway",
        "JWT_LEEWAY",
        float,
        0.0,
        "clock skew tolerated on exp/iat/nbf, seconds",
    ),
    (
        "--jwks-refresh-interval",
        "JWKS_REFRESH_INTERVAL",
        float,
        30.0,
        "least seconds between two JWKS fetches (unknown kids wait this long)",
    ),
    (
        "--max-connections-per-user",
        "MAX_CONNECTIONS_PER_USER",
        limit,
        50,
        "sockets one user (sub) may hold per namespace; more are refused with "
        "too_many_connections; 0: no limit",
    ),
    (
        "--max-connections-per-address",
        "MAX_CONNECTIONS_PER_ADDRESS",
        limit,
        200,
        "Engine.IO sessions one client address may hold (behind a proxy, the "
        "X-Forwarded-For address with --trusted-proxies); 0: no limit",
    ),
    (
        "--event-loop",
        "EVENT_LOOP",
        str,
        "auto",
        "auto (uvloop when it is installed, else asyncio's) or asyncio",
    ),
    (
        "--json-library",
        "JSON_LIBRARY",
        str,
        "auto",
        "Socket.IO packets through auto (orjson when it is installed, else json) "
        "or json (the standard library)",
    ),
    (
        "--recovery",
        "RECOVERY",
        str,
        "on",
        "connection state recovery: on or off (--no-recovery); a client that "
        "lost its connection gets its socket and the events it missed back, "
        "after its token is verified again",
    ),
    (
        "--max-disconnection-duration",
        "MAX_DISCONNECTION_DURATION",
        float,
        120.0,
        "seconds a disconnected client stays recoverable; 0: recovery off",
    ),
    ("--log-level", "LOG_LEVEL", str, "info", "debug, info, warning, error or none"),
)
SWITCHES = ("on", "off")
EVENT_LOOPS = ("auto", "asyncio")
JSON_LIBRARIES = ("auto", "json")
CHOICES = {
    "--auth-flow": AUTH_FLOWS,
    "--log-level": LOG_LEVELS,
    "--event-loop": EVENT_LOOPS,
    "--json-library": JSON_LIBRARIES,
    "--recovery": SWITCHES,
}


class Parser(argparse.ArgumentParser):
    """argparse, reporting a usage error as one line (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class HelpFormatter(argparse.HelpFormatter):
    """Shows a default only where there is one (an empty string is none)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, "", argparse.SUPPRESS):
            text += " (default: %(default)s)"
        return text


class EnvValue(str):
    """A default read from the environment; argparse converts it, or reports it."""

    variable = ""


def typed(
    kind: Callable[[str], Any], choices: tuple[str, ...] = ()
) -> Callable[[str], Any]:
    """An argparse ``type`` whose error names the environment variable at fault.

    It checks ``choices`` itself: argparse checks none on a default.
    """

    def convert(text: str) -> Any:
        where = f"{text.variable}=" if isinstance(text, EnvValue) else ""
        try:
            value = kind(text)
        except ValueError:
            problem = f"is not a valid {kind.__name__}"
        else:
            if not choices or value in choices:
                return value
            problem = f"is not one of {', '.join(choices)}"
        raise argparse.ArgumentTypeError(f"{where}{str(text)!r} {problem}")

    return convert


def env_default(environ: Mapping[str, str], variable: str, default: Any) -> Any:
    raw = environ.get(variable)
    if raw is None:
        return default
    value = EnvValue(raw)
    value.variable = variable
    return value
