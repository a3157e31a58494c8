"""adduser, passwd, deluser and users: the store managed from the command line,
with the password policy, and the tokens of a changed or deleted user revoked."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path
from typing import Any

import pytest

from tornado_socketio_jwt import RevocationList, SQLiteRevocationStore, SQLiteUserStore
from tornado_socketio_jwt.cli import main
from tornado_socketio_jwt.cli.settings import REVOCATIONS_FILE, USERS_FILE
from tornado_socketio_jwt.storage.password_policy import (
    MAX_LENGTH,
    WeakPasswordError,
    check_password,
)


@pytest.fixture
def tsj(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Any:
    """``tsj(*args, stdin=...)``: run a command on ``tmp_path``; (status, out, err)."""

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        status = main([*args, "--data-dir", str(tmp_path)], prog="tsj")
        out, err = capsys.readouterr()
        return status, out, err

    return run


def authenticates(data_dir: Path, name: str, password: str) -> bool:
    store = SQLiteUserStore(str(data_dir / USERS_FILE))
    loop = asyncio.new_event_loop()  # not made current: pytest-tornado's stays
    try:
        return loop.run_until_complete(store.authenticate(name, password)) is not None
    finally:
        loop.close()
        store.close()


def revoked_before_now(data_dir: Path, sub: str, iat: float) -> bool:
    store = SQLiteRevocationStore(str(data_dir / REVOCATIONS_FILE))
    revocations = RevocationList()
    try:
        store.load_into(revocations)
    finally:
        store.close()
    return revocations.is_revoked({"sub": sub, "iat": iat, "jti": "j"})


def test_users_lists_who_adduser_added(tsj: Any) -> None:
    assert (
        tsj("adduser", "ann", "--email", "ann@example.com", stdin="ann-password\n")[0]
        == 0
    )
    assert tsj("adduser", "bob", "--first-name", "Bob", stdin="bob-password\n")[0] == 0
    status, out, _ = tsj("users")
    assert status == 0
    assert out.splitlines() == ["1\tann\tann@example.com", "2\tbob\t\tBob"]


def test_users_on_an_empty_store_says_so(tsj: Any) -> None:
    status, out, err = tsj("users")
    assert (status, out) == (0, "")
    assert "no users" in err


def test_passwd_changes_the_password_and_revokes_earlier_tokens(
    tsj: Any, tmp_path: Path
) -> None:
    tsj("adduser", "ann", stdin="first-password\n")
    status, out, _ = tsj("passwd", "ANN", stdin="second-password\n")  # any case
    assert status == 0 and "password of 'ann' changed" in out
    assert authenticates(tmp_path, "ann", "second-password")
    assert not authenticates(tmp_path, "ann", "first-password")
    assert revoked_before_now(tmp_path, "1", iat=1.0)


def test_deluser_deletes_and_revokes_and_the_id_is_never_reused(
    tsj: Any, tmp_path: Path
) -> None:
    tsj("adduser", "ann", stdin="ann-password\n")
    status, out, _ = tsj("deluser", "ann")
    assert status == 0 and "deleted user 'ann' (id 1)" in out
    assert not authenticates(tmp_path, "ann", "ann-password")
    assert revoked_before_now(tmp_path, "1", iat=1.0)
    tsj("adduser", "ann", stdin="ann-password\n")
    assert tsj("users")[1].startswith("2\tann")


@pytest.mark.parametrize("command", ["passwd", "deluser"])
def test_a_name_matched_only_beyond_ascii_case_is_no_user_for_either_command(
    tsj: Any, tmp_path: Path, command: str
) -> None:
    """The store folds the case of ASCII letters only: passwd and deluser agree
    (``ärger`` is not ``Ärger``), one line each, nothing changed."""
    tsj("adduser", "Ärger", stdin="first-password\n")
    status, _, err = tsj(command, "ärger", stdin="second-password\n")
    assert status == 1 and err.count("\n") == 1 and "no user 'ärger'" in err
    assert authenticates(tmp_path, "Ärger", "first-password")


@pytest.mark.parametrize("command", ["passwd", "deluser"])
def test_an_unknown_user_is_one_line_and_exit_status_1(tsj: Any, command: str) -> None:
    status, _, err = tsj(command, "nobody", stdin="nobody-password\n")
    assert status == 1 and err.count("\n") == 1
    assert "no user 'nobody'; `users` lists them" in err


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("", "the password is 0 characters; it must be at least 8"),
        ("seven77", "the password is 7 characters; it must be at least 8"),
        ("x" * (MAX_LENGTH + 1), f"it must be at most {MAX_LENGTH}"),
        ("Margaret", "the password must not be the user name"),
    ],
)
@pytest.mark.parametrize("command", ["adduser", "passwd"])
def test_the_policy_refuses_with_the_rule_and_changes_nothing(
    tsj: Any, tmp_path: Path, command: str, password: str, rule: str
) -> None:
    if command == "passwd":
        tsj("adduser", "margaret", stdin="the-first-one\n")
    status, _, err = tsj(command, "margaret", stdin=password + "\n")
    assert status == 1 and rule in err and "nothing was changed" in err
    assert password[:8] not in err or not password
    if command == "passwd":
        assert authenticates(tmp_path, "margaret", "the-first-one")
    else:
        assert tsj("users")[1] == ""


@pytest.mark.parametrize(
    "password", ["12345678", "correct horse battery staple", "ünïcødé-pw", "x" * 64]
)
def test_the_policy_accepts_any_characters_from_8_to_more_than_64(
    password: str,
) -> None:
    check_password("ann", password)


def test_the_user_name_is_refused_whatever_its_case_or_spaces() -> None:
    with pytest.raises(WeakPasswordError):
        check_password("Margaret", " mARGARET ")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_is_prompted_twice_and_the_policy_applies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["short", "short"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    monkeypatch.setattr(sys, "stdin", Terminal())
    assert main(["adduser", "ann", "--data-dir", str(tmp_path)], prog="tsj") == 1
    assert "at least 8" in capsys.readouterr().err
    assert next(answers, None) is None  # asked twice
