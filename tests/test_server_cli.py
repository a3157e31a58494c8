"""The command line (through server.py): options and environment, the generated
secret, adduser, serving."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import urllib.request

import pytest

from tests.server_process import (
    ROOT,
    demo_password,
    free_port,
    http_login,
    running_server,
)
from tornado_socketio_jwt import SQLiteUserStore
from tornado_socketio_jwt.cli import CommandError, load_secret, make_parser
from tornado_socketio_jwt.cli.settings import SECRET_FILE


def run(args, data_dir, stdin="", env=None, timeout=30):
    full_env = {k: v for k, v in os.environ.items() if k != "JWT_SECRET"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, str(ROOT / "server.py"), "--data-dir", str(data_dir), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=ROOT,
    )


def test_help_names_every_environment_variable_not_named_like_its_option(tmp_path):
    result = run(["serve", "--help"], tmp_path)
    text = " ".join((result.stdout + result.stderr).split())  # argparse wraps lines
    for name in ("JWT_ISSUER", "CORS_ALLOWED_ORIGINS", "JWT_AUDIENCE"):
        assert f"[{name}]" in text, name
    assert "named" not in text or "capitals (TOKEN_TTL)" in text
    assert "set JWT_SECRET" in text


def test_option_values_may_follow_a_space_or_an_equals_sign():
    options = make_parser(environ={}).parse_args(
        ["--port", "9100", "--host=0.0.0.0", "adduser", "bob", "--email", "x"]
    )
    assert (options.port, options.host) == (9100, "0.0.0.0")
    assert (options.command, options.name, options.email) == ("adduser", "bob", "x")


def test_adduser_reads_a_piped_password_and_stores_an_argon2id_hash(tmp_path):
    result = run(
        ["adduser", "carol", "--email", "carol@example.com", "--first-name", "Carol"],
        tmp_path,
        stdin="s3cret-pass\n",
    )
    assert result.returncode == 0, result.stderr
    store = SQLiteUserStore(str(tmp_path / "users.sqlite3"))
    try:
        row = store._row("username = ?", "carol")
        assert row is not None
        assert row[2].startswith("$argon2id$") and "s3cret-pass" not in row[2]
        assert row[3] == "carol@example.com" and row[4] == "Carol"
    finally:
        store.close()


def test_adduser_refuses_an_existing_name(tmp_path):
    assert run(["adduser", "dave"], tmp_path, stdin="pw-one-long\n").returncode == 0
    again = run(["adduser", "dave"], tmp_path, stdin="pw-two-long\n")
    assert again.returncode != 0 and "exists" in again.stderr


def test_adduser_refuses_an_empty_password(tmp_path):
    result = run(["adduser", "erin"], tmp_path, stdin="\n")
    assert result.returncode == 1
    assert "the password is 0 characters; it must be at least 8" in result.stderr


def test_generated_secret_is_stored_with_mode_0600_and_reused(tmp_path):
    first = load_secret(tmp_path)
    path = tmp_path / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.encode()) >= 32
    assert load_secret(tmp_path) == first


def test_secret_file_readable_by_others_is_refused(tmp_path):
    load_secret(tmp_path)
    (tmp_path / SECRET_FILE).chmod(0o644)
    with pytest.raises(CommandError, match="chmod 600"):
        load_secret(tmp_path)


def test_short_jwt_secret_is_refused_at_start_up(tmp_path):
    result = run(
        ["--port", str(free_port())], tmp_path, env={"JWT_SECRET": "too-short"}
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "too-short" not in result.stderr
    assert "JWT_SECRET (from the environment) is 9 bytes; it must be at least 32" in (
        result.stderr
    )
    assert "secrets.token_urlsafe(48)" in result.stderr


def test_first_start_creates_a_demo_user_whose_password_is_printed_once(tmp_path):
    port = free_port()
    with running_server(tmp_path, env={"PORT": str(port)}) as lines:  # port from env
        password = demo_password(lines)
        assert http_login(port, "demo", password)["token_type"] == "Bearer"
        assert any("(shown once; `server.py passwd demo` sets" in x for x in lines)
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/healthz", timeout=10
        ) as r:
            assert json.loads(r.read()) == {"status": "ok"}
    assert stat.S_IMODE((tmp_path / SECRET_FILE).stat().st_mode) == 0o600
    with running_server(tmp_path, env={"PORT": str(port)}) as lines:
        assert not any("Created user" in line for line in lines)


def test_a_non_numeric_port_in_the_environment_is_a_clear_error(tmp_path):
    result = run([], tmp_path, env={"PORT": "abc", "JWT_SECRET": "x" * 40})
    assert result.returncode == 2
    assert "PORT='abc' is not a TCP port number" in result.stderr
    assert len(result.stderr.splitlines()) == 1  # one line, no traceback


def test_documented_defaults_apply_when_the_environment_is_empty():
    options = make_parser(environ={}).parse_args([])
    assert (options.host, options.port, options.data_dir) == (
        "127.0.0.1",
        9000,
        "./data",
    )
    assert options.token_ttl == 5 * 3600
    assert options.issuer == "tornado-socketio-jwt"
    assert (options.auth_flow, options.cors_origins) == ("handshake", ())
    assert (options.command, options.log_level) == (None, "info")


def test_environment_variables_supply_the_defaults(monkeypatch):
    monkeypatch.setenv("PORT", "9123")
    monkeypatch.setenv("HOST", "0.0.0.0")
    options = make_parser().parse_args([])
    assert (options.host, options.port) == ("0.0.0.0", 9123)


def test_the_command_line_overrides_the_environment(monkeypatch):
    monkeypatch.setenv("PORT", "abc")  # never converted: the option wins
    options = make_parser().parse_args(["serve", "--port=9124"])
    assert options.port == 9124


def test_the_heartbeat_options_reach_the_running_server(tmp_path):
    port = free_port()
    args = ("--port", str(port), "--ping-interval", "7", "--ping-timeout", "4")
    with running_server(tmp_path, *args, env={"JWT_SECRET": "x" * 40}):
        url = f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling"
        with urllib.request.urlopen(url, timeout=10) as response:
            opened = json.loads(response.read().decode()[1:])  # after "0", OPEN
    assert (opened["pingInterval"], opened["pingTimeout"]) == (7000, 4000)
