"""The hold a restore from a shared buffer puts on a socket's live events
(``Engine.hold``/``release``, around python-socketio's pub/sub ``_handle_emit``):
what the socket would get is held back, in order, with its offset; nothing
else is, and after the release events flow again."""

from __future__ import annotations

from typing import Any

import pytest
import socketio
from engineio.async_socket import AsyncSocket
from socketio.async_pubsub_manager import AsyncPubSubManager

from tornado_socketio_jwt.sockets.engine import SHARED_HOST_ID, engine_for, packet_json


class _NoBroker(AsyncPubSubManager):
    async def _publish(self, data: Any) -> None:
        pass


class _SharedHooks:
    """Recovery's side, reduced to what the hold needs: shared mode."""

    shared = True

    async def before_connect(self, eio_sid: str, namespace: str, auth: object) -> None:
        return None

    def after_connect(self, eio_sid: str, namespace: str) -> None:
        pass

    def connect_ack(self, eio_sid: str, namespace: str, sid: str) -> None:
        return None

    def emitted(self, *args: Any) -> None:
        return None

    async def publish_kept(self, *args: Any) -> bool:
        return False

    def transport_ended(self, eio_sid: str, reason: object) -> None:
        pass


async def _socket_in(sio: Any, eio_sid: str, room: str) -> str:
    sio.eio.sockets[eio_sid] = AsyncSocket(sio.eio, eio_sid)
    sid: str = await sio.manager.pre_connect(eio_sid, "/")
    sio.manager.basic_enter_room(sid, "/", room)
    return sid


def _sent(sio: Any, eio_sid: str) -> int:
    return int(sio.eio.sockets[eio_sid].queue.qsize())


def _message(sio: Any, room: Any, offset: str, skip: Any = None) -> dict[str, Any]:
    text = engine_for(sio).pubsub_message("m", [{"o": offset}, offset], "/", room, skip)
    message: dict[str, Any] = packet_json(sio).loads(text)
    assert message["host_id"] == SHARED_HOST_ID
    return message


@pytest.mark.gen_test
async def test_a_held_socket_gets_its_events_only_at_the_release_in_order() -> None:
    sio = socketio.AsyncServer(async_mode="tornado", client_manager=_NoBroker())
    engine = engine_for(sio)
    engine.install_recovery(_SharedHooks())
    restoring = await _socket_in(sio, "e1", "lobby")
    other = await _socket_in(sio, "e2", "lobby")
    manager = sio.manager
    engine.hold(restoring, "/", ["chat"])  # restored into "chat", not yet joined

    await manager._handle_emit(_message(sio, "chat", "1-0"))
    await manager._handle_emit(_message(sio, "lobby", "2-0"))
    await manager._handle_emit(_message(sio, None, "3-0"))
    await manager._handle_emit(_message(sio, "elsewhere", "4-0"))
    await manager._handle_emit(_message(sio, "chat", "5-0", skip=restoring))
    await manager._handle_emit(_message(sio, restoring, "6-0"))

    assert _sent(sio, "e1") == 0
    assert _sent(sio, "e2") == 2  # lobby and everyone: the others are not held
    held = engine.release(restoring, "/")
    assert [event.offset for event in held] == ["1-0", "2-0", "3-0", "6-0"]
    assert held[0].packet == ["m", {"o": "1-0"}, "1-0"]
    assert [event.rooms for event in held] == [
        frozenset({"chat"}),
        frozenset({"lobby"}),
        None,
        frozenset({restoring}),
    ]

    await manager._handle_emit(_message(sio, "lobby", "7-0"))
    assert _sent(sio, "e1") == 1 and _sent(sio, "e2") == 3
    assert other != restoring


@pytest.mark.gen_test
async def test_what_was_replayed_and_reaches_the_subscriber_later_is_dropped() -> None:
    """The subscriber lags behind Redis: events the socket got from the buffer
    may still arrive live after the release; they are dropped for it (not for
    the others) until a newer one arrives; one it was not written (sent to a
    room it joined while being restored) still reaches it, unless it predates
    its admission."""
    sio = socketio.AsyncServer(async_mode="tornado", client_manager=_NoBroker())
    engine = engine_for(sio)
    engine.install_recovery(_SharedHooks())
    restoring = await _socket_in(sio, "e1", "lobby")
    await _socket_in(sio, "e2", "lobby")
    manager = sio.manager
    engine.hold(restoring, "/", ["lobby"])
    written = ["10-1", "10-2"]
    assert engine.release(restoring, "/", "10-2", written, admitted_at="9-5") == []

    await manager._handle_emit(_message(sio, "lobby", "10-1"))
    await manager._handle_emit(_message(sio, "lobby", "10-2"))
    assert (_sent(sio, "e1"), _sent(sio, "e2")) == (0, 2)
    await manager._handle_emit(_message(sio, "lobby", "9-4"))  # before its admission
    assert (_sent(sio, "e1"), _sent(sio, "e2")) == (0, 3)
    await manager._handle_emit(_message(sio, "lobby", "9-9"))  # not written to it
    assert (_sent(sio, "e1"), _sent(sio, "e2")) == (1, 4)
    await manager._handle_emit(_message(sio, "lobby", "10-3"))
    await manager._handle_emit(_message(sio, "lobby", "9-0"))  # the filter is gone
    assert (_sent(sio, "e1"), _sent(sio, "e2")) == (3, 6)
