"""A host that forgets ``log_function`` still logs no query-string token."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import socketio
import tornado.web

from tests.lifecycle_support import assert_no_token_logged
from tests.support import connected_client, server_url
from tornado_socketio_jwt import AuthSettings, attach_jwt_auth
from tornado_socketio_jwt.web.access_log import redacted_handler


class BoomHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        raise RuntimeError("boom")


@pytest.fixture
def app(request: Any, sio: Any, settings: AuthSettings, users: Any) -> Any:
    """The host's Application, with no ``log_function``: Tornado's default log."""
    if request.param == "attached":
        return tornado.web.Application(attach_jwt_auth(sio, settings, users=users))
    routes = ("login", "health")
    handler = redacted_handler(socketio.get_tornado_handler(sio))
    return tornado.web.Application(
        [
            (r"/socket.io/", handler),
            (r"/boom", redacted_handler(BoomHandler)),
            *attach_jwt_auth(sio, replace(settings, routes=routes), users=users),
        ]
    )


def access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "tornado.access"]


@pytest.mark.parametrize(
    "app",
    [
        "wrapped",
        "attached",
    ],
    indirect=True,
)
@pytest.mark.parametrize("transports", ["websocket", "polling,websocket"])
@pytest.mark.gen_test
async def test_a_query_token_is_redacted_in_the_default_access_log(
    app: Any,
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
    caplog: pytest.LogCaptureFixture,
    transports: str,
) -> None:
    caplog.set_level(logging.INFO, logger="tornado.access")
    token = make_token()
    url = f"{server_url(http_port)}/?token={token}"
    async with connected_client(url, transports=transports.split(",")) as client:
        assert client.connected  # the token was read from the query string
    assert any(
        "/socket.io/?" in line and "token=[REDACTED]" in line
        for line in access_lines(caplog)
    ), access_lines(caplog)
    assert_no_token_logged(caplog, token)


@pytest.mark.parametrize("app", ["wrapped"], indirect=True)
@pytest.mark.gen_test
async def test_an_uncaught_exception_is_logged_without_the_query_token(
    app: Any,
    http_server: Any,
    http_port: int,
    http_client: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    response = await http_client.fetch(
        f"{server_url(http_port)}/boom?token=a.b.secret-part", raise_error=False
    )
    assert response.code == 500
    [error] = [r for r in caplog.records if r.name == "tornado.application"]
    assert (
        error.getMessage()
        == "Uncaught exception GET /boom?token=[REDACTED] (127.0.0.1)"
    )
    assert_no_token_logged(caplog, "a.b.secret-part")


def test_the_redacted_handler_keeps_the_class_name() -> None:
    assert redacted_handler(BoomHandler).__name__ == "BoomHandler"
    assert issubclass(redacted_handler(BoomHandler), BoomHandler)
