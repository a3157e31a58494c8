"""The engine room's WebSocket driver: python-engineio's protocol, written
straight to Tornado's WebSocket.

python-engineio's Tornado driver keeps, for each WebSocket and for its whole
life, a reader coroutine that waits on a receive queue with a timeout (a
task and a timer per message), a writer task draining a send queue (a second
``asyncio.Queue``), a task sleeping until the next ping, and the chain of
coroutines of the request that opened it. Here python-engineio's
``AsyncSocket`` still decides everything (the packets, the ping timeout,
``close``, the upgrade checks before this driver is called); only the
transport is leaner:

- Tornado's ``on_message`` decodes a frame and hands it to
  ``AsyncSocket.receive`` directly (Tornado reads a connection's next frame
  only once that returns, so a socket's packets stay in order);
- ``send`` writes the encoded packet at once (no queue, no writer task);
- pings come from one timer wheel per server (:class:`Pinger`), not from one
  sleeping task per socket;
- the request that opened the WebSocket returns as soon as the socket is
  attached; python-socketio keeps its environ, whose input is a shared class.

A polling session keeps python-engineio's queue until it upgrades: the probe
``PING``/``PONG`` and the ``UPGRADE`` packet are checked here as python-
engineio checks them, and whatever was queued meanwhile is written once the
WebSocket takes over.
"""

from __future__ import annotations

import asyncio
import logging
import math
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import tornado.websocket
from engineio import async_socket, exceptions
from engineio import packet as eio_packet
from engineio.async_drivers.tornado import WebSocket as PYTHON_ENGINEIO_WEBSOCKET

__all__ = [
    "LeanSocket",
    "Pinger",
    "DirectWebSocket",
    "translate_request",
    "install",
    "CONNECTION_KEY",
]

log = logging.getLogger("tornado_socketio_jwt")
# python-engineio's Tornado driver keeps the request handler here.
CONNECTION_KEY = "tornado.handler"
# A ping is sent at most this much later than python-engineio would send it.
PING_RESOLUTION = 0.25
PROBE, UPGRADE = "probe", "upgrade"


class Payload:
    """A request body as python-engineio reads it (``await read(length)``).

    python-engineio's Tornado driver defines this class anew inside every
    ``translate_request`` call: a class object per request, kept in the
    session's environ for the session's life.
    """

    __slots__ = ("payload",)

    def __init__(self, payload: bytes | None) -> None:
        self.payload = payload or b""

    async def read(self, length: int | None = None) -> bytes:
        if length is None:
            data, self.payload = self.payload, b""
        else:
            data, self.payload = self.payload[:length], self.payload[length:]
        return data


NO_BODY = Payload(b"")  # reading it changes nothing: one for every GET
# Header name -> environ key, so that sockets share the key strings; bounded,
# as header names are the client's to choose.
ENVIRON_KEYS: dict[str, str] = {}
ENVIRON_KEYS_MAX = 512


def environ_key(header: str) -> str:
    key = ENVIRON_KEYS.get(header)
    if key is None:
        name = header.upper()
        if name == "CONTENT-TYPE" or name == "CONTENT-LENGTH":
            key = name.replace("-", "_")
        else:
            key = "HTTP_" + name.replace("-", "_")
        if len(ENVIRON_KEYS) < ENVIRON_KEYS_MAX:
            ENVIRON_KEYS[header] = key = sys.intern(key)
    return key


def translate_request(handler: Any) -> dict[str, Any]:
    """python-engineio's Tornado ``translate_request``, field for field, with
    the body reader a shared class and the header keys shared strings."""
    request = handler.request
    full_uri = request.path + ("?" + request.query if request.query else "")
    environ: dict[str, Any] = {
        "wsgi.input": Payload(request.body) if request.body else NO_BODY,
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.async": True,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "SERVER_SOFTWARE": "aiohttp",
        "REQUEST_METHOD": request.method,
        "QUERY_STRING": request.query or "",
        "RAW_URI": full_uri,
        "SERVER_PROTOCOL": f"HTTP/{request.version}",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "0",
        "SERVER_NAME": "aiohttp",
        "SERVER_PORT": "0",
        CONNECTION_KEY: handler,
    }
    for name, value in request.headers.items():
        environ[environ_key(name)] = value
    environ["wsgi.url_scheme"] = environ.get("HTTP_X_FORWARDED_PROTO", "http")
    environ["PATH_INFO"] = urlsplit(request.path).path
    environ["SCRIPT_NAME"] = ""
    return environ


def write_frame(connection: Any, data: str | bytes) -> None:
    """Write ``data`` as one frame to ``connection`` (a Tornado WebSocket);
    a connection that is gone, or goes while the frame waits, drops it
    quietly (Tornado's ``on_close`` ends the session)."""
    try:
        written = connection.write_message(data, binary=isinstance(data, bytes))
    except tornado.websocket.WebSocketClosedError:
        return
    # The future fails only if the stream closes before this frame is out. A
    # frame the kernel took at once (the stream writes nothing more and is
    # open) cannot fail: no callback (a scheduled call per frame otherwise).
    protocol = connection.ws_connection
    stream = getattr(protocol, "stream", None)
    if stream is None or stream.writing() or stream.closed():
        written.add_done_callback(retrieve_failure)


def retrieve_failure(written: asyncio.Future[None]) -> None:
    # A write the peer's reset interrupted fails the future Tornado returns
    # (WebSocketClosedError); never retrieved, asyncio would log it with a
    # traceback when the future is collected -- one per reset a client sends.
    if not written.cancelled():
        written.exception()


class Pinger:
    """One timer wheel for a server's pings: sockets due in the same
    ``PING_RESOLUTION`` slot share one timer."""

    def __init__(self) -> None:
        self.due: dict[int, list[LeanSocket]] = {}

    def add(self, socket: LeanSocket, interval: float) -> None:
        loop = asyncio.get_running_loop()
        slot = math.ceil((loop.time() + interval) / PING_RESOLUTION)
        bucket = self.due.get(slot)
        if bucket is None:
            self.due[slot] = bucket = []
            loop.call_at(slot * PING_RESOLUTION, self._fire, slot)
        bucket.append(socket)

    def _fire(self, slot: int) -> None:
        for socket in self.due.pop(slot, ()):
            socket.ping()


class DirectQueue:
    """What stands in for a WebSocket session's send queue once it is direct:
    anything still put on it is written at once, and there is never anything
    to wait for."""

    __slots__ = ("socket",)

    def __init__(self, socket: LeanSocket) -> None:
        self.socket = socket

    def put_nowait(self, pkt: Any) -> None:
        if pkt is not None:
            self.socket.write(pkt)

    async def put(self, pkt: Any) -> None:
        self.put_nowait(pkt)

    async def join(self) -> None:
        return None

    def empty(self) -> bool:
        return True

    def qsize(self) -> int:
        return 0

    def task_done(self) -> None:
        return None

    def get_nowait(self) -> Any:
        raise asyncio.QueueEmpty


class LeanSocket(async_socket.AsyncSocket):  # type: ignore[misc]
    """python-engineio's ``AsyncSocket``; once its WebSocket is attached,
    packets are written at once, and its pings come from the :class:`Pinger`."""

    connection: Any = None  # the Tornado WebSocket, once attached
    pinger: Pinger | None = None
    # python-engineio's (untyped) attributes this class uses.
    last_ping: float | None
    queue: Any

    async def send(self, pkt: Any) -> None:
        if self.connection is None:
            await super().send(pkt)
        elif await self.check_ping_timeout():
            self.write(pkt)

    def write(self, pkt: Any) -> None:
        """Write one packet to the attached WebSocket (gone: dropped; Tornado's
        ``on_close`` ends the session)."""
        write_frame(self.connection, pkt.encode())

    def schedule_ping(self) -> None:
        # python-engineio: only once the previous ping was answered.
        if self.pinger is None:
            super().schedule_ping()
        elif self.last_ping:
            self.last_ping = None
            self.pinger.add(self, self.server.ping_interval)

    def ping(self) -> None:
        """python-engineio's ``_send_ping``, once the interval has passed."""
        if self.closing or self.closed:
            return
        self.last_ping = time.time()
        pkt = eio_packet.Packet(eio_packet.PING)
        if self.connection is not None:
            self.write(pkt)
        else:
            self.queue.put_nowait(pkt)

    def attach(self, connection: Any) -> None:
        """From now on ``connection`` (a Tornado WebSocket) is the transport:
        what python-engineio queued meanwhile is written first."""
        queued = []
        while not self.queue.empty():
            pkt = self.queue.get_nowait()
            self.queue.task_done()
            if pkt is not None:
                queued.append(pkt)
        self.connection = connection
        self.queue = DirectQueue(self)
        for pkt in queued:
            self.write(pkt)

    async def close(
        self, wait: bool = True, abort: bool = False, reason: Any = None
    ) -> None:
        await super().close(wait=wait, abort=abort, reason=reason)
        if self.connection is not None and self.closed:
            self.connection.close()
            if self.server.sockets.get(self.sid) is self:
                del self.server.sockets[self.sid]

    async def feed(self, connection: Any, message: str | bytes) -> None:
        """One frame from ``connection``: the upgrade's packets, then any packet."""
        pkt = eio_packet.Packet(encoded_packet=message)  # raises on a bad frame
        if self.connection is not connection:
            self._upgrade_step(connection, pkt)
            return
        try:
            await self.receive(pkt)
        except exceptions.UnknownPacketError:
            pass
        except exceptions.SocketIsClosedError:
            connection.close()
        except Exception:  # as python-engineio: logged, the socket kept
            self.server.logger.exception("Unknown receive error")

    def _upgrade_step(self, connection: Any, pkt: Any) -> None:
        # python-engineio's _websocket_handler, for a polling session.
        step = getattr(connection, "upgrade_step", None)
        if step == PROBE and pkt.packet_type == eio_packet.PING and pkt.data == "probe":
            write_frame(
                connection, eio_packet.Packet(eio_packet.PONG, "probe").encode()
            )
            self.queue.put_nowait(eio_packet.Packet(eio_packet.NOOP))  # ends the poll
            connection.upgrade_step = UPGRADE
        elif step == UPGRADE and pkt.packet_type == eio_packet.UPGRADE:
            self.upgraded, self.upgrading = True, False
            connection.upgrade_step = None
            self.attach(connection)
        else:
            log.debug("websocket upgrade failed: unexpected %s", step or "packet")
            self.upgrading = False
            connection.upgrade_step = None
            connection.close()

    def transport_closed(self, connection: Any) -> Any:
        """Tornado closed ``connection``: the coroutine that ends the session,
        or ``None`` (it was an upgrade that never finished)."""
        if self.connection is not connection:
            if getattr(connection, "upgrade_step", None) is not None:
                self.upgrading = False
            return None
        if self.closing or self.closed:
            return None
        return self.close(
            wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE
        )


class DirectWebSocket:
    """python-engineio's ``websocket`` driver entry: attaches the socket to
    the Tornado WebSocket and returns (python-engineio's own awaits the
    connection's end)."""

    def __init__(self, handler: Any, server: Any) -> None:
        # python-engineio passes the socket's bound _websocket_handler.
        self.handler, self.server = handler, server
        self.socket: Any = handler.__self__

    async def __call__(self, environ: dict[str, Any]) -> None:
        socket, connection = self.socket, environ[CONNECTION_KEY]
        if not getattr(connection, "feeds_engine_socket", False):
            # A host mounted python-engineio's own Tornado handler: its frames
            # go to its receive queue, read by python-engineio's own driver.
            await PYTHON_ENGINEIO_WEBSOCKET(self.handler, self.server)(environ)
            return
        if type(socket) is async_socket.AsyncSocket:  # not made lean at connect
            socket.__class__ = LeanSocket
        connection.engine_socket = socket
        if socket.connected:  # a polling session upgrading
            socket.upgrading = True
            connection.upgrade_step = PROBE
        else:
            socket.connected = socket.upgraded = True
            socket.attach(connection)


def install(eio: Any) -> Pinger:
    """Make ``eio`` (python-engineio's Tornado mode) use this driver: its own
    copy of the driver table, so that other servers keep theirs."""
    eio._async = dict(
        eio._async, websocket=DirectWebSocket, translate_request=translate_request
    )
    return Pinger()


def lean(socket: Any, pinger: Pinger) -> None:
    """Make a new python-engineio socket a :class:`LeanSocket` (before its
    first ping is scheduled)."""
    if type(socket) is async_socket.AsyncSocket:
        socket.__class__ = LeanSocket
        socket.pinger = pinger
