"""``make_parser``: the commands ``serve`` (the default), ``adduser`` and ``genkey``."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Mapping
from typing import Any

from .._version import __version__
from .options import (
    CHOICES,
    DATA_DIR,
    LOG_LEVELS,
    PROG,
    SERVE_OPTIONS,
    HelpFormatter,
    Parser,
    env_default,
    typed,
)

__all__ = ["make_parser"]

DESCRIPTION = "JWT-authenticated Socket.IO for Tornado: the standalone server."
EPILOG = (
    "Options of serve may also come before the command. The HMAC secret is never an "
    "option: set env JWT_SECRET, or one is generated under --data-dir (mode 0600)."
)
USAGE = "%(prog)s [-h] [--version] [COMMAND] [options]"
KEY_ALGORITHMS = ("RS256", "ES256")


def make_parser(
    prog: str = PROG, environ: Mapping[str, str] | None = None
) -> argparse.ArgumentParser:
    """The command line; ``environ`` (default ``os.environ``) supplies the defaults.

    :param prog: the program name shown in help and errors.
    """
    environ = os.environ if environ is None else environ
    parser = Parser(
        prog=prog,
        usage=USAGE,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    _add_options(parser, (DATA_DIR, *SERVE_OPTIONS), environ)
    commands = parser.add_subparsers(
        dest="command", title="commands", metavar="COMMAND"
    )
    serve = _command(commands, prog, "serve", "run the server (the default command)")
    # The options are the main parser's: here they only override (no default).
    _add_options(serve, (DATA_DIR, *SERVE_OPTIONS), None)
    _add_adduser(_command(commands, prog, "adduser", "add a user to the store"))
    _add_genkey(
        _command(
            commands, prog, "genkey", "write an RS256/ES256 key pair to --data-dir"
        )
    )
    return parser


def _command(commands: Any, prog: str, name: str, text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        prog=f"{prog} {name}",
        help=text,
        description=text,
        formatter_class=HelpFormatter,
    )
    return parser


def _add_adduser(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Add a user. The password is read from standard input when it is not a "
        "terminal, else prompted for twice."
    )
    parser.add_argument("name", help="the user name to log in with")
    parser.add_argument("--email", default="", help="e-mail address (claim email)")
    parser.add_argument("--first-name", default="", help="claim first_name")
    parser.add_argument("--last-name", default="", help="claim last_name")
    _add_options(parser, (DATA_DIR,), None)


def _add_genkey(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--algorithm", choices=KEY_ALGORITHMS, default="RS256", help="key type"
    )
    _add_options(parser, (DATA_DIR,), None)


def _add_options(
    parser: argparse.ArgumentParser,
    options: Iterable[tuple[str, str, type, Any, str]],
    environ: Mapping[str, str] | None,
) -> None:
    """Each option as ``--flag VALUE``; ``environ`` None: no default (suppressed)."""
    for flag, variable, kind, default, text in options:
        parser.add_argument(
            flag,
            type=typed(kind, CHOICES.get(flag, ())),
            default=(
                argparse.SUPPRESS
                if environ is None
                else env_default(environ, variable, default)
            ),
            help=f"{text} [env {variable}]",
        )
    if any(flag == "--recovery" for flag, *_ in options):
        parser.add_argument(
            "--no-recovery",
            dest="recovery",
            action="store_const",
            const="off",
            default=argparse.SUPPRESS,
            help="connection state recovery off: the same as --recovery off",
        )
    if any(flag == "--log-level" for flag, *_ in options):
        # Tornado's own name for it, still accepted (hidden: it is not ours).
        parser.add_argument(
            "--logging",
            dest="log_level",
            type=typed(str, LOG_LEVELS),
            default=argparse.SUPPRESS,
            help=argparse.SUPPRESS,
        )
