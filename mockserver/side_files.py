"""What the server's side files (shared controls, request journal, webhook outbox) open the same way.

Each is an SQLite file beside the write log that every worker of one server opens for itself
(gunicorn forks after the app is built: a connection must never cross a fork), in autocommit mode,
WAL, without fsync: a crash may lose counters, journal entries or pending webhooks of a mock, never
the customers' write log (:mod:`mockserver.store` keeps its own, stricter settings).

Pure: no web framework, no flavour.
"""

from __future__ import annotations

import os
import sqlite3
from typing import ClassVar

__all__ = ["SideFile", "alive", "open_side_database"]


def open_side_database(path: str, schema: str) -> sqlite3.Connection:
    """A new connection to the side file ``path``, its tables made (``schema``: ``CREATE ... IF NOT EXISTS``).

    The caller keeps one per process (and its pid) and serializes its threads' use with its own lock.
    """
    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.executescript(schema)
    return conn


class SideFile:
    """Base of a side file's store: its connection, opened again in each process (never across a fork).

    A subclass sets ``path`` and ``schema``; ``_prepare`` adds what its queries need to a new connection.
    """

    path: str
    schema: ClassVar[str]
    _conn: sqlite3.Connection | None = None
    _pid: int = -1

    def _prepare(self, conn: sqlite3.Connection) -> None:
        """Called on each new connection (a function its queries use, a pragma of its own)."""

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            conn = open_side_database(self.path, self.schema)
            self._prepare(conn)
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (one another user owns counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
