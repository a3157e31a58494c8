"""The bundled browser client (static/), driven end to end by headless Chromium.

Needs /usr/bin/chromium, Python's playwright and the vendored socket.io-client
(``make`` copies it to static/vendor/). Without them the module is skipped, except
under CI (``CI=true``), where a missing piece is a failure. Browsers are never
downloaded: this uses the system Chromium.
"""

from __future__ import annotations

import json
import os
import secrets
import time
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.lifecycle_support import wait_until
from tests.requirements import require
from tests.support import ALICE, BOB, server_url
from tornado_socketio_jwt import AuthSettings

try:
    from playwright.async_api import async_playwright, expect
except ImportError:  # pragma: no cover - depends on the environment
    async_playwright = None  # type: ignore[assignment]
    expect = None  # type: ignore[assignment]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
VENDORED_CLIENT = STATIC_DIR / "vendor" / "socket.io.esm.min.js"
# Every wait is bounded by playwright's timeouts (milliseconds); no sleeps.
WAIT_MS = 15_000
SIGNED_OUT = "signed out"


def _missing() -> str | None:
    if async_playwright is None:
        return "playwright is not installed (pip install -e .[test])"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    if not VENDORED_CLIENT.is_file():
        return f"{VENDORED_CLIENT} is missing (run make)"
    return None


require(_missing(), "browser tests")


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A headless system Chromium; playwright and the browser always stop."""
    playwright = await async_playwright().start()
    try:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=WAIT_MS
        )
        try:
            yield browser
        finally:
            await browser.close()
    finally:
        await playwright.stop()


@asynccontextmanager
async def client_page(browser: Any, url: str) -> AsyncIterator[Any]:
    """A page in its own browser context (its own user), opened at ``url``.

    Uncaught script errors are collected in ``page.script_errors``; the
    Socket.IO requests the page makes in ``page.socketio_requests``.
    """
    context = await browser.new_context()
    try:
        context.set_default_timeout(WAIT_MS)
        page = await context.new_page()
        page.script_errors = []
        page.socketio_requests = []
        page.on("pageerror", lambda error: page.script_errors.append(str(error)))
        page.on("request", lambda request: _record_socketio(page, request))
        page.failed_responses = []
        page.on("response", lambda response: _record_failure(page, response))
        await page.goto(url)
        status = page.locator("#status")
        await expect(status).to_have_text(SIGNED_OUT, timeout=WAIT_MS)
        yield page
    finally:
        await context.close()


def _record_failure(page: Any, response: Any) -> None:
    if response.status >= 400:
        page.failed_responses.append((response.status, response.url))


def _record_socketio(page: Any, request: Any) -> None:
    if "/socket.io/" in request.url:
        page.socketio_requests.append(request.url)


async def log_in(page: Any, user: dict[str, str], password: str | None = None) -> None:
    await page.fill("#username", user["username"])
    await page.fill("#password", user["password"] if password is None else password)
    await page.click("#login-form [type=submit]")


async def until_connected(page: Any) -> None:
    status = page.locator("#status")
    await expect(status).to_have_text("connected", timeout=WAIT_MS)
    await expect(status).to_have_attribute("data-state", "connected", timeout=WAIT_MS)


def page_url(http_port: int) -> str:
    return server_url(http_port) + "/"


@pytest.mark.gen_test(timeout=60)
async def test_two_users_log_in_and_see_each_others_chat_messages(
    http_server: Any, http_port: int
) -> None:
    async with (
        chromium() as browser,
        client_page(browser, page_url(http_port)) as alice,
        client_page(browser, page_url(http_port)) as bob,
    ):
        await log_in(alice, ALICE)
        await log_in(bob, BOB)
        await until_connected(alice)
        await until_connected(bob)
        await expect(alice.locator("#whoami")).to_have_text(
            "Signed in as Alice Liddell (alice@example.com)", timeout=WAIT_MS
        )
        await expect(bob.locator("#whoami")).to_have_text(
            "Signed in as Bob Builder (bob@example.com)", timeout=WAIT_MS
        )
        await expect(alice.locator("#login-form")).to_be_hidden()

        await alice.fill("#chat-input", "hello from alice")
        await alice.press("#chat-input", "Enter")

        received = bob.locator("#messages li").filter(has_text="hello from alice")
        await expect(received).to_have_count(1, timeout=WAIT_MS)
        await expect(received.locator(".from")).to_have_text(ALICE["email"])
        await expect(received.locator(".text")).to_have_text("hello from alice")
        # The sender gets its own message back, too.
        await expect(
            alice.locator("#messages li").filter(has_text="hello from alice")
        ).to_have_count(1, timeout=WAIT_MS)
        assert alice.script_errors == [] and bob.script_errors == []


@pytest.mark.gen_test(timeout=60)
async def test_wrong_password_shows_invalid_credentials_and_opens_no_socket(
    http_server: Any, http_port: int
) -> None:
    async with chromium() as browser:
        async with client_page(browser, page_url(http_port)) as page:
            await log_in(page, ALICE, password="not-" + ALICE["password"])

            await expect(page.locator("#login-error")).to_have_text(
                "Invalid username or password.", timeout=WAIT_MS
            )
            await expect(page.locator("#status")).to_have_text(SIGNED_OUT)
            await expect(page.locator("#chat")).to_be_hidden()
            await expect(page.locator("#login-form")).to_be_visible()
            assert page.socketio_requests == []
            assert page.script_errors == []


@pytest.mark.gen_test(timeout=60)
async def test_chat_text_is_shown_as_text_never_as_html(
    http_server: Any, http_port: int
) -> None:
    markup = '<img src="x" onerror="document.body.dataset.pwned = 1">'
    async with chromium() as browser:
        async with client_page(browser, page_url(http_port)) as page:
            await log_in(page, ALICE)
            await until_connected(page)

            await page.fill("#chat-input", markup)
            await page.press("#chat-input", "Enter")

            await expect(page.locator("#messages li .text")).to_have_text(
                markup, timeout=WAIT_MS
            )
            await expect(page.locator("#messages img")).to_have_count(0)
            assert await page.evaluate("document.body.dataset.pwned") is None


@pytest.mark.gen_test(timeout=60)
async def test_token_stays_out_of_web_storage_cookies_and_the_url(
    http_server: Any, http_port: int
) -> None:
    async with chromium() as browser:
        async with client_page(browser, page_url(http_port)) as page:
            await log_in(page, ALICE)
            await until_connected(page)

            stored = await page.evaluate("localStorage.length + sessionStorage.length")
            assert stored == 0
            assert await page.context.cookies() == []
            assert page.url == page_url(http_port)
            assert not any("token=" in url for url in page.socketio_requests)


@pytest.mark.gen_test(timeout=60)
async def test_logout_disconnects_and_shows_the_login_form(
    http_server: Any, http_port: int
) -> None:
    async with chromium() as browser:
        async with client_page(browser, page_url(http_port)) as page:
            await log_in(page, ALICE)
            await until_connected(page)

            async with page.expect_response(
                lambda response: response.url.endswith("/logout"), timeout=WAIT_MS
            ) as logout:
                await page.click("#logout")
            assert (await logout.value).status == 204

            await expect(page.locator("#status")).to_have_text(
                SIGNED_OUT, timeout=WAIT_MS
            )
            await expect(page.locator("#login-form")).to_be_visible()
            await expect(page.locator("#chat")).to_be_hidden()
            await expect(page.locator("#connect-error")).to_be_hidden()
            assert page.script_errors == []


# A short lifetime so the page refreshes (at 3/4 of it) twice before the first
# token's exp; the settings fixture is overridden for this test only.
SHORT_TTL = 4
SHORT_TTL_SETTINGS = AuthSettings(secret=secrets.token_urlsafe(32), token_ttl=SHORT_TTL)
RECORD_STATES = """() => {
  const status = document.getElementById("status");
  window.statesSeen = [];
  new MutationObserver(() => window.statesSeen.push(status.dataset.state))
    .observe(status, {attributes: true, childList: true, subtree: true});
}"""


async def send_chat(page: Any, text: str) -> None:
    await page.fill("#chat-input", text)
    await page.press("#chat-input", "Enter")
    await expect(page.locator("#messages li").filter(has_text=text)).to_have_count(
        1, timeout=WAIT_MS
    )


@pytest.mark.parametrize("settings", [SHORT_TTL_SETTINGS])
@pytest.mark.gen_test(timeout=60)
async def test_page_refreshes_its_token_and_keeps_the_chat_past_the_first_exp(
    http_server: Any, http_port: int, settings: AuthSettings
) -> None:
    async with chromium() as browser:
        async with client_page(browser, page_url(http_port)) as page:
            refreshes: list[int] = []

            def on_response(response: Any) -> None:
                if response.url.endswith("/token/refresh"):
                    refreshes.append(response.status)

            page.on("response", on_response)
            first_exp = time.time() + SHORT_TTL  # at the latest
            await log_in(page, ALICE)
            await until_connected(page)
            await page.evaluate(RECORD_STATES)
            await send_chat(page, "before the refresh")

            await wait_until(lambda: len(refreshes) >= 2, timeout=WAIT_MS / 1000)
            await wait_until(lambda: time.time() > first_exp + 0.5, timeout=SHORT_TTL)
            await send_chat(page, "after the refresh")

            assert refreshes[:2] == [200, 200]
            assert (
                await page.evaluate("window.statesSeen") == []
            )  # never left "connected"
            await expect(page.locator("#status")).to_have_text("connected")
            await expect(page.locator("#messages li")).to_have_count(2)
            await expect(page.locator("#connect-error")).to_be_hidden()
            assert page.script_errors == []


@pytest.mark.parametrize(
    "settings",
    [AuthSettings(secret=secrets.token_urlsafe(32), token_ttl=60, auth_flow="event")],
)
@pytest.mark.gen_test(timeout=60)
async def test_page_opened_for_the_event_flow_authenticates_with_the_event(
    http_server: Any, http_port: int, settings: AuthSettings
) -> None:
    async with (
        chromium() as browser,
        client_page(browser, page_url(http_port) + "?auth_flow=event") as page,
    ):
        await log_in(page, ALICE)
        await until_connected(page)

        await expect(page.locator("#whoami")).to_have_text(
            "Signed in as Alice Liddell (alice@example.com)", timeout=WAIT_MS
        )
        await send_chat(page, "hello from the event flow")
        assert not any("token=" in url for url in page.socketio_requests)
        assert page.script_errors == []


@pytest.mark.gen_test(timeout=60)
async def test_before_sign_in_the_page_is_neutral_hints_at_demo_and_loads_cleanly(
    http_server: Any, http_port: int
) -> None:
    async with chromium() as browser:
        async with client_page(browser, page_url(http_port)) as page:
            status = page.locator("#status")
            await expect(status).to_have_attribute("data-state", "signed-out")
            # Muted, as the hint's text is: not the red of an error.
            colour = "e => getComputedStyle(e).color"
            hint, error = page.locator(".hint"), page.locator("#login-error")
            assert await status.evaluate(colour) == await hint.evaluate(colour)
            assert await status.evaluate(colour) != await error.evaluate(colour)
            await expect(page.locator(".hint")).to_contain_text("demo")
            for alert in ("#connect-error", "#login-error", "#session-warning"):
                await expect(page.locator(alert)).to_be_hidden()
            icon = await page.evaluate(
                "fetch(document.querySelector('link[rel=icon]').href)"
                ".then(r => r.status)"
            )
            favicon = await page.evaluate("fetch('/favicon.ico').then(r => r.status)")
            assert (icon, favicon) == (200, 200)
            assert page.failed_responses == [] and page.script_errors == []


async def log_out_everywhere(http_client: Any, http_port: int) -> None:
    """Log ALICE out of every session from outside the page."""
    body = urllib.parse.urlencode(
        {"username": ALICE["username"], "password": ALICE["password"]}
    )
    login = await http_client.fetch(
        server_url(http_port) + "/login", method="POST", body=body
    )
    token = json.loads(login.body)["token"]
    response = await http_client.fetch(
        server_url(http_port) + "/logout",
        method="POST",
        body=json.dumps({"all": True}),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
    )
    assert response.code == 204


@pytest.mark.gen_test(timeout=60)
async def test_a_cut_session_is_explained_in_words_with_the_code_in_small_print(
    http_server: Any, http_port: int, http_client: Any
) -> None:
    async with chromium() as browser:
        async with client_page(browser, page_url(http_port)) as page:
            await log_in(page, ALICE)
            await until_connected(page)

            await log_out_everywhere(http_client, http_port)

            banner = page.locator("#connect-error")
            await expect(banner).to_contain_text(
                "This session was logged out. Sign in again.", timeout=WAIT_MS
            )
            await expect(banner.locator("small.code")).to_have_text("token_revoked")
            await expect(page.locator("#login-form")).to_be_visible()
            await expect(page.locator("#status")).to_have_text(SIGNED_OUT)
            assert page.script_errors == []


REFUSE_REFRESH = json.dumps({"error": "session_expired", "message": "too old"})


@pytest.mark.parametrize("settings", [SHORT_TTL_SETTINGS])
@pytest.mark.gen_test(timeout=60)
async def test_a_failed_refresh_is_a_visible_warning_before_the_session_is_cut(
    http_server: Any, http_port: int, settings: AuthSettings
) -> None:
    async with chromium() as browser:
        async with client_page(browser, page_url(http_port)) as page:
            await page.route(
                "**/token/refresh",
                lambda route: route.fulfill(
                    status=401, content_type="application/json", body=REFUSE_REFRESH
                ),
            )
            await log_in(page, ALICE)
            await until_connected(page)

            warning = page.locator("#session-warning")
            await expect(warning).to_contain_text(
                "Your session is too old to renew", timeout=WAIT_MS
            )
            await expect(warning.locator("small.code")).to_have_text("session_expired")
            # Warned while the session still runs...
            await expect(page.locator("#status")).to_have_text("connected")
            await expect(page.locator("#chat")).to_be_visible()
            # ...and then cut at exp, as the warning said.
            await expect(page.locator("#connect-error")).to_contain_text(
                "Your session has expired.", timeout=WAIT_MS
            )
            await expect(page.locator("#login-form")).to_be_visible()
            await expect(warning).to_be_hidden()
            assert page.script_errors == []


@pytest.mark.parametrize("attach_options", [{"events": ("whoami",)}])
@pytest.mark.gen_test(timeout=60)
async def test_a_chat_message_nobody_acknowledges_is_reported_and_kept(
    http_server: Any, http_port: int, attach_options: dict[str, Any]
) -> None:
    async with chromium() as browser:
        async with client_page(browser, page_url(http_port)) as page:
            await log_in(page, ALICE)
            await until_connected(page)

            await page.fill("#chat-input", "into the void")
            await page.press("#chat-input", "Enter")

            await expect(page.locator("#chat-error")).to_have_text(
                "Not delivered: the server did not answer in time.", timeout=WAIT_MS
            )
            await expect(page.locator("#chat-input")).to_have_value("into the void")
            await expect(page.locator("#messages li")).to_have_count(0)
            assert page.script_errors == []


@pytest.mark.gen_test(timeout=60)
async def test_a_delivered_chat_message_shows_no_error(
    http_server: Any, http_port: int
) -> None:
    async with chromium() as browser:
        async with client_page(browser, page_url(http_port)) as page:
            await log_in(page, ALICE)
            await until_connected(page)
            await send_chat(page, "delivered")
            await expect(page.locator("#chat-error")).to_be_hidden()
            await expect(page.locator("#chat-input")).to_have_value("")
