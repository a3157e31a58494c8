"""The packet screen: raw Socket.IO packets checked before python-socketio decodes them.

python-socketio decodes every Engine.IO message in full (JSON included) before
it asks whether the sender may send it, buffers binary attachments for as many
as a packet's header announces, and lets a decoding error escape to
python-engineio, which logs a traceback for each one. :class:`PacketScreen`
is registered as Engine.IO's ``message`` handler (``eio.on("message", ...)``)
in front of python-socketio's own and, reading only the packet's header:

- refuses a packet type a client never sends (CONNECT_ERROR) or does not exist,
  and a header that announces more than ``max_attachments`` attachments: the
  client's Engine.IO session is closed;
- drops, without decoding its payload, an event or ack on a namespace the
  sender is not connected to, and closes a WebSocket session when it is
  connected to no namespace at all (Node's socket.io closes on that "invalid
  state" too):
  a flood of big events from sessions that never sent CONNECT then costs a
  handshake per event, not a free read of up to a megabyte;
- turns a packet python-socketio cannot decode into one debug line and a closed
  session, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from .transport import close_session

__all__ = ["PacketScreen", "DEFAULT_MAX_ATTACHMENTS"]

log = logging.getLogger("tornado_socketio_jwt")

DEFAULT_MAX_ATTACHMENTS = 10
CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, BINARY_ACK = "0123456"
AFTER_CONNECT = frozenset((EVENT, ACK, BINARY_EVENT, BINARY_ACK))
FROM_CLIENTS = frozenset((CONNECT, DISCONNECT)) | AFTER_CONNECT
# What python-socketio's decoder raises on a malformed packet (JSON included).
MALFORMED = (ValueError, RecursionError)
Handler = Callable[[str, Any], Awaitable[Any]]
DROP = "drop"


def read_header(packet: str) -> tuple[str, int, str]:
    """``(type, attachments, namespace)`` of an encoded packet, as python-socketio's
    ``Packet.decode`` reads them; the attachment count is -1 when unreadable."""
    kind, rest = packet[:1], packet[1:]
    attachments = 0
    if kind in (BINARY_EVENT, BINARY_ACK):
        count, dash, rest = rest.partition("-")
        attachments = int(count) if dash and count.isdigit() and len(count) < 11 else -1
    namespace = "/"
    if rest.startswith("/"):
        namespace = rest.partition(",")[0].partition("?")[0]
    return kind, attachments, namespace


class PacketScreen:
    """Engine.IO's ``message`` handler for one server, in front of python-socketio's.

    :param max_attachments: the most binary attachments one packet may carry.
    """

    def __init__(self, sio: Any, max_attachments: int = DEFAULT_MAX_ATTACHMENTS):
        if not isinstance(max_attachments, int) or max_attachments < 0:
            raise ValueError("max_attachments must be a whole number >= 0")
        self.sio = sio
        self.max_attachments = max_attachments
        self._handle: Handler = sio.eio.handlers["message"]  # python-socketio's

    def install(self) -> None:
        """Take python-socketio's place as Engine.IO's ``message`` handler."""
        self.sio.eio.on("message", self.handle_message)

    async def handle_message(self, eio_sid: str, data: Any) -> None:
        """Screen one Engine.IO message, then hand it to python-socketio."""
        if isinstance(data, str):
            refusal = self._refusal(eio_sid, data)
            if refusal == DROP:
                log.debug("packet dropped: namespace not connected")
                return
            if refusal:
                await self._close(eio_sid, refusal)
                return
        try:
            await self._handle(eio_sid, data)
        except MALFORMED as exc:
            await self._close(eio_sid, f"malformed packet ({type(exc).__name__})")

    def _refusal(self, eio_sid: str, data: str) -> str | None:
        kind, attachments, namespace = read_header(data)
        if kind not in FROM_CLIENTS:
            return "unexpected packet type"
        if attachments < 0 or attachments > self.max_attachments:
            return "too many attachments"
        if kind in AFTER_CONNECT:
            manager = self.sio.manager
            sid = manager.sid_from_eio_sid(eio_sid, namespace)
            if sid is None or not manager.is_connected(sid, namespace):
                if self._connected_anywhere(eio_sid) or not self._websocket(eio_sid):
                    return DROP
                return "packet before CONNECT"
        return None

    def _websocket(self, eio_sid: str) -> bool:
        # Over polling each POST is a bounded HTTP request, and closing the
        # session under a POST still on its way makes python-engineio fail it.
        socket = self.sio.eio.sockets.get(eio_sid)
        return bool(getattr(socket, "upgraded", False))

    def _connected_anywhere(self, eio_sid: str) -> bool:
        manager = self.sio.manager
        for namespace in manager.get_namespaces():
            sid = manager.sid_from_eio_sid(eio_sid, namespace)
            if sid is not None and manager.is_connected(sid, namespace):
                return True
        return False

    async def _close(self, eio_sid: str, why: str) -> None:
        log.debug("client disconnected: %s", why)
        await close_session(self.sio, eio_sid)
