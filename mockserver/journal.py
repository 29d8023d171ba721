"""The request journal: what every request to the API was, masked and bounded, shared by every worker.

:class:`RequestJournal` is the interface the pipeline's journaling stage and the admin API use;
:class:`LocalJournal` keeps it in an SQLite file beside the write log (``<state>-requests``), so
every gunicorn worker of one server appends to (and reads) one ring, and a networked store can
implement the same protocol later. A separate file from the other shared state: a journal write
per request must not wait behind a quota transaction.

- **masking**: secrets never reach the file; the journaling stage masks them first
  (:mod:`mockserver.masking`).
- **ordered**: ids come from one counter all processes share (:mod:`mockserver.journal_slots`), taken
  when a request is answered: they only grow (a clear does not reuse them) and give the order of the
  answers, whichever worker's write reached the file first.
- **bounded**: a ring of ``size`` entries. When a write holds an id that is a multiple of
  :data:`TRIM_EVERY`, the entries older than the newest ``size`` ids are deleted: the file holds
  about ``size + TRIM_EVERY`` entries at most.
- **cheap to write**: WAL, ``synchronous=OFF`` (a crash may lose the last entries; the journal is for
  tests, not an audit log). What a reader wants (the ISO time, the URL) is computed when read. In a
  gevent worker (the server's), entries are batched: a flusher greenlet commits what arrived in the
  last :data:`FLUSH_SECONDS` in one transaction, and every reader first waits until each worker has
  flushed what it had appended when the read began (:mod:`mockserver.journal_slots`), so a count is
  still exact: it sees every request answered before it. Elsewhere (in-process), one ``INSERT`` per entry.

Pure: no web framework, no flavour.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import re
import sqlite3
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

from mockserver.journal_slots import WorkerSlots
from mockserver.side_files import SideFile

__all__ = [
    "FLUSH_SECONDS", "MAX_PAGE", "MAX_PENDING", "SYNC_SECONDS", "TRIM_EVERY", "JournalFilter", "LocalJournal", "Record",
    "RequestJournal", "capped", "iso_time"
]

log = logging.getLogger("mockserver")

TRIM_EVERY = 64
"""Appends between two trims of the ring (the ring holds at most ``size + TRIM_EVERY`` entries)."""
MAX_PAGE = 1000
"""Most entries one page of ``GET /__admin/requests`` holds."""
FLUSH_SECONDS = 0.002
"""How long a batching worker gathers entries before it commits them."""
MAX_PENDING = 1000
"""Entries a worker holds at most: the request that reaches it writes them at once."""
SYNC_SECONDS = 2.0
"""Longest a reader waits for another worker's flush (a worker stuck longer is not waited for)."""


class Record(NamedTuple):
    """One journaled request as it is written (the columns of the ring's table, in order)."""

    epoch: float
    method: str
    path: str
    query: str
    flavour: str | None
    tenant: str | None
    status: int | None
    operation: str | None
    data: bytes
    """The rest of the entry as JSON: ``headers``, ``body``, ``body_truncated``, ``latency_ms``,
    ``fault``, ``rate_limited``, ``worker`` and (while response capture is on) ``response``."""


@dataclass(frozen=True)
class JournalFilter:
    """What ``GET /__admin/requests`` and the matchers' prefilter select (``None``: any)."""

    method: str | None = None
    path: str | None = None
    path_pattern: str | None = None
    """A regular expression the whole path must match."""
    flavour: str | None = None
    tenant: str | None = None
    status: int | None = None
    since: float | None = None
    """Unix time: entries at or after it."""
    after: int = 0
    """Entries with a larger id (paging)."""
    limit: int = 100


class RequestJournal(Protocol):
    """Where the journaling stage writes and the admin API reads (shared by every worker)."""

    size: int
    """Entries the ring keeps."""

    def append(self, record: Record) -> None:
        """Add one entry (never raises: a journal that cannot write loses the entry, not the request)."""
        ...

    def page(self, selection: JournalFilter) -> tuple[list[dict[str, Any]], int | None]:
        """Entries selected, oldest first, at most ``selection.limit``; and the id to page ``after``
        for the next ones (``None``: there are no more)."""
        ...

    def entries(self, selection: JournalFilter, newest: int | None = None) -> list[dict[str, Any]]:
        """Every entry ``selection`` picks (its ``limit`` ignored), oldest first; only the ``newest``
        ones when given."""
        ...

    def clear(self, tenant: str | None = None) -> None:
        """Forget every entry, or only ``tenant``'s."""
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY, epoch REAL NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
    query TEXT NOT NULL, flavour TEXT, tenant TEXT, status INTEGER, operation TEXT, data BLOB NOT NULL
);
"""
_INSERT = ("INSERT INTO requests (id, epoch, method, path, query, flavour, tenant, status, operation, data) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_COLUMNS = "id, epoch, method, path, query, flavour, tenant, status, operation, data"


class LocalJournal(SideFile):
    """:class:`RequestJournal` as a ring in an SQLite file, shared by one server's workers.

    Args:
        path: the SQLite file (created; entries a previous server left are forgotten).
        size: entries kept (at least 1).
    """

    schema = _SCHEMA  # lost on a crash: a test journal, not an audit log

    def __init__(self, path: str, size: int) -> None:
        if size < 1:
            raise ValueError(f"a journal keeps at least 1 entry, got {size}")
        self.path = path
        self.size = size
        self._lock = threading.Lock()
        self._failed = False
        conn = self._connect()
        conn.execute("DELETE FROM requests")
        self._close()  # gunicorn forks after this: every process opens its own connection
        self._slots = WorkerSlots(path + "-slots")
        self._mode_pid = -1
        self._slot: int | None = None
        self._pending: list[tuple[Any, ...]] = []
        self._appended = 0
        self._wake: threading.Event | None = None

    def _prepare(self, conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA journal_size_limit=4194304")  # the WAL file shrinks back after a checkpoint
        conn.create_function("regexp", 2, _regexp, deterministic=True)

    def append(self, record: Record) -> None:
        if self._mode_pid != os.getpid():
            self._begin()
        if self._slot is None:
            with self._lock:
                self._write(((self._slots.next_id(), *record),))
            return
        # PERF: kept in memory; the flusher commits a batch (one transaction for many requests, and
        # two workers no longer take the write lock in turn for every request)
        with self._lock:
            self._appended += 1
            self._slots.appended(self._slot, self._appended)  # NOTE: before the id: see _sync
            self._pending.append((self._slots.next_id(), *record))
            first = len(self._pending) == 1
            full = len(self._pending) >= MAX_PENDING
        if full:  # the flusher is behind (or gone): this request writes the batch itself
            self._flush()
        elif first and self._wake is not None:
            self._wake.set()

    def _begin(self) -> None:
        """This process's way to write: batches in a gevent worker that got a slot, else entry by entry."""
        self._mode_pid = os.getpid()
        self._slot, self._pending, self._appended, self._wake = None, [], 0, None
        monkey = sys.modules.get("gevent.monkey")
        if monkey is None or not monkey.is_module_patched("threading"):
            return  # NOTE: a real thread per app would outlive in-process apps; there, no reader waits anyway
        slot = self._slots.claim(os.getpid())
        if slot is None:
            return
        self._slot, self._wake = slot, threading.Event()  # gevent's Event: the flusher is a greenlet
        threading.Thread(target=self._flusher, name="journal-flusher", daemon=True).start()
        atexit.register(self._flush)

    def _flusher(self) -> None:
        wake = self._wake
        assert wake is not None
        while True:
            wake.wait()
            wake.clear()
            time.sleep(FLUSH_SECONDS)  # gevent's sleep: the requests of the next moments join this batch
            try:
                self._flush()
            except Exception:
                log.exception("the request journal's flusher failed; it goes on")

    def _flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
            upto = self._appended
            if batch:
                self._write(batch)
            if self._slot is not None and self._mode_pid == os.getpid():
                self._slots.flushed(self._slot, upto)

    def _write(self, batch: Sequence[tuple[Any, ...]]) -> None:
        """Commit ``batch`` (the lock held), trimming the ring when one of its ids is a multiple of TRIM_EVERY."""
        try:
            conn = self._connect()
            marks = [row[0] for row in batch if row[0] % TRIM_EVERY == 0]
            trim = max(marks) if marks else None
            if len(batch) == 1:
                conn.execute(_INSERT, batch[0])
                if trim is not None:
                    conn.execute("DELETE FROM requests WHERE id <= ?", (trim - self.size,))
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(_INSERT, batch)
                if trim is not None:
                    conn.execute("DELETE FROM requests WHERE id <= ?", (trim - self.size,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            if not self._failed:  # once per process: a full disk must not flood the log
                self._failed = True
                log.warning("the request journal cannot write %s (%s); entries are lost until it can", self.path, exc)

    def _sync(self) -> None:
        """Before a read: this process's pending entries written, and every other worker's awaited."""
        if self._mode_pid == os.getpid() and self._slot is not None:
            self._flush()
        late = self._slots.behind(os.getpid())
        deadline = time.monotonic() + SYNC_SECONDS
        while late and time.monotonic() < deadline:
            time.sleep(0.0005)  # gevent's sleep in a worker: the others (and this one's flusher) go on
            late = [(slot, pid, upto) for slot, pid, upto in late if not self._slots.caught_up(slot, pid, upto)]

    def page(self, selection: JournalFilter) -> tuple[list[dict[str, Any]], int | None]:
        self._sync()
        limit = max(1, min(selection.limit, MAX_PAGE))
        where, params = _where(selection)
        rows = self._query(f"SELECT {_COLUMNS} FROM requests {where} ORDER BY id LIMIT ?", (*params, limit + 1))
        entries = [_entry(row) for row in rows[:limit]]
        return entries, (entries[-1]["id"] if len(rows) > limit else None)

    def entries(self, selection: JournalFilter, newest: int | None = None) -> list[dict[str, Any]]:
        self._sync()
        where, params = _where(selection)
        if newest is None:
            rows = self._query(f"SELECT {_COLUMNS} FROM requests {where} ORDER BY id", params)
        else:
            rows = self._query(f"SELECT {_COLUMNS} FROM requests {where} ORDER BY id DESC LIMIT ?", (*params, newest))
            rows.reverse()
        return [_entry(row) for row in rows]

    def clear(self, tenant: str | None = None) -> None:
        self._sync()
        with self._lock:
            if tenant is None:
                self._connect().execute("DELETE FROM requests")
            else:
                self._connect().execute("DELETE FROM requests WHERE tenant = ?", (tenant,))

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._connect().execute(sql, params).fetchall()


def _where(selection: JournalFilter) -> tuple[str, tuple[Any, ...]]:
    clauses: list[str] = ["id > ?"]
    params: list[Any] = [selection.after]
    for column in ("method", "path", "flavour", "tenant", "status"):
        value = getattr(selection, column)
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if selection.since is not None:
        clauses.append("epoch >= ?")
        params.append(selection.since - 5e-7)  # an entry's ISO time is its epoch to the microsecond
    if selection.path_pattern is not None:
        clauses.append("regexp(?, path)")
        params.append(selection.path_pattern)
    return "WHERE " + " AND ".join(clauses), tuple(params)


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _regexp(pattern: str, value: str) -> bool:
    return _compiled(pattern).fullmatch(value) is not None


def _entry(row: tuple[Any, ...]) -> dict[str, Any]:
    """A stored row as the entry the admin API answers (the JSON contract, keys in its order)."""
    ident, epoch, method, path, query, flavour, tenant, status, operation, data = row
    rest: dict[str, Any] = json.loads(data)
    epoch = round(epoch, 6)  # PERF: rounded here, not on the write path; the time shows the same microsecond
    entry = {"id": ident, "time": iso_time(epoch), "epoch": epoch, "method": method, "path": path, "query": query,
             "url": f"{path}?{query}" if query else path, "headers": rest.get("headers", {}),
             "body": rest.get("body"), "body_truncated": rest.get("body_truncated", False), "status": status,
             "flavour": flavour, "tenant": tenant, "operation": operation, "latency_ms": round(rest.get("latency_ms") or 0.0, 3),
             "fault": rest.get("fault"), "rate_limited": rest.get("rate_limited", False), "worker": rest.get("worker")}
    if "response" in rest:
        entry["response"] = rest["response"]
    return entry


def iso_time(epoch: float) -> str:
    """``2026-12-03T18:00:00.123456Z``."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def capped(body: bytes | None, limit: int) -> tuple[str | None, bool]:
    """A body as journaled text (at most ``limit`` bytes of it) and whether it was cut."""
    if body is None:
        return None, False
    cut = len(body) > limit
    return (body[:limit] if cut else body).decode("utf-8", "replace"), cut
