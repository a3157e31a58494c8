"""The demo events: ``whoami`` and the ``message`` chat. Registered by a call."""

from __future__ import annotations

import time
from typing import Any

from ..errors import UnauthorizedError, refusal_data
from .sessions import AUTHENTICATED_ROOM, current_user

__all__ = ["register_whoami", "register_chat", "MAX_MESSAGE_LENGTH"]

MAX_MESSAGE_LENGTH = 2000


def register_whoami(sio: Any, namespace: str = "/") -> None:
    """``whoami`` (with ack): answers the socket's verified claims."""

    async def whoami(sid: str, *args: Any) -> dict[str, Any] | None:
        return await current_user(sio, sid, namespace)

    sio.on("whoami", whoami, namespace=namespace)


def register_chat(sio: Any, namespace: str = "/") -> None:
    """``message`` ``{"text"}``: broadcast to authenticated sockets with the
    sender's identity taken from the token, never from the payload."""

    async def message(sid: str, data: Any = None) -> dict[str, Any]:
        claims = await current_user(sio, sid, namespace)
        if claims is None:
            return {"ok": False, **refusal_data(UnauthorizedError())}
        text = data.get("text") if isinstance(data, dict) else None
        if (
            not isinstance(text, str)
            or not text.strip()
            or len(text) > MAX_MESSAGE_LENGTH
        ):
            return {"ok": False, "error": "bad_request"}
        sender = {"sub": claims["sub"], "email": claims.get("email", "")}
        payload = {"from": sender, "text": text, "ts": time.time()}
        await sio.emit("message", payload, room=AUTHENTICATED_ROOM, namespace=namespace)
        return {"ok": True}

    sio.on("message", message, namespace=namespace)
