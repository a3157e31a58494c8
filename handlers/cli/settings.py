"""From parsed options to ``AuthSettings`` and a key source; the secret file."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..config import DEFAULT_ISSUER, AuthSettings
from ..keys import KeySource
from ..keys.secret_file import read_or_create_secret
from ..keys.selection import key_source_for

__all__ = [
    "CommandError",
    "ConfigurationError",
    "build_settings",
    "load_secret",
    "data_dir",
    "SECRET_FILE",
    "USERS_FILE",
    "REVOCATIONS_FILE",
]

SECRET_FILE = "jwt-secret"
USERS_FILE = "users.sqlite3"
REVOCATIONS_FILE = "revocations.sqlite3"
VERIFY_ONLY_CLAIMS = ("exp", "iat", "sub")  # Auth0 access tokens carry no jti


class CommandError(Exception):
    """A failure reported as one line on standard error, with exit ``status``."""

    status = 1


class ConfigurationError(CommandError):
    """A bad option value or combination: exit status 2, as argparse's."""

    status = 2


def data_dir(options: argparse.Namespace) -> Path:
    """``--data-dir``, created (mode 0700) if missing."""
    path = Path(options.data_dir)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def load_secret(directory: Path) -> str:
    """``JWT_SECRET``, else the secret file (created with mode 0600).

    Read here, after parsing, so that it is never an option's default (``--help``
    prints those).
    """
    given = os.environ.get("JWT_SECRET")
    if given:
        return given
    try:
        return read_or_create_secret(directory / SECRET_FILE)
    except PermissionError as exc:
        raise CommandError(str(exc)) from exc


def split(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def build_settings(
    options: argparse.Namespace,
) -> tuple[AuthSettings, KeySource | None]:
    """The settings and key source (``None``: the HMAC secret) for ``serve``.

    :raises ConfigurationError: on values the library refuses.
    """
    directory = data_dir(options)
    if options.jwks_url and (
        options.issuer in ("", DEFAULT_ISSUER) or not options.audience
    ):
        raise ConfigurationError(
            "--jwks-url needs the issuer's --issuer and your API's --audience"
        )
    try:
        algorithms, keys = key_source_for(
            algorithms=split(options.algorithms),
            private_key=options.private_key or None,
            public_key=options.public_key or None,
            verify_keys=split(options.verify_keys),
            jwks_url=options.jwks_url or None,
            jwks_refresh_interval=options.jwks_refresh_interval,
        )
        symmetric = keys is None and all(a.startswith("HS") for a in algorithms)
        secret = load_secret(directory) if symmetric else None
        return _settings(options, algorithms, secret), keys
    except (TypeError, ValueError, OSError) as exc:
        raise ConfigurationError(f"configuration error: {exc}") from exc


def _settings(
    options: argparse.Namespace, algorithms: tuple[str, ...], secret: str | None
) -> AuthSettings:
    claims = split(options.required_claims) or (
        VERIFY_ONLY_CLAIMS if options.jwks_url else AuthSettings.required_claims
    )
    return AuthSettings(
        algorithms=algorithms,
        secret=secret,
        issuer=options.issuer or None,
        audience=options.audience or None,
        leeway=options.leeway,
        required_claims=claims,
        token_ttl=options.token_ttl,
        cors_allowed_origins=split(options.cors_origins) or None,
        static_dir=options.static_dir or None,
        auth_flow=options.auth_flow,
        auth_timeout=options.auth_timeout,
        recovery=options.recovery == "on",
        max_disconnection_duration=options.max_disconnection_duration,
    )
