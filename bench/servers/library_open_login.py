"""This server with its login limits raised: the login-storm target.

``server.py`` answers 429 after five failed logins per user and per address
(the contract), so a storm from 127.0.0.1 mostly measures the limiter. This
builds the very same app (the CLI's ``make_app``, the standalone configuration)
with ``login_max_failures`` raised, so that every wrong password runs argon2.
Prints the demo user's password and ``listening on`` like server.py.
``JWT_SECRET=... python bench/servers/library_open_login.py --port P --data-dir D``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from pathlib import Path

import tornado.log

from tornado_socketio_jwt import AuthSettings, SocketLimits, SQLiteUserStore
from tornado_socketio_jwt.cli.loop import run
from tornado_socketio_jwt.cli.serve import ensure_demo_user, make_app
from tornado_socketio_jwt.cli.settings import REVOCATIONS_FILE, USERS_FILE
from tornado_socketio_jwt.storage.revocations import SQLiteRevocationStore

MAX_FAILURES = 10**9


async def main(port: int, data_dir: Path) -> None:
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    # All the load comes from 127.0.0.1: no socket limits, as server.py is run.
    settings = AuthSettings(
        secret=os.environ["JWT_SECRET"],
        login_max_failures=MAX_FAILURES,
        events=("whoami", "message"),
        limits=SocketLimits(None, None),
    )
    users = SQLiteUserStore(str(data_dir / USERS_FILE))
    ensure_demo_user(users)
    revocations = SQLiteRevocationStore(str(data_dir / REVOCATIONS_FILE))
    app, sio = make_app(settings, users, None, revocations)
    http = app.listen(port, address="127.0.0.1")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    await stop.wait()
    http.stop()
    await sio.shutdown()
    users.close()
    revocations.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args()
    tornado.log.enable_pretty_logging()  # as server.py's option parsing does
    run(main(args.port, args.data_dir))  # uvloop when installed, as server.py
