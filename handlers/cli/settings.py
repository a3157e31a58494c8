"""From parsed options to ``AuthSettings``, ``ServerOptions`` and a key source,
through the one table; a value refused is reported as its option."""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config import DEFAULT_ISSUER, AuthSettings, SettingError
from ..keys import KeySource
from ..keys.secret_file import read_or_create_secret
from ..keys.selection import key_source_for
from .errors import CommandError, ConfigurationError, option_error, secret_error
from .options import dest
from .table import OPTIONS, Option, ServerOptions

__all__ = [
    "CommandError",
    "ConfigurationError",
    "build_settings",
    "server_options",
    "load_secret",
    "data_dir",
    "SECRET_FILE",
    "USERS_FILE",
    "REVOCATIONS_FILE",
    "STANDALONE_EVENTS",
]

SECRET_FILE = "jwt-secret"
USERS_FILE = "users.sqlite3"
REVOCATIONS_FILE = "revocations.sqlite3"
VERIFY_ONLY_CLAIMS = ("exp", "iat", "sub")  # Auth0 access tokens carry no jti
STANDALONE_EVENTS = ("whoami", "message")  # the page's chat


def data_dir(
    options: argparse.Namespace, environ: Mapping[str, str] = os.environ
) -> Path:
    """``--data-dir``, created (mode 0700) if missing.

    :raises CommandError: it names a file, or cannot be created.
    """
    path = Path(options.data_dir)
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError as exc:
        problem, fix = (
            f"{str(path)!r} is a file",
            "name a directory (created if missing)",
        )
        raise option_error(options, "--data-dir", environ, problem, fix, 1) from exc
    except OSError as exc:
        reason = (
            "a part of it is a file"
            if isinstance(exc, NotADirectoryError)
            else ((exc.strerror or str(exc)).lower())
        )
        problem = f"{str(path)!r} cannot be created: {reason}"
        fix = "name a directory you may write, or create it first"
        raise option_error(options, "--data-dir", environ, problem, fix, 1) from exc
    return path


def load_secret(directory: Path, environ: Mapping[str, str] = os.environ) -> str:
    """``JWT_SECRET``, else the secret file (created with mode 0600).

    Read here, after parsing, so that it is never an option's default (``--help``
    prints those).
    """
    given = environ.get("JWT_SECRET")
    if given:
        return given
    try:
        return read_or_create_secret(directory / SECRET_FILE)
    except PermissionError as exc:
        raise CommandError(str(exc)) from exc


def server_options(options: argparse.Namespace) -> ServerOptions:
    """The ``server.*`` fields of the table, from the parsed options."""
    return ServerOptions(**_fields(options, "server"))


def build_settings(
    options: argparse.Namespace, environ: Mapping[str, str] = os.environ
) -> tuple[AuthSettings, KeySource | None]:
    """The settings and key source (``None``: the HMAC secret) for ``serve``.

    :raises ConfigurationError: on values the library refuses, naming the option.
    """
    server = server_options(options)
    directory = data_dir(options, environ)
    if server.jwks_url and (
        options.issuer in (None, DEFAULT_ISSUER) or not options.audience
    ):
        raise ConfigurationError(
            "--jwks-url needs the issuer's --issuer and your API's --audience"
        )
    algorithms, keys = _keys(options, server, environ)
    symmetric = keys is None and all(a.startswith("HS") for a in algorithms)
    secret = load_secret(directory, environ) if symmetric else None
    values = _fields(options, "auth")
    values.update(
        algorithms=algorithms,
        secret=secret,
        events=STANDALONE_EVENTS,
        cors_allowed_origins=values["cors_allowed_origins"] or None,
        required_claims=values["required_claims"]
        or (VERIFY_ONLY_CLAIMS if server.jwks_url else AuthSettings.required_claims),
    )
    try:
        return _settings(values), keys
    except SettingError as exc:
        if exc.field == "secret":
            raise secret_error(exc, environ, directory / SECRET_FILE) from exc
        raise option_error(options, _flag_of(exc.field), environ, exc.problem) from exc


def _keys(
    options: argparse.Namespace, server: ServerOptions, environ: Mapping[str, str]
) -> tuple[tuple[str, ...], KeySource | None]:
    try:
        return key_source_for(
            algorithms=options.algorithms,
            private_key=server.private_key,
            public_key=server.public_key,
            verify_keys=server.verify_keys,
            jwks_url=server.jwks_url,
            jwks_refresh_interval=server.jwks_refresh_interval,
        )
    except OSError as exc:  # a key file that cannot be read
        flag = _key_flag(options, str(exc.filename))
        problem = f"{str(exc.filename)!r}: {(exc.strerror or str(exc)).lower()}"
        fix = "give a PEM file (genkey writes a pair)"
        raise option_error(options, flag, environ, problem, fix) from exc
    except (TypeError, ValueError) as exc:
        flag = _key_flag(options, str(exc))
        raise option_error(options, flag, environ, f"is refused: {exc}") from exc


def _settings(values: dict[str, Any]) -> AuthSettings:
    """``AuthSettings`` with its groups built from their nested dicts."""
    for item in dataclasses.fields(AuthSettings):
        if isinstance(values.get(item.name), dict):
            group = item.default_factory()  # type: ignore[misc,operator]
            try:
                values[item.name] = type(group)(**values[item.name])
            except SettingError as exc:
                raise SettingError(f"{item.name}.{exc.field}", exc.problem) from exc
    return AuthSettings(**values)


def _fields(options: argparse.Namespace, root: str) -> dict[str, Any]:
    """The values of the options whose field starts with ``root``, nested by group."""
    values: dict[str, Any] = {}
    for option in OPTIONS:
        root_name, *path = option.field.split(".")
        if root_name != root:
            continue
        node = values
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = getattr(options, dest(option))
    return values


def _flag_of(field: str) -> str:
    return next(o.flag for o in OPTIONS if o.field == f"auth.{field}")


def _key_flag(options: argparse.Namespace, text: str) -> str:
    """The key option whose value ``text`` names (default ``--algorithms``)."""
    key_options: tuple[Option, ...] = tuple(
        o
        for o in OPTIONS
        if o.flag in ("--private-key", "--public-key", "--verify-keys", "--jwks-url")
    )
    for option in key_options:
        value = getattr(options, dest(option))
        for item in value if isinstance(value, tuple) else (value,):
            if item and str(item) in text:
                return option.flag
    return "--algorithms"
