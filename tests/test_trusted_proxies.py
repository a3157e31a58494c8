"""X-Forwarded-For is believed only from the proxies named (TrustedProxyHTTPServer)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import tornado.httpclient
import tornado.web

from tests.server_process import free_port
from tornado_socketio_jwt.scale.proxies import (
    TrustedProxyHTTPServer,
    client_address,
    parse_networks,
)

PROXIES = parse_networks(["127.0.0.1", "10.0.0.0/8"])


class EchoHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write({"ip": self.request.remote_ip, "protocol": self.request.protocol})


def test_an_untrusted_peer_keeps_its_own_address() -> None:
    assert client_address("203.0.113.9", "198.51.100.1", PROXIES) == "203.0.113.9"


def test_a_trusted_peer_reports_the_rightmost_untrusted_hop() -> None:
    forwarded = "198.51.100.66, 198.51.100.1, 10.1.2.3"
    assert client_address("127.0.0.1", forwarded, PROXIES) == "198.51.100.1"


def test_a_trusted_peer_with_a_garbage_hop_keeps_its_own_address() -> None:
    assert client_address("127.0.0.1", "not-an-ip", PROXIES) == "127.0.0.1"


def test_a_bad_proxy_network_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_networks(["10.0.0.0/33"])


def test_xheaders_true_is_refused_since_it_trusts_every_peer() -> None:
    with pytest.raises(ValueError):
        TrustedProxyHTTPServer(tornado.web.Application(), xheaders=True)


@pytest.fixture
def echo_server(request: Any, io_loop: Any) -> Iterator[int]:
    proxies = request.param
    server = TrustedProxyHTTPServer(
        tornado.web.Application([("/", EchoHandler)]), trusted_proxies=proxies
    )
    port = free_port()
    server.listen(port, address="127.0.0.1")
    yield port
    server.stop()


async def _echo(port: int, forwarded: str) -> Any:
    response = await tornado.httpclient.AsyncHTTPClient().fetch(
        f"http://127.0.0.1:{port}/",
        headers={"X-Forwarded-For": forwarded, "X-Forwarded-Proto": "https"},
        request_timeout=5,
    )
    return tornado.escape.json_decode(response.body)


@pytest.mark.parametrize("echo_server", [["127.0.0.1"]], indirect=True)
@pytest.mark.gen_test
async def test_the_forwarded_address_is_used_when_the_peer_is_a_trusted_proxy(
    echo_server: int,
) -> None:
    assert await _echo(echo_server, "198.51.100.7") == {
        "ip": "198.51.100.7",
        "protocol": "https",
    }


@pytest.mark.parametrize("echo_server", [[]], indirect=True)
@pytest.mark.gen_test
async def test_the_forwarded_address_is_ignored_without_trusted_proxies(
    echo_server: int,
) -> None:
    assert await _echo(echo_server, "198.51.100.7") == {
        "ip": "127.0.0.1",
        "protocol": "http",
    }
