"""Wire-level frames over a raw WebSocket, as python-socketio's tests assert them."""

from __future__ import annotations

import json

import pytest
from tornado.websocket import websocket_connect


async def open_socket(port):
    conn = await websocket_connect(
        f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
    )
    opening = await conn.read_message()
    assert isinstance(opening, str)
    assert opening.startswith("0{") and '"sid"' in opening
    return conn


@pytest.mark.gen_test
async def test_refused_handshake_is_an_exact_connect_error_frame(
    http_server, http_port
):
    conn = await open_socket(http_port)
    try:
        conn.write_message('40{"token":"not-a-jwt"}')
        frame = await conn.read_message()
    finally:
        conn.close()
    assert frame == "44" + json.dumps(
        {
            "message": "The token is invalid.",
            "data": {
                "message": "The token is invalid.",
                "code": "invalid_token",
                "type": "UnauthorizedError",
            },
        },
        separators=(",", ":"),
    )


@pytest.mark.gen_test
async def test_missing_token_frame_says_credentials_required(http_server, http_port):
    conn = await open_socket(http_port)
    try:
        conn.write_message("40")
        frame = await conn.read_message()
    finally:
        conn.close()
    assert frame == (
        '44{"message":"No authorization token was found.",'
        '"data":{"message":"No authorization token was found.",'
        '"code":"credentials_required","type":"UnauthorizedError"}}'
    )


@pytest.mark.gen_test
async def test_accepted_handshake_is_a_connect_frame_with_a_sid(
    http_server, http_port, make_token
):
    conn = await open_socket(http_port)
    try:
        conn.write_message("40" + json.dumps({"token": make_token()}))
        frame = await conn.read_message()
    finally:
        conn.close()
    assert frame.startswith('40{"sid":"')
