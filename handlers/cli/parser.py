"""``make_parser``: the commands, and ``serve``'s options in their groups."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from typing import Any

from .._version import __version__
from .options import PROG, HelpFormatter, Parser, add_option, dest, typed
from .table import GROUPS, LOG_LEVELS, OPTIONS, by_flag
from .values import choice

__all__ = ["make_parser", "COMMANDS"]

DESCRIPTION = "JWT-authenticated Socket.IO for Tornado: the standalone server."
EPILOG = (
    "Run `%(prog)s COMMAND --help` for a command's options (serve's may also come "
    "before the command)."
)
SERVE_EPILOG = (
    "(value): the default. The environment variable of the option's name in "
    "capitals (TOKEN_TTL), or the one in [brackets], sets another. The HMAC "
    "secret is never an option: set JWT_SECRET (32 bytes or more), or one is "
    "generated under the data directory (mode 0600)."
)
PASSWORD_FROM = (
    "The password is read from standard input when it is not a terminal, "
    "else prompted for twice; it needs 8 to 1024 characters, and not the user name."
)
REVOKES = (
    "The tokens of the user's sessions begun before, refreshed ones included, "
    "are refused from the server's next start (without --redis-url)."
)
USAGE = "%(prog)s [-h] [--version] [COMMAND] [options]"
KEY_ALGORITHMS = ("RS256", "ES256")
COMMANDS = {
    "serve": "run the server (the default command)",
    "adduser": "add a user to the store",
    "passwd": "set a user's password",
    "deluser": "delete a user",
    "users": "list the users",
    "genkey": "write an RS256/ES256 key pair to --data-dir",
}
DATA_DIR = by_flag("--data-dir")


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
        epilog=EPILOG % {"prog": prog},
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    for option in OPTIONS:  # read before the command too, listed by serve --help
        add_option(parser, option, environ, shown=False)
    _add_tornado_logging(parser)
    _add_no_recovery(parser)
    commands = parser.add_subparsers(
        dest="command", title="commands", metavar="COMMAND"
    )
    _add_serve(_command(commands, prog, "serve"))
    _add_user_command(_command(commands, prog, "adduser"), profile=True)
    _add_user_command(_command(commands, prog, "passwd"), revokes=True)
    _add_user_command(_command(commands, prog, "deluser"), password=False, revokes=True)
    add_option(_command(commands, prog, "users"), DATA_DIR, None)
    _add_genkey(_command(commands, prog, "genkey"))
    return parser


def _command(commands: Any, prog: str, name: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        add_help=name != "serve",  # serve's is in its first group
        prog=f"{prog} {name}",
        help=COMMANDS[name],
        description=COMMANDS[name][0].upper() + COMMANDS[name][1:] + ".",
        formatter_class=HelpFormatter,
    )
    return parser


def _add_serve(parser: argparse.ArgumentParser) -> None:
    parser.usage = "%(prog)s [options]"
    parser.epilog = SERVE_EPILOG
    groups = {key: parser.add_argument_group(title) for key, title in GROUPS.items()}
    groups["server"].add_argument("-h", "--help", action="help", help="show this")
    for option in OPTIONS:  # they override the main parser's (no default here)
        add_option(groups[option.group], option, None)
    _add_tornado_logging(parser)
    _add_no_recovery(parser)


def _add_no_recovery(parser: argparse.ArgumentParser) -> None:
    """``--no-recovery``: the same as ``--recovery off`` (hidden: the table's
    row names it)."""
    parser.add_argument(
        "--no-recovery",
        dest=dest(by_flag("--recovery")),
        action="store_const",
        const=False,
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
    )


def _add_tornado_logging(parser: argparse.ArgumentParser) -> None:
    """Tornado's own name for --log-level, still accepted (hidden: not ours)."""
    parser.add_argument(
        "--logging",
        dest="log_level",
        type=typed(choice(*LOG_LEVELS)),
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
    )


def _add_user_command(
    parser: argparse.ArgumentParser,
    *,
    profile: bool = False,
    password: bool = True,
    revokes: bool = False,
) -> None:
    if password:
        parser.description = f"{parser.description} {PASSWORD_FROM}"
    if revokes:
        parser.description = f"{parser.description} {REVOKES}"
    parser.add_argument("name", help="the user name (log-in name)")
    if profile:
        parser.add_argument("--email", default="", help="e-mail address (claim email)")
        parser.add_argument("--first-name", default="", help="claim first_name")
        parser.add_argument("--last-name", default="", help="claim last_name")
    add_option(parser, DATA_DIR, None)


def _add_genkey(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--algorithm", choices=KEY_ALGORITHMS, default="RS256", help="key type"
    )
    add_option(parser, DATA_DIR, None)
