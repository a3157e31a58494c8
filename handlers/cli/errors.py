"""The command line's failures: one line each, naming the option, where its
value came from and the fix."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from ..config import SettingError
from .options import value_source
from .table import by_flag

__all__ = [
    "CommandError",
    "ConfigurationError",
    "option_error",
    "secret_error",
    "SECRET_COMMAND",
]

SECRET_COMMAND = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


class CommandError(Exception):
    """A failure reported as one line on standard error, with exit ``status``."""

    status = 1

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class ConfigurationError(CommandError):
    """A bad option value or combination: exit status 2, as argparse's."""

    status = 2


def option_error(
    options: argparse.Namespace,
    flag: str,
    environ: Mapping[str, str],
    problem: str,
    fix: str = "",
    status: int = 2,
) -> CommandError:
    """``--flag (from ...): problem: fix``, as one line."""
    source = value_source(options, by_flag(flag), environ)
    line = f"{flag} ({source}) {problem}" + (f": {fix}" if fix else "")
    return ConfigurationError(line, status)


def secret_error(
    exc: SettingError, environ: Mapping[str, str], secret_file: Path
) -> CommandError:
    """A secret too short, naming where it came from and how to make one."""
    if environ.get("JWT_SECRET"):
        where, fix = "JWT_SECRET (from the environment)", "generate one with"
    else:
        where = f"the secret file {secret_file}"
        fix = "delete it to have one generated, or set JWT_SECRET to the output of"
    return ConfigurationError(f"{where} {exc.problem}: {fix} `{SECRET_COMMAND}`")
