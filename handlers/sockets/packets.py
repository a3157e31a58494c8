"""The packet screen: raw Socket.IO packets checked before python-socketio decodes them.

python-socketio decodes every Engine.IO message in full (JSON included) before
it asks whether the sender may send it, buffers binary attachments for as many
as a packet's header announces, and lets a decoding error escape to
python-engineio, which logs a traceback for each one. :class:`PacketScreen`
reads each message ahead of python-socketio (the engine room,
:mod:`.engine`, calls :meth:`PacketScreen.screen`) and, from the header only:

- refuses a packet type a client never sends (CONNECT_ERROR) or does not exist,
  a header that announces more than ``max_attachments`` attachments, binary
  data no packet is waiting for, and a binary packet from a socket not (yet)
  authenticated on its namespace: the client's Engine.IO session is closed;
- drops, without decoding its payload, an event or ack on a namespace the
  sender is not connected to, and closes a WebSocket session when it is
  connected to no namespace at all (Node's socket.io closes on that "invalid
  state" too):
  a flood of big events from sessions that never sent CONNECT then costs a
  handshake per event, not a free read of up to a megabyte;
- closes a session whose incomplete binary packets would take its address's
  or its user's buffered bytes past ``max_buffered_bytes`` (:mod:`.buffered`).

A packet python-socketio cannot decode is turned into one debug line and a
closed session by the engine room.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from ..config import SocketLimits
from ..credentials import remote_address
from ..live import LiveSockets
from .buffered import BufferedBinary
from .engine import DROP, Engine

__all__ = ["PacketScreen", "read_header"]

log = logging.getLogger("tornado_socketio_jwt")

CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, BINARY_ACK = "0123456"
BINARY = frozenset((BINARY_EVENT, BINARY_ACK))
AFTER_CONNECT = frozenset((EVENT, ACK)) | BINARY
SOCKETIO_FROM_CLIENTS = frozenset((CONNECT, DISCONNECT)) | AFTER_CONNECT
OVER_BUDGET = "too many bytes of binary attachments buffered"


def read_header(packet: str) -> tuple[str, int, str]:
    """``(type, attachments, namespace)`` of an encoded packet, as python-socketio's
    ``Packet.decode`` reads them; the attachment count is -1 when unreadable."""
    kind, rest = packet[:1], packet[1:]
    attachments = 0
    if kind in BINARY:
        count, dash, rest = rest.partition("-")
        attachments = (
            int(count)
            if dash and count.isascii() and count.isdigit() and len(count) < 11
            else -1
        )
    namespace = "/"
    if rest.startswith("/"):
        namespace = rest.partition(",")[0].partition("?")[0]
    return kind, attachments, namespace


class PacketScreen:
    """Reads each Engine.IO message of one server ahead of python-socketio.

    :param engine: the server's engine room.
    :param live: the authenticated sockets (who may start a binary packet,
                 and whose budget it counts against).
    :param limits: ``max_attachments`` (per packet) and ``max_buffered_bytes``
                   (per address and per user), checked where they are made.
    :param exempt: namespaces that authenticate their own sockets.
    """

    def __init__(
        self,
        engine: Engine,
        live: LiveSockets,
        limits: SocketLimits,
        exempt: Iterable[str] = (),
    ):
        self.engine = engine
        self.live = live
        self.max_attachments = limits.max_attachments
        self.exempt = frozenset(exempt)
        self.buffered = BufferedBinary(limits.max_buffered_bytes)

    def install(self) -> None:
        """Screen every message of the server from now on."""
        self.engine.screen = self.screen
        self.engine.listeners.append(self)

    def session_refusal(self, environ: dict[str, Any]) -> None:
        return None

    def session_opened(self, eio_sid: str, environ: dict[str, Any]) -> None:
        return None

    def session_closed(self, eio_sid: str) -> None:
        self.buffered.release(eio_sid)

    def screen(self, eio_sid: str, data: Any) -> str | None:
        """``None`` (deliver), :data:`DROP`, or why the session must be closed."""
        awaiting = self.buffered.awaiting(eio_sid)
        if self.buffered.skipping(eio_sid) and isinstance(data, str):
            # The dropped packet's attachments never came.
            self.buffered.release(eio_sid)
        elif awaiting and not self.engine.holds_binary_packet(eio_sid):
            # What python-socketio holds decides what this message is: it drops
            # the packet when the server disconnects the socket (a kick, a
            # refusal, the app's sio.disconnect); the message is then a packet
            # of its own, and is screened as one.
            self.buffered.release(eio_sid)
        if self.buffered.awaiting(eio_sid):
            within, delivered = self.buffered.attachment(eio_sid, len(data))
            if not within:
                return OVER_BUDGET
            return None if delivered else DROP
        if not isinstance(data, str):
            return "binary data with no packet awaiting it"
        kind, attachments, namespace = read_header(data)
        if kind not in SOCKETIO_FROM_CLIENTS:
            return "unexpected packet type"
        if attachments < 0 or attachments > self.max_attachments:
            return "too many attachments"
        refusal = self._state_refusal(eio_sid, kind, namespace)
        if kind in BINARY and refusal in (None, DROP):
            return self._start_binary(eio_sid, data, attachments, namespace, refusal)
        return refusal

    def _state_refusal(self, eio_sid: str, kind: str, namespace: str) -> str | None:
        if kind not in AFTER_CONNECT or self.engine.socket_connected(
            eio_sid, namespace
        ):
            return None
        # Over polling each POST is a bounded HTTP request: drop rather than close.
        if self.engine.connected_anywhere(eio_sid) or not self.engine.is_websocket(
            eio_sid
        ):
            return DROP
        return "packet before CONNECT"

    def _start_binary(
        self,
        eio_sid: str,
        header: str,
        attachments: int,
        namespace: str,
        refusal: str | None,
    ) -> str | None:
        if refusal == DROP and attachments == 0:
            return DROP  # nothing follows it
        user: str | None = None
        if refusal is None and namespace not in self.exempt:
            sid = self.engine.sid_of(eio_sid, namespace)
            claims = self.live.claims(sid, namespace) if sid is not None else None
            if claims is None:
                return "binary packet before authentication"
            user = str(claims.get("sub"))
        address = remote_address(self.engine.environ(eio_sid) or {}) or ""
        delivered = refusal is None
        if not self.buffered.start(
            eio_sid, attachments, len(header), address, user, delivered
        ):
            return OVER_BUDGET
        return refusal
