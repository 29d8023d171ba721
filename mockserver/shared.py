"""State every worker shares besides the write overlay: controls, counters, quotas, workers.

:class:`SharedState` is the interface the stages and the admin API use; :class:`LocalShared`
keeps it in an SQLite file beside the write log (``<state>-shared``), so every gunicorn worker of
one server sees one copy, and a networked store can implement the same protocol later.

- **controls**: the current :class:`~mockserver.controls.Controls` as JSON, and the ones the
  server started with (what a reset goes back to). A change bumps a counter mapped into every
  process (:class:`~mockserver.store.ChangeCounter`), so reading the controls on the hot path
  costs one memory read until something changes.
- **counters**: how many times a request signature has been seen (the fault draws' sequence).
- **quotas**: each rate-limit key's state, advanced in one ``BEGIN IMMEDIATE`` transaction per
  request, so no two workers take the same slot.
- **workers**: the pids that served from this state, for ``GET /__admin/health``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Protocol

from mockserver.controls import Controls, Quota
from mockserver.errors import ServiceUnavailable
from mockserver.ratelimit import Usage, advance
from mockserver.side_files import SideFile, alive
from mockserver.store import ChangeCounter

__all__ = ["MAX_ROWS", "LocalShared", "SharedState"]

MAX_ROWS = 100_000
"""Fault sequences (distinct URLs) and quota states (distinct tenants or tokens) kept before starting over."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS controls (slot TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS quotas (key TEXT PRIMARY KEY, level REAL NOT NULL, stamp REAL NOT NULL);
CREATE TABLE IF NOT EXISTS workers (pid INTEGER PRIMARY KEY, started REAL NOT NULL);
"""


class SharedState(Protocol):
    """What the pipeline's stages and the admin API keep where every worker (and replica) sees it."""

    def controls(self) -> Controls:
        """The current controls (cheap: re-read only after a change)."""
        ...

    def update_controls(self, change: Callable[[Controls], Controls]) -> Controls:
        """Apply ``change`` to the current controls atomically (no admin call is lost to another); the result."""
        ...

    def initial_controls(self) -> Controls:
        """The controls the server started with."""
        ...

    def take(self, key: str, quota: Quota, now: float) -> Usage:
        """Count one request against ``key``'s quota, atomically across workers."""
        ...

    def occurrence(self, key: str) -> int:
        """1 the first time ``key`` is counted, then 2, 3... (shared by every worker)."""
        ...

    def reset(self) -> None:
        """Back to the initial controls, with every counter and quota forgotten."""
        ...

    def register_worker(self, pid: int) -> None: ...

    def workers(self) -> list[int]:
        """Pids of the live processes that served from this state."""
        ...


class LocalShared(SideFile):
    """:class:`SharedState` in an SQLite file next to the write log, shared by one server's workers.

    Args:
        path: the SQLite file (created; its contents are replaced by ``initial``).
        initial: the controls the server starts with.
    """

    schema = _SCHEMA  # counters and quotas need not survive a crash

    def __init__(self, path: str, initial: Controls) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen = -1
        self._controls = initial
        self._changes = ChangeCounter(path + "-changes")
        body = json.dumps(initial.as_json())
        with self._transaction() as conn:
            conn.execute("DELETE FROM counters")
            conn.execute("DELETE FROM quotas")
            conn.execute("DELETE FROM workers")
            conn.executemany("INSERT OR REPLACE INTO controls VALUES (?, ?)", [("initial", body), ("current", body)])
        self._changes.bump()
        self._seen = self._changes.read()  # PERF: forked workers start with these controls, no query
        self._close()  # gunicorn forks after this: every process opens its own connection


    def _transaction(self) -> _Transaction:
        return _Transaction(self)

    # ---- controls -------------------------------------------------------------------------------

    def controls(self) -> Controls:
        seen = self._changes.read()
        if seen == self._seen:
            return self._controls
        with self._lock:
            try:
                row = self._connect().execute("SELECT body FROM controls WHERE slot = 'current'").fetchone()
            except sqlite3.Error as exc:
                raise _unavailable(exc) from None
            self._controls = Controls.from_mapping(json.loads(row[0]))
            self._seen = seen  # read before the query: see ChangeCounter
        return self._controls

    def update_controls(self, change: Callable[[Controls], Controls]) -> Controls:
        with self._transaction() as conn:
            row = conn.execute("SELECT body FROM controls WHERE slot = 'current'").fetchone()
            controls = change(Controls.from_mapping(json.loads(row[0])))
            # NOTE: read back before it is stored: a change that leaves the controls unreadable
            # (a clock advanced out of range) must fail here, not on every later request.
            body = json.dumps(controls.as_json())
            Controls.from_mapping(json.loads(body))
            conn.execute("UPDATE controls SET body = ? WHERE slot = 'current'", (body,))
        self._changes.bump()
        return controls

    def initial_controls(self) -> Controls:
        # NOTE: under the lock, like every use of the connection: another thread of the process (granian)
        # may be opening it, or be inside a transaction on it.
        with self._lock:
            row = self._connect().execute("SELECT body FROM controls WHERE slot = 'initial'").fetchone()
        return Controls.from_mapping(json.loads(row[0]))

    # ---- counting ---------------------------------------------------------------------------------

    def take(self, key: str, quota: Quota, now: float) -> Usage:
        with self._transaction() as conn:
            row = conn.execute("SELECT level, stamp FROM quotas WHERE key = ?", (key,)).fetchone()
            if row is None and self._grown(conn, "#quotas"):
                conn.execute("DELETE FROM quotas")
            level, stamp = row or (0.0, 0.0 if quota.kind == "window" else now)
            usage, level, stamp = advance(quota, level, stamp, now)
            conn.execute("INSERT OR REPLACE INTO quotas VALUES (?, ?, ?)", (key, level, stamp))
        return usage

    def occurrence(self, key: str) -> int:
        with self._transaction() as conn:
            row = conn.execute("INSERT INTO counters VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET value = value + 1 "
                               "RETURNING value", (key,)).fetchone()
            if row[0] == 1 and self._grown(conn, "#counters"):
                conn.execute("DELETE FROM counters WHERE key NOT LIKE '#%'")
                conn.execute("INSERT INTO counters VALUES (?, 1)", (key,))
        return int(row[0])

    @staticmethod
    def _grown(conn: sqlite3.Connection, table: str) -> bool:
        """Count one more row of ``table``; true (and the count restarted) when it passed :data:`MAX_ROWS`.

        Every new URL (fault sequences) and token (quotas) adds a row: a client must not grow the file
        without end. Starting over is deterministic too: it happens at the same request of a replay.
        """
        count = conn.execute("INSERT INTO counters VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET value = value + 1 "
                             "RETURNING value", (table,)).fetchone()[0]
        if count <= MAX_ROWS:
            return False
        conn.execute("UPDATE counters SET value = 1 WHERE key = ?", (table,))
        return True

    def reset(self) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM counters")
            conn.execute("DELETE FROM quotas")
            conn.execute("UPDATE controls SET body = (SELECT body FROM controls WHERE slot = 'initial') "
                         "WHERE slot = 'current'")
        self._changes.bump()

    # ---- workers ---------------------------------------------------------------------------------

    def register_worker(self, pid: int) -> None:
        with self._transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO workers VALUES (?, ?)", (pid, time.time()))

    def workers(self) -> list[int]:
        with self._lock:
            rows = self._connect().execute("SELECT pid FROM workers ORDER BY pid").fetchall()
        return [pid for (pid,) in rows if alive(pid)]


class _Transaction:
    """``with``: one ``BEGIN IMMEDIATE`` transaction (the write lock taken at once), committed on exit."""

    def __init__(self, shared: LocalShared) -> None:
        self.shared = shared

    def __enter__(self) -> sqlite3.Connection:
        self.shared._lock.acquire()
        try:
            conn = self.shared._connect()
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self.shared._lock.release()
            raise _unavailable(exc) from None
        except BaseException:
            self.shared._lock.release()
            raise
        return conn

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        conn = self.shared._conn
        try:
            if conn is not None:
                conn.execute("ROLLBACK" if kind is not None else "COMMIT")
        except sqlite3.Error as error:
            if kind is None:
                raise _unavailable(error) from None
        finally:
            self.shared._lock.release()
        if isinstance(exc, sqlite3.Error):
            raise _unavailable(exc) from None


def _unavailable(exc: Exception) -> ServiceUnavailable:
    return ServiceUnavailable(f"The mock server cannot reach its shared state ({exc}); retry shortly.")
