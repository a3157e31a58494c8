"""A raw Socket.IO client over a WebSocket: a hostile client writes packets by hand."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tornado.websocket import WebSocketClientConnection, websocket_connect

PING, PONG = "2", "3"


class RawSocket:
    """Engine.IO 4 / Socket.IO 5 frames, written and read one by one."""

    def __init__(self, conn: WebSocketClientConnection) -> None:
        self.conn = conn

    @classmethod
    async def open(cls, port: int) -> RawSocket:
        conn = await websocket_connect(
            f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
        )
        opening = await conn.read_message()
        assert isinstance(opening, str) and opening.startswith("0{")
        return cls(conn)

    async def send(self, frame: str) -> None:
        await self.conn.write_message(frame)

    async def connect(self, auth: Any = None, timeout: float = 5.0) -> str:
        """Send CONNECT (with ``auth``) and return the server's answer frame."""
        await self.send("40" + (json.dumps(auth) if auth is not None else ""))
        return await self.read(timeout)

    async def emit(self, *data: Any, ack: int | None = None) -> None:
        await self.send("42" + ("" if ack is None else str(ack)) + json.dumps(data))

    async def call(self, *data: Any, ack: int = 1, timeout: float = 5.0) -> Any:
        """Emit with an ack id and return the ack's payload."""
        await self.emit(*data, ack=ack)
        frame = await self.read_until(f"43{ack}", timeout)
        return json.loads(frame[len(f"43{ack}") :])

    async def read(self, timeout: float = 5.0) -> str:
        """The next frame that is not a ping (pings are answered)."""

        async def next_frame() -> str:
            while True:
                frame = await self.conn.read_message()
                if frame is None:
                    return ""  # closed
                assert isinstance(frame, str)
                if frame == PING:
                    await self.send(PONG)
                    continue
                return frame

        return await asyncio.wait_for(next_frame(), timeout)

    async def read_until(self, prefix: str, timeout: float = 5.0) -> str:
        """Skip frames until one starts with ``prefix`` (bounded)."""

        async def find() -> str:
            while True:
                frame = await self.read(timeout)
                if frame.startswith(prefix) or frame == "":
                    return frame

        return await asyncio.wait_for(find(), timeout)

    def close(self) -> None:
        self.conn.close()
