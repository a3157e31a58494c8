"""docs/embedding.md as written: every Python block, the JS block and the secret."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import types
import urllib.parse
from pathlib import Path
from typing import Any

import jwt
import pytest
import socketio

from tests.conftest import stop
from tests.server_process import free_port
from tests.support import ALICE, BOB, server_url

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "embedding.md"
NODE = shutil.which("node")
NODE_MODULES = ROOT / "node_modules"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE.read_text(), re.S)


@pytest.fixture
def guide(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The blocks run in order as one module (dataclasses look their module up)."""
    module = types.ModuleType("embedding_guide")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for block in blocks("python"):
        exec(compile(block, str(GUIDE), "exec"), module.__dict__)
    return module.__dict__


@pytest.fixture
def app(guide: dict[str, Any], secret: str, users: Any, io_loop: Any) -> Any:
    directory = guide["StaffDirectory"](users, {ALICE["username"]: ("moderator",)})
    application, sio = guide["make_app"](secret, directory)
    yield application
    io_loop.run_sync(lambda: stop(sio))


async def post_form(http_client: Any, url: str, **fields: str) -> Any:
    body = urllib.parse.urlencode(fields)
    return await http_client.fetch(url, method="POST", body=body, raise_error=False)


def test_the_secret_command_prints_a_secret_of_at_least_32_bytes() -> None:
    [shell] = [b for b in blocks("sh") if "JWT_SECRET" in b]
    command = re.search(r'"\$\((.*)\)"', shell).group(1)  # type: ignore[union-attr]
    secret = subprocess.run(
        command, shell=True, capture_output=True, text=True, timeout=30, check=True
    ).stdout.strip()
    assert len(secret.encode()) >= 32 and len(secret) == 64


def test_users_created_in_code_can_log_in(
    guide: dict[str, Any], tmp_path: Path
) -> None:
    users = guide["create_users"](str(tmp_path / "users.sqlite3"))
    # A loop of its own, closed here: asyncio.run would unset the current loop,
    # and pytest-tornado's next io_loop would then leak a fresh one.
    loop = asyncio.new_event_loop()
    try:
        password = "correct horse battery staple"
        user = loop.run_until_complete(users.authenticate("alice", password))
        assert user is not None and user.claims()["last_name"] == "Liddell"
    finally:
        loop.close()
        users.close()


@pytest.mark.gen_test
async def test_the_apps_own_login_issues_a_token_with_its_roles(
    http_server: Any, http_port: int, http_client: Any, guide: dict[str, Any]
) -> None:
    url = server_url(http_port)
    response = await post_form(
        http_client, url + "/app/login", username="carol", password="carol-password"
    )
    token = json.loads(response.body)["token"]
    client = await guide["connect_python_client"](url, token, "/moderation")
    try:
        assert client.connected
    finally:
        await client.shutdown()
    wrong = await post_form(
        http_client, url + "/app/login", username="carol", password="x"
    )
    assert wrong.code == 401


@pytest.mark.gen_test
async def test_the_python_client_tells_an_unreachable_server_from_a_refusal(
    guide: dict[str, Any],
) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError) as failed:
        await guide["connect_python_client"](f"http://127.0.0.1:{free_port()}", "t")
    assert not isinstance(failed.value, guide["Refused"])


@pytest.mark.gen_test
async def test_builtin_login_tokens_carry_the_directorys_roles(
    http_server: Any, http_port: int, http_client: Any, secret: str
) -> None:
    response = await post_form(
        http_client,
        server_url(http_port) + "/rt/login",
        username=ALICE["username"],
        password=ALICE["password"],
    )
    token = json.loads(response.body)["token"]
    claims = jwt.decode(
        token, secret, algorithms=["HS256"], options={"verify_iss": False}
    )
    assert claims["roles"] == ["moderator"] and claims["email"] == ALICE["email"]


@pytest.mark.gen_test
async def test_the_python_client_reads_each_refusal_code(
    http_server: Any,
    http_port: int,
    http_client: Any,
    guide: dict[str, Any],
    make_token: Any,
) -> None:
    url = server_url(http_port)
    with pytest.raises(guide["Refused"]) as refused:
        await guide["connect_python_client"](url, "not-a-token")
    assert refused.value.code == "invalid_token"
    no_role = make_token(sub="2", email=BOB["email"])
    with pytest.raises(guide["Refused"]) as refused:
        await guide["connect_python_client"](url, no_role, "/moderation")
    assert refused.value.code == "forbidden"
    client = await guide["connect_python_client"](url, no_role)
    try:
        assert await client.call("hello", {}, timeout=5) == "hello 2"
    finally:
        await client.shutdown()


NODE_RUNNER = """
import { connect } from "./guide.mjs";
const [url, token] = process.argv.slice(2);
const socket = connect(url, () => token);
const done = (result) => {
  console.log(JSON.stringify(result));
  socket.close();
  process.exit(0);
};
socket.on("connect", () => socket.emit("hello", {}, (answer) => done({ answer })));
socket.on("connect_error", (err) => done({ code: err.data && err.data.code }));
setTimeout(() => done({ timeout: true }), 10000).unref();
"""


async def run_guide_js(tmp_path: Path, url: str, token: str) -> dict[str, Any]:
    (tmp_path / "node_modules").symlink_to(NODE_MODULES)
    [script] = blocks("js")
    (tmp_path / "guide.mjs").write_text(script)
    (tmp_path / "run.mjs").write_text(NODE_RUNNER)
    assert NODE is not None
    process = await asyncio.create_subprocess_exec(
        NODE,
        "run.mjs",
        url,
        token,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 0, err.decode()
    return json.loads(out.decode().splitlines()[0])  # type: ignore[no-any-return]


@pytest.mark.skipif(
    (NODE is None or not NODE_MODULES.is_dir()) and os.environ.get("CI") != "true",
    reason="needs node and node_modules (make setup)",
)
@pytest.mark.gen_test(timeout=30)
async def test_the_js_client_connects_under_the_prefix_and_reads_refusals(
    http_server: Any, http_port: int, make_token: Any, tmp_path: Path
) -> None:
    url = server_url(http_port)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    accepted = await run_guide_js(tmp_path / "a", url, make_token(sub="2"))
    assert accepted == {"answer": "hello 2"}
    refused = await run_guide_js(tmp_path / "b", url, "not-a-token")
    assert refused == {"code": "invalid_token"}


@pytest.mark.gen_test
async def test_serve_listens_until_stopped_then_shuts_down(
    guide: dict[str, Any], secret: str, tmp_path: Path
) -> None:
    stop_event, port = asyncio.Event(), free_port()
    task = asyncio.ensure_future(
        guide["serve"](secret, port, stop_event, str(tmp_path / "u.sqlite3"))
    )
    _, writer = await _open(port)  # it listens
    writer.close()
    await writer.wait_closed()
    stop_event.set()
    await asyncio.wait_for(task, 10)


async def _open(port: int) -> Any:
    async def attempt() -> Any:
        while True:
            try:
                return await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.01)

    return await asyncio.wait_for(attempt(), 10)


def test_configure_logging_sets_the_library_and_access_levels(
    guide: dict[str, Any],
) -> None:
    names = ("tornado_socketio_jwt", "tornado.access")
    before = [logging.getLogger(name).level for name in names]
    try:
        guide["configure_logging"]()
        assert [logging.getLogger(n).level for n in names] == [logging.INFO] * 2
    finally:
        for name, level in zip(names, before, strict=False):
            logging.getLogger(name).setLevel(level)
