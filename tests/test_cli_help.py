"""The command line: help, commands and errors, as python -m tornado_socketio_jwt."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.server_process import free_port, http_login, running_server
from tornado_socketio_jwt._version import __version__
from tornado_socketio_jwt.cli import CommandError, main
from tornado_socketio_jwt.cli.commands import read_password
from tornado_socketio_jwt.cli.options import dest
from tornado_socketio_jwt.cli.table import OPTIONS

TORNADO_OPTIONS = (
    "--logging",
    "--log-file-prefix",
    "--log_file_prefix",
    "--log-to-stderr",
)
SECRET = "a-secret-that-must-never-be-printed-0123456789"


def run(*args: str, stdin: str = "", cwd: Path | None = None) -> Any:
    env = dict(os.environ, JWT_SECRET=SECRET)
    return subprocess.run(
        [sys.executable, "-m", "tornado_socketio_jwt", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        cwd=cwd,
    )


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for command in ("serve", "adduser", "passwd", "deluser", "users", "genkey"):
        assert f" {command} " in text, command
    assert "serve --help" not in text or "COMMAND --help" in text


def test_serve_help_lists_every_option_with_its_variable_and_default() -> None:
    result = run("serve", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for option in OPTIONS:
        assert option.flag in text, option.flag
        named_like_the_flag = option.env == dest(option).upper()
        assert named_like_the_flag or f"[{option.env}]" in text, option.flag
        if option.default:
            assert f"({option.default})" in text, option.flag
    assert "port to listen on (9000)" in text
    assert "capitals (TOKEN_TTL)" in text


@pytest.mark.parametrize(
    "group",
    [
        "server:",
        "tokens and keys:",
        "lifecycle",
        "limits:",
        "scale-out:",
        "operations:",
    ],
)
def test_serve_help_shows_the_options_in_groups(group: str) -> None:
    assert f"\n{group}" in run("serve", "--help").stdout


def test_help_shows_none_of_tornados_options_and_no_secret() -> None:
    result = run("--help")
    for option in TORNADO_OPTIONS:
        assert option not in result.stdout, option
    assert SECRET not in result.stdout


@pytest.mark.parametrize(
    "command", ["serve", "adduser", "passwd", "deluser", "users", "genkey"]
)
def test_each_command_has_its_own_help(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: python -m tornado_socketio_jwt {command}")
    assert "--data-dir" in result.stdout


def test_version_is_the_packages() -> None:
    assert run("--version").stdout.split() == [
        "python",
        "-m",
        "tornado_socketio_jwt",
        __version__,
    ]


@pytest.mark.parametrize("args", [["--nope"], ["adduser", "bob", "--port", "1"]])
def test_an_unknown_option_is_one_clear_line_and_exit_status_2(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "error: unrecognized arguments:" in result.stderr


def test_an_unknown_command_is_one_clear_line_and_exit_status_2() -> None:
    result = run("frobnicate")
    assert result.returncode == 2
    assert "invalid choice: 'frobnicate'" in result.stderr


def test_a_bad_option_value_is_one_line_and_exit_status_2() -> None:
    result = run("--port", "ninety")
    assert (result.returncode, result.stderr.count("\n")) == (2, 1)
    assert "argument --port: 'ninety' is not a TCP port number" in result.stderr


def test_adduser_after_the_command_takes_its_data_dir(tmp_path: Path) -> None:
    result = run("adduser", "zoe", "--data-dir", str(tmp_path), stdin="pw-zoe-long\n")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "users.sqlite3").is_file()


def test_a_terminal_is_asked_for_the_password_twice(monkeypatch: Any) -> None:
    answers = iter(["first-password", "second-password"])
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    with pytest.raises(CommandError, match="do not match"):
        read_password()


def test_serve_is_also_the_explicit_command(tmp_path: Path) -> None:
    port = free_port()
    assert run("adduser", "ann", "--data-dir", str(tmp_path), stdin="pw-ann-long\n")
    with running_server(tmp_path, "serve", "--port", str(port)) as lines:
        assert any(f"listening on http://127.0.0.1:{port}" in line for line in lines)
        assert http_login(port, "ann", "pw-ann-long")["token_type"] == "Bearer"


def test_main_returns_the_exit_status_of_a_failed_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "jwt-private.pem").write_text("x")
    assert main(["genkey", "--data-dir", str(tmp_path)], prog="tsj") == 1
    assert capsys.readouterr().err.startswith("tsj: error: ")


def test_a_port_out_of_range_is_one_line_and_exit_status_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tornado_socketio_jwt", "--port", "70000"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "'70000' is not a TCP port number from 0 to 65535" in result.stderr


@pytest.mark.parametrize("mistake", ["corrupt users", "corrupt revocations", "file"])
def test_a_start_up_mistake_is_one_line_and_exit_status_1(
    tmp_path: Path, mistake: str
) -> None:
    data = tmp_path / "data"
    if mistake == "file":
        data.write_text("not a directory")
    else:
        data.mkdir(mode=0o700)
        name = "users" if mistake == "corrupt users" else "revocations"
        store = data / f"{name}.sqlite3"
        store.write_text("this is no database")
        store.chmod(0o600)
    env = {**os.environ, "JWT_SECRET": "s" * 40}
    result = subprocess.run(
        [sys.executable, "-m", "tornado_socketio_jwt", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
