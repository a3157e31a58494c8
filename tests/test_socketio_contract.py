"""The python-socketio surface the gate rests on, checked so an upgrade fails loudly.

The gate wraps ``AsyncServer._trigger_event`` and ``AsyncServer._handle_event``
(private API); the dispatch paths through them are exercised one by one in
``test_gate_dispatch_paths.py``. Also here: the exemption of a namespace that
authenticates its own sockets (python-socketio's Admin UI) and the one import
name.
"""

from __future__ import annotations

import configparser
import inspect
import logging
import sys
from collections.abc import Callable
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import socketio
import tornado.web
from packaging.requirements import Requirement

from tests.conftest import stop
from tests.support import connected_client, server_url
from tornado_socketio_jwt import AuthSettings, attach_jwt_auth
from tornado_socketio_jwt.sockets.gate import Gate

ADMIN = {"username": "admin", "password": "admin-password-1"}


def pinned_socketio() -> Requirement:
    config = configparser.ConfigParser()
    config.read(Path(__file__).resolve().parents[1] / "setup.cfg")
    lines = config["options"]["install_requires"].split("\n")
    [line] = [x for x in lines if x.strip().startswith("python-socketio")]
    return Requirement(line.strip())


def test_installed_python_socketio_is_in_the_pinned_range() -> None:
    requirement = pinned_socketio()
    assert requirement.specifier.contains(version("python-socketio"))
    assert not requirement.specifier.contains("6.0")


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
