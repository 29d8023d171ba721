"""The webhook outbox: subscriptions, events waiting for delivery and every attempt made, shared by all workers.

:class:`WebhookOutbox` is the protocol the pipeline, the delivery thread and the admin API use;
:class:`LocalOutbox` keeps it in its own SQLite file (``<state>-webhooks``), so every gunicorn
worker sees one copy (a journal or a quota transaction never waits for it), and a networked store
can implement the same protocol later.

At most one delivery per event, subscription and attempt across workers: :meth:`claim` takes due
rows in one ``BEGIN IMMEDIATE`` transaction and leases them; :meth:`finish` records the attempt only
if the row is still at the attempt it claimed (a worker that died mid-delivery loses its lease, and
another worker makes that attempt instead). Bounded: at most :data:`MAX_ROWS` rows of each table,
the oldest dropped first.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from mockserver.errors import ServiceUnavailable
from mockserver.side_files import SideFile
from mockserver.store import ChangeCounter
from mockserver.webhooks import Event, Subscription

__all__ = ["MAX_ROWS", "Attempt", "Claim", "LocalOutbox", "WebhookOutbox"]

MAX_ROWS = 10_000
"""Outbox rows and delivery records kept (each); past it the oldest go first."""
HOLD_SECONDS = 1.0
"""``out_of_order``: the longest an event waits for the next one before it is sent anyway."""
DUPLICATE_AFTER = 0.05
"""``duplicate``: seconds between an event's first delivery and its copy."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (id TEXT PRIMARY KEY, body TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (key INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT NOT NULL,
  subscription TEXT NOT NULL, copy INTEGER NOT NULL, attempts INTEGER NOT NULL, due REAL NOT NULL,
  lease REAL NOT NULL, state TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, due);
CREATE TABLE IF NOT EXISTS deliveries (n INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL,
  event TEXT NOT NULL, subscription TEXT NOT NULL, outcome TEXT NOT NULL, status INTEGER);
"""


class Claim(NamedTuple):
    """One attempt a worker leased: the event, for the subscription, attempt ``attempt`` (1-based)."""

    key: int
    event: Event
    subscription: Subscription
    attempt: int
    copy: int
    """1 for the second delivery of a ``duplicate`` subscription."""


class Attempt(NamedTuple):
    """What one attempt sent and what came back."""

    event_name: str
    url: str
    headers: dict[str, str]
    status: int | None
    """The receiver's status; ``None`` when it never answered."""
    error: str | None
    latency_ms: float
    started: float


class WebhookOutbox(Protocol):
    """Subscriptions, pending events and delivery records, as every worker sees them."""

    def subscriptions(self) -> tuple[Subscription, ...]:
        """Every subscription (cheap: re-read only after a change)."""
        ...

    def subscribe(self, subscription: Subscription) -> None: ...

    def unsubscribe(self, subscription_id: str) -> bool:
        """Forget a subscription and its pending events; false when there was none."""
        ...

    def enqueue(self, event: Event, targets: Sequence[tuple[Subscription, str]]) -> int:
        """Queue ``event`` for each ``(subscription, event name)``; the rows queued."""
        ...

    def claim(self, now: float, limit: int, lease: float) -> list[Claim]:
        """Lease up to ``limit`` due attempts (atomically across workers)."""
        ...

    def finish(self, claim: Claim, attempt: Attempt, now: float) -> str | None:
        """Record an attempt: ``delivered``, ``retrying`` (rescheduled) or ``failed`` (given up);
        ``None`` when the lease was lost (another worker owns the row now, or a reset dropped it)."""
        ...

    def deliveries(self, subscription: str | None = None, event: str | None = None, status: str | None = None,
                   limit: int = 1000) -> list[dict[str, Any]]: ...

    def pending(self) -> int:
        """Attempts not yet made (due or waiting for their retry)."""
        ...

    def reset(self, keep: Sequence[Subscription]) -> None:
        """Only ``keep`` subscribed; no pending event, no delivery record."""
        ...


class LocalOutbox(SideFile):
    """:class:`WebhookOutbox` in an SQLite file (created empty but for ``initial``)."""

    schema = _SCHEMA  # pending webhooks need not survive a crash

    def __init__(self, path: str, initial: Sequence[Subscription] = ()) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._changes = ChangeCounter(path + "-changes")
        self._seen = -1
        self._subs: tuple[Subscription, ...] = ()
        self.reset(initial)
        self.subscriptions()
        self._close()  # gunicorn forks after this: every process opens its own connection


    def _write(self, work: Any) -> Any:
        """``work(conn)`` in one ``BEGIN IMMEDIATE`` transaction."""
        with self._lock:
            try:
                conn = self._connect()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = work(conn)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
                return result
            except sqlite3.Error as exc:
                raise ServiceUnavailable(f"The mock server cannot reach its webhook outbox ({exc}); retry shortly.") \
                    from None

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._connect().execute(sql, tuple(args)).fetchall()
            except sqlite3.Error as exc:
                raise ServiceUnavailable(f"The mock server cannot reach its webhook outbox ({exc}); retry shortly.") \
                    from None

    # ---- subscriptions ----------------------------------------------------------------------

    def subscriptions(self) -> tuple[Subscription, ...]:
        seen = self._changes.read()
        if seen != self._seen:  # PERF: one memory read while nothing changed
            rows = self._read("SELECT body FROM subscriptions ORDER BY created, id")
            self._subs = tuple(Subscription.from_json(json.loads(body)) for (body,) in rows)
            self._seen = seen
        return self._subs

    def subscribe(self, subscription: Subscription) -> None:
        body = json.dumps(subscription.as_json(reveal=True))
        self._write(lambda c: c.execute("INSERT OR REPLACE INTO subscriptions VALUES (?, ?, ?)",
                                        (subscription.id, body, subscription.created)))
        self._changes.bump()

    def unsubscribe(self, subscription_id: str) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            gone = conn.execute("DELETE FROM subscriptions WHERE id = ?", (subscription_id,)).rowcount
            conn.execute("DELETE FROM outbox WHERE subscription = ? AND state != 'done'", (subscription_id,))
            return bool(gone)

        gone: bool = self._write(work)
        self._changes.bump()
        return gone

    # ---- events ---------------------------------------------------------------------------------

    def enqueue(self, event: Event, targets: Sequence[tuple[Subscription, str]]) -> int:
        if not targets:
            return 0
        body = json.dumps(event.as_json())
        now = time.time()

        def work(conn: sqlite3.Connection) -> int:
            rows = 0
            for subscription, _ in targets:
                due, state = now, "pending"
                if subscription.failure == "out_of_order":
                    held = conn.execute("SELECT key FROM outbox WHERE subscription = ? AND state = 'held'",
                                        (subscription.id,)).fetchone()
                    if held is None:  # this one waits for the next (at most HOLD_SECONDS)
                        due, state = now + HOLD_SECONDS, "held"
                    else:  # the held one goes once this one is finished (see finish)
                        conn.execute("UPDATE outbox SET state = 'after', due = ? WHERE key = ?",
                                     (now + HOLD_SECONDS, held[0]))
                copies = 2 if subscription.failure == "duplicate" else 1
                for copy in range(copies):
                    conn.execute("INSERT INTO outbox (event, subscription, copy, attempts, due, lease, state) "
                                 "VALUES (?, ?, ?, 0, ?, 0, ?)", (body, subscription.id, copy,
                                                                 due + copy * DUPLICATE_AFTER, state))
                    rows += 1
            _trim(conn, "outbox", "key")
            return rows

        queued: int = self._write(work)
        return queued

    def claim(self, now: float, limit: int, lease: float) -> list[Claim]:
        subs = {s.id: s for s in self.subscriptions()}
        # PERF: a read first; the write lock is taken only when something is due
        if not self._read("SELECT 1 FROM outbox WHERE state IN ('pending', 'held', 'after') AND due <= ? AND lease <= ? "
                          "LIMIT 1", (now, now)):
            return []

        def work(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            rows = conn.execute("SELECT key, event, subscription, attempts, copy FROM outbox "
                                "WHERE state IN ('pending', 'held', 'after') AND due <= ? AND lease <= ? "
                                "ORDER BY due, key LIMIT ?", (now, now, limit)).fetchall()
            conn.executemany("UPDATE outbox SET lease = ? WHERE key = ?", [(now + lease, r[0]) for r in rows])
            return list(rows)

        claims = []
        for key, event, sub_id, attempts, copy in self._write(work):
            subscription = subs.get(sub_id)
            if subscription is not None:
                claims.append(Claim(key, Event.from_json(json.loads(event)), subscription, attempts + 1, copy))
        return claims

    def finish(self, claim: Claim, attempt: Attempt, now: float) -> str | None:
        subscription = claim.subscription
        ok = attempt.status is not None and 200 <= attempt.status < 300
        if ok:
            outcome, due = "delivered", None
        elif claim.attempt >= subscription.max_attempts:
            outcome, due = "failed", None
        else:
            outcome, due = "retrying", now + subscription.delay_ms(claim.attempt) / 1000

        def work(conn: sqlite3.Connection) -> bool:
            changed = conn.execute("UPDATE outbox SET attempts = ?, due = ?, lease = 0, state = ? "
                                   "WHERE key = ? AND attempts = ?",
                                   (claim.attempt, due if due is not None else now,
                                    "pending" if due is not None else "done", claim.key, claim.attempt - 1)).rowcount
            if not changed:
                return False
            if due is None and subscription.failure == "out_of_order":  # release the event held behind it
                conn.execute("UPDATE outbox SET state = 'pending', due = ? WHERE subscription = ? AND state = 'after'",
                             (now, subscription.id))
            record = {"event_id": claim.event.id, "event": attempt.event_name, "subscription": subscription.id,
                      "flavour": subscription.flavour, "attempt": claim.attempt, "copy": claim.copy,
                      "url": attempt.url, "request_headers": attempt.headers, "status": attempt.status,
                      "error": attempt.error, "latency_ms": round(attempt.latency_ms, 3),
                      "time": _iso(attempt.started), "epoch": attempt.started, "outcome": outcome,
                      "next_attempt": None if due is None else _iso(due)}
            conn.execute("INSERT INTO deliveries (body, event, subscription, outcome, status) VALUES (?, ?, ?, ?, ?)",
                         (json.dumps(record), claim.event.id, subscription.id, outcome, attempt.status))
            _trim(conn, "deliveries", "n")
            if due is None:
                conn.execute("DELETE FROM outbox WHERE state = 'done' AND key NOT IN "
                             "(SELECT key FROM outbox WHERE state = 'done' ORDER BY key DESC LIMIT 100)")
            return True

        return outcome if self._write(work) else None

    def deliveries(self, subscription: str | None = None, event: str | None = None, status: str | None = None,
                   limit: int = 1000) -> list[dict[str, Any]]:
        where: list[str] = []
        args: list[Any] = []
        if subscription is not None:
            where.append("subscription = ?")
            args.append(subscription)
        if event is not None:  # an event id, or an event name (customers/create)
            where.append("(event = ? OR json_extract(body, '$.event') = ?)")
            args += [event, event]
        if status is not None:
            if status.isdigit():
                where.append("status = ?")
                args.append(int(status))
            else:
                where.append("outcome = ?")
                args.append(status)
        sql = "SELECT body FROM deliveries" + (" WHERE " + " AND ".join(where) if where else "")
        rows = self._read(sql + " ORDER BY n LIMIT ?", [*args, limit])
        return [json.loads(body) for (body,) in rows]

    def pending(self) -> int:
        return int(self._read("SELECT count(*) FROM outbox WHERE state != 'done'")[0][0])

    def reset(self, keep: Sequence[Subscription]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM subscriptions")
            conn.execute("DELETE FROM outbox")
            conn.execute("DELETE FROM deliveries")
            conn.executemany("INSERT INTO subscriptions VALUES (?, ?, ?)",
                             [(s.id, json.dumps(s.as_json(reveal=True)), s.created) for s in keep])

        self._write(work)
        self._changes.bump()


def _trim(conn: sqlite3.Connection, table: str, key: str) -> None:
    """Keep the newest :data:`MAX_ROWS` rows of ``table``."""
    newest = conn.execute(f"SELECT max({key}) FROM {table}").fetchone()[0]
    if newest is not None and newest > MAX_ROWS:
        conn.execute(f"DELETE FROM {table} WHERE {key} <= ?", (newest - MAX_ROWS,))


def _iso(epoch: float) -> str:
    seconds = int(epoch)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int((epoch - seconds) * 1e6):06d}Z"
