"""docs/tutorial.md as written: its Python client, its browser module (in Node)
and its curl command, against a real server."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import socketio

from tests.docs_snippets import ROOT, blocks, commands, run_python
from tests.support import ALICE, server_url

TUTORIAL = ROOT / "docs" / "tutorial.md"
NODE = shutil.which("node")
NODE_MODULES = ROOT / "node_modules"
DOCUMENTED_URL = "http://127.0.0.1:9000"


@pytest.fixture
def tutorial(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.delitem(sys.modules, "docs_tutorial", raising=False)
    namespace = run_python(TUTORIAL, "docs_tutorial")
    monkeypatch.setitem(sys.modules, "docs_tutorial", sys.modules["docs_tutorial"])
    return namespace


@pytest.mark.gen_test(timeout=30)
async def test_the_whole_session_signs_in_connects_refreshes_and_logs_out(
    http_server: Any, http_port: int, tutorial: dict[str, Any]
) -> None:
    claims = await tutorial["session"](
        server_url(http_port), ALICE["username"], ALICE["password"]
    )
    assert claims["email"] == ALICE["email"]


@pytest.mark.gen_test(timeout=30)
async def test_each_step_does_what_the_page_says(
    http_server: Any, http_port: int, tutorial: dict[str, Any]
) -> None:
    url = server_url(http_port)
    with pytest.raises(RuntimeError, match="HTTP 401"):
        await tutorial["sign_in"](url, ALICE["username"], "wrong")
    token, expires_in = await tutorial["sign_in"](
        url, ALICE["username"], ALICE["password"]
    )
    assert expires_in > 0
    client = await tutorial["connect"](url, token)
    try:
        first = await tutorial["whoami"](client)
        newer = await tutorial["refresh"](url, client, token)
        assert newer != token
        assert (await tutorial["whoami"](client))["jti"] != first["jti"]
        await asyncio.wait_for(tutorial["log_out"](url, client, newer), 10)
        assert not client.connected
    finally:
        await client.shutdown()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await tutorial["connect"](url, newer)  # refused: token_revoked


async def run(*command: str, cwd: Path | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 0, err.decode()
    return out.decode()


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
@pytest.mark.gen_test(timeout=30)
async def test_the_curl_sign_in_answers_the_documented_shape(
    http_server: Any, http_port: int
) -> None:
    [curl] = [
        c
        for b in blocks(TUTORIAL)
        if b.language == "sh"
        for c in commands(b)
        if c[0] == "curl"
    ]
    [answer] = [b.text for b in blocks(TUTORIAL) if b.language == "text"]
    credentials = {"username": ALICE["username"], "password": ALICE["password"]}
    words = [w.replace(DOCUMENTED_URL, server_url(http_port)) for w in curl]
    words[words.index("-d") + 1] = json.dumps(credentials)
    body = json.loads(await run(*words))
    assert set(body) == set(json.loads(answer.replace("...", "")))
    assert body["token_type"] == "Bearer"


NODE_RUNNER = """
import { signIn, connect, whoami } from "./tutorial.mjs";
const [url, username, password] = process.argv.slice(2);
const done = (result) => { console.log(JSON.stringify(result)); process.exit(0); };
setTimeout(() => done({ timeout: true }), 10000).unref();
const token = await signIn(url, username, password);
const socket = connect(url, () => token);
socket.on("connect", async () => {
  const claims = await whoami(socket);
  socket.close();
  done({ email: claims.email });
});
"""


@pytest.mark.skipif(
    (NODE is None or not NODE_MODULES.is_dir()) and os.environ.get("CI") != "true",
    reason="needs node and node_modules (make setup)",
)
@pytest.mark.gen_test(timeout=30)
async def test_the_browser_module_signs_in_and_connects(
    http_server: Any, http_port: int, tmp_path: Path
) -> None:
    assert NODE is not None
    [script] = [b.text for b in blocks(TUTORIAL) if b.language == "js"]
    (tmp_path / "node_modules").symlink_to(NODE_MODULES)
    (tmp_path / "tutorial.mjs").write_text(script)
    (tmp_path / "run.mjs").write_text(NODE_RUNNER)
    out = await run(
        NODE,
        "run.mjs",
        server_url(http_port),
        ALICE["username"],
        ALICE["password"],
        cwd=tmp_path,
    )
    assert json.loads(out.splitlines()[0]) == {"email": ALICE["email"]}
