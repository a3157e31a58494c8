"""Class-based namespaces (AuthNamespace) and hosts with XSRF cookies on."""

from __future__ import annotations

import json

import pytest
import socketio
import tornado.web

from tests.conftest import stop
from tests.support import ALICE, connected_client, server_url
from tornado_socketio_jwt import (
    AuthNamespace,
    AuthSettings,
    attach_jwt_auth,
    current_user,
)


class RoomNamespace(AuthNamespace):
    async def on_connect(self, sid, environ, auth):
        claims = await self.claims(sid)
        if claims is not None and claims["sub"] == "13":
            return False  # the host's own extra check still applies

    async def on_whoami(self, sid):
        return await current_user(self.server, sid, self.namespace)


@pytest.fixture
def app(secret, users, io_loop):
    sio = socketio.AsyncServer(async_mode="tornado")
    sio.register_namespace(RoomNamespace("/rooms"))
    specs = attach_jwt_auth(sio, AuthSettings(secret=secret), users=users)
    yield tornado.web.Application(specs, xsrf_cookies=True, cookie_secret="c" * 32)
    io_loop.run_sync(lambda: stop(sio))


@pytest.mark.gen_test
async def test_login_works_when_the_host_requires_xsrf_cookies(
    http_server, http_port, http_client
):
    body = json.dumps({"username": ALICE["username"], "password": ALICE["password"]})
    response = await http_client.fetch(
        server_url(http_port) + "/login",
        method="POST",
        body=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.code == 200 and "Set-Cookie" not in response.headers


@pytest.mark.gen_test
async def test_class_based_namespace_refuses_a_socket_without_token(
    http_server, http_port
):
    async with connected_client(server_url(http_port), namespaces=["/rooms"]) as c:
        assert c.connect_errors[0]["data"]["code"] == "credentials_required"


@pytest.mark.gen_test
async def test_class_based_namespace_on_connect_can_still_refuse(
    http_server, http_port, make_token
):
    async with connected_client(
        server_url(http_port),
        namespaces=["/rooms"],
        auth={"token": make_token(sub="13")},
    ) as c:
        assert not c.connected


@pytest.mark.gen_test
async def test_class_based_namespace_handlers_read_the_claims(
    http_server, http_port, make_token
):
    async with connected_client(
        server_url(http_port),
        namespaces=["/rooms"],
        auth={"token": make_token(sub="5")},
    ) as c:
        claims = await c.client.call("whoami", namespace="/rooms", timeout=5)
    assert claims["sub"] == "5"


def test_auth_namespace_without_attach_refuses_every_socket(io_loop):
    sio = socketio.AsyncServer(async_mode="tornado")
    namespace = RoomNamespace("/rooms")
    sio.register_namespace(namespace)

    async def connect():
        return await namespace.trigger_event("connect", "sid", {}, {"token": "x"})

    with pytest.raises(socketio.exceptions.ConnectionRefusedError):
        io_loop.run_sync(connect)


@pytest.mark.gen_test
async def test_logout_and_refresh_work_when_the_host_requires_xsrf_cookies(
    http_server, http_port, http_client
):
    body = json.dumps({"username": ALICE["username"], "password": ALICE["password"]})
    login = await http_client.fetch(
        server_url(http_port) + "/login",
        method="POST",
        body=body,
        headers={"Content-Type": "application/json"},
    )
    bearer = {"Authorization": "Bearer " + json.loads(login.body)["token"]}
    refreshed = await http_client.fetch(
        server_url(http_port) + "/token/refresh",
        method="POST",
        body=b"",
        headers=bearer,
    )
    assert refreshed.code == 200
    logout = await http_client.fetch(
        server_url(http_port) + "/logout", method="POST", body=b"", headers=bearer
    )
    assert logout.code == 204
