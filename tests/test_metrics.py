"""GET /metrics: the Prometheus text format, loopback only, counting what happened."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import tornado.web
from prometheus_client.parser import text_string_to_metric_families

from tests.support import ALICE, connected_client, server_url
from tornado_socketio_jwt import AuthSettings, attach_jwt_auth


@pytest.fixture
def allowed() -> tuple[str, ...]:
    return ("127.0.0.0/8",)


@pytest.fixture
def app(sio: Any, settings: AuthSettings, users: Any, allowed: Any) -> Any:
    routes = ("socketio", "login", "logout")
    settings = replace(settings, routes=routes, metrics_allowed=allowed)
    specs = attach_jwt_auth(sio, settings, users=users)
    return tornado.web.Application(specs)


async def scrape(
    http_client: Any, port: int
) -> dict[tuple[str, tuple[Any, ...]], float]:
    response = await http_client.fetch(server_url(port) + "/metrics")
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.body.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def login(http_client: Any, port: int, password: str) -> int:
    body = json.dumps({"username": ALICE["username"], "password": password})
    response = await http_client.fetch(
        server_url(port) + "/login",
        method="POST",
        body=body,
        headers={"Content-Type": "application/json"},
        raise_error=False,
    )
    return response.code


@pytest.mark.gen_test
async def test_metrics_count_handshakes_refusals_logins_and_connected_sockets(
    http_server: Any, http_port: int, http_client: Any, make_token: Callable[..., str]
) -> None:
    assert await login(http_client, http_port, ALICE["password"]) == 200
    assert await login(http_client, http_port, "wrong-password") == 401
    async with connected_client(server_url(http_port), auth={"token": "bad"}):
        pass
    async with connected_client(
        server_url(http_port), auth={"token": make_token()}
    ) as c:
        assert c.connected
        samples = await scrape(http_client, http_port)
    assert samples[("tsj_handshakes_total", ())] == 1
    assert samples[("tsj_connected_sockets", ())] == 1
    refused = (("action", "socket"), ("code", "invalid_token"))
    assert samples[("tsj_refusals_total", refused)] == 1
    assert samples[("tsj_logins_total", (("outcome", "success"),))] == 1
    assert samples[("tsj_logins_total", (("outcome", "invalid_credentials"),))] == 1
    assert samples[("tsj_handshake_seconds_count", ())] == 1


@pytest.mark.gen_test
async def test_a_429_is_counted_by_route(
    http_server: Any, http_port: int, http_client: Any, settings: AuthSettings
) -> None:
    codes = [
        await login(http_client, http_port, "wrong-password")
        for _ in range(settings.login_max_failures + 1)
    ]
    assert codes[-1] == 429
    samples = await scrape(http_client, http_port)
    assert samples[("tsj_rate_limited_total", (("route", "login"),))] == 1
    assert samples[("tsj_logins_total", (("outcome", "too_many_attempts"),))] == 1


@pytest.mark.gen_test
async def test_a_logout_counts_a_socket_cut_with_token_revoked(
    http_server: Any, http_port: int, http_client: Any, make_token: Callable[..., str]
) -> None:
    token = make_token()
    async with connected_client(server_url(http_port), auth={"token": token}) as c:
        response = await http_client.fetch(
            server_url(http_port) + "/logout",
            method="POST",
            body=b"",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.code == 204
        await c.until_disconnected()
    samples = await scrape(http_client, http_port)
    assert samples[("tsj_sockets_cut_total", (("code", "token_revoked"),))] == 1
    assert samples[("tsj_connected_sockets", ())] == 0


@pytest.mark.parametrize("allowed", [("10.0.0.0/8",)])
@pytest.mark.gen_test
async def test_metrics_are_refused_outside_the_allowed_networks(
    http_server: Any, http_port: int, http_client: Any, allowed: Any
) -> None:
    response = await http_client.fetch(
        server_url(http_port) + "/metrics", raise_error=False
    )
    assert response.code == 403


@pytest.mark.gen_test
async def test_refusal_log_lines_carry_structured_fields_and_no_token(
    http_server: Any, http_port: int, caplog: Any
) -> None:
    caplog.set_level(logging.INFO, logger="tornado_socketio_jwt")
    token = "not-a-jwt-but-secret-looking"
    async with connected_client(server_url(http_port), auth={"token": token}):
        pass
    [record] = [
        r for r in caplog.records if r.getMessage().startswith("socket refused")
    ]
    assert record.tsj_event == "socket_refused"  # type: ignore[attr-defined]
    assert record.tsj_code == "invalid_token"  # type: ignore[attr-defined]
    assert record.tsj_remote == "127.0.0.1"  # type: ignore[attr-defined]
    assert all(token not in r.getMessage() for r in caplog.records)


def test_without_the_route_there_is_no_metrics_url(
    sio: Any, settings: AuthSettings
) -> None:
    specs = attach_jwt_auth(sio, replace(settings, routes=("socketio",)))
    assert "tsj.metrics" not in [spec.name for spec in specs]
