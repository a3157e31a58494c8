"""The Tornado handler that serves ``/socket.io/``: python-engineio's, leaner and
with safer edges.

It does what python-engineio's Tornado handler (``socketio.get_tornado_handler``)
does, without its per-connection receive queue: each WebSocket frame goes
to the engine room's WebSocket driver (``engine_websocket.py``) as Tornado
reads it. python-engineio's handler also accepts
every WebSocket upgrade at the HTTP level and checks the ``Origin`` only once
the socket is open, so a refused cross-origin upgrade is answered ``101`` and
then left open with no Engine.IO session (and so no ping timeout) to close it.
It also turns on permessage-deflate, which costs about 150 KiB per connection
and lets a tiny frame inflate into a large message. This subclass:

- refuses a disallowed ``Origin`` before the upgrade (403), by the same rules
  as python-engineio's ``cors_allowed_origins``;
- closes the WebSocket whenever Engine.IO is done with it (also when the
  Engine.IO session is refused, e.g. past the per-address limit);
- answers a request for a session python-engineio closed but still lists
  with 400 "Invalid session" (python-engineio would fail it with a 500);
- caps a WebSocket message at the server's ``max_http_buffer_size`` (python-
  engineio checks it only after Tornado has read up to 10 MiB);
- leaves compression off unless asked for.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable
from typing import Any
from urllib.parse import urlsplit

import tornado.websocket

from .engine import CONNECTION_KEY, engine_for

__all__ = ["socketio_handler", "origin_allowed"]

log = logging.getLogger("tornado_socketio_jwt")
# Engine.IO 4 packet types a client sends: close, ping, pong, message,
# upgrade, noop (binary frames are messages).
ENGINEIO_FROM_CLIENTS = frozenset("123456")


def origin_allowed(allowed: Any, origin: str, host: str | None) -> bool:
    """Whether python-engineio's ``cors_allowed_origins`` setting admits ``origin``.

    ``None`` (the default) admits the server's own origin only; ``"*"`` any;
    a string or a list those origins. A callable is left to python-engineio,
    which calls it once the socket is open (and is then closed if refused).
    """
    if allowed is None:
        return host is not None and urlsplit(origin).netloc.lower() == host.lower()
    if allowed == "*":
        return True
    if isinstance(allowed, str):
        return origin == allowed
    if callable(allowed):
        return True  # it may want the WSGI environ: python-engineio asks it
    return "*" in allowed or origin in allowed


def socketio_handler(sio: Any, *, compression: bool = False) -> type[Any]:
    """The ``RequestHandler`` class for ``sio``'s ``/socket.io/`` route.

    :param compression: offer permessage-deflate to WebSocket clients; default
                        off (memory per connection, and decompression bombs).
    """
    engine = engine_for(sio)

    class SocketIOHandler(tornado.websocket.WebSocketHandler):
        # The Engine.IO session this WebSocket carries (set by the engine
        # room's WebSocket driver), and where its upgrade from polling is.
        engine_socket: Any = None
        upgrade_step: str | None = None
        feeds_engine_socket = True  # each frame goes to engine_socket

        def check_origin(self, origin: str) -> bool:
            host = self.request.headers.get("Host")
            allowed = engine.cors_allowed_origins
            return origin_allowed(allowed, origin, host)

        def get_compression_options(self) -> dict[str, Any] | None:
            return {} if compression else None

        @property
        def max_message_size(self) -> int:
            return engine.max_message_size

        async def open(self, *args: Any, **kwargs: Any) -> None:
            # Tornado leaves Nagle's algorithm on for WebSockets: a small frame
            # (an ack, a token_revoked kick) sent while the previous one is
            # unacknowledged waited for the client's delayed ACK, about 40 ms
            # on Linux. Engine.IO frames are small and each one is a message.
            self.set_nodelay(True)
            # python-socketio keeps the environ of a session's first request:
            # after an upgrade from polling its handler is a finished polling
            # request. From now on this WebSocket is the session's connection
            # (what close_session and shutdown close).
            upgraded = self.get_query_argument("sid", None)
            if upgraded:
                engine.set_connection(upgraded, self)
            # Tornado calls on_message only once open() has returned: the
            # session is attached (or refused) by then.
            try:
                await engine.handle_request(self)
            except Exception as exc:
                log.debug("websocket closed: %s", type(exc).__name__)
            if self.engine_socket is None:  # refused, or an invalid request
                self.close()

        async def get(self, *args: Any, **kwargs: Any) -> None:
            sid = self.get_query_argument("sid", None)
            engine.reap_if_closed(sid)
            upgrade = self.request.headers.get("Upgrade", "").lower() == "websocket"
            if not upgrade:
                await engine.handle_request(self)
                return
            if sid is None:
                # A new session refused (e.g. past the per-address limit) is
                # answered before the upgrade, as python-engineio answers a
                # polling one (once upgraded, it could only be closed).
                refusal = engine.refusal({CONNECTION_KEY: self})
                if refusal is not None:
                    self.set_status(401)
                    self.set_header("Content-Type", "application/json")
                    self.finish(json.dumps(refusal))
                    return
            await super().get(*args, **kwargs)

        async def post(self, *args: Any, **kwargs: Any) -> None:
            engine.reap_if_closed(self.get_query_argument("sid", None))
            await engine.handle_request(self)

        async def options(self, *args: Any, **kwargs: Any) -> None:
            await engine.handle_request(self)

        def on_message(self, message: str | bytes) -> Awaitable[None] | None:
            # python-engineio logs a traceback for each frame whose Engine.IO
            # packet type a client never sends (or raises, for an empty one).
            if not message or (
                isinstance(message, str) and message[0] not in ENGINEIO_FROM_CLIENTS
            ):
                log.debug("websocket closed: not an Engine.IO client packet")
                self.close()
                return None
            # Tornado reads the next frame once what this returns is done: a
            # packet handled without waiting costs no task at all.
            return engine.websocket_message_now(self, message)

        def on_close(self) -> None:
            engine.websocket_closed(self)

    return SocketIOHandler
