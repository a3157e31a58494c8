"""The official Node socket.io-client (pinned in package.json) against the server.

Each test runs tests/node/client.mjs once as a subprocess, without blocking the
IOLoop the server under test runs on, and reads the one JSON line it prints.
Without ``node`` or node_modules/socket.io-client the module is skipped, except
under CI (``CI=true``), where a missing piece is a failure.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.requirements import node_client_missing, require, run_node
from tests.support import BOB, refusal, server_url
from tornado_socketio_jwt import CredentialsRequiredError, TokenExpiredError

ROOT = Path(__file__).resolve().parent.parent
CLIENT_SCRIPT = ROOT / "tests" / "node" / "client.mjs"
# The script gives up on its own after CLIENT_TIMEOUT_S; the test waits a little longer.
CLIENT_TIMEOUT_S = 10
PROCESS_TIMEOUT_S = CLIENT_TIMEOUT_S + 5
# A token whose identity differs from the fixtures' defaults, so a match is meaningful.
SUB, EMAIL = "7", BOB["email"]
SPOOFED_SENDER = {"sub": "666", "email": "mallory@example.com"}


require(node_client_missing(), "Node client tests")


async def run_client(http_port: int, **scenario: Any) -> dict[str, Any]:
    """Run client.mjs with ``scenario`` (on stdin) and return its JSON line."""
    scenario = {
        "url": server_url(http_port),
        "timeoutMs": CLIENT_TIMEOUT_S * 1000,
        **scenario,
    }
    stdout = await run_node(CLIENT_SCRIPT, scenario, PROCESS_TIMEOUT_S)
    lines = stdout.splitlines()
    assert len(lines) == 1, stdout
    return json.loads(lines[0])


def assert_token_not_logged(caplog: pytest.LogCaptureFixture, token: str) -> None:
    assert not any(token in record.getMessage() for record in caplog.records)


@pytest.fixture
def token(make_token: Callable[..., str]) -> str:
    return make_token(sub=SUB, email=EMAIL)


@pytest.mark.parametrize("transport", ["websocket", "polling"])
@pytest.mark.parametrize("mode", ["auth", "query"])
@pytest.mark.gen_test(timeout=30)
async def test_official_client_connects_with_token_and_speaks_as_the_token_identity(
    http_server: Any,
    http_port: int,
    token: str,
    mode: str,
    transport: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    payload = {"text": f"hello over {mode}/{transport}", "from": SPOOFED_SENDER}

    result = await run_client(
        http_port,
        mode=mode,
        token=token,
        transports=[transport],
        text=payload["text"],
        payload=payload,
    )

    assert result["connected"] is True, result
    assert (result["whoami"]["sub"], result["whoami"]["email"]) == (SUB, EMAIL)
    message = result["message"]
    assert message["from"] == {"sub": SUB, "email": EMAIL}
    assert message["text"] == payload["text"]
    assert isinstance(message["ts"], (int, float))
    assert_token_not_logged(caplog, token)


@pytest.mark.gen_test(timeout=30)
async def test_official_client_connects_with_bearer_header_over_polling(
    http_server: Any, http_port: int, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    result = await run_client(
        http_port,
        mode="header",
        token=token,
        transports=["polling"],
        text="hello with a header",
    )

    assert result["connected"] is True, result
    assert (result["whoami"]["sub"], result["whoami"]["email"]) == (SUB, EMAIL)
    assert result["message"]["from"] == {"sub": SUB, "email": EMAIL}
    assert_token_not_logged(caplog, token)


@pytest.mark.parametrize("transport", ["websocket", "polling"])
@pytest.mark.gen_test(timeout=30)
async def test_official_client_with_expired_token_gets_connect_error_token_expired(
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
    transport: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    now = int(time.time())
    expired = make_token(sub=SUB, email=EMAIL, iat=now - 600, exp=now - 300)

    result = await run_client(
        http_port, mode="auth", token=expired, transports=[transport]
    )

    assert result == {
        "connected": False,
        "message": TokenExpiredError.message,
        "data": refusal(TokenExpiredError),
    }
    assert any("code=token_expired" in r.getMessage() for r in caplog.records)
    assert_token_not_logged(caplog, expired)


@pytest.mark.parametrize("transport", ["websocket", "polling"])
@pytest.mark.gen_test(timeout=30)
async def test_official_client_without_token_gets_connect_error_credentials_required(
    http_server: Any, http_port: int, transport: str
) -> None:
    result = await run_client(http_port, mode="none", transports=[transport])

    assert result == {
        "connected": False,
        "message": CredentialsRequiredError.message,
        "data": refusal(CredentialsRequiredError),
    }
