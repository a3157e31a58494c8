"""Revocations that survive a restart: SQLite, written off the IOLoop.

The handshake never reads this store: it is loaded into the in-memory
:class:`~.revocation.RevocationList` once, at start-up, and only written
afterwards (on ``/logout``), so verifying a token costs no database round trip.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable
from typing import Any, Protocol

from ..revocation import RevocationList
from .sqlite import SQLiteFile, StorageError

__all__ = ["RevocationStore", "SQLiteRevocationStore"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS revoked_tokens_expiry ON revoked_tokens (expires_at);
CREATE TABLE IF NOT EXISTS user_cutoffs (
    sub TEXT PRIMARY KEY,
    not_after_iat REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS user_cutoffs_expiry ON user_cutoffs (expires_at);
"""
# Re-revoking keeps the later expiry and the later cut-off.
UPSERT_JTI = (
    "INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti)"
    " DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)"
)
UPSERT_CUTOFF = (
    "INSERT INTO user_cutoffs (sub, not_after_iat, expires_at) VALUES (?, ?, ?)"
    " ON CONFLICT (sub) DO UPDATE SET"
    " not_after_iat = MAX(not_after_iat, excluded.not_after_iat),"
    " expires_at = MAX(expires_at, excluded.expires_at)"
)


class RevocationStore(Protocol):
    """Where revocations persist. Loaded once; written on each revocation."""

    def load_into(self, revocations: RevocationList) -> int:
        """Prune expired entries, then add the rest to ``revocations`` (blocking,
        at start-up); returns how many were loaded."""

    async def add_jti(self, jti: str, expires_at: float) -> None:
        """Persist a revoked token id until ``expires_at``.

        :raises StorageError: it could not be saved (the caller says so).
        """

    async def add_cutoff(
        self, sub: str, not_after_iat: float, expires_at: float
    ) -> None:
        """Persist a per-user cut-off: tokens of ``sub`` issued at or before
        ``not_after_iat`` are revoked (``expires_at`` is recorded; the
        SQLite store keeps cut-offs for good)."""


class SQLiteRevocationStore:
    """Revocations in one SQLite file (WAL).

    Revoked ids are pruned once their tokens expire, at start-up and whenever
    a revocation is written. Per-user cut-offs are never pruned: the tokens
    they cover may have been issued under any earlier ``token_ttl`` (or by
    ``/token/refresh`` up to ``max_session_age``), so no setting known at load
    time bounds their lifetime; there is at most one row per user.

    :param path: the database file (created with its tables if missing).
    :param clock: epoch seconds; injectable for tests.
    """

    def __init__(self, path: str, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        self._db = SQLiteFile(path, SCHEMA, "tsj-revocations")

    def _connect(self) -> sqlite3.Connection:
        return self._db.connect()

    def load_into(self, revocations: RevocationList) -> int:
        self.prune_sync()
        conn = self._connect()
        jtis = conn.execute("SELECT jti, expires_at FROM revoked_tokens").fetchall()
        cutoffs = conn.execute(
            "SELECT sub, not_after_iat, expires_at FROM user_cutoffs"
        ).fetchall()
        for jti, expires_at in jtis:
            revocations.revoke(jti, expires_at)
        # A cut-off's stored expiry is not used: older versions derived it
        # from the token_ttl of the day, which a restart may have lowered.
        for sub, not_after_iat, _ in cutoffs:
            revocations.revoke_all(sub, not_after_iat)
        return len(jtis) + len(cutoffs)

    async def add_jti(self, jti: str, expires_at: float) -> None:
        await self._write(UPSERT_JTI, (jti, expires_at))

    async def add_cutoff(
        self, sub: str, not_after_iat: float, expires_at: float
    ) -> None:
        await self._write(UPSERT_CUTOFF, (sub, not_after_iat, expires_at))

    def prune_sync(self) -> int:
        """Delete revoked ids whose tokens have expired (blocking); returns how
        many. Per-user cut-offs are kept (one row per user)."""
        now = self._clock()
        conn = self._connect()
        with conn:
            gone = conn.execute(
                "DELETE FROM revoked_tokens WHERE expires_at < ?", (now,)
            )
        return gone.rowcount

    def count_sync(self) -> int:
        """How many entries are stored (blocking)."""
        conn = self._connect()
        tokens = conn.execute("SELECT COUNT(*) FROM revoked_tokens").fetchone()[0]
        users = conn.execute("SELECT COUNT(*) FROM user_cutoffs").fetchone()[0]
        return int(tokens) + int(users)

    async def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        def write() -> None:
            try:
                conn = self._connect()
                with conn:
                    conn.execute(sql, params)
            except sqlite3.Error as exc:  # e.g. "database or disk is full"
                raise StorageError(f"revocation not saved: {exc}") from exc
            # The revocation is saved; pruning can wait for the next write.
            with contextlib.suppress(sqlite3.Error):
                self.prune_sync()

        await self._db.run(write)

    def close(self) -> None:
        """Stop the database thread."""
        self._db.close()
