"""Baseline: bare python-socketio on Tornado, no authentication.

``whoami`` answers a fixed dict shaped like the bench's token claims, so the
ack carries as many bytes as the authenticated servers' answers.
``python bench/servers/bare.py --port P [--no-deflate]``
"""

from __future__ import annotations

import asyncio
from typing import Any

import socketio
from common import parse_args, serve  # type: ignore[import-not-found]  # a script

CLAIMS = {
    "email": "user@example.com",
    "first_name": "Bench",
    "last_name": "User",
    "auth_time": 1700000000,
    "sub": "1",
    "iat": 1700000000,
    "exp": 1700018000,
    "jti": "0" * 32,
    "iss": "tornado-socketio-jwt",
}


def make_server() -> Any:
    sio = socketio.AsyncServer(async_mode="tornado")

    @sio.event
    async def whoami(sid: str, *args: Any) -> dict[str, Any]:
        return CLAIMS

    return sio


if __name__ == "__main__":
    args = parse_args(__doc__.splitlines()[0])
    asyncio.run(serve(make_server(), args.port, args.deflate))
