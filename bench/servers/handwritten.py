"""Baseline: the hand-written stack, tornado + python-socketio + PyJWT.

What a Python user writes by hand: verify ``auth["token"]`` with PyJWT in
``connect`` (HS256 pinned, every other default kept), keep the claims in the
Socket.IO session, answer them on ``whoami``. The secret is ``JWT_SECRET``.
``python bench/servers/handwritten.py --port P [--no-deflate]``
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import jwt
import socketio
from common import parse_args, serve  # type: ignore[import-not-found]  # a script


def make_server(secret: str) -> Any:
    sio = socketio.AsyncServer(async_mode="tornado")

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Any) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str):
            raise socketio.exceptions.ConnectionRefusedError("no token")
        try:
            claims = jwt.decode(token, secret, algorithms=["HS256"])
        except jwt.InvalidTokenError as exc:
            raise socketio.exceptions.ConnectionRefusedError(str(exc)) from exc
        await sio.save_session(sid, {"claims": claims})

    @sio.event
    async def whoami(sid: str, *args: Any) -> dict[str, Any]:
        session = await sio.get_session(sid)
        claims: dict[str, Any] = session["claims"]
        return claims

    return sio


if __name__ == "__main__":
    args = parse_args(__doc__.splitlines()[0])
    asyncio.run(serve(make_server(os.environ["JWT_SECRET"]), args.port, args.deflate))
