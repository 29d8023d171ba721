"""The request journal: what every request to the API was, masked and bounded, shared by every worker.

:class:`RequestJournal` is the interface the pipeline's journaling stage and the admin API use;
:class:`LocalJournal` keeps it in an SQLite file beside the write log (``<state>-requests``), so
every gunicorn worker of one server appends to (and reads) one ring, and a networked store can
implement the same protocol later. A separate file from the other shared state: a journal write
per request must not wait behind a quota transaction.

- **masking**: secrets never reach the file. Credential headers (``Authorization``, ``Cookie``,
  ``X-Shopify-Access-Token``, every ``x-apideck-*`` header, the admin token...) and token-like
  query parameters (``token``, ``access_token``, ``api_key``...) keep their name, their value
  becomes ``***`` (:func:`mask_headers`, :func:`mask_query`).
- **bounded**: a ring of ``size`` entries. Ids only grow (never reused, even after a clear: the newest
  row a clear removes stays as a tombstone, ``epoch`` 0, which no answer shows); every
  :data:`TRIM_EVERY` appends (counted by id, so across workers) the entries older than the newest
  ``size`` are deleted: the file holds at most ``size + TRIM_EVERY`` entries.
- **cheap to write**: one ``INSERT`` per request in autocommit, WAL, ``synchronous=OFF`` (a crash
  may lose the last entries; the journal is for tests, not an audit log). What a reader wants
  (the ISO time, the URL) is computed when read.

Pure: no web framework, no flavour.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple, Protocol
from urllib.parse import unquote_plus

__all__ = [
    "MASK", "MAX_PAGE", "TRIM_EVERY", "JournalFilter", "LocalJournal", "Record", "RequestJournal", "capped",
    "environ_headers", "is_secret_header", "is_secret_param", "iso_time", "mask_headers", "mask_query",
    "secret_values", "tenant_name", "without_secrets"
]

log = logging.getLogger("mockserver")

MASK = "***"
"""What a secret's value is replaced with."""
TRIM_EVERY = 64
"""Appends between two trims of the ring (the ring holds at most ``size + TRIM_EVERY`` entries)."""
MAX_PAGE = 1000
"""Most entries one page of ``GET /__admin/requests`` holds."""

_SECRET_HEADERS = frozenset({
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-shopify-access-token",
    "x-mock-admin-token", "x-api-key", "api-key", "x-auth-token", "x-access-token",
})
_SECRET_HEADER_PREFIXES = ("x-apideck-",)
_SECRET_PARAMS = frozenset({
    "token", "access_token", "refresh_token", "id_token", "api_key", "apikey", "key", "oauth_signature",
    "oauth_token", "consumer_secret", "consumer_key", "client_secret", "password", "passwd", "secret",
    "signature", "sig", "auth", "authorization", "code", "session",
})
_SECRET_WORDS = ("token", "secret", "password", "passwd", "signature", "apikey", "api_key", "api-key")


@lru_cache(maxsize=512)
def is_secret_header(name: str) -> bool:
    """Whether a header's value is a credential (masked in the journal)."""
    lowered = name.lower()
    return (lowered in _SECRET_HEADERS or lowered.startswith(_SECRET_HEADER_PREFIXES)
            or any(word in lowered for word in _SECRET_WORDS))


@lru_cache(maxsize=512)
def is_secret_param(name: str) -> bool:
    """Whether a query parameter's value is a credential (masked in the journal)."""
    lowered = unquote_plus(name).strip().lower()
    return (lowered in _SECRET_PARAMS or lowered.endswith(("_key", "-key", "_secret", "_token"))
            or any(word in lowered for word in _SECRET_WORDS))


def mask_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``{name: value}`` with every credential's value :data:`MASK` (a repeated header keeps its last value)."""
    return {name: MASK if is_secret_header(name) else value for name, value in headers}


def environ_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """The request headers of a WSGI environ as ``{Title-Case-Name: value}``, credentials masked."""
    names = _ENVIRON_NAMES
    if len(names) > 4096:  # a client inventing header names must not grow the table without end
        names.clear()
    headers = {}
    for key, value in environ.items():
        known = names.get(key, _UNKNOWN)
        if known is _UNKNOWN:
            known = names[key] = _environ_name(key)
        if known is not None:
            headers[known[0]] = MASK if known[1] else value
    return headers


_UNKNOWN: Any = object()
_ENVIRON_NAMES: dict[str, tuple[str, bool] | None] = {}
"""PERF: each environ key's header name and whether it is secret, worked out once per process."""


def _environ_name(key: str) -> tuple[str, bool] | None:
    if key.startswith("HTTP_"):
        name = _title(key[5:])
    elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        name = _title(key)
    else:
        return None
    return name, is_secret_header(name)


def secret_values(environ: Mapping[str, Any], query: str) -> list[str]:
    """The credentials a request carries (masked headers' values, their token part, masked query values),
    longest first: what must not reach the journal through a captured answer that echoes them."""
    found: set[str] = set()
    for key, value in environ.items():
        known = _ENVIRON_NAMES.get(key) or _environ_name(key)
        if known is not None and known[1] and isinstance(value, str):
            found.add(value)
            found.update(value.split()[1:])  # "Bearer <token>"
    for part in re.split(r"[&;]", query or ""):
        name, eq, value = part.partition("=")
        if eq and value and is_secret_param(name):
            found.update((value, unquote_plus(value)))
    return sorted((v for v in found if len(v) >= 4), key=len, reverse=True)


def without_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every one of ``secrets`` replaced by :data:`MASK`."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


@lru_cache(maxsize=1024)
def tenant_name(token: str, tenant: str) -> str:
    """The tenant as journaled: a flavour whose token names the account (myBoxx, ecartAPI without a JWT)
    has ``tenant == token``; the journal keeps ``token-<12 hex digits of its BLAKE2b>`` instead."""
    if tenant != token:
        return tenant
    return "token-" + hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()


def mask_query(query: str) -> str:
    """The raw query string with each credential parameter's value :data:`MASK` (names and order kept)."""
    if not query or ("=" not in query):
        return query
    masked = _MASKED_QUERIES.get(query)
    if masked is None:
        if len(_MASKED_QUERIES) > 4096:
            _MASKED_QUERIES.clear()
        masked = _MASKED_QUERIES[query] = _mask_query(query)
    return masked


_MASKED_QUERIES: dict[str, str] = {}
"""PERF: a test suite asks the same URLs again and again."""


def _mask_query(query: str) -> str:
    parts = re.split(r"([&;])", query)
    for i in range(0, len(parts), 2):
        name, eq, _ = parts[i].partition("=")
        if eq and is_secret_param(name):
            parts[i] = f"{name}={MASK}"
    return "".join(parts)


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
_INSERT = ("INSERT INTO requests (epoch, method, path, query, flavour, tenant, status, operation, data) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
_COLUMNS = "id, epoch, method, path, query, flavour, tenant, status, operation, data"


class LocalJournal:
    """:class:`RequestJournal` as a ring in an SQLite file, shared by one server's workers.

    Args:
        path: the SQLite file (created; entries a previous server left are forgotten).
        size: entries kept (at least 1).
    """

    def __init__(self, path: str, size: int) -> None:
        if size < 1:
            raise ValueError(f"a journal keeps at least 1 entry, got {size}")
        self.path = path
        self.size = size
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        self._failed = False
        conn = self._connect()
        conn.execute("DELETE FROM requests")
        self._close()  # gunicorn forks after this: every process opens its own connection

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")  # lost on a crash: a test journal, not an audit log
            conn.execute("PRAGMA journal_size_limit=4194304")  # the WAL file shrinks back after a checkpoint
            conn.executescript(_SCHEMA)
            conn.create_function("regexp", 2, _regexp, deterministic=True)
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def append(self, record: Record) -> None:
        try:
            with self._lock:
                conn = self._connect()
                # PERF: one autocommit INSERT (a statement sqlite3 keeps prepared); the trim runs on
                # one append in TRIM_EVERY, chosen by id so that all workers together trim that often.
                new_id = conn.execute(_INSERT, record).lastrowid or 0
                if new_id % TRIM_EVERY == 0:
                    conn.execute("DELETE FROM requests WHERE id <= ?", (new_id - self.size,))
        except sqlite3.Error as exc:
            if not self._failed:  # once per process: a full disk must not flood the log
                self._failed = True
                log.warning("the request journal cannot write %s (%s); entries are lost until it can", self.path, exc)

    def page(self, selection: JournalFilter) -> tuple[list[dict[str, Any]], int | None]:
        limit = max(1, min(selection.limit, MAX_PAGE))
        where, params = _where(selection)
        rows = self._query(f"SELECT {_COLUMNS} FROM requests {where} ORDER BY id LIMIT ?", (*params, limit + 1))
        entries = [_entry(row) for row in rows[:limit]]
        return entries, (entries[-1]["id"] if len(rows) > limit else None)

    def entries(self, selection: JournalFilter, newest: int | None = None) -> list[dict[str, Any]]:
        where, params = _where(selection)
        if newest is None:
            rows = self._query(f"SELECT {_COLUMNS} FROM requests {where} ORDER BY id", params)
        else:
            rows = self._query(f"SELECT {_COLUMNS} FROM requests {where} ORDER BY id DESC LIMIT ?", (*params, newest))
            rows.reverse()
        return [_entry(row) for row in rows]

    def clear(self, tenant: str | None = None) -> None:
        # NOTE: the newest row becomes a tombstone rather than going: SQLite gives a new row the
        # largest id + 1, and ids that came back would make a reader paging with ``after`` miss entries.
        # PERF: that is what lets the table go without AUTOINCREMENT (a third of an append's cost).
        which, params = ("1", ()) if tenant is None else ("tenant = ?", (tenant,))
        with self._lock:
            conn = self._connect()
            conn.execute("BEGIN IMMEDIATE")
            try:
                newest = conn.execute("SELECT max(id) FROM requests").fetchone()[0] or 0
                conn.execute(f"DELETE FROM requests WHERE {which} AND id != ?", (*params, newest))
                conn.execute(f"UPDATE requests SET epoch = 0, method = '', path = '', query = '', flavour = NULL, "
                             f"tenant = NULL, status = NULL, operation = NULL, data = x'' WHERE {which} AND id = ?",
                             (*params, newest))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._connect().execute(sql, params).fetchall()


def _where(selection: JournalFilter) -> tuple[str, tuple[Any, ...]]:
    clauses: list[str] = ["id > ?", "epoch > 0"]
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
    entry = {"id": ident, "time": iso_time(epoch), "epoch": epoch, "method": method, "path": path, "query": query,
             "url": f"{path}?{query}" if query else path, "headers": rest.get("headers", {}),
             "body": rest.get("body"), "body_truncated": rest.get("body_truncated", False), "status": status,
             "flavour": flavour, "tenant": tenant, "operation": operation, "latency_ms": rest.get("latency_ms"),
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


@lru_cache(maxsize=512)
def _title(environ_name: str) -> str:
    return "-".join(part.capitalize() for part in environ_name.split("_"))
