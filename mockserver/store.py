"""The write overlay: creates, updates and deletes on top of the immutable dataset.

Every write appends one row to an SQLite log (WAL mode) that all gunicorn workers
share; each worker keeps the *latest* entry of every written customer in memory (never
the log) and reloads only the new rows when SQLite's ``PRAGMA data_version`` says another
connection committed. It asks SQLite only when a change counter, a file mapped into every
process, moved (see :class:`ChangeCounter`).

A list walk pins the version it started at (in its cursors), so a customer that exists for
the whole walk is seen exactly once even if it is updated or others are created and deleted
meanwhile. The state *as of* an older version is the latest state with the customers written
since put back as they were (:meth:`Store.state_at`, read from SQLite on demand). The log is
compacted as it grows (:func:`compact`): a row superseded more than :data:`HISTORY_WINDOW`
versions ago is dropped, so the file holds one row per written customer plus that window, and
a walk pinned further back than the window sees the state as of the window's start.

An entry's ``ordinal`` orders ties in every sort: base customers keep their index,
created customers get ``count``, ``count + 1``, ... in creation order.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import sqlite3
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from mockserver.errors import InvalidSettings, ServiceUnavailable

__all__ = ["HISTORY_WINDOW", "ChangeCounter", "Entry", "PinnedState", "Store", "compact"]

log = logging.getLogger("mockserver")

_OUR_TABLES = {"meta", "changes", "sqlite_sequence"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS changes (
    version INTEGER PRIMARY KEY AUTOINCREMENT,
    ordinal INTEGER NOT NULL,
    record TEXT,            -- canonical customer JSON; NULL marks a delete
    created_ts INTEGER NOT NULL,
    updated_ts INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS changes_by_ordinal ON changes (ordinal, version);
"""
HISTORY_WINDOW = 2_000
"""Versions a pinned walk can reach back exactly; older rows superseded before that are dropped."""
COMPACT_EVERY = 256
"""Writes between two compactions (each costs one indexed DELETE)."""
RECENT_CHANGES = 4_096
"""(version, ordinal) of the last rows a worker loaded, kept so that indexes can be patched, not rebuilt."""


@lru_cache(maxsize=1024)
def _parsed(text: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(text)
    return record


@dataclass(frozen=True, slots=True)
class Entry:
    """One overlay state of a customer; ``text is None`` means deleted.

    # PERF: the record is held as its JSON text (a fifth of a dict's memory) and parsed when asked
    # for (recent ones cached); the values lists sort and filter by are kept beside it.
    """

    ordinal: int
    text: str | None
    created_ts: int
    updated_ts: int
    name: str = ""
    """``record["name"] or ""``"""
    status: str | None = None

    @classmethod
    def of(cls, ordinal: int, text: str | None, created_ts: int, updated_ts: int) -> Entry:
        if text is None:
            return cls(ordinal, None, created_ts, updated_ts)
        try:
            record = orjson.loads(text)  # PERF: a worker's start parses every written customer once
        except orjson.JSONDecodeError:  # what only the json module reads (NaN, huge integers)
            record = json.loads(text)
        return cls(ordinal, text, created_ts, updated_ts, record.get("name") or "", record.get("status"))

    @property
    def record(self) -> dict[str, Any] | None:
        """The canonical record (shared and cached: do not mutate), ``None`` if deleted."""
        return None if self.text is None else _parsed(self.text)


_ABSENT = Entry(-1, None, 0, 0)  # marks "not in the overlay at that version" in a pinned view


class PinnedState(Mapping[int, Entry]):
    """The overlay as of an older version: the latest entries, with the customers written since
    put back as they were (``_ABSENT`` where a customer was not in the overlay yet).

    Read-only and cheap: it holds the latest dict (not a copy) and the few entries that differ.
    """

    def __init__(self, latest: dict[int, Entry], earlier: dict[int, Entry], version: int) -> None:
        self._latest = latest
        self._earlier = earlier
        self.version = version

    def __getitem__(self, ordinal: int) -> Entry:
        entry = self._earlier.get(ordinal)
        if entry is None:
            return self._latest[ordinal]
        if entry is _ABSENT:
            raise KeyError(ordinal)
        return entry

    def __contains__(self, ordinal: object) -> bool:
        entry = self._earlier.get(ordinal)  # type: ignore[call-overload]
        return ordinal in self._latest if entry is None else entry is not _ABSENT

    def __iter__(self) -> Iterator[int]:
        earlier = self._earlier
        yield from (ordinal for ordinal in self._latest if ordinal not in earlier)
        yield from (ordinal for ordinal, entry in earlier.items() if entry is not _ABSENT)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class ChangeCounter:
    """A 64-bit counter in a small file, mapped into the memory of every process that opens it.

    # PERF: every write bumps it after committing, so a process that reads the same value it
    # read at its last check knows no write landed since, and need not ask SQLite (``PRAGMA
    # data_version`` was a fifth of a cached page's own work). Why this is safe: a reader
    # notes the value *before* asking SQLite; a commit whose bump came before that read is
    # visible to the question, and one whose bump came after changes the value for next time.
    # Two writers bumping at once may lose one increment, but both committed before either
    # bumped, and the value still changed.
    """

    SIZE = 8

    def __init__(self, path: str) -> None:
        self.path = path
        self._map: mmap.mmap | None = None
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < self.SIZE:
                os.ftruncate(fd, self.SIZE)  # zero-filled; never shrinks a counter another process made
        finally:
            os.close(fd)

    def _mapping(self) -> mmap.mmap:
        # NOTE: a shared file mapping stays valid and shared in forked children: no per-process state.
        if self._map is None:
            with open(self.path, "r+b") as file:
                self._map = mmap.mmap(file.fileno(), self.SIZE)
        return self._map

    def read(self) -> int:
        return int.from_bytes((self._map or self._mapping())[: self.SIZE], "little")

    def bump(self) -> None:
        value = (self.read() + 1) & ((1 << 64) - 1)
        self._mapping()[: self.SIZE] = value.to_bytes(self.SIZE, "little")

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None


class Store:
    """SQLite log of writes (compacted), shared by processes; the latest entries cached per process.

    Args:
        path: the SQLite file (created if missing).
        fingerprint: identifies the base dataset (``"seed:count"``); a state file made
            for another dataset is refused, since its ordinals would mean other customers.
    """

    def __init__(self, path: str, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self._lock = threading.RLock()
        self._pid = -1
        self._conn: sqlite3.Connection | None = None
        self._data_version = -1
        self._seen_changes = -1
        self._failure = ""
        self._generation = ""
        self.version = 0
        self.latest: dict[int, Entry] = {}
        self._snapshots: OrderedDict[int, Mapping[int, Entry]] = OrderedDict()
        self._recent: deque[tuple[int, int]] = deque()
        self._recent_floor = 0
        # NOTE: connect once to create the file and check the fingerprint, then close:
        # gunicorn forks workers after building the app, and an SQLite connection must
        # not cross a fork. Each process reconnects on first use.
        companions = [path + suffix for suffix in ("-wal", "-shm", "-journal") if not os.path.exists(path + suffix)]
        try:
            self._check_usable(self._connect())
        except sqlite3.Error as exc:
            self._close_connection()
            for leftover in companions:  # SQLite's own files for a file it could not use: not ours to leave
                if os.path.exists(leftover):
                    os.remove(leftover)
            raise InvalidSettings(
                f"state file {path} cannot be used: {exc}. Give --state a new path (it is created) or a file an "
                "earlier mockserver run wrote, writable and in a directory you can write to"
            ) from None
        finally:
            self._close_connection()
        # NOTE: made only once the state file proved usable, so a refused one leaves no stray file
        self._changes = ChangeCounter(path + "-changes")

    # ---- connection per process (gunicorn forks after the app is built) ----------

    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if tables - _OUR_TABLES:  # another program's database: never write into it
                raise InvalidSettings(f"state file {self.path} is another program's SQLite database (it has tables "
                                      f"{', '.join(sorted(tables - _OUR_TABLES))}); give --state another path")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            conn.close()
            raise
        try:
            row = conn.execute("SELECT value FROM meta WHERE key='dataset'").fetchone()
            if row is None:
                conn.execute("INSERT INTO meta VALUES ('dataset', ?)", (self.fingerprint,))
            elif row[0] != self.fingerprint:
                raise InvalidSettings(
                    f"state file {self.path} belongs to dataset seed:count={row[0]}, not {self.fingerprint}; "
                    "use another --state file or the same --seed and --count"
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            conn.close()
            raise
        self._conn, self._pid = conn, os.getpid()
        self._data_version = -1
        self._seen_changes = -1
        self._generation = ""
        self.version = 0
        self.latest = {}
        self._snapshots.clear()
        self._recent.clear()
        self._recent_floor = 0
        return conn

    @property
    def generation(self) -> str:
        """Changes with every reset: a version number means one state only within a generation."""
        return self._generation

    def _close_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @staticmethod
    def _check_usable(conn: sqlite3.Connection) -> None:
        """Raise ``sqlite3.Error`` for a damaged (e.g. truncated) or read-only file; once, at start.

        Reads the whole file (``quick_check``) and rewrites one row: SQLite opens a file it may not
        write read-only without a word, and the first customer written would fail instead.
        """
        problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise sqlite3.DatabaseError("; ".join(problems[:3]))
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("UPDATE meta SET value = value WHERE key = 'dataset'")
            conn.execute("COMMIT")
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")

    def _unavailable(self, exc: Exception) -> ServiceUnavailable:
        """The 503 for a state file that cannot be read now; logged once per distinct failure."""
        if str(exc) != self._failure:
            self._failure = str(exc)
            log.error("cannot read the state file %s: %s; answering 503 and retrying on every request",
                      self.path, exc)
        return ServiceUnavailable(
            "The mock server cannot read its state file right now; retry shortly. If this persists, the file "
            "is damaged: restart the server with another --state file (see the server log).")

    def refresh(self) -> int:
        """Load rows committed by other processes; returns the latest version."""
        changes = self._changes.read()
        if changes == self._seen_changes:
            # No process has committed since the last check. (A forked child may take this path
            # with its parent's log: that log is exactly the state as of ``changes``.)
            return self.version
        with self._lock:
            try:
                conn = self._connect()
                # PERF: data_version changes only when another connection commits, so a write
                # by this process costs one pragma and no query.
                data_version = conn.execute("PRAGMA data_version").fetchone()[0]
                if data_version != self._data_version:
                    self._load(conn)
                    # NOTE: noted only after a complete load: a failed one must be retried, not taken as done
                    self._data_version = data_version
            except sqlite3.Error as exc:
                raise self._unavailable(exc) from None
            self._failure = ""
            self._seen_changes = changes  # read before the pragma: see ChangeCounter
            return self.version

    def _load(self, conn: sqlite3.Connection) -> None:
        generation = conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        generation = generation[0] if generation else "0"
        if generation != self._generation:  # reset by some process: start over
            self._generation = generation
            self.latest = {}
            self.version = 0
            self._snapshots.clear()
            self._recent.clear()
            self._recent_floor = 0
        rows = conn.execute(
            "SELECT version, ordinal, record, created_ts, updated_ts FROM changes WHERE version > ? ORDER BY version",
            (self.version,),
        ).fetchall()
        newest = {row[1]: row for row in rows}  # PERF: parse only each customer's newest row
        entries = []
        for version, ordinal, record, created_ts, updated_ts in newest.values():
            try:
                entries.append(Entry.of(ordinal, record, created_ts, updated_ts))
            except (ValueError, AttributeError):  # written by hand or damaged: a load that stops here is retried
                raise sqlite3.DatabaseError(f"change {version} is not a JSON customer record") from None
        # NOTE: only the latest entry per customer is kept: memory grows with customers written,
        # not with writes. Pinned views were built against the previous latest state: drop them.
        # Nothing is changed before every row parsed, so a failed load leaves the last good state.
        if rows:
            self._snapshots.clear()
            self.version = rows[-1][0]
        for entry in entries:
            self.latest[entry.ordinal] = entry
        recent = self._recent
        recent.extend((row[0], row[1]) for row in rows)
        while len(recent) > RECENT_CHANGES:
            self._recent_floor = recent.popleft()[0]

    def changed_since(self, version: int) -> set[int] | None:
        """The customers written after ``version``, up to :attr:`version` (``None``: too long ago to know)."""
        with self._lock:
            if version < self._recent_floor:
                return None
            return {ordinal for v, ordinal in self._recent if v > version}

    def state_at(self, version: int) -> Mapping[int, Entry]:
        """The overlay as it was right after ``version`` (the latest one if newer).

        A version older than the compaction horizon gives the state as of the horizon (see
        :func:`compact`): the oldest state the log still holds exactly.
        """
        with self._lock:
            if version >= self.version:
                return self.latest
            snapshot = self._snapshots.get(version)
            if snapshot is None:
                snapshot = PinnedState(self.latest, self._earlier_entries(self._connect(), version), version)
                self._snapshots[version] = snapshot
                if len(self._snapshots) > 32:
                    self._snapshots.popitem(last=False)
            return snapshot

    def _earlier_entries(self, conn: sqlite3.Connection, version: int) -> dict[int, Entry]:
        """Each customer written after ``version``, as it was at ``version`` (``_ABSENT`` if unwritten)."""
        conn.execute("BEGIN")  # one snapshot: a compaction committing meanwhile must not change the answer
        try:
            horizon = conn.execute("SELECT value FROM meta WHERE key='horizon'").fetchone()
            version = max(version, int(horizon[0]) if horizon else 0)
            earlier = dict.fromkeys((row[0] for row in conn.execute(
                "SELECT DISTINCT ordinal FROM changes WHERE version > ?", (version,))), _ABSENT)
            rows = conn.execute(
                "SELECT c.ordinal, c.record, c.created_ts, c.updated_ts FROM changes AS c "
                "WHERE c.ordinal IN (SELECT ordinal FROM changes WHERE version > ?) AND c.version = "
                "(SELECT MAX(version) FROM changes WHERE ordinal = c.ordinal AND version <= ?)",
                (version, version)).fetchall()
        finally:
            conn.execute("COMMIT")
        for ordinal, record, created_ts, updated_ts in rows:
            earlier[ordinal] = Entry.of(ordinal, record, created_ts, updated_ts)
        return earlier

    # ---- writes -----------------------------------------------------------------

    def append(self, ordinal: int | None, make_record: Callable[[int], dict[str, Any] | None], created_ts: int,
               updated_ts: int, *, first_new_ordinal: int, check: Callable[[], None] | None = None) -> Entry:
        """Append one change; ``ordinal=None`` allocates the next ordinal for a create.

        ``make_record(ordinal)`` gives the record (``None`` deletes); it runs inside the
        write transaction, so a record can embed an id derived from a fresh ordinal.
        ``check()`` runs first, inside the transaction, on the log loaded up to it: what it
        verifies (e.g. that no customer has an email) holds until the change commits, in every
        process. It raises to refuse the change.
        """
        with self._lock:
            try:
                conn = self._connect()
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._unavailable(exc) from None
            try:
                if check is not None:
                    # NOTE: BEGIN IMMEDIATE holds SQLite's write lock: no process commits until we do
                    self._load(conn)
                    check()
                if ordinal is None:
                    row = conn.execute("SELECT MAX(ordinal) FROM changes WHERE ordinal >= ?",
                                       (first_new_ordinal,)).fetchone()
                    ordinal = first_new_ordinal if row[0] is None else row[0] + 1
                record = make_record(ordinal)
                text = None if record is None else json.dumps(record, ensure_ascii=False, separators=(",", ":"))
                version = conn.execute("INSERT INTO changes (ordinal, record, created_ts, updated_ts) "
                                       "VALUES (?, ?, ?, ?)", (ordinal, text, created_ts, updated_ts)).lastrowid
                if version is not None and version % COMPACT_EVERY == 0:
                    compact(conn, version - HISTORY_WINDOW)
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._unavailable(exc) from None
                raise
            self._changes.bump()
            try:
                self._load(conn)
            except sqlite3.Error as exc:
                raise self._unavailable(exc) from None
            return self.latest[ordinal]

    def reset(self) -> None:
        """Forget every write (the base dataset is untouched)."""
        with self._lock:
            conn = self._connect()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM changes")
            conn.execute("INSERT INTO meta VALUES ('generation', ?) ON CONFLICT(key) DO UPDATE SET "
                         "value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)", ("1",))
            conn.execute("COMMIT")
            self._changes.bump()
            self._load(conn)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None
            self._changes.close()


def compact(conn: sqlite3.Connection, horizon: int) -> int:
    """Drop the rows no state at or after version ``horizon`` needs; returns how many.

    A row is needed while it is its customer's newest row at some version ``>= horizon``: rows
    superseded at or before ``horizon`` go. The newest row of each customer always stays (it is
    the state, and keeps created ordinals from being handed out again). Runs inside the
    caller's write transaction; records ``horizon`` so pinned reads older than it know.
    """
    if horizon <= 0:
        return 0
    deleted = conn.execute(
        "DELETE FROM changes WHERE version < ? AND EXISTS (SELECT 1 FROM changes AS newer WHERE "
        "newer.ordinal = changes.ordinal AND newer.version > changes.version AND newer.version <= ?)",
        (horizon, horizon)).rowcount
    conn.execute("INSERT INTO meta VALUES ('horizon', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value "
                 "WHERE CAST(value AS INTEGER) < CAST(excluded.value AS INTEGER)", (str(horizon),))
    return deleted
