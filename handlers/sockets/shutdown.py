"""Telling connected sockets why they are being disconnected when the server stops."""

from __future__ import annotations

import logging
from typing import Any

from .engine import engine_for

__all__ = ["disconnect_all", "SHUTDOWN_EVENT", "SHUTDOWN_MESSAGE"]

log = logging.getLogger("tornado_socketio_jwt")

SHUTDOWN_EVENT = "server_shutdown"
SHUTDOWN_MESSAGE = "The server is shutting down; reconnect in a moment."
GOING_AWAY = 1001  # RFC 6455
FLUSH_SECONDS = 0.2


async def disconnect_all(sio: Any) -> int:
    """Emit ``server_shutdown`` ``{"message"}`` on every namespace, then close
    every WebSocket.

    A WebSocket is closed with code 1001 ("going away"): clients see a clean
    close, not a dropped connection (1006), and reconnect by themselves, to
    this server once it is back or to another behind the same proxy. (A
    Socket.IO ``DISCONNECT`` would tell them not to reconnect, and Engine.IO's
    own close packet stops python-socketio's client from reconnecting.) A
    polling client gets the event in its pending poll, if any, and then finds
    the server gone; Engine.IO's close would wait for a next poll that may
    never come.

    :return: how many WebSockets were closed.
    """
    payload = {"message": SHUTDOWN_MESSAGE}
    for namespace in list(sio.manager.get_namespaces()):
        await sio.emit(SHUTDOWN_EVENT, payload, namespace=namespace)
    await sio.sleep(FLUSH_SECONDS)  # let the event leave before the close
    closed = 0
    for _eio_sid, handler in engine_for(sio).connections():
        if getattr(handler, "ws_connection", None) is not None:
            handler.close(GOING_AWAY, "server shutdown")
            closed += 1
    log.info("closed %d websockets for shutdown", closed)
    return closed
