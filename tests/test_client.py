"""The bundled browser client and /healthz over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import server_url
from tornado_socketio_jwt.web.static import bundled_static_dir, find_static_dir

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.gen_test
async def test_root_serves_the_browser_client_with_a_strict_csp(
    http_server, http_port, http_client
):
    response = await http_client.fetch(server_url(http_port) + "/")
    assert b'id="login-form"' in response.body
    assert b'src="client/app.js"' in response.body
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


@pytest.mark.gen_test
async def test_client_script_loads_the_vendored_official_client(
    http_server, http_port, http_client
):
    script = await http_client.fetch(server_url(http_port) + "/client/app.js")
    assert b'from "./vendor/socket.io.esm.min.js"' in script.body
    vendor = await http_client.fetch(
        server_url(http_port) + "/client/vendor/socket.io.esm.min.js"
    )
    assert b"Socket.IO v4" in vendor.body[:200]


@pytest.mark.gen_test
async def test_client_assets_outside_the_static_dir_are_not_served(
    http_server, http_port, http_client
):
    response = await http_client.fetch(
        server_url(http_port) + "/client/../server.py", raise_error=False
    )
    assert response.code in (403, 404)


@pytest.mark.gen_test
async def test_healthz_answers_ok(http_server, http_port, http_client):
    response = await http_client.fetch(server_url(http_port) + "/healthz")
    assert json.loads(response.body) == {"status": "ok"}


def test_static_dir_override_must_hold_index_html(tmp_path):
    with pytest.raises(FileNotFoundError):
        find_static_dir(str(tmp_path))
    (tmp_path / "index.html").write_text("<html></html>")
    assert find_static_dir(str(tmp_path)) == str(tmp_path)


def test_a_checkout_finds_the_client_in_its_top_level_static_folder():
    assert Path(find_static_dir()) == ROOT / "static"
    assert (bundled_static_dir() / "vendor" / "socket.io.esm.min.js").is_file()
