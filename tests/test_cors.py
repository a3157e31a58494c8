"""Cross-origin sockets: own origin only by default, listed origins when configured."""

from __future__ import annotations

import pytest

import server
from tests.conftest import stop
from tests.support import server_url
from tornado_socketio_jwt import AuthSettings

GOOD = "http://chat.example.com"
EVIL = "http://evil.example.net"


@pytest.fixture
def origins():
    return None


@pytest.fixture
def app(secret, users, io_loop, origins):
    settings = AuthSettings(secret=secret, cors_allowed_origins=origins)
    application, sio = server.make_app(settings, users)
    yield application
    io_loop.run_sync(lambda: stop(sio))


async def handshake_from(http_client, port, origin):
    url = f"{server_url(port)}/socket.io/?EIO=4&transport=polling"
    return await http_client.fetch(url, headers={"Origin": origin}, raise_error=False)


@pytest.mark.gen_test
async def test_a_foreign_origin_is_refused_by_default(
    http_server, http_port, http_client
):
    assert (await handshake_from(http_client, http_port, EVIL)).code == 400


@pytest.mark.gen_test
async def test_the_servers_own_origin_is_accepted_by_default(
    http_server, http_port, http_client
):
    response = await handshake_from(http_client, http_port, server_url(http_port))
    assert response.code == 200


@pytest.mark.parametrize("origins", [(GOOD,)])
@pytest.mark.gen_test
async def test_listed_origins_are_accepted_and_others_still_refused(
    http_server, http_port, http_client, origins
):
    good = await handshake_from(http_client, http_port, GOOD)
    assert good.code == 200
    assert good.headers["Access-Control-Allow-Origin"] == GOOD
    assert (await handshake_from(http_client, http_port, EVIL)).code == 400
