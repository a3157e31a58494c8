"""orjson as python-socketio's JSON: what it writes, and the fallback without it."""

from __future__ import annotations

import json
from typing import Any

import engineio.packet
import pytest
import socketio
import socketio.packet
from engineio import json as engineio_json
from tornado.websocket import websocket_connect

from tornado_socketio_jwt import fast_json, socketio_json

# orjson comes with the speed extra (make test installs it); the fallback needs none.
needs_orjson = pytest.mark.skipif(fast_json.orjson is None, reason="orjson missing")

TEXT = "héllo wörld ✓ 日本語 🙂"


@needs_orjson
def test_dumps_returns_compact_str_that_the_standard_library_reads() -> None:
    value = {"text": TEXT, "n": [1, 2.5, None, True], "nested": {"k": "v"}}
    text = fast_json.dumps(value, separators=(",", ":"))
    assert isinstance(text, str)
    assert " " not in text.replace(TEXT, "")
    assert json.loads(text) == value
    assert fast_json.loads(text) == value


@needs_orjson
def test_dumps_writes_what_json_accepts_and_orjson_refuses() -> None:
    # Non-string keys as the standard library writes them; integers past 64 bits.
    assert json.loads(fast_json.dumps({1: "a"})) == {"1": "a"}
    assert fast_json.loads(fast_json.dumps([2**70])) == [2**70]


@needs_orjson
def test_loads_accepts_bytes_and_raises_value_error_on_bad_json() -> None:
    assert fast_json.loads(b'{"a": "\xc3\xa9"}') == {"a": "é"}
    with pytest.raises(ValueError):
        fast_json.loads('{"a": ')


def test_loads_reads_a_lone_surrogate_as_the_standard_library_does() -> None:
    """Half an emoji, as a browser's JSON.stringify writes it: not malformed."""
    frame = '["chat","hi \\ud83d"]'
    assert fast_json.loads(frame) == json.loads(frame) == ["chat", "hi \ud83d"]
    with pytest.raises(ValueError):
        fast_json.loads('["chat", "\\ud83d"')  # still malformed when it is


def test_loads_with_keyword_arguments_uses_the_standard_library() -> None:
    assert fast_json.loads("[7]", parse_int=str) == ["7"]


def test_without_orjson_socketio_keeps_its_default(monkeypatch: Any) -> None:
    monkeypatch.setattr(fast_json, "orjson", None)
    assert socketio_json() is None
    assert fast_json.dumps({"text": TEXT}) == json.dumps({"text": TEXT})
    assert fast_json.loads('{"a": 1}') == {"a": 1}


@needs_orjson
def test_with_orjson_socketio_json_is_the_adapter() -> None:
    assert socketio_json() is fast_json


# Through a real server: frames written by the adapter, read by the standard library.


@pytest.fixture
def sio(io_loop: Any) -> Any:
    from tests.conftest import stop

    server = socketio.AsyncServer(async_mode="tornado", json=socketio_json())

    @server.on("echo")
    async def echo(sid: str, *args: Any) -> list[Any]:
        return list(args)

    yield server
    io_loop.run_sync(lambda: stop(server))
    # python-socketio sets json= on its packet classes, for the whole process.
    socketio.packet.Packet.json = engineio_json
    engineio.packet.Packet.json = engineio_json


async def authenticated_socket(port: int, token: str) -> Any:
    conn = await websocket_connect(
        f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
    )
    opening = await conn.read_message()
    assert isinstance(opening, str) and json.loads(opening[1:])["sid"]
    conn.write_message("40" + json.dumps({"token": token}))
    accepted = await conn.read_message()
    assert isinstance(accepted, str) and accepted.startswith('40{"sid":"')
    return conn


@pytest.mark.gen_test
async def test_non_ascii_event_round_trips_through_the_server(
    http_server: Any, http_port: int, make_token: Any
) -> None:
    conn = await authenticated_socket(http_port, make_token())
    try:
        conn.write_message("421" + json.dumps(["echo", {"text": TEXT}, [1, 2]]))
        frame = await conn.read_message()
    finally:
        conn.close()
    assert frame.startswith("431[")
    assert json.loads(frame[3:]) == [[{"text": TEXT}, [1, 2]]]


@pytest.mark.gen_test
async def test_binary_attachment_round_trips_through_the_server(
    http_server: Any, http_port: int, make_token: Any
) -> None:
    blob = bytes(range(256))
    conn = await authenticated_socket(http_port, make_token())
    try:
        placeholder = {"_placeholder": True, "num": 0}
        conn.write_message("451-7" + json.dumps(["echo", placeholder, TEXT]))
        conn.write_message(blob, binary=True)
        header = await conn.read_message()
        attachment = await conn.read_message()
    finally:
        conn.close()
    assert header.startswith("461-7[")
    assert json.loads(header[len("461-7") :]) == [[placeholder, TEXT]]
    assert attachment == blob


@pytest.mark.gen_test
async def test_whoami_claims_with_non_ascii_names_come_back_intact(
    http_server: Any, http_port: int, make_token: Any
) -> None:
    conn = await authenticated_socket(http_port, make_token(first_name=TEXT))
    try:
        conn.write_message('423["whoami"]')
        frame = await conn.read_message()
    finally:
        conn.close()
    assert frame.startswith("433[")
    assert json.loads(frame[3:])[0]["first_name"] == TEXT


# The standalone server's make_app: orjson by default, the standard library on request.


@pytest.fixture
def restore_packet_json() -> Any:
    yield
    socketio.packet.Packet.json = engineio_json
    engineio.packet.Packet.json = engineio_json


def packet_json_after_make_app(settings: Any, users: Any, **options: Any) -> Any:
    from tornado_socketio_jwt.cli.serve import make_app

    make_app(settings, users, **options)
    assert engineio.packet.Packet.json is socketio.packet.Packet.json
    return socketio.packet.Packet.json


@needs_orjson
def test_make_app_writes_packets_with_orjson_by_default(
    settings: Any, users: Any, restore_packet_json: Any
) -> None:
    assert packet_json_after_make_app(settings, users) is fast_json


def test_make_app_fast_json_false_keeps_the_standard_library(
    settings: Any, users: Any, restore_packet_json: Any
) -> None:
    socketio.packet.Packet.json = fast_json  # left by an earlier server
    json_module = packet_json_after_make_app(settings, users, fast_json=False)
    assert json_module is engineio_json


def test_make_app_without_orjson_keeps_the_standard_library(
    settings: Any, users: Any, restore_packet_json: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(fast_json, "orjson", None)
    assert packet_json_after_make_app(settings, users) is engineio_json
