"""The checkout's entry point: ``python server.py [COMMAND] [options]``.

The command line lives in the package (``tornado_socketio_jwt.cli``), installed
as ``tornado-socketio-jwt`` and ``python -m tornado_socketio_jwt``; see ``--help``.
"""

from __future__ import annotations

import sys

from tornado_socketio_jwt.cli import main, make_app  # noqa: F401  (make_app: tests)

if __name__ == "__main__":
    sys.exit(main(prog="server.py"))
