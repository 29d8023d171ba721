"""Hand-written request journals for the check-client property tests: entries in the journal
contract's shape, one request at a time, and pages as the platforms publish them."""

from __future__ import annotations

import json
from typing import Any

from contracts.clientcheck.evidence import ClientRun, Evidence
from contracts.clientcheck.judge import judge
from contracts.clientcheck.pages import READERS

T0 = 1_796_320_800.0
ROOT = "http://127.0.0.1:9"


class Journal:
    """Builds entries one request at a time, like the mock's journal: ids and times go up."""

    def __init__(self, flavour: str, tenant: str = "t1") -> None:
        self.flavour = flavour
        self.tenant = tenant
        self.entries: list[dict[str, Any]] = []
        self.clock = T0

    def add(self, method: str, path: str, query: str = "", *, status: int | None = 200, body: Any = None,
            headers: dict[str, str] | None = None, after: float = 0.05, operation: str = "list",
            request_body: str | None = None, request_headers: dict[str, str] | None = None,
            tenant: str | None = None, latency_ms: float = 2.0, fault: str | None = None) -> dict[str, Any]:
        self.clock += after
        entry: dict[str, Any] = {
            "id": len(self.entries) + 1, "epoch": self.clock, "method": method, "path": path, "query": query,
            "url": path + (f"?{query}" if query else ""), "headers": {"Authorization": "***", **(request_headers or {})},
            "body": request_body, "body_truncated": False, "status": status, "flavour": self.flavour,
            "tenant": tenant or self.tenant, "operation": operation, "latency_ms": latency_ms,
            "fault": fault or (None if status is not None else "profile:reset"), "rate_limited": status == 429,
            "worker": 1,
            "response": {"headers": headers or {}, "body": None if body is None else json.dumps(body),
                         "body_truncated": False},
        }
        self.entries.append(entry)
        return entry


def evidence(journal: Journal, reference: set[str] | None, *, exit_code: int | None = 0, timed_out: bool = False,
             stderr: str = "", elapsed: float = 1.0) -> Evidence:
    run = ClientRun(["client"], exit_code, elapsed, 30.0, stderr, timed_out)
    return Evidence(journal.flavour, READERS.get(journal.flavour), journal.entries, run,
                    None if reference is None else frozenset(reference), ROOT)


def outcome(ev: Evidence, *names: str) -> dict[str, str]:
    report = judge(ev, list(names) or None)
    return {r.name: ("skip" if r.skipped is not None else "ok" if r.ok else "FAIL") for r in report.results}


def failed(ev: Evidence, *names: str) -> set[str]:
    return {name for name, status in outcome(ev, *names).items() if status == "FAIL"}


def canonical_page(ids: list[str], next_cursor: str | None, previous: str | None = None) -> dict[str, Any]:
    return {"data": [{"id": i, "name": f"customer {i}"} for i in ids],
            "meta": {"items_on_page": len(ids), "total_count": 6,
                     "cursors": {"previous": previous, "current": None, "next": next_cursor}},
            "links": {"previous": None, "current": "x",
                      "next": None if next_cursor is None else f"{ROOT}/customers?limit=2&cursor={next_cursor}"}}


def ecwid_page(ids: list[int], offset: int, total: int = 6) -> dict[str, Any]:
    return {"total": total, "count": len(ids), "offset": offset, "limit": 2, "items": [{"id": i} for i in ids]}


IDS = {"a1", "a2", "b1", "b2", "c1", "c2"}
WALK = "walk.every_customer", "walk.no_duplicates", "walk.cursors_as_issued"


def good_canonical_walk(journal: Journal) -> None:
    journal.add("GET", "/customers", "limit=2", body=canonical_page(["a1", "a2"], "CUR-B"))
    journal.add("GET", "/customers", "limit=2&cursor=CUR-B", body=canonical_page(["b1", "b2"], "CUR-C", "CUR-A"))
    journal.add("GET", "/customers", "limit=2&cursor=CUR-C", body=canonical_page(["c1", "c2"], None, "CUR-B"))
