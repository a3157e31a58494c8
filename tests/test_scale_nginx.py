"""The official Node socket.io-client through Debian's nginx (deploy/nginx.conf)
in front of two ``server.py`` processes sharing a Redis.

Needs redis-server, nginx, node and node_modules/socket.io-client; without
one of them the tests are skipped, except under CI, where that is a failure.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.nginx_server import running_nginx
from tests.redis_server import running_redis
from tests.requirements import node_client_missing, require, run_node
from tests.scale_support import Cluster, post, running_cluster
from tests.server_process import ROOT, demo_password
from tests.support import server_url

CLIENT_SCRIPT = ROOT / "tests" / "node" / "client.mjs"
CLIENT_TIMEOUT_S = 10


@pytest.fixture
def behind_nginx(tmp_path: Path) -> Iterator[tuple[Cluster, int]]:
    require(node_client_missing(), "the official client through nginx")
    with running_redis(tmp_path) as redis:
        with running_cluster(redis, tmp_path / "data", 2) as cluster:
            with running_nginx(tmp_path, cluster.ports) as port:
                yield cluster, port


async def run_client(url: str, **scenario: Any) -> dict[str, Any]:
    """tests/node/client.mjs with ``scenario``; its one JSON line (bounded)."""
    scenario = {"url": url, "timeoutMs": CLIENT_TIMEOUT_S * 1000, **scenario}
    stdout = await run_node(CLIENT_SCRIPT, scenario, CLIENT_TIMEOUT_S + 5)
    [line] = stdout.splitlines()
    return json.loads(line)  # type: ignore[no-any-return]


@pytest.mark.parametrize("transport", ["polling", "websocket"])
@pytest.mark.gen_test(timeout=60)
async def test_official_client_connects_and_chats_through_nginx(
    behind_nginx: tuple[Cluster, int], transport: str
) -> None:
    cluster, port = behind_nginx
    text = f"through nginx over {transport}"

    result = await run_client(
        server_url(port),
        mode="auth",
        token=cluster.token(sub="7"),
        transports=[transport],
        text=text,
    )

    assert result["connected"] is True, result
    assert result["whoami"]["sub"] == "7"
    assert result["message"]["text"] == text


@pytest.mark.gen_test(timeout=60)
async def test_official_client_upgrades_from_polling_to_websocket_through_nginx(
    behind_nginx: tuple[Cluster, int],
) -> None:
    cluster, port = behind_nginx

    result = await run_client(
        server_url(port),
        mode="auth",
        token=cluster.token(sub="7"),
        transports=["polling", "websocket"],
        text="upgraded",
    )

    assert result["connected"] is True, result
    assert result["message"]["text"] == "upgraded"


@pytest.mark.gen_test(timeout=60)
async def test_a_revoked_token_is_refused_through_nginx(
    behind_nginx: tuple[Cluster, int],
) -> None:
    cluster, port = behind_nginx
    token = cluster.token(sub="7")

    assert (await post(server_url(port) + "/logout", token=token)).code == 204

    result = await run_client(server_url(port), mode="auth", token=token)

    assert result["connected"] is False
    assert result["data"]["code"] == "token_revoked"


@pytest.mark.gen_test(timeout=90)
async def test_the_bundled_page_signs_in_and_chats_through_nginx(
    behind_nginx: tuple[Cluster, int],
) -> None:
    browser_tests = pytest.importorskip("tests.test_browser")
    cluster, port = behind_nginx
    demo = {"username": "demo", "password": demo_password(cluster.startup_lines)}
    url = server_url(port) + "/"
    async with (
        browser_tests.chromium() as browser,
        browser_tests.client_page(browser, url) as first,
        browser_tests.client_page(browser, url) as second,
    ):
        for page in (first, second):
            await browser_tests.log_in(page, demo)
            await browser_tests.until_connected(page)
        await first.fill("#chat-input", "hello through nginx")
        await first.press("#chat-input", "Enter")
        received = second.locator("#messages li").filter(has_text="through nginx")
        await browser_tests.expect(received).to_have_count(
            1, timeout=browser_tests.WAIT_MS
        )
        assert first.script_errors == [] and second.script_errors == []
