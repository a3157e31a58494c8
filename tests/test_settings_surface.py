"""One settings surface: what attach_jwt_auth serves and installs comes from
AuthSettings and its groups; the keywords that moved still work, deprecated."""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from typing import Any

import pytest
import socketio
import tornado.web

from tests.support import server_url
from tornado_socketio_jwt import (
    AuthSettings,
    SettingError,
    SocketLimits,
    Transport,
    attach_jwt_auth,
    authenticator_for,
)

SECRET = "s" * 40
SOCKETS_ONLY = AuthSettings(secret=SECRET, routes=("socketio",))


def names(specs: list[Any]) -> list[str]:
    return [spec.name for spec in specs]


def settings_of(sio: Any) -> AuthSettings:
    return authenticator_for(sio).settings


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"routes": ("socketio", "chat")}, "routes"),
        ({"events": ("whoami", "shout")}, "events"),
        ({"namespaces": ("admin",)}, "namespaces"),
        ({"exempt_namespaces": ("admin",)}, "exempt_namespaces"),
        ({"prefix": "/chat/"}, "prefix"),
        ({"prefix": "chat"}, "prefix"),
        ({"metrics_allowed": ("10.0.0.1/8",)}, "metrics_allowed"),
        ({"token_ttl": 0}, "token_ttl"),
        ({"token_sources": ()}, "token_sources"),
    ],
)
def test_a_refused_value_names_its_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(SettingError) as refused:
        AuthSettings(secret=SECRET, **changes)
    assert refused.value.field == field and str(refused.value).startswith(field)


@pytest.mark.parametrize(
    ("group", "changes", "field"),
    [
        (SocketLimits, {"connect_timeout": 0}, "connect_timeout"),
        (SocketLimits, {"max_connections_per_user": 0}, "max_connections_per_user"),
        (SocketLimits, {"max_attachments": -1}, "max_attachments"),
        (Transport, {"ping_interval": 0}, "ping_interval"),
        (Transport, {"ping_timeout": -1.0}, "ping_timeout"),
    ],
)
def test_a_group_refuses_a_value_naming_its_field(
    group: type, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(SettingError) as refused:
        group(**changes)
    assert refused.value.field == field


def test_lists_are_kept_as_tuples_and_one_bare_string_is_refused() -> None:
    lists: dict[str, Any] = {"namespaces": ["/", "/chat"], "routes": ["health"]}
    settings = AuthSettings(secret=SECRET, **lists)
    assert (settings.namespaces, settings.routes) == (("/", "/chat"), ("health",))
    with pytest.raises(TypeError, match="namespaces"):
        AuthSettings(secret=SECRET, namespaces="/chat")  # type: ignore[arg-type]


def test_the_groups_must_be_their_classes() -> None:
    with pytest.raises(TypeError, match="limits"):
        AuthSettings(secret=SECRET, limits={"connect_timeout": 3})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="transport"):
        AuthSettings(secret=SECRET, transport=None)  # type: ignore[arg-type]


def test_metrics_are_served_only_to_the_networks_named() -> None:
    plain = attach_jwt_auth(socketio.AsyncServer(async_mode="tornado"), SOCKETS_ONLY)
    assert "tsj.metrics" not in names(plain)
    settings = replace(SOCKETS_ONLY, metrics_allowed=("127.0.0.0/8",))
    served = attach_jwt_auth(socketio.AsyncServer(async_mode="tornado"), settings)
    assert "tsj.metrics" in names(served)


def test_the_prefix_and_routes_come_from_the_settings() -> None:
    settings = AuthSettings(secret=SECRET, prefix="/rt", routes=("socketio", "health"))
    specs = attach_jwt_auth(socketio.AsyncServer(async_mode="tornado"), settings)
    assert [spec.regex.pattern for spec in specs] == ["/rt/socket.io/$", "/rt/healthz$"]


def test_the_limits_group_reaches_the_gate() -> None:
    limits = SocketLimits(max_connections_per_user=3, connect_timeout=2.5)
    sio = socketio.AsyncServer(async_mode="tornado")
    attach_jwt_auth(sio, replace(SOCKETS_ONLY, limits=limits))
    assert authenticator_for(sio).settings.limits is limits


@pytest.mark.parametrize(
    ("keyword", "value", "check"),
    [
        ("prefix", "/old", lambda specs, s: specs[0].regex.pattern.startswith("/old")),
        ("routes", ("socketio", "metrics"), lambda sp, s: "tsj.metrics" in names(sp)),
        ("routes", ("socketio",), lambda specs, s: names(specs) == ["tsj.socketio"]),
        ("limits", SocketLimits(connect_timeout=4),
         lambda specs, s: settings_of(s).limits.connect_timeout == 4),
        ("websocket_compression", True,
         lambda specs, s: settings_of(s).transport.websocket_compression),
        ("events", ("whoami", "message"), lambda sp, s: "message" in s.handlers["/"]),
    ],
)  # fmt: skip
def test_a_moved_keyword_still_works_with_a_deprecation_warning(
    keyword: str, value: Any, check: Any
) -> None:
    sio = socketio.AsyncServer(async_mode="tornado")
    with pytest.warns(DeprecationWarning, match=f"attach_jwt_auth\\({keyword}="):
        specs = attach_jwt_auth(sio, SOCKETS_ONLY, **{keyword: value})
    assert check(specs, sio)


def test_without_moved_keywords_nothing_is_deprecated() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        attach_jwt_auth(socketio.AsyncServer(async_mode="tornado"), SOCKETS_ONLY)


def test_an_unknown_keyword_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="'route'"):
        attach_jwt_auth(
            socketio.AsyncServer(async_mode="tornado"),
            AuthSettings(secret=SECRET),
            route=("socketio",),
        )


def test_contract_python_engineio_keeps_the_heartbeat_as_attributes() -> None:
    eio = socketio.AsyncServer(
        async_mode="tornado", ping_interval=3, ping_timeout=2
    ).eio
    assert (eio.ping_interval, eio.ping_timeout) == (3, 2)


# The heartbeat reaches an existing server's Engine.IO: the OPEN packet says so.
@pytest.fixture
def server_options() -> dict[str, Any]:
    return {}


@pytest.fixture
def transport() -> Transport:
    return Transport()


@pytest.fixture
def app(server_options: dict[str, Any], transport: Transport) -> Any:
    sio = socketio.AsyncServer(async_mode="tornado", **server_options)
    settings = AuthSettings(secret=SECRET, routes=("socketio",), transport=transport)
    return tornado.web.Application(attach_jwt_auth(sio, settings))


async def open_packet(http_client: Any, port: int) -> dict[str, Any]:
    url = server_url(port) + "/socket.io/?EIO=4&transport=polling"
    body = (await http_client.fetch(url)).body.decode()
    assert body.startswith("0")
    return json.loads(body[1:])  # type: ignore[no-any-return]


@pytest.mark.gen_test
@pytest.mark.parametrize("transport", [Transport(ping_interval=7, ping_timeout=3)])
async def test_the_settings_heartbeat_is_what_a_client_is_told(
    http_server: Any, http_port: int, http_client: Any, transport: Transport
) -> None:
    opened = await open_packet(http_client, http_port)
    assert (opened["pingInterval"], opened["pingTimeout"]) == (7000, 3000)


@pytest.mark.gen_test
@pytest.mark.parametrize("server_options", [{"ping_interval": 11, "ping_timeout": 6}])
async def test_without_a_heartbeat_setting_the_servers_own_stays(
    http_server: Any, http_port: int, http_client: Any, server_options: Any
) -> None:
    opened = await open_packet(http_client, http_port)
    assert (opened["pingInterval"], opened["pingTimeout"]) == (11000, 6000)


def test_replace_keeps_the_checks() -> None:
    with pytest.raises(SettingError):
        replace(AuthSettings(secret=SECRET), routes=("nope",))
