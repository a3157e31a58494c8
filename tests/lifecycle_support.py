"""Helpers for the token-lifecycle tests (expiry, refresh, revocation, event flow)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.support import ClientResult

LOGGER = "tornado_socketio_jwt"


def capture_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Record the library's INFO lines (and DEBUG, for dropped events)."""
    caplog.set_level(logging.DEBUG, logger=LOGGER)


def assert_logged(caplog: pytest.LogCaptureFixture, *fragments: str) -> None:
    """Some record of the library's logger contains every fragment."""
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert any(all(f in line for f in fragments) for line in lines), (fragments, lines)


def assert_no_token_logged(caplog: pytest.LogCaptureFixture, *tokens: str) -> None:
    """No log record of any logger carries a token (nor any of its three parts)."""
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        for token in tokens:
            assert token not in text
            assert token.split(".")[2] not in text


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""

    async def holds() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(holds(), timeout)


async def stays_connected_until(result: ClientResult, moment: float) -> None:
    """Bounded wait until wall-clock ``moment``, failing if the socket drops first."""

    async def watch() -> None:
        while time.time() < moment:
            assert result.connected, "the socket was disconnected"
            await asyncio.sleep(0.02)

    await asyncio.wait_for(watch(), moment - time.time() + 1.0)


async def call(result: ClientResult, event: str, data: Any = None) -> Any:
    """Emit ``event`` with an ack and return the ack (bounded)."""
    return await result.client.call(event, data, timeout=5)
