"""docs/migration.md's servers, run: the seed's jQuery-style client (query
token), socketio-jwt's README client (authenticate, unauthorized with its
callback), the mixed namespaces, and the @thream/socketio-jwt set-up, each
with the official socket.io-client 4.8."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import jwt
import pytest

from tests.docs_snippets import DOCS, run_python
from tests.peer_client import first, names, one, run
from tests.requirements import node_client_missing, require
from tests.server_process import free_port
from tests.support import server_url

require(node_client_missing(), "the migration guide's clients")

SECRET = "a secret of at least thirty-two bytes!"


@pytest.fixture
def guide(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    name = "docs_page_migration"
    monkeypatch.delitem(__import__("sys").modules, name, raising=False)
    return run_python(DOCS / "migration.md", name)


def jsonwebtoken(secret: str, kid: str | None = None, **claims: Any) -> str:
    """What the Node side's ``jwt.sign(profile, secret, {expiresIn})`` makes."""
    now = int(time.time())
    payload = {"sub": "123", "email": "john@doe.com", "iat": now, "exp": now + 300}
    headers = {"kid": kid} if kid else None
    return jwt.encode(payload | claims, secret, algorithm="HS256", headers=headers)


@asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """``app`` on a free 127.0.0.1 port; afterwards the server stops, and the
    Engine.IO tasks of the guide's (unexposed) server with it."""
    port = free_port()
    server = app.listen(port, address="127.0.0.1")
    try:
        yield server_url(port)
    finally:
        server.stop()
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


@pytest.mark.gen_test(timeout=40)
async def test_the_seed_client_and_the_handshake_server(guide: dict[str, Any]) -> None:
    async with serve(guide["make_app"](SECRET)) as url:
        token = jsonwebtoken(SECRET)
        seen = await one(url, options={"query": "token=" + token}, until=["connect"])
        assert names(seen) == ["connect"]
        seen = await one(
            url, options={"query": "token=" + token[:-3]}, until=["connect_error"]
        )
        error = first(seen, "connect_error")[0]
        assert error["data"]["type"] == "UnauthorizedError"


@pytest.mark.gen_test(timeout=40)
async def test_the_readme_client_of_the_event_flow(guide: dict[str, Any]) -> None:
    async with serve(guide["make_event_app"](SECRET)) as url:
        good, bad = await run(
            url,
            {
                "emits": [["authenticate", {"token": jsonwebtoken(SECRET)}]],
                "on": {"authenticated": [["echo", "hi"]]},
                "until": ["echo-response"],
            },
            {
                "emits": [["authenticate", {"token": "x.y.z"}]],
                "ack": ["unauthorized"],
                "until": ["disconnect"],
            },
        )
        assert names(good) == ["connect", "authenticated", "echo-response"]
        assert names(bad) == ["connect", "unauthorized", "disconnect"]
        assert first(bad, "unauthorized")[0]["data"]["type"] == "UnauthorizedError"


@pytest.mark.gen_test(timeout=40)
async def test_the_mixed_namespaces(guide: dict[str, Any]) -> None:
    token = jsonwebtoken(SECRET)
    async with serve(guide["make_mixed_app"](SECRET)) as url:
        public, event, handshake, refused = await run(
            url,
            {"untilAll": ["connect", "hi"], "until": ["connect_error"]},
            {
                "path": "/admin",
                "emits": [["authenticate", {"token": token}]],
                "until": ["authenticated", "disconnect"],
            },
            {
                "path": "/admin_hs",
                "options": {"forceNew": True, "query": "token=" + token},
                "untilAll": ["connect", "hi admin"],
                "until": ["connect_error"],
            },
            {
                "path": "/admin_hs",
                "options": {"forceNew": True},
                "until": ["connect", "connect_error"],
            },
        )
        assert sorted(names(public)) == ["connect", "hi"]
        assert "hi admin" in names(event) and names(event)[-1] == "authenticated"
        assert sorted(names(handshake)) == ["connect", "hi admin"]
        assert first(refused, "connect_error")[0]["data"]["code"] == (
            "credentials_required"
        )


@pytest.mark.gen_test(timeout=40)
async def test_the_thream_set_up(guide: dict[str, Any]) -> None:
    secret = guide["SECRETS"]["2024-06"]
    async with serve(guide["make_thream_app"]()) as url:
        active = jsonwebtoken(secret, kid="2024-06")
        disabled = jsonwebtoken(secret, kid="2024-06", sub="13")
        unknown = jsonwebtoken(secret, kid="1999-01")
        ok, off, nokey = await run(
            url,
            {"options": {"auth": {"token": f"Bearer {active}"}}, "until": ["connect"]},
            {
                "options": {"auth": {"token": f"Bearer {disabled}"}},
                "until": ["connect"],
            },
            {"options": {"auth": {"token": f"Bearer {unknown}"}}, "until": ["connect"]},
        )
        assert names(ok) == ["connect"]
        assert first(off, "connect_error")[0]["data"] == {
            "message": "This account is disabled.",
            "code": "account_disabled",
            "type": "UnauthorizedError",
        }
        assert first(nokey, "connect_error")[0]["data"]["code"] == "invalid_token"
