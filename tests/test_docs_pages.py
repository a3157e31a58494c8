"""The Python of the guide pages, run against real servers: what each snippet
says it does, it does (quick start, lifecycle, keys, authorization, scaling
out, the protocol page). The tutorial and the embedding guide have modules of
their own."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import tornado.web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.conftest import stop
from tests.docs_snippets import DOCS, ROOT, run_python
from tests.server_process import free_port
from tests.support import connected_client, server_url
from tornado_socketio_jwt import AuthSettings, issue_token


def page(name: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The page's Python blocks, run as one module (removed afterwards)."""
    module = "docs_page_" + re.sub(r"\W", "_", name)
    monkeypatch.delitem(sys.modules, module, raising=False)
    namespace = run_python(DOCS / name, module)
    monkeypatch.setitem(sys.modules, module, sys.modules[module])
    return namespace


@asynccontextmanager
async def serving(specs: list[Any], sio: Any) -> AsyncIterator[str]:
    """``specs`` served on a free 127.0.0.1 port; the server stops afterwards."""
    port = free_port()
    server = tornado.web.Application(specs).listen(port, address="127.0.0.1")
    try:
        yield server_url(port)
    finally:
        server.stop()
        await stop(sio)


@pytest.mark.gen_test(timeout=20)
async def test_quickstart_app_answers_hello_under_its_prefix(
    monkeypatch: pytest.MonkeyPatch, secret: str, users: Any, make_token: Any
) -> None:
    app = page("quickstart.md", monkeypatch)["make_app"](secret, users)
    port = free_port()
    server = app.listen(port, address="127.0.0.1")
    try:
        async with connected_client(
            server_url(port),
            auth={"token": make_token(sub="7")},
            socketio_path="/rt/socket.io",
        ) as result:
            assert await result.client.call("hello", {}, timeout=5) == "hello 7"
    finally:
        server.stop()


@pytest.mark.gen_test(timeout=20)
async def test_authorization_rules_admit_by_role_and_scope_and_refuse_without(
    monkeypatch: pytest.MonkeyPatch,
    settings: AuthSettings,
    users: Any,
    make_token: Any,
) -> None:
    snippets = page("authorization.md", monkeypatch)
    sio, specs = snippets["make_admin_server"](settings, users)
    async with serving(specs, sio) as url:
        admin = make_token(sub="1", roles=["admin"], scope="delete:messages")
        async with connected_client(
            url, auth={"token": admin}, namespaces=["/admin"]
        ) as result:
            purged = await result.client.call("purge", {}, namespace="/admin")
            assert purged == "purged"
        async with connected_client(
            url, auth={"token": make_token(sub="2")}, namespaces=["/admin"]
        ) as refused:
            assert refused.connect_errors[0]["data"]["code"] == "forbidden"


@pytest.mark.gen_test(timeout=20)
async def test_the_moderation_namespace_reads_its_roles_claim(
    monkeypatch: pytest.MonkeyPatch,
    settings: AuthSettings,
    users: Any,
    make_token: Any,
) -> None:
    snippets = page("authorization.md", monkeypatch)
    sio, specs = snippets["make_moderation_server"](settings, users)
    async with serving(specs, sio) as url:
        moderator = make_token(
            sub="3", scope="ban:users", **{"https://example.com/roles": ["moderator"]}
        )
        async with connected_client(
            url, auth={"token": moderator}, namespaces=["/moderation"]
        ) as result:
            answer = await result.client.call("ban", {}, namespace="/moderation")
            assert answer == "banned by 3"


def test_the_admin_ui_snippet_exempts_only_admin(
    monkeypatch: pytest.MonkeyPatch,
    settings: AuthSettings,
    users: Any,
    io_loop: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import socketio

    snippets = page("authorization.md", monkeypatch)
    sio = socketio.AsyncServer(async_mode="tornado")
    with caplog.at_level(logging.WARNING, "tornado_socketio_jwt"):
        _, admin = snippets["attach_with_admin_ui"](
            sio, settings, users, "a long admin password"
        )
    try:
        assert any("/admin" in r.getMessage() for r in caplog.records)
    finally:
        admin.uninstrument()  # it patches python-engineio for the whole process
        io_loop.run_sync(lambda: stop(sio))


@pytest.mark.gen_test(timeout=20)
async def test_lifecycle_hooks_log_admissions_and_refusals(
    monkeypatch: pytest.MonkeyPatch,
    settings: AuthSettings,
    users: Any,
    make_token: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import socketio

    snippets = page("lifecycle.md", monkeypatch)
    sio = socketio.AsyncServer(async_mode="tornado")
    specs = snippets["attach_with_hooks"](sio, settings, users)
    with caplog.at_level(logging.INFO, "my_app.auth"):
        async with serving(specs, sio) as url:
            async with connected_client(url, auth={"token": make_token(sub="5")}):
                pass
            async with connected_client(url, auth={"token": "not-a-token"}):
                pass
    messages = [r.getMessage() for r in caplog.records if r.name == "my_app.auth"]
    assert any(m.startswith("admitted") and m.endswith("as 5") for m in messages)
    assert any(m.startswith("refused") and "(invalid_token)" in m for m in messages)


def test_lifecycle_revocation_store_is_a_file_that_persists(
    monkeypatch: pytest.MonkeyPatch,
    settings: AuthSettings,
    users: Any,
    tmp_path: Path,
    io_loop: Any,
) -> None:
    snippets = page("lifecycle.md", monkeypatch)
    path = tmp_path / "revocations.sqlite3"
    sio, specs, store = snippets["attach_with_revocations"](settings, users, str(path))
    try:
        assert specs and path.is_file()
    finally:
        io_loop.run_sync(lambda: stop(sio))
        store.close()


def write_key(directory: Path) -> Path:
    directory.mkdir()
    path = directory / "jwt-private.pem"
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(path, 0o600)
    return path


@pytest.mark.gen_test(timeout=30)
async def test_key_rotation_signs_with_the_new_key_and_drops_the_old(
    monkeypatch: pytest.MonkeyPatch, users: Any, tmp_path: Path
) -> None:
    snippets = page("keys.md", monkeypatch)
    old_path, new_path = write_key(tmp_path / "old"), write_key(tmp_path / "new")
    sio, specs, ring = snippets["attach_with_key_ring"](users, str(old_path))
    async with serving(specs, sio) as url:
        settings = AuthSettings(algorithms=("ES256",))
        old_token, _ = issue_token(settings, ring, "1")
        jwks = url + "/.well-known/jwks.json"
        loop = asyncio.get_running_loop()  # PyJWKClient blocks: not on the loop
        verify = snippets["verify_elsewhere"]
        assert (await loop.run_in_executor(None, verify, old_token, jwks))["sub"] == "1"

        old_kid, new_kid = snippets["start_rotation"](ring, str(new_path))
        assert ring.kids == (old_kid, new_kid)
        new_token, _ = issue_token(settings, ring, "2")
        assert (await loop.run_in_executor(None, verify, new_token, jwks))["sub"] == "2"

        snippets["finish_rotation"](ring, old_kid)
        assert ring.kids == (new_kid,)


# In a process of its own: python-socketio's Redis manager leaves connections
# open at shutdown, which this suite's warnings-as-errors would report.
SCALING_SCENARIO = """
import asyncio, secrets, sys
import socketio, tornado.web
from tests.docs_snippets import DOCS, ROOT, run_python
from tests.support import sign
from tornado_socketio_jwt import AuthSettings, SQLiteUserStore

snippets = run_python(DOCS / "scaling.md", "docs_scaling")

async def main(redis_url, users_path, port):
    secret = secrets.token_urlsafe(32)
    users = SQLiteUserStore(users_path)
    settings = AuthSettings(secret=secret)
    sio, specs = await snippets["start_shared"](settings, users, redis_url)
    app = tornado.web.Application(specs)
    server = snippets["listen_behind_proxies"](app, port)
    client = socketio.AsyncClient(reconnection=False)
    token = sign(secret, sub="9")
    await client.connect(f"http://127.0.0.1:{port}", auth={"token": token},
                         transports=["websocket"], wait_timeout=5)
    print("connected", type(sio.manager).__name__)
    await client.disconnect()
    server.stop()
    await snippets["stop_shared"](sio)
    users.close()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


def test_scaling_out_snippets_serve_with_a_redis_manager(
    redis: Any, tmp_path: Path
) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            SCALING_SCENARIO,
            redis.url,
            str(tmp_path / "users.sqlite3"),
            str(free_port()),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["connected", "AsyncRedisManager"]


@pytest.mark.gen_test(timeout=20)
async def test_the_protocol_pages_python_client_reads_whoami(
    monkeypatch: pytest.MonkeyPatch, http_server: Any, http_port: int, make_token: Any
) -> None:
    whoami = page("reference/protocol.md", monkeypatch)["whoami"]
    claims = await whoami(make_token(sub="4"), server_url(http_port))
    assert claims["sub"] == "4"
