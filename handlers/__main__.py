"""``python -m tornado_socketio_jwt``: the command line."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m tornado_socketio_jwt"))
