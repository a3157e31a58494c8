"""Allowed origins are normalised, and "*" opens websockets as well as polling."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import socketio
import tornado.httpclient
import tornado.web
import tornado.websocket

from tests.conftest import stop
from tests.support import server_url
from tornado_socketio_jwt import AuthSettings, attach_jwt_auth

FOREIGN = "http://any.example.org"


@pytest.fixture
def origins() -> tuple[str, ...]:
    return ("*",)


@pytest.fixture
def settings(secret: str, origins: tuple[str, ...]) -> AuthSettings:
    return AuthSettings(secret=secret, cors_allowed_origins=origins)


@pytest.fixture
def cors_value(settings: AuthSettings) -> Any:
    return settings.socketio_cors_allowed_origins


@pytest.fixture
def sio(io_loop: Any, cors_value: Any) -> Any:
    server = socketio.AsyncServer(async_mode="tornado", cors_allowed_origins=cors_value)
    yield server
    io_loop.run_sync(lambda: stop(server))


@pytest.fixture
def app(sio: Any, settings: AuthSettings) -> tornado.web.Application:
    return tornado.web.Application(
        attach_jwt_auth(sio, replace(settings, routes=("socketio",)))
    )


async def websocket_from(port: int, origin: str) -> str:
    """The first frame of a websocket opened with ``Origin: origin``."""
    url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
    request = tornado.httpclient.HTTPRequest(url, headers={"Origin": origin})
    conn = await tornado.websocket.websocket_connect(request)
    try:
        return str(await conn.read_message())
    finally:
        conn.close()


async def polling_from(http_client: Any, port: int, origin: str) -> int:
    url = f"{server_url(port)}/socket.io/?EIO=4&transport=polling"
    response = await http_client.fetch(
        url, headers={"Origin": origin}, raise_error=False
    )
    return int(response.code)


@pytest.mark.gen_test
async def test_any_origin_opens_a_websocket_as_well_as_polling(
    http_server: Any, http_port: int, http_client: Any
) -> None:
    assert (await websocket_from(http_port, FOREIGN)).startswith("0{")
    assert await polling_from(http_client, http_port, FOREIGN) == 200


@pytest.mark.parametrize("cors_value", [["*"]])
@pytest.mark.gen_test
async def test_a_list_holding_star_opens_websockets_too(
    http_server: Any, http_port: int, cors_value: Any
) -> None:
    # Upstream, python-engineio's Tornado handler checks ["*"] as one literal
    # origin and refuses the upgrade; the library's handler does not.
    assert (await websocket_from(http_port, FOREIGN)).startswith("0{")


@pytest.mark.parametrize("origins", [("HTTP://Any.Example.org/",)])
@pytest.mark.gen_test
async def test_a_trailing_slash_or_capitals_in_an_origin_still_match(
    http_server: Any, http_port: int, http_client: Any, origins: tuple[str, ...]
) -> None:
    assert await polling_from(http_client, http_port, FOREIGN) == 200
    assert (await websocket_from(http_port, FOREIGN)).startswith("0{")
    assert await polling_from(http_client, http_port, "http://evil.example") == 400


@pytest.mark.parametrize(
    "given, normalised",
    [
        (("https://a.example/",), ("https://a.example",)),
        (("https://a.example:443",), ("https://a.example",)),
        (
            ("http://a.example:8080", "http://a.example:8080/"),
            ("http://a.example:8080",),
        ),
        (("https://a.example", "*"), ("*",)),
    ],
)
def test_origins_are_normalised_at_construction(
    secret: str, given: tuple[str, ...], normalised: tuple[str, ...]
) -> None:
    settings = AuthSettings(secret=secret, cors_allowed_origins=given)
    assert settings.cors_allowed_origins == normalised


@pytest.mark.parametrize(
    "origin",
    [
        "https://a.example/chat",
        "a.example",
        "ftp://a.example",
        "https://a.example?x=1",
        "https://u@a.example",
        "https://a.example:99999",
    ],
)
def test_an_origin_no_browser_sends_is_refused_at_construction(
    secret: str, origin: str
) -> None:
    with pytest.raises(ValueError, match="scheme://host"):
        AuthSettings(secret=secret, cors_allowed_origins=(origin,))
