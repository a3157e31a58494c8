"""The SQLite + argon2id user store."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from tests.support import ALICE
from tornado_socketio_jwt.storage.users import UserExistsError


def test_passwords_are_stored_as_argon2id_hashes(users):
    digest = users._row("username = ?", "alice")[2]
    assert digest.startswith("$argon2id$") and ALICE["password"] not in digest


def test_database_runs_in_wal_mode(users):
    assert users._connect().execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_usernames_are_unique_regardless_of_case(users):
    with pytest.raises(UserExistsError):
        users.add_user_sync("ALICE", "whatever")


@pytest.mark.gen_test
async def test_authenticate_accepts_the_right_password_only(users):
    user = await users.authenticate("alice", ALICE["password"])
    assert user.id == 1 and user.claims()["email"] == ALICE["email"]
    assert await users.authenticate("alice", "wrong") is None
    assert await users.authenticate("nobody", ALICE["password"]) is None


@pytest.mark.gen_test
async def test_hashing_and_sqlite_run_off_the_ioloop_thread(users, monkeypatch):
    threads = []

    def recording(original):
        def run(*args):
            threads.append(threading.current_thread())
            return original(*args)

        return run

    monkeypatch.setattr(users, "_check", recording(users._check))
    monkeypatch.setattr(users, "_row", recording(users._row))
    await users.authenticate("alice", ALICE["password"])
    assert len(threads) == 2
    assert threading.main_thread() not in threads


@pytest.mark.gen_test
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice")
async def test_hashing_threads_run_below_the_ioloops_priority(users, monkeypatch):
    seen = []

    def check(*args):
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return original(*args)

    original = users._check
    monkeypatch.setattr(users, "_check", check)
    await users.authenticate("alice", ALICE["password"])
    assert seen and seen[0] > os.getpriority(os.PRIO_PROCESS, 0)


@pytest.mark.gen_test
async def test_get_finds_users_by_sub(users):
    assert (await users.get("2")).username == "bob"
    assert await users.get("999") is None
    assert await users.get("not-a-number") is None


@pytest.mark.gen_test
async def test_add_user_async_creates_a_user_that_can_log_in(users):
    await users.add_user("frank", "frank-pass", email="f@example.com")
    assert (await users.authenticate("frank", "frank-pass")).email == "f@example.com"


def test_new_database_file_is_private(tmp_path):
    import stat

    from tornado_socketio_jwt import SQLiteUserStore

    store = SQLiteUserStore(str(tmp_path / "u.sqlite3"))
    store.close()
    assert stat.S_IMODE((tmp_path / "u.sqlite3").stat().st_mode) == 0o600


def test_an_in_memory_database_is_refused_rather_than_silently_empty():
    from tornado_socketio_jwt import SQLiteUserStore

    with pytest.raises(ValueError, match="file path"):
        SQLiteUserStore(":memory:")
