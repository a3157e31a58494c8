"""The floor: a plain Tornado WebSocket server, no Engine.IO, no Socket.IO library.

Anything built on Tornado's WebSocket costs at least this per socket and per
message. It speaks only the few frames the official client needs over a
WebSocket (no long-polling, no upgrades), written by hand: the Engine.IO open
packet, a ping every 25 s for all sockets from one timer, Socket.IO CONNECT
with ``auth.token`` verified by PyJWT (HS256, ``JWT_SECRET``) and the claims
kept on the connection, and ``whoami`` with an ack answered with those claims:
one JSON message in, one JSON answer out, on an authenticated-looking socket.
``python bench/servers/floor.py --port P``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
from typing import Any

import jwt
import orjson  # the bench installs the speed extra, as this server uses
import tornado.ioloop
import tornado.web
import tornado.websocket


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


loads = orjson.loads

PING_SECONDS = 25.0
OPEN = (
    '0{"sid":"%s","upgrades":[],"pingInterval":25000,"pingTimeout":20000,'
    '"maxPayload":1000000}'
)
SOCKETS: set[FloorSocket] = set()


class FloorSocket(tornado.websocket.WebSocketHandler):
    claims: dict[str, Any] | None = None

    def initialize(self, secret: str) -> None:
        self.secret = secret

    def check_origin(self, origin: str) -> bool:
        return True  # the bench's Node client sends no browser Origin

    def open(self, *args: Any, **kwargs: Any) -> None:
        if self.get_query_argument("transport", "") != "websocket":
            self.close()
            return
        self.set_nodelay(True)
        SOCKETS.add(self)
        self.write_message(OPEN % secrets.token_urlsafe(15))

    def on_close(self) -> None:
        SOCKETS.discard(self)

    def on_message(self, message: str | bytes) -> None:
        if not isinstance(message, str) or message == "3":  # pong
            return
        if message.startswith("40"):
            self.connect(message[2:])
        elif message.startswith("42") and self.claims is not None:
            bracket = message.find("[")
            event = loads(message[bracket:])
            if event and event[0] == "whoami" and bracket > 2:
                self.write_message("43" + message[2:bracket] + dumps([self.claims]))
        elif message.startswith("41") or message == "1":
            self.close()

    def connect(self, auth_json: str) -> None:
        auth = loads(auth_json) if auth_json else {}
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            if not isinstance(token, str):
                raise jwt.InvalidTokenError("no token")
            self.claims = jwt.decode(token, self.secret, algorithms=["HS256"])
        except jwt.InvalidTokenError as exc:
            self.write_message("44" + dumps({"message": str(exc)}))
            return
        self.write_message('40{"sid":"' + secrets.token_urlsafe(15) + '"}')


def ping_all() -> None:
    for socket in list(SOCKETS):
        try:
            socket.write_message("2")
        except tornado.websocket.WebSocketClosedError:
            SOCKETS.discard(socket)


async def serve(port: int, secret: str) -> None:
    app = tornado.web.Application([(r"/socket.io/", FloorSocket, {"secret": secret})])
    server = app.listen(port, address="127.0.0.1")
    pinger = tornado.ioloop.PeriodicCallback(ping_all, PING_SECONDS * 1000)
    pinger.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    await stop.wait()
    pinger.stop()
    server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, os.environ["JWT_SECRET"]))
