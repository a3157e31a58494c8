"""Every way of registering handlers is gated, before and after attach_jwt_auth.

One case per dispatch path python-socketio has: decorators, tables written
into ``sio.handlers`` by hand, catch-all namespaces and events, any
namespace (``namespaces="*"``), class-based and catch-all class-based
namespaces. If an upgrade adds a path that bypasses ``_trigger_event``, one
of these fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import socketio
import tornado.web

from tests.support import connected_client, server_url
from tornado_socketio_jwt import AuthSettings, attach_jwt_auth

Ran = list[tuple[str, str]]


def decorators(sio: Any, ran: Ran) -> str:
    @sio.on("connect", namespace="/a")
    async def connect(sid: str, environ: Any, auth: Any) -> None:
        ran.append(("connect", "/a"))

    @sio.on("probe", namespace="/a")
    async def probe(sid: str, data: Any = None) -> str:
        ran.append(("probe", "/a"))
        return "probed"

    return "/a"


def event_decorator(sio: Any, ran: Ran) -> str:
    @sio.event
    async def connect(sid: str, environ: Any) -> None:  # the legacy signature
        ran.append(("connect", "/"))

    @sio.event
    async def probe(sid: str, data: Any = None) -> str:
        ran.append(("probe", "/"))
        return "probed"

    return "/"


def _table(ran: Ran, namespace: str) -> dict[str, Callable[..., Any]]:
    async def connect(sid: str, environ: Any, auth: Any) -> None:
        ran.append(("connect", namespace))

    async def probe(sid: str, data: Any = None) -> str:
        ran.append(("probe", namespace))
        return "probed"

    return {"connect": connect, "probe": probe}


def handlers_setdefault(sio: Any, ran: Ran) -> str:
    table = sio.handlers.setdefault("/b", {})
    for event, handler in _table(ran, "/b").items():
        table[event] = handler
    return "/b"


def handlers_assigned(sio: Any, ran: Ran) -> str:
    sio.handlers["/c"] = _table(ran, "/c")
    return "/c"


def catch_all_namespace(sio: Any, ran: Ran) -> str:
    sio.namespaces = "*"

    @sio.on("connect", namespace="*")
    async def connect(namespace: str, sid: str, environ: Any, auth: Any) -> None:
        ran.append(("connect", namespace))

    @sio.on("probe", namespace="*")
    async def probe(namespace: str, sid: str, data: Any = None) -> str:
        ran.append(("probe", namespace))
        return "probed"

    return "/d"


def catch_all_event(sio: Any, ran: Ran) -> str:
    sio.handlers.setdefault("/g", {})

    @sio.on("*", namespace="/g")
    async def anything(event: str, sid: str, data: Any = None) -> str:
        ran.append((event, "/g"))
        return "probed"

    return "/g"


def any_namespace(sio: Any, ran: Ran) -> str:
    sio.namespaces = "*"  # no handler at all: python-socketio still accepts
    return "/e"


class Probed(socketio.AsyncNamespace):
    ran: Ran

    async def on_connect(self, sid: str, environ: Any, auth: Any = None) -> None:
        self.ran.append(("connect", self.namespace))

    async def on_probe(self, sid: str, data: Any = None) -> str:
        self.ran.append(("probe", self.namespace))
        return "probed"


def class_based(sio: Any, ran: Ran) -> str:
    namespace = Probed("/f")
    namespace.ran = ran
    sio.register_namespace(namespace)
    return "/f"


class ProbedAnywhere(socketio.AsyncNamespace):
    """A catch-all class-based namespace: python-socketio passes the namespace."""

    ran: Ran

    async def on_connect(
        self, namespace: str, sid: str, environ: Any, auth: Any = None
    ) -> None:
        self.ran.append(("connect", namespace))

    async def on_probe(self, namespace: str, sid: str, data: Any = None) -> str:
        self.ran.append(("probe", namespace))
        return "probed"


def class_based_catch_all(sio: Any, ran: Ran) -> str:
    sio.namespaces = "*"
    namespace = ProbedAnywhere("*")
    namespace.ran = ran
    sio.register_namespace(namespace)
    return "/h"


PATHS = {
    "decorators": decorators,
    "event_decorator": event_decorator,
    "handlers_setdefault": handlers_setdefault,
    "handlers_assigned": handlers_assigned,
    "catch_all_namespace": catch_all_namespace,
    "catch_all_event": catch_all_event,
    "any_namespace": any_namespace,
    "class_based": class_based,
    "class_based_catch_all": class_based_catch_all,
}
HAS_PROBE = set(PATHS) - {"any_namespace"}


@pytest.fixture(params=sorted(PATHS))
def path(request: Any) -> str:
    return str(request.param)


@pytest.fixture(params=["before", "after"])
def when(request: Any) -> str:
    return str(request.param)


@pytest.fixture
def flow() -> str:
    return "handshake"


@pytest.fixture
def ran() -> Ran:
    return []


@pytest.fixture
def namespace(
    sio: Any, secret: str, path: str, when: str, flow: str, ran: Ran
) -> tuple[str, tornado.web.Application]:
    settings = AuthSettings(secret=secret, auth_flow=flow, auth_timeout=5.0)
    if when == "before":
        name = PATHS[path](sio, ran)
    specs = attach_jwt_auth(sio, replace(settings, routes=("socketio",), events=()))
    if when == "after":
        name = PATHS[path](sio, ran)
    return name, tornado.web.Application(specs)


@pytest.fixture
def app(namespace: tuple[str, tornado.web.Application]) -> tornado.web.Application:
    return namespace[1]


@pytest.mark.gen_test
async def test_without_a_token_nothing_connects_and_no_handler_runs(
    http_server: Any, http_port: int, namespace: tuple[str, Any], ran: Ran
) -> None:
    async with connected_client(
        server_url(http_port), namespaces=[namespace[0]]
    ) as result:
        assert not result.connected
    error = result.connect_errors[0]
    # python-socketio's client nests the data for namespaces other than "/"
    assert error.get("data", error)["code"] == "credentials_required"
    assert ran == []


@pytest.mark.gen_test
async def test_with_a_valid_token_the_socket_connects_and_handlers_run(
    http_server: Any,
    http_port: int,
    namespace: tuple[str, Any],
    ran: Ran,
    path: str,
    make_token: Callable[..., str],
) -> None:
    name = namespace[0]
    async with connected_client(
        server_url(http_port), namespaces=[name], auth={"token": make_token()}
    ) as result:
        assert result.connected
        if path in HAS_PROBE:
            assert await result.client.call("probe", namespace=name, timeout=5) == (
                "probed"
            )
    if path in HAS_PROBE:
        assert ("probe", name) in ran


@pytest.mark.parametrize("flow", ["event"])
@pytest.mark.gen_test
async def test_event_flow_runs_no_handler_before_authenticate(
    http_server: Any,
    http_port: int,
    namespace: tuple[str, Any],
    ran: Ran,
    path: str,
    flow: str,
    make_token: Callable[..., str],
) -> None:
    name = namespace[0]
    async with connected_client(
        server_url(http_port), namespaces=[name], record=("authenticated",)
    ) as result:
        assert result.connected
        with pytest.raises(socketio.exceptions.TimeoutError):
            await result.client.call("probe", namespace=name, timeout=0.3)
        assert ran == []
        await result.client.emit(
            "authenticate", {"token": make_token()}, namespace=name
        )
        await result.next_event("authenticated")
        if path in HAS_PROBE:
            assert await result.client.call("probe", namespace=name, timeout=5) == (
                "probed"
            )
            assert ("probe", name) in ran
