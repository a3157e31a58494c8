"""Embedding: the README's example, run as written, inside a foreign Application."""

from __future__ import annotations

import json
import re
import types
from pathlib import Path
from typing import Any

import pytest
import socketio

from tests.conftest import stop
from tests.support import ALICE, connected_client, server_url
from tornado_socketio_jwt import AuthSettings, attach_jwt_auth

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_example() -> str:
    section = README.read_text().split("## Embedding in an existing Tornado app", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None
    return match.group(1)


@pytest.fixture
def servers():
    return []


@pytest.fixture
def example(servers):
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(readme_example(), str(README), "exec"), namespace)

    def recording_server(**kwargs):
        server = socketio.AsyncServer(**kwargs)
        servers.append(server)
        return server

    namespace["socketio"] = types.SimpleNamespace(AsyncServer=recording_server)
    return namespace


@pytest.fixture
def app(example, secret, users, servers, io_loop):
    application = example["make_app"](secret, users)
    yield application
    for server in servers:
        io_loop.run_sync(lambda server=server: stop(server))


async def login(http_client, port, path="/rt/login", **kwargs):
    body = json.dumps({"username": ALICE["username"], "password": ALICE["password"]})
    response = await http_client.fetch(
        server_url(port) + path,
        method="POST",
        body=body,
        headers={"Content-Type": "application/json"},
        **kwargs,
    )
    return response


def test_readme_example_imports_the_installed_package_name():
    assert "from tornado_socketio_jwt import" in readme_example()


@pytest.mark.gen_test
async def test_host_keeps_its_own_root_handler(http_server, http_port, http_client):
    response = await http_client.fetch(server_url(http_port) + "/")
    assert response.body == b"my existing app"


@pytest.mark.gen_test
async def test_embedded_login_and_client_live_under_the_prefix(
    http_server, http_port, http_client
):
    token = json.loads((await login(http_client, http_port)).body)["token"]
    assert token
    page = await http_client.fetch(server_url(http_port) + "/rt/")
    assert b"<html" in page.body.lower()


@pytest.mark.gen_test
async def test_hosts_connect_handler_runs_after_authentication_with_claims(
    http_server, http_port, http_client, capsys
):
    token = json.loads((await login(http_client, http_port)).body)["token"]
    async with connected_client(
        server_url(http_port), auth={"token": token}, socketio_path="rt/socket.io"
    ) as c:
        assert c.connected
    assert "connected: 1" in capsys.readouterr().out


@pytest.mark.gen_test
async def test_hosts_connect_handler_never_runs_for_a_refused_socket(
    http_server, http_port, capsys
):
    async with connected_client(
        server_url(http_port), auth={"token": "nope"}, socketio_path="rt/socket.io"
    ) as c:
        assert c.connect_errors[0]["data"]["code"] == "invalid_token"
    assert "connected:" not in capsys.readouterr().out


@pytest.mark.gen_test
async def test_hosts_event_handler_reads_the_verified_claims(
    http_server, http_port, http_client
):
    token = json.loads((await login(http_client, http_port)).body)["token"]
    client = socketio.AsyncClient(reconnection=False)
    try:
        await client.connect(
            server_url(http_port),
            auth={"token": token},
            socketio_path="rt/socket.io",
            transports=["websocket"],
        )
        assert await client.call("hello", {}, timeout=5) == f"hello {ALICE['email']}"
    finally:
        await client.shutdown()


@pytest.mark.gen_test
async def test_url_specs_are_named_and_prefixed(
    http_server, http_port, example, secret, users, servers
):
    sio = example["socketio"].AsyncServer(async_mode="tornado")
    specs = attach_jwt_auth(sio, AuthSettings(secret=secret, prefix="/x"), users=users)
    names = {spec.name: spec.regex.pattern for spec in specs}
    assert (
        names["tsj.login"] == "/x/login$" and names["tsj.socketio"] == "/x/socket.io/$"
    )
    assert set(names) == {
        "tsj.socketio",
        "tsj.login",
        "tsj.logout",
        "tsj.refresh",
        "tsj.health",
        "tsj.client",
        "tsj.client_assets",
        "tsj.client_redirect",
        "tsj.favicon",
    }


def test_routes_left_out_are_not_returned(secret):
    sio = socketio.AsyncServer(async_mode="tornado")
    specs = attach_jwt_auth(sio, AuthSettings(secret=secret, routes=("socketio",)))
    assert [spec.name for spec in specs] == ["tsj.socketio"]


def test_attach_refuses_always_connect(secret):
    sio = socketio.AsyncServer(async_mode="tornado", always_connect=True)
    with pytest.raises(ValueError, match="always_connect"):
        attach_jwt_auth(sio, AuthSettings(secret=secret, routes=()))


def test_attach_refuses_another_async_mode(secret):
    sio = socketio.AsyncServer(async_mode="asgi")
    with pytest.raises(ValueError, match="tornado"):
        attach_jwt_auth(sio, AuthSettings(secret=secret, routes=()))


def test_attach_refuses_login_without_a_user_store(secret):
    sio = socketio.AsyncServer(async_mode="tornado")
    with pytest.raises(ValueError, match="user store"):
        attach_jwt_auth(sio, AuthSettings(secret=secret))
