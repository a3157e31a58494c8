"""The user store: SQLite (WAL) with argon2id password hashes.

Hashing and every SQLite call run in executors so the IOLoop never blocks.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import time
from dataclasses import dataclass
from typing import Any, Protocol

import argon2

from .background import low_priority_executor
from .sqlite import SQLiteFile

__all__ = [
    "User",
    "UserStore",
    "SQLiteUserStore",
    "UserExistsError",
    "create_demo_user",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
)
"""
COLUMNS = "id, username, password_hash, email, first_name, last_name"


class UserExistsError(ValueError):
    """``add_user`` was given a username that is taken."""


@dataclass(frozen=True)
class User:
    """A user as tokens see it: ``sub`` is ``str(id)``."""

    id: int
    username: str
    email: str = ""
    first_name: str = ""
    last_name: str = ""

    def claims(self) -> dict[str, Any]:
        """The profile claims of this user's tokens."""
        return {
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
        }


class UserStore(Protocol):
    """What the login handler needs: check a password, look a user up."""

    async def authenticate(self, username: str, password: str) -> User | None:
        """The user if ``password`` is right, else ``None`` (same cost either way)."""

    async def get(self, user_id: str) -> User | None:
        """The user with this ``sub``, or ``None``."""


class SQLiteUserStore:
    """Users in one SQLite file, passwords hashed with argon2id.

    :param path: the database file (created with its table if missing).
    :param hasher: an ``argon2.PasswordHasher``; default argon2-cffi's
                   RFC 9106 low-memory profile (64 MiB per check).
    :param hash_workers: threads checking passwords at once; each holds the
                         hasher's memory cost, so this bounds login memory.

    A new database file is created with mode 0600 (it holds password hashes).
    """

    def __init__(
        self,
        path: str,
        hasher: argon2.PasswordHasher | None = None,
        hash_workers: int = 2,
    ) -> None:
        self.path = path
        self.hasher = hasher or argon2.PasswordHasher()
        self._db = SQLiteFile(path, SCHEMA, "tsj-users")
        # Below the IOLoop's priority: sockets stay responsive in a login storm.
        self._hashing = low_priority_executor(hash_workers, "tsj-argon2")
        self._dummy_hash = self.hasher.hash("not a real password")

    def _connect(self) -> sqlite3.Connection:
        return self._db.connect()

    def add_user_sync(self, username: str, password: str, **profile: str) -> User:
        """Create a user (blocking: for the command line and start-up)."""
        if not username or not password:
            raise ValueError("username and password must not be empty")
        digest = self.hasher.hash(password)
        conn = self._connect()
        try:
            with conn:
                cur = conn.execute(
                    "INSERT INTO users (username, password_hash, email, first_name,"
                    " last_name, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        username,
                        digest,
                        profile.get("email", ""),
                        profile.get("first_name", ""),
                        profile.get("last_name", ""),
                        time.time(),
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise UserExistsError(f"user {username!r} exists") from exc
        return User(int(cur.lastrowid or 0), username, **profile)

    def find_sync(self, username: str) -> User | None:
        """The user called ``username`` (any case), or ``None`` (blocking)."""
        row = self._row("username = ?", username)
        return _user(row) if row else None

    def set_password_sync(self, username: str, password: str) -> User | None:
        """Replace ``username``'s password hash (blocking: for the command
        line); the user, or ``None`` when there is no such user."""
        digest = self.hasher.hash(password)
        conn = self._connect()
        with conn:
            conn.execute(
                "UPDATE users SET password_hash = ? WHERE username = ?",
                (digest, username),
            )
        row = self._row("username = ?", username)
        return _user(row) if row else None

    def delete_user_sync(self, username: str) -> User | None:
        """Delete ``username`` (blocking); the user deleted, or ``None``. Ids
        are never reused (AUTOINCREMENT): a later user gets a new ``sub``."""
        row = self._row("username = ?", username)
        if row is None:
            return None
        conn = self._connect()
        with conn:
            conn.execute("DELETE FROM users WHERE id = ?", (row[0],))
        return _user(row)

    def users_sync(self) -> list[User]:
        """Every user, by id (blocking)."""
        rows = self._connect().execute(f"SELECT {COLUMNS} FROM users ORDER BY id")
        return [_user(row) for row in rows.fetchall()]

    def count_sync(self) -> int:
        """How many users there are (blocking)."""
        return int(self._connect().execute("SELECT COUNT(*) FROM users").fetchone()[0])

    async def add_user(self, username: str, password: str, **profile: str) -> User:
        """Create a user off the IOLoop."""
        return await self._in_db(
            lambda: self.add_user_sync(username, password, **profile)
        )

    async def get(self, user_id: str) -> User | None:
        if not (str(user_id).isascii() and str(user_id).isdigit()):
            return None
        row = await self._in_db(lambda: self._row("id = ?", int(user_id)))
        return _user(row) if row else None

    async def authenticate(self, username: str, password: str) -> User | None:
        row = await self._in_db(lambda: self._row("username = ?", username))
        digest = row[2] if row else self._dummy_hash
        # argon2 takes tens of milliseconds of CPU: never on the IOLoop.
        loop = asyncio.get_running_loop()
        ok = await loop.run_in_executor(self._hashing, self._check, digest, password)
        return _user(row) if ok and row else None

    def _check(self, digest: str, password: str) -> bool:
        try:
            return bool(self.hasher.verify(digest, password))
        except (
            argon2.exceptions.VerificationError,
            argon2.exceptions.InvalidHashError,
        ):
            return False

    def _row(self, where: str, value: Any) -> tuple[Any, ...] | None:
        return (
            self._connect()
            .execute(f"SELECT {COLUMNS} FROM users WHERE {where}", (value,))
            .fetchone()
        )

    async def _in_db(self, work: Any) -> Any:
        return await self._db.run(work)

    def close(self) -> None:
        """Stop the database and hashing threads."""
        self._db.close()
        self._hashing.shutdown(wait=True)


def create_demo_user(store: SQLiteUserStore, username: str = "demo") -> str | None:
    """On an empty store, create ``username`` with a random password and return
    it (blocking: for start-up); ``None`` when the store already has users."""
    if store.count_sync():
        return None
    password = secrets.token_urlsafe(12)
    store.add_user_sync(
        username,
        password,
        email=f"{username}@example.com",
        first_name=username.capitalize(),
        last_name="User",
    )
    return password


def _user(row: tuple[Any, ...]) -> User:
    return User(
        id=row[0], username=row[1], email=row[3], first_name=row[4], last_name=row[5]
    )
