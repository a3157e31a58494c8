"""``SQLiteFile``: one SQLite database used off the IOLoop (WAL, private file)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["SQLiteFile", "StorageError"]

T = TypeVar("T")


class StorageError(Exception):
    """A write the database refused (disk full, read-only file, locked...).

    The message is SQLite's own; it never holds a token.
    """


class SQLiteFile:
    """A database file with one connection per thread and one worker thread.

    A new file is created with mode 0600. :meth:`run` executes blocking work
    on the worker thread, so the IOLoop never waits on SQLite; writes are
    serialised by SQLite anyway.

    :param schema: SQL script run once (``CREATE TABLE IF NOT EXISTS ...``).
    :param name: the worker thread's name prefix.
    """

    def __init__(self, path: str, schema: str, name: str = "tsj-sqlite") -> None:
        if path == ":memory:" or path.startswith("file:"):
            # Each thread would open its own, different in-memory database.
            raise ValueError("SQLiteFile needs a file path")
        self.path = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        if not os.path.exists(path):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        try:
            self.connect().executescript(schema)
        except sqlite3.DatabaseError as exc:
            self._worker.shutdown(wait=False)
            # sqlite3 names no file ("file is not a database"): say which.
            raise sqlite3.DatabaseError(f"{path}: {exc}") from exc

    def connect(self) -> sqlite3.Connection:
        """This thread's connection (blocking use only: start-up, CLI, :meth:`run`)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # Each connection is used by its own thread only; the flag lets
            # close() release them all once the worker has stopped.
            conn = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            self._local.conn = conn
            self._connections.append(conn)
        return conn

    async def run(self, work: Callable[[], T]) -> T:
        """Run ``work`` on the worker thread and await its result."""
        return await asyncio.get_running_loop().run_in_executor(self._worker, work)

    def close(self) -> None:
        """Stop the worker thread and close every connection."""
        self._worker.shutdown(wait=True)
        for conn in self._connections:
            conn.close()
        self._connections.clear()
