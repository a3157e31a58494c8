"""Namespaces the host did not list are gated anyway (fail closed)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import socketio
import tornado.httpserver
import tornado.testing
import tornado.web

from tests.conftest import stop
from tests.support import connected_client, server_url
from tornado_socketio_jwt import (
    AuthSettings,
    attach_jwt_auth,
    authorize_namespace,
    current_user,
)

ran: list[object] = []


class PlainNamespace(socketio.AsyncNamespace):
    async def on_connect(self, sid, environ):
        claims = await current_user(self.server, sid, "/plain")
        ran.append(("plain-connect", claims["sub"] if claims else ""))

    async def on_ping(self, sid):
        return "pong"


@pytest.fixture
def flow():
    return "handshake"


@pytest.fixture
def app(secret, io_loop, flow):
    ran.clear()
    sio = socketio.AsyncServer(async_mode="tornado")

    @sio.on("secret", namespace="/admin")
    async def secret_event(sid, data=None):
        ran.append("admin-secret")
        return "secret-data"

    @sio.on("connect", namespace="*")
    async def any_connect(namespace, sid, environ, auth):
        ran.append(("catch-all-connect", namespace))

    sio.register_namespace(PlainNamespace("/plain"))
    authorize_namespace(sio, "/roles", roles=("admin",))
    sio.on("hello", lambda sid: "hi", namespace="/roles")
    settings = AuthSettings(secret=secret, auth_flow=flow)
    yield tornado.web.Application(
        attach_jwt_auth(sio, replace(settings, routes=("socketio",)))
    )
    io_loop.run_sync(lambda: stop(sio))


@pytest.mark.gen_test
async def test_unlisted_namespace_refuses_a_socket_without_token(
    http_server, http_port
):
    async with connected_client(server_url(http_port), namespaces=["/admin"]) as c:
        assert c.connect_errors[0]["data"]["code"] == "credentials_required"
    assert ran == []


@pytest.mark.gen_test
async def test_unlisted_namespace_admits_a_valid_token_and_runs_hosts_handlers(
    http_server, http_port, make_token
):
    async with connected_client(
        server_url(http_port), namespaces=["/admin"], auth={"token": make_token()}
    ) as c:
        assert (
            await c.client.call("secret", {}, namespace="/admin", timeout=5)
            == "secret-data"
        )
    assert ran == [("catch-all-connect", "/admin"), "admin-secret"]


@pytest.mark.gen_test
async def test_plain_namespace_is_gated_and_the_hosts_catch_all_connect_still_runs(
    http_server, http_port, make_token
):
    async with connected_client(
        server_url(http_port), namespaces=["/plain"]
    ) as anonymous:
        assert anonymous.connect_errors[0]["data"]["code"] == "credentials_required"
    async with connected_client(
        server_url(http_port),
        namespaces=["/plain"],
        auth={"token": make_token(sub="4")},
    ) as c:
        assert await c.client.call("ping", namespace="/plain", timeout=5) == "pong"
    # As in python-socketio itself, a catch-all connect handler takes
    # precedence over the class-based namespace's on_connect.
    assert ran == [("catch-all-connect", "/plain")]


@pytest.fixture
def plain_app(secret, io_loop):
    ran.clear()
    sio = socketio.AsyncServer(async_mode="tornado")
    sio.register_namespace(PlainNamespace("/plain"))
    yield tornado.web.Application(
        attach_jwt_auth(sio, AuthSettings(secret=secret, routes=("socketio",)))
    )
    io_loop.run_sync(lambda: stop(sio))


@pytest.mark.gen_test
async def test_plain_async_namespace_on_connect_runs_after_authentication(
    plain_app, make_token
):
    server = tornado.httpserver.HTTPServer(plain_app)
    sock, port = tornado.testing.bind_unused_port()
    server.add_sockets([sock])
    try:
        async with connected_client(
            server_url(port), namespaces=["/plain"], auth={"token": make_token(sub="4")}
        ) as c:
            assert await c.client.call("ping", namespace="/plain", timeout=5) == "pong"
    finally:
        server.stop()
    assert ran == [("plain-connect", "4")]


@pytest.mark.gen_test
async def test_namespace_rule_applies_to_an_unlisted_namespace(
    http_server, http_port, make_token
):
    async with connected_client(
        server_url(http_port), namespaces=["/roles"], auth={"token": make_token()}
    ) as c:
        assert c.connect_errors[0]["data"]["code"] == "forbidden"
    async with connected_client(
        server_url(http_port),
        namespaces=["/roles"],
        auth={"token": make_token(roles=["admin"])},
    ) as c:
        assert await c.client.call("hello", namespace="/roles", timeout=5) == "hi"


@pytest.mark.parametrize("flow", ["event"])
@pytest.mark.gen_test
async def test_event_flow_gates_an_unlisted_namespace_until_authenticate(
    http_server, http_port, make_token, flow
):
    async with connected_client(
        server_url(http_port), namespaces=["/admin"], record=("authenticated",)
    ) as c:
        with pytest.raises(socketio.exceptions.TimeoutError):
            await c.client.call("secret", {}, namespace="/admin", timeout=0.3)
        assert ran == []
        await c.client.emit("authenticate", {"token": make_token()}, namespace="/admin")
        await c.next_event("authenticated")
        assert await c.client.call("secret", {}, namespace="/admin", timeout=5) == (
            "secret-data"
        )


@pytest.mark.parametrize("flow", ["event"])
@pytest.mark.gen_test
async def test_event_flow_holds_back_a_plain_class_based_namespace_until_authenticate(
    http_server, http_port, make_token, flow
):
    async with connected_client(
        server_url(http_port), namespaces=["/plain"], record=("authenticated",)
    ) as c:
        with pytest.raises(socketio.exceptions.TimeoutError):
            await c.client.call("ping", namespace="/plain", timeout=0.3)
        assert ran == []  # neither on_connect nor on_ping ran
        await c.client.emit("authenticate", {"token": make_token()}, namespace="/plain")
        await c.next_event("authenticated")
        # python-socketio's own resolution: the catch-all connect comes first.
        assert ran == [("catch-all-connect", "/plain")]
        assert await c.client.call("ping", namespace="/plain", timeout=5) == "pong"
