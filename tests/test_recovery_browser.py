"""The browser page with connection state recovery: chat messages sent while
a page was cut off appear once, in order, after it reconnects."""

from __future__ import annotations

from typing import Any

import pytest

from tests.recovery_support import proxy_to
from tests.requirements import require
from tests.support import ALICE, BOB
from tests.test_browser import (
    WAIT_MS,
    _missing,
    chromium,
    client_page,
    expect,
    log_in,
    page_url,
    until_connected,
)
from tornado_socketio_jwt import AuthSettings, StateRecovery

require(_missing(), "browser tests")


@pytest.fixture
def settings(secret: str) -> AuthSettings:
    return AuthSettings(
        secret=secret, token_ttl=60, recovery=StateRecovery(enabled=True)
    )


async def say(page: Any, text: str) -> None:
    await page.fill("#chat-input", text)
    await page.press("#chat-input", "Enter")
    await expect(page.locator("#messages li").filter(has_text=text)).to_have_count(
        1, timeout=WAIT_MS
    )


@pytest.mark.gen_test(timeout=90)
async def test_messages_sent_while_a_page_was_offline_appear_after_it_reconnects(
    http_server: Any, http_port: int
) -> None:
    async with (
        proxy_to(http_port) as proxy,
        chromium() as browser,
        client_page(browser, page_url(http_port)) as alice,
        client_page(browser, proxy.url + "/") as bob,
    ):
        await log_in(alice, ALICE)
        await log_in(bob, BOB)
        await until_connected(alice)
        await until_connected(bob)
        await say(alice, "before the cut")
        bob_messages = bob.locator("#messages li .text")
        await expect(bob_messages).to_have_text(["before the cut"], timeout=WAIT_MS)
        proxy.cut()
        await expect(bob.locator("#status")).to_have_text("connecting", timeout=WAIT_MS)
        for n in range(3):
            await say(alice, f"while away {n}")
        proxy.heal()
        await until_connected(bob)
        await expect(bob.locator("#status")).to_have_attribute(
            "data-recovered", "true", timeout=WAIT_MS
        )
        await say(alice, "after")
        await expect(bob_messages).to_have_text(
            ["before the cut", "while away 0", "while away 1", "while away 2", "after"],
            timeout=WAIT_MS,
        )
        assert alice.script_errors == [] and bob.script_errors == []
