"""The command line: ``tornado-socketio-jwt [COMMAND] [options]``.

The only module that reads the command line and the environment. ``serve`` is
the default command; ``adduser`` and ``genkey`` prepare a ``--data-dir``.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Sequence

from .commands import adduser, genkey
from .loop import run
from .options import PROG
from .parser import make_parser
from .serve import make_app, serve
from .settings import CommandError, ConfigurationError, build_settings, load_secret

__all__ = [
    "main",
    "make_parser",
    "build_settings",
    "load_secret",
    "make_app",
    "CommandError",
    "ConfigurationError",
]


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """Run one command; return the exit status.

    :param argv: the arguments, without the program name; default ``sys.argv[1:]``.
    :param prog: the program name in help and error lines.
    """
    parser = make_parser(prog)
    options = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    try:
        if options.command == "adduser":
            adduser(options)
        elif options.command == "genkey":
            genkey(options)
        else:
            run(serve(options), options.event_loop)
    except CommandError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return exc.status
    except (sqlite3.Error, OSError) as exc:
        # An operator's mistake at start-up (a corrupt store, a data dir that
        # is a file, a read-only or full disk): one line, not a traceback.
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    return 0
