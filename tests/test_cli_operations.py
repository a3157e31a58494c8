"""The command line's operations options: --metrics and --trusted-proxies."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from pathlib import Path

from tests.server_process import free_port, running_server


def get(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def failed_login(port: int, username: str, forwarded_for: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/login",
        method="POST",
        data=json.dumps({"username": username, "password": "wrong-pass"}).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded_for},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


SECRET = {"JWT_SECRET": secrets.token_urlsafe(40)}


def test_metrics_are_off_unless_asked_for(tmp_path: Path) -> None:
    port = free_port()
    with running_server(tmp_path, "--port", str(port), env=SECRET):
        assert get(port, "/metrics") == 404


def test_metrics_on_serves_loopback_clients(tmp_path: Path) -> None:
    port = free_port()
    with running_server(tmp_path, "--port", str(port), "--metrics", "on", env=SECRET):
        assert get(port, "/metrics") == 200


def test_metrics_for_other_networks_refuse_loopback(tmp_path: Path) -> None:
    port = free_port()
    args = ("--port", str(port), "--metrics", "192.0.2.0/24")
    with running_server(tmp_path, *args, env=SECRET):
        assert get(port, "/metrics") == 403


def test_a_trusted_proxys_forwarded_address_is_the_one_limited(tmp_path: Path) -> None:
    port = free_port()
    args = ("--port", str(port), "--trusted-proxies", "127.0.0.1")
    with running_server(tmp_path, *args, env=SECRET):
        # The per-address limit is four times the per-user one (5): 20 failures.
        codes = [failed_login(port, f"user{i}", "198.51.100.7") for i in range(21)]
        assert codes[:20] == [401] * 20 and codes[20] == 429
        assert failed_login(port, "someone", "198.51.100.8") == 401
