"""The command line: ``tornado-socketio-jwt [COMMAND] [options]``.

The only package that reads the command line and the environment. ``serve``
is the default command; ``adduser``, ``passwd``, ``deluser``, ``users`` and
``genkey`` prepare a ``--data-dir``. Every option of ``serve`` is one row of
:data:`table.OPTIONS`, mapped to one settings field.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Sequence

from .commands import adduser, deluser, genkey, list_users, passwd
from .errors import CommandError, ConfigurationError
from .loop import run
from .options import PROG
from .parser import make_parser
from .serve import make_app, serve
from .settings import build_settings, load_secret, server_options

__all__ = [
    "main",
    "make_parser",
    "build_settings",
    "server_options",
    "load_secret",
    "make_app",
    "CommandError",
    "ConfigurationError",
]

COMMANDS = {
    "adduser": adduser,
    "passwd": passwd,
    "deluser": deluser,
    "users": list_users,
    "genkey": genkey,
}


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """Run one command; return the exit status.

    :param argv: the arguments, without the program name; default ``sys.argv[1:]``.
    :param prog: the program name in help and error lines.
    """
    parser = make_parser(prog)
    options = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    options.prog = prog
    try:
        command = COMMANDS.get(options.command or "serve")
        if command is not None:
            command(options)
        else:
            run(serve(options), options.event_loop)
    except CommandError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return exc.status
    except (sqlite3.Error, OSError) as exc:
        # An operator's mistake at start-up (a corrupt store, a read-only or
        # full disk): one line, not a traceback.
        print(f"{prog}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    return 0


def _one_line(exc: BaseException) -> str:
    """An OS error as words and the file, without ``[Errno N]``."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror.lower()}"
    return str(exc)
