"""Two (or three) ``server.py`` processes sharing one Redis (``--redis-url``).

Each test starts its own ``redis-server`` on a free port and its own server
processes; without ``redis-server`` the tests are skipped, except under CI.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.redis_server import RedisServer
from tests.scale_support import Cluster, eventually, post
from tests.server_process import ROOT, free_port
from tests.support import ClientResult, connected_client

CROSS_PROCESS_DEADLINE = 1.0  # seconds: the contract's "within a second"
RECOVERY_TIMEOUT = 30.0  # python-socketio's manager retries with backoff


@pytest.mark.gen_test(timeout=30)
async def test_chat_message_sent_through_one_process_reaches_a_user_on_the_other(
    cluster: Cluster,
) -> None:
    alice, bob = cluster.token(sub="1"), cluster.token(sub="2")
    async with connected_client(
        cluster.url(1), auth={"token": bob}, record=("message",)
    ) as listener:
        async with connected_client(cluster.url(0), auth={"token": alice}) as sender:
            assert listener.connected and sender.connected
            ack = await sender.client.call("message", {"text": "across"}, timeout=5)
            assert ack == {"ok": True}
            message = await listener.next_event("message", timeout=5)
    assert message["text"] == "across"
    assert message["from"]["sub"] == "1"


@pytest.mark.gen_test(timeout=30)
async def test_logout_through_one_process_cuts_the_socket_on_the_other_within_a_second(
    cluster: Cluster,
) -> None:
    token = cluster.token(sub="1")
    async with connected_client(
        cluster.url(1), auth={"token": token}, record=("token_revoked",)
    ) as socket:
        assert socket.connected
        started = time.monotonic()
        response = await post(cluster.url(0) + "/logout", token=token)
        assert response.code == 204
        await socket.until_disconnected(timeout=CROSS_PROCESS_DEADLINE)
        elapsed = time.monotonic() - started
    assert socket.events["token_revoked"][0]["code"] == "token_revoked"
    print(f"cross-process revocation: {elapsed * 1000:.0f} ms")


@pytest.mark.gen_test(timeout=30)
async def test_logout_everywhere_cuts_every_socket_of_the_user_on_every_process(
    cluster: Cluster,
) -> None:
    first, second = cluster.token(sub="1"), cluster.token(sub="1")
    other = cluster.token(sub="2")
    async with connected_client(cluster.url(0), auth={"token": first}) as here:
        async with connected_client(cluster.url(1), auth={"token": second}) as there:
            async with connected_client(cluster.url(1), auth={"token": other}) as bob:
                response = await post(
                    cluster.url(0) + "/logout", {"all": True}, token=first
                )
                assert response.code == 204
                await here.until_disconnected(timeout=CROSS_PROCESS_DEADLINE)
                await there.until_disconnected(timeout=CROSS_PROCESS_DEADLINE)
                assert bob.connected


@pytest.mark.gen_test(timeout=60)
async def test_a_token_revoked_earlier_is_refused_by_a_process_started_afterwards(
    cluster: Cluster,
) -> None:
    token = cluster.token(sub="1")
    assert (await post(cluster.url(0) + "/logout", token=token)).code == 204
    late = cluster.start_server()
    async with connected_client(f"http://127.0.0.1:{late}", auth={"token": token}) as c:
        assert not c.connected
    assert refusal_code(c) == "token_revoked"


@pytest.mark.gen_test(timeout=60)
async def test_login_limit_counts_failures_made_on_both_processes(
    cluster: Cluster,
) -> None:
    wrong = {"username": "demo", "password": "not the password"}
    statuses = []
    for attempt in range(5):  # the default limit: 5 failures per user
        response = await post(cluster.url(attempt % 2) + "/login", wrong)
        statuses.append(response.code)
    assert statuses == [401] * 5  # 3 on one process, 2 on the other
    refused = await post(cluster.url(1) + "/login", wrong)
    assert refused.code == 429
    assert int(refused.headers["Retry-After"]) >= 1


async def _chat_crosses(cluster: Cluster, text: str) -> bool:
    receiver, sender = cluster.token(sub="2"), cluster.token(sub="1")
    async with connected_client(
        cluster.url(1), auth={"token": receiver}, record=("message",)
    ) as listener:
        async with connected_client(cluster.url(0), auth={"token": sender}) as talker:
            if not (listener.connected and talker.connected):
                return False
            await talker.client.call("message", {"text": text}, timeout=5)
            try:
                await listener.next_event("message", timeout=1)
            except TimeoutError:
                return False
    return True


@pytest.mark.gen_test(timeout=90)
async def test_while_redis_is_down_handshakes_use_the_local_denylist_and_logout_is_503(
    cluster: Cluster, redis: RedisServer
) -> None:
    revoked, kept = cluster.token(sub="1"), cluster.token(sub="2")
    assert (await post(cluster.url(0) + "/logout", token=revoked)).code == 204
    redis.stop()
    async with connected_client(cluster.url(1), auth={"token": revoked}) as c:
        assert refusal_code(c) == "token_revoked"
    async with connected_client(cluster.url(1), auth={"token": kept}) as there:
        assert there.connected
        response = await post(cluster.url(0) + "/logout", token=kept)
        assert response.code == 503
        assert response.headers["Retry-After"] == "1"
        assert b"service_unavailable" in response.body
        # Applied where it was made: refused there at once.
        async with connected_client(cluster.url(0), auth={"token": kept}) as c:
            assert refusal_code(c) == "token_revoked"
        assert there.connected  # the other process cannot know yet
        redis.start()
        # The pending revocation is shared once Redis is back, and cuts it there.
        await there.until_disconnected(timeout=RECOVERY_TIMEOUT)
    assert await eventually(
        lambda: _chat_crosses(cluster, "after the outage"), RECOVERY_TIMEOUT
    )


@pytest.mark.gen_test(timeout=60)
async def test_while_redis_is_down_logins_fall_back_to_limits_per_process(
    cluster: Cluster, redis: RedisServer
) -> None:
    redis.stop()
    wrong = {"username": "demo", "password": "not the password"}
    for _ in range(5):
        assert (await post(cluster.url(0) + "/login", wrong)).code == 401
    assert (await post(cluster.url(0) + "/login", wrong)).code == 429
    assert (await post(cluster.url(1) + "/login", wrong)).code == 401


def refusal_code(result: ClientResult) -> Any:
    """The ``code`` of the client's one ``connect_error``."""
    [error] = result.connect_errors
    return error["data"]["code"]


def test_a_process_that_cannot_reach_redis_at_start_exits_instead_of_serving(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "JWT_SECRET": "s" * 40, "REDIS_URL": "redis://127.0.0.1:1/0"}
    command = [sys.executable, str(ROOT / "server.py"), "--port", str(free_port())]
    finished = subprocess.run(
        [*command, "--data-dir", str(tmp_path / "data"), "--logging", "error"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert finished.returncode != 0
    assert "cannot start" in finished.stderr
    assert "listening on" not in finished.stdout
