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

__all__ = ["alive", "open_side_database"]


def open_side_database(path: str, schema: str) -> sqlite3.Connection:
    """A new connection to the side file ``path``, its tables made (``schema``: ``CREATE ... IF NOT EXISTS``).

    The caller keeps one per process (and its pid) and serializes its threads' use with its own lock.
    """
    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.executescript(schema)
    return conn


def alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (one another user owns counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
