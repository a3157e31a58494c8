"""The python-socketio and python-engineio internals the engine room rests on,
one test each (signature and behaviour), so an upgrade fails loudly.

``sockets/engine.py`` is the only module that touches them. The gate wraps
``AsyncServer._trigger_event`` and ``AsyncServer._handle_event`` (private
API); the dispatch paths through them are exercised one by one in
``test_gate_dispatch_paths.py``. Also here: the exemption of a namespace that
authenticates its own sockets (python-socketio's Admin UI) and the one import
name.
"""

from __future__ import annotations

import asyncio
import configparser
import inspect
import logging
import sys
from collections.abc import Callable
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path
from types import MethodType
from typing import Any

import engineio
import engineio.async_drivers.tornado
import pytest
import socketio
import tornado.web
from engineio.async_socket import AsyncSocket
from packaging.requirements import Requirement
from socketio.async_pubsub_manager import AsyncPubSubManager

from tests.conftest import stop
from tests.support import connected_client, server_url
from tornado_socketio_jwt import AuthSettings, attach_jwt_auth
from tornado_socketio_jwt.sockets.engine import engine_for, packet_json
from tornado_socketio_jwt.sockets.extension import socket_auth
from tornado_socketio_jwt.sockets.gate import Gate

ADMIN = {"username": "admin", "password": "admin-password-1"}


def pinned(name: str) -> Requirement:
    config = configparser.ConfigParser()
    config.read(Path(__file__).resolve().parents[1] / "setup.cfg")
    lines = config["options"]["install_requires"].split("\n")
    [line] = [x for x in lines if x.strip().startswith(name + ">")]
    return Requirement(line.strip())


@pytest.mark.parametrize(
    ("name", "next_major"), [("python-socketio", "6.0"), ("python-engineio", "5.0")]
)
def test_installed_versions_are_in_the_pinned_ranges(
    name: str, next_major: str
) -> None:
    requirement = pinned(name)
    assert requirement.specifier.contains(version(name))
    assert not requirement.specifier.contains(next_major)


def test_trigger_event_is_the_coroutine_every_dispatch_goes_through() -> None:
    method = socketio.AsyncServer._trigger_event
    assert inspect.iscoroutinefunction(method)
    assert list(inspect.signature(method).parameters) == [
        "self",
        "event",
        "namespace",
        "args",
    ]
    source = inspect.getsource(socketio.AsyncServer)
    # connect (three signatures) and both disconnect paths, then the events:
    # nothing else in the server dispatches to a handler
    assert source.count("self._trigger_event(") == 5
    assert source.count("server._trigger_event(") == 1
    assert ".trigger_event(" in inspect.getsource(socketio.AsyncServer._trigger_event)


def test_handle_event_is_where_client_event_packets_enter() -> None:
    method = socketio.AsyncServer._handle_event
    assert inspect.iscoroutinefunction(method)
    assert list(inspect.signature(method).parameters) == [
        "self",
        "eio_sid",
        "namespace",
        "id",
        "data",
    ]
    source = inspect.getsource(socketio.AsyncServer._handle_eio_message)
    assert source.count("self._handle_event(") == 2  # EVENT and BINARY_EVENT


def test_a_server_without_the_hooks_is_refused_at_start_up() -> None:
    class Unknown:
        async def _trigger_event(self, *args: Any) -> None: ...

    with pytest.raises(RuntimeError, match="_handle_event"):
        Gate(Unknown())


def test_attaching_twice_is_an_error(settings: AuthSettings, sio: Any) -> None:
    settings = replace(settings, routes=("socketio",))
    attach_jwt_auth(sio, settings)
    with pytest.raises(ValueError, match="already"):
        attach_jwt_auth(sio, settings)


def test_the_package_is_loaded_under_one_name_only() -> None:
    import tornado_socketio_jwt

    assert tornado_socketio_jwt.__name__ == "tornado_socketio_jwt"
    assert not [name for name in sys.modules if name.split(".")[0] == "handlers"]


@pytest.fixture
def exempt() -> tuple[str, ...]:
    return ("/admin",)


@pytest.fixture
def app(
    settings: AuthSettings, io_loop: Any, exempt: tuple[str, ...], caplog: Any
) -> Any:
    caplog.set_level(logging.WARNING, logger="tornado_socketio_jwt")
    sio = socketio.AsyncServer(async_mode="tornado")
    settings = replace(settings, routes=("socketio",), exempt_namespaces=exempt)
    specs = attach_jwt_auth(sio, settings)
    admin = sio.instrument(auth=ADMIN)  # after attach: it wraps the gate
    yield tornado.web.Application(specs)
    io_loop.run_sync(admin.shutdown)
    admin.uninstrument()  # it patches engine.io's classes for the whole process
    io_loop.run_sync(lambda: stop(sio))


@pytest.mark.gen_test
async def test_an_exempt_admin_ui_namespace_authenticates_its_own_sockets(
    http_server: Any, http_port: int, caplog: Any
) -> None:
    async with connected_client(
        server_url(http_port), namespaces=["/admin"], auth=ADMIN
    ) as result:
        assert result.connected
    async with connected_client(
        server_url(http_port), namespaces=["/admin"], auth={"username": "x"}
    ) as result:
        assert not result.connected
    assert any(
        "/admin is exempt" in r.getMessage() and r.levelno == logging.WARNING
        for r in caplog.get_records("setup")
    )


@pytest.mark.gen_test
async def test_next_to_an_exempt_namespace_the_others_stay_gated(
    http_server: Any, http_port: int, make_token: Callable[..., str]
) -> None:
    async with connected_client(server_url(http_port), auth=ADMIN) as result:
        assert not result.connected
    error = result.connect_errors[0]
    assert error.get("data", error)["code"] == "credentials_required"
    async with connected_client(
        server_url(http_port), auth={"token": make_token()}
    ) as result:
        assert result.connected


@pytest.mark.parametrize("exempt", [()])
@pytest.mark.gen_test
async def test_without_an_exemption_the_admin_ui_needs_a_token(
    http_server: Any, http_port: int, exempt: tuple[str, ...]
) -> None:
    async with connected_client(
        server_url(http_port), namespaces=["/admin"], auth=ADMIN
    ) as result:
        assert not result.connected
    error = result.connect_errors[0]
    assert error.get("data", error)["code"] == "credentials_required"


# -- python-engineio: the Engine.IO event chain -----------------------------


def test_every_engineio_event_goes_through_its_trigger_event() -> None:
    method = engineio.AsyncServer._trigger_event
    assert inspect.iscoroutinefunction(method)
    parameters = inspect.signature(method).parameters
    assert list(parameters) == ["self", "event", "args", "kwargs"]
    assert "run_async = kwargs.pop('run_async', False)" in inspect.getsource(method)
    # connect from the server, message and disconnect from each socket
    connect = inspect.getsource(engineio.AsyncServer._handle_connect)
    assert "await self._trigger_event('connect', sid, environ," in connect
    socket = inspect.getsource(AsyncSocket)
    assert socket.count("self.server._trigger_event(") == 2
    assert "'message', self.sid, pkt.data," in socket
    assert "'disconnect', self.sid," in socket


def test_a_connect_handler_refuses_a_session_with_anything_but_none_or_true() -> None:
    source = inspect.getsource(engineio.AsyncServer._handle_connect)
    assert "if ret is not None and ret is not True:" in source
    assert "del self.sockets[sid]" in source
    assert "return self._unauthorized(ret or None)" in source


def test_python_socketio_registers_its_three_engineio_handlers() -> None:
    sio = socketio.AsyncServer(async_mode="tornado")
    handlers = sio.eio.handlers
    assert handlers["connect"] == sio._handle_eio_connect
    assert handlers["message"] == sio._handle_eio_message
    assert handlers["disconnect"] == sio._handle_eio_disconnect
    # run inline: the packet screen's verdict comes before the next packet
    assert sio.eio.async_handlers is False


def test_engineio_sessions_are_a_dict_of_sockets_by_sid() -> None:
    sio = socketio.AsyncServer(async_mode="tornado")
    assert sio.eio.sockets == {}
    socket = AsyncSocket(sio.eio, "sid")
    for attribute in ("closing", "closed", "upgraded", "connected"):
        assert getattr(socket, attribute) is False
    assert isinstance(socket.queue, asyncio.Queue)
    assert sio.eio.reason.SERVER_DISCONNECT == "server disconnect"


def test_socket_close_can_skip_waiting_for_the_polling_queue() -> None:
    method = AsyncSocket.close
    assert inspect.iscoroutinefunction(method)
    parameters = inspect.signature(method).parameters
    assert list(parameters) == ["self", "wait", "abort", "reason"]
    assert parameters["wait"].default is True
    source = inspect.getsource(method)
    assert "if wait:\n                await self.queue.join()" in source
    assert "self.closed = True" in source


@pytest.mark.gen_test
async def test_a_closed_socket_queues_its_close_packet_and_triggers_disconnect() -> (
    None
):
    sio = socketio.AsyncServer(async_mode="tornado")
    events: list[str] = []

    async def trigger(event: str, *args: Any, **kwargs: Any) -> None:
        events.append(event)

    sio.eio._trigger_event = trigger
    socket = AsyncSocket(sio.eio, "sid")
    await socket.close(wait=False)  # returns although nothing polls
    assert socket.closed and events == ["disconnect"]
    assert socket.queue.get_nowait().packet_type == engineio.packet.CLOSE


def test_a_closed_socket_still_listed_makes_get_socket_raise() -> None:
    """Why the engine room reaps such a session before a request reaches
    python-engineio (whose POST path calls this outside its error handling)."""
    sio = socketio.AsyncServer(async_mode="tornado")
    socket = AsyncSocket(sio.eio, "sid")
    socket.closed = True
    sio.eio.sockets["sid"] = socket
    with pytest.raises(KeyError):
        sio.eio._get_socket("sid")
    post = inspect.getsource(engineio.AsyncServer.handle_request)
    assert (
        "socket = self._get_socket(sid)\n                if not socket.connected"
        in post
    )


def test_the_tornado_driver_keeps_its_request_handler_in_the_environ() -> None:
    source = inspect.getsource(engineio.async_drivers.tornado.translate_request)
    assert "'tornado.handler': handler" in source


# -- python-socketio ---------------------------------------------------------


@pytest.mark.gen_test
async def test_python_socketio_keeps_an_environ_per_engineio_session() -> None:
    sio = socketio.AsyncServer(async_mode="tornado")
    environ = {"x": 1}
    await sio._handle_eio_connect("sid", environ)
    assert sio.environ == {"sid": environ}
    await sio._handle_eio_disconnect("sid", "reason")
    assert sio.environ == {}


def test_class_based_handlers_are_kept_by_namespace() -> None:
    sio = socketio.AsyncServer(async_mode="tornado")
    handler = socketio.AsyncNamespace("/chat")
    sio.register_namespace(handler)
    assert sio.namespace_handlers == {"/chat": handler}


@pytest.mark.gen_test
async def test_a_dispatch_with_no_handler_returns_not_handled() -> None:
    sio = socketio.AsyncServer(async_mode="tornado")
    assert await sio._trigger_event("x", "/", "sid") is sio.not_handled


def test_the_packet_json_codec_is_the_one_given_to_the_server() -> None:
    import json

    sio = socketio.AsyncServer(async_mode="tornado", json=json)
    assert packet_json(sio) is json


def test_a_pending_binary_packet_takes_the_next_message_whatever_it_is() -> None:
    """What the attachment budget counts mirrors python-socketio: while a
    binary packet waits, any message is one of its attachments."""
    source = inspect.getsource(socketio.AsyncServer._handle_eio_message)
    first = source.index("if eio_sid in self._binary_packet:")
    assert first < source.index("self.packet_class(encoded_packet=data)")
    assert "pkt.add_attachment(data)" in source


def test_the_pending_binary_packets_are_a_dict_by_session_dropped_on_disconnect() -> (
    None
):
    """``Engine.holds_binary_packet`` reads ``_binary_packet``: keyed by the
    Engine.IO sid, and emptied by a namespace disconnect on the server's side
    (which the packet screen follows, not its own count)."""
    sio = socketio.AsyncServer(async_mode="tornado")
    assert sio._binary_packet == {}
    assert engine_for(sio).holds_binary_packet("x") is False
    sio._binary_packet["x"] = object()
    assert engine_for(sio).holds_binary_packet("x") is True
    for method in (
        socketio.AsyncServer.disconnect,
        socketio.AsyncServer._handle_disconnect,
    ):
        source = inspect.getsource(method)
        assert "del self._binary_packet[eio_sid]" in source


def test_the_admin_ui_notes_each_connect_and_forgets_it_on_disconnect() -> None:
    """``Engine.forget_refused`` removes what the Admin UI noted of a socket the
    gate refused (a refused socket never gets the disconnect that removes it)."""
    from socketio.async_admin import InstrumentedAsyncServer

    source = inspect.getsource(InstrumentedAsyncServer._trigger_event)
    assert "self.sio.manager._timestamps[sid] = t" in source
    assert "del self.sio.manager._timestamps[sid]" in source
    sio = socketio.AsyncServer(async_mode="tornado")
    sio.manager._timestamps = {"a": 1.0}
    engine_for(sio).forget_refused("a")
    assert sio.manager._timestamps == {}


def test_the_manager_answers_the_engine_rooms_questions() -> None:
    manager = socketio.AsyncManager()
    for name in ("sid_from_eio_sid", "eio_sid_from_sid", "is_connected"):
        assert not inspect.iscoroutinefunction(getattr(manager, name))
    assert inspect.signature(manager.sid_from_eio_sid).parameters.keys() == {
        "eio_sid",
        "namespace",
    }


def test_the_admin_ui_saves_the_dispatch_it_wraps_on_the_server() -> None:
    """The engine room points that saved method at the gate when the Admin UI
    was instrumented first, so ``uninstrument()`` restores the gate."""
    sio = socketio.AsyncServer(async_mode="tornado")
    admin = sio.instrument(auth=False)
    try:
        saved = [
            v
            for v in vars(sio).values()
            if isinstance(v, MethodType)
            and v.__func__ is socketio.AsyncServer._trigger_event
        ]
        assert len(saved) == 1
        assert "_trigger_event" in vars(sio)
    finally:
        admin.uninstrument()
    assert sio._trigger_event == saved[0]


def test_the_gate_is_kept_when_an_admin_ui_instrumented_first_is_undone(
    settings: AuthSettings,
) -> None:
    sio = socketio.AsyncServer(async_mode="tornado")
    admin = sio.instrument(auth=False)
    attach_jwt_auth(sio, replace(settings, routes=("socketio",)))
    gate = socket_auth(sio).gate
    assert gate is not None
    admin.uninstrument()
    assert sio._trigger_event == gate.trigger_event
    assert sio._handle_event == gate.handle_event


def test_engineio_handler_re_registration_leaves_the_engine_room_in_front(
    settings: AuthSettings,
) -> None:
    sio = socketio.AsyncServer(async_mode="tornado")
    attach_jwt_auth(sio, replace(settings, routes=("socketio",)))
    engine = engine_for(sio)
    sio.eio.on("connect", sio._handle_eio_connect)
    sio.eio.on("message", sio._handle_eio_message)
    assert sio.eio._trigger_event == engine._engineio_event


# -- connection state recovery (sockets/recovery.py, through the engine room) --


@pytest.mark.gen_test
async def test_a_connect_takes_its_sid_from_generate_id_and_acks_with_send_packet() -> (
    None
):
    """Recovery gives a socket its old sid back through ``eio.generate_id``
    (read by ``pre_connect``) and adds ``pid`` to the ``{"sid"}`` ack that
    ``_handle_connect`` sends through ``_send_packet``."""
    sio = socketio.AsyncServer(async_mode="tornado")
    sio.on("connect", lambda sid, environ, auth: None)
    sent: list[Any] = []

    async def send_packet(eio_sid: str, pkt: Any) -> None:
        sent.append((eio_sid, pkt.packet_type, pkt.data, pkt.namespace))

    sio._send_packet = send_packet
    sio.eio.generate_id = lambda: "chosen-sid"
    await sio._handle_eio_connect("eio", {})
    assert list(inspect.signature(sio._handle_connect).parameters) == [
        "eio_sid",
        "namespace",
        "data",
    ]
    await sio._handle_connect("eio", "/", {"token": "t"})
    assert sent == [("eio", socketio.packet.CONNECT, {"sid": "chosen-sid"}, "/")]
    assert sio.manager.is_connected("chosen-sid", "/")
    assert "self.server.eio.generate_id()" in inspect.getsource(
        socketio.base_manager.BaseManager.pre_connect
    )
    handle_message = inspect.getsource(socketio.AsyncServer._handle_eio_message)
    assert "await self._handle_connect(eio_sid, pkt.namespace, pkt.data)" in (
        handle_message
    )


@pytest.mark.gen_test
async def test_every_emit_goes_through_the_managers_emit() -> None:
    """Offsets are appended there: ``sio.emit`` to a room, to everyone and to
    one sid alike; a tuple is the arguments."""
    sio = socketio.AsyncServer(async_mode="tornado")
    calls: list[tuple[Any, ...]] = []

    async def emit(
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        **kwargs: Any,
    ) -> None:
        calls.append((event, data, namespace, room, skip_sid, callback))

    parameters = list(inspect.signature(sio.manager.emit).parameters)
    assert parameters[:7] == [
        "event",
        "data",
        "namespace",
        "room",
        "skip_sid",
        "callback",
        "to",
    ]
    sio.manager.emit = emit
    await sio.emit("a", (1, 2), to="sid", skip_sid="x")
    await sio.emit("b", {"n": 1})
    assert calls == [
        ("a", (1, 2), "/", "sid", "x", None),
        ("b", {"n": 1}, "/", None, None, None),
    ]
    assert "data = list(data)" in inspect.getsource(socketio.AsyncManager.emit)


@pytest.mark.gen_test
async def test_rooms_and_session_data_can_be_read_and_restored_without_awaiting() -> (
    None
):
    sio = socketio.AsyncServer(async_mode="tornado")
    manager = sio.manager
    for name in ("get_rooms", "basic_enter_room", "is_sid_room"):
        assert not inspect.iscoroutinefunction(getattr(manager, name))
    sio.eio.sockets["eio"] = AsyncSocket(sio.eio, "eio")
    sid = await manager.pre_connect("eio", "/")
    manager.basic_enter_room(sid, "/", "room")
    assert sorted(manager.get_rooms(sid, "/")) == sorted([sid, "room"])
    assert manager.is_sid_room("/", sid) and not manager.is_sid_room("/", "room")
    await sio.save_session(sid, {"k": 1})
    assert sio.eio.sockets["eio"].session == {"/": {"k": 1}}


def test_a_send_on_an_open_socket_never_suspends_so_a_replay_stays_in_order() -> None:
    sio = socketio.AsyncServer(async_mode="tornado")
    socket = AsyncSocket(sio.eio, "sid")
    assert socket.queue.maxsize == 0  # unbounded: put() never waits
    assert "await self.queue.put(pkt)" in inspect.getsource(AsyncSocket.send)


def test_engineio_tells_why_a_session_ended() -> None:
    """Only the server's own close is not recoverable; the client's Engine.IO
    CLOSE (socket.io-client's ``engine.close()``) is, as in Node."""
    close = inspect.getsource(AsyncSocket.close)
    assert "'disconnect', self.sid," in close
    assert "reason or self.server.reason.SERVER_DISCONNECT" in close
    receive = inspect.getsource(AsyncSocket.receive)
    assert "reason=self.server.reason.CLIENT_DISCONNECT" in receive
    reasons = engineio.AsyncServer.reason
    assert (reasons.TRANSPORT_CLOSE, reasons.PING_TIMEOUT) == (
        "transport close",
        "ping timeout",
    )


# -- recovery across processes (sockets/recovery_shared.py): the pub/sub manager --


class _CapturingPubSub(AsyncPubSubManager):
    """python-socketio's pub/sub manager with the broker left out."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[dict[str, Any]] = []
        self.handled: list[dict[str, Any]] = []
        self.incoming: list[str] = []

    async def _publish(self, data: Any) -> None:
        self.published.append(data)

    async def _listen(self) -> Any:
        for message in self.incoming:
            yield message


@pytest.mark.parametrize("args", [({"n": 1}, "x"), ({"n": 1}, b"\x00\x01", "x")])
@pytest.mark.gen_test
async def test_a_kept_events_message_is_the_one_python_socketio_publishes(
    args: tuple[Any, ...],
) -> None:
    manager = _CapturingPubSub()
    sio = socketio.AsyncServer(async_mode="tornado", client_manager=manager)
    await manager.emit("m", args, namespace="/", room="r", skip_sid="s")
    (published,) = manager.published
    ours = packet_json(sio).loads(
        engine_for(sio).pubsub_message("m", list(args), "/", "r", "s")
    )
    assert {**ours, "host_id": manager.host_id} == published
    # and it reads back as the event python-socketio's _handle_emit delivers
    event = engine_for(sio).pubsub_event(packet_json(sio).dumps(ours))
    assert event == ("r", "s", ["m", *args])


@pytest.mark.gen_test
async def test_the_listener_hands_other_hosts_emits_to_handle_emit() -> None:
    """A kept event is published with a host_id no process has, so every
    process, the emitter too, delivers it through ``_handle_emit``."""
    manager = _CapturingPubSub()
    sio = socketio.AsyncServer(async_mode="tornado", client_manager=manager)
    json = packet_json(sio)

    async def handle_emit(message: dict[str, Any]) -> None:
        manager.handled.append(message)

    manager._handle_emit = handle_emit  # type: ignore[method-assign]
    mine = {"method": "emit", "event": "a", "data": [], "host_id": manager.host_id}
    other = {**mine, "event": "b", "host_id": "tornado-socketio-jwt:recovery"}
    manager.incoming = [json.dumps(mine), json.dumps(other)]
    manager.server = sio
    await manager._thread()
    assert [message["event"] for message in manager.handled] == ["b"]
    assert inspect.iscoroutinefunction(AsyncPubSubManager._handle_emit)
    assert manager.channel == "socketio"


def test_handle_emit_delivers_without_suspending_before_the_sends_are_scheduled() -> (
    None
):
    """The hold decides which sockets a message skips; python-socketio must
    pick the recipients in the same step (no await before ``emit`` creates
    its send tasks)."""
    handle = inspect.getsource(AsyncPubSubManager._handle_emit)
    assert handle.count("await") == 1 and "await super().emit(" in handle
    emit = inspect.getsource(socketio.AsyncManager.emit)
    assert emit.index("get_participants") < emit.index("await")
