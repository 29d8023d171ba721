"""Deep offsets and unselective searches against the largest dataset (issue 12, section 4).

Each case is requested one at a time on one connection, ``reps`` times, each time with a slightly
different offset (or page) so that no answer comes from a page cache: every figure is a cold
request. Then one customer is written (``PATCH`` on the canonical flavour) and the cases run again,
since a write used to take deep pages off their fast path. A case that ends in the work budget's
"search too broad" error is reported with its status: the time to that answer is the point.
"""

from __future__ import annotations

import http.client
import json
import statistics
import time
from typing import Any

__all__ = ["cases", "measure", "render"]

ECWID = "/ecwid/api/v3/1003/customers?token=secret_x"
ECWID_HEADERS = {"Authorization": ""}
AUTH = {"Authorization": "Bearer bench-token"}
TIMEOUT = 180.0


def cases(count: int) -> list[tuple[str, str, dict[str, str]]]:
    """(name, path template with ``{shift}``, headers) for a dataset of ``count`` customers."""
    half, end = count // 2, max(0, count - 100)
    last_page = max(1, count // 250)
    return [
        ("ecwid keyword=zzzzq (matches nobody)", f"{ECWID}&keyword=zzzzq&offset={{shift}}", ECWID_HEADERS),
        (f"ecwid keyword=an offset {half:,}", f"{ECWID}&keyword=an&offset={{half}}", ECWID_HEADERS),
        (f"ecwid sortBy=NAME_DESC offset {half:,}", f"{ECWID}&sortBy=NAME_DESC&offset={{half}}", ECWID_HEADERS),
        (f"ecwid sortBy=NAME_ASC offset {end:,}", f"{ECWID}&sortBy=NAME_ASC&offset={{end}}", ECWID_HEADERS),
        (f"ecwid sortBy=UPDATED_DATE_DESC offset {end:,}", f"{ECWID}&sortBy=UPDATED_DATE_DESC&offset={{end}}",
         ECWID_HEADERS),
        (f"ecwid sortBy=UPDATED_DATE_ASC offset {half:,}", f"{ECWID}&sortBy=UPDATED_DATE_ASC&offset={{half}}",
         ECWID_HEADERS),
        (f"ecwid sortBy=REGISTERED_DATE_DESC offset {end:,}",
         f"{ECWID}&sortBy=REGISTERED_DATE_DESC&offset={{end}}", ECWID_HEADERS),
        (f"ecartapi page={last_page:,}&limit=250", "/ecartapi/api/v2/customers?limit=250&page={page}", AUTH),
        (f"ecwid keyword=a sortBy=UPDATED_DATE_DESC offset {half:,}",
         f"{ECWID}&keyword=a&sortBy=UPDATED_DATE_DESC&offset={{half}}", ECWID_HEADERS),
        (f"ecwid updatedFrom sortBy=REGISTERED_DATE_DESC offset {half:,} (walked, within the work budget or 400)",
         f"{ECWID}&updatedFrom=946684800&sortBy=REGISTERED_DATE_DESC&offset={{half}}", ECWID_HEADERS),
    ]


def _request(base_url: str, method: str, path: str, headers: dict[str, str],
             body: bytes | None = None) -> tuple[int | None, float]:
    host, port = base_url.rsplit("//", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT)
    started = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, (time.perf_counter() - started) * 1000
    except (OSError, http.client.HTTPException):
        return None, (time.perf_counter() - started) * 1000
    finally:
        conn.close()


def _run(base_url: str, count: int, reps: int) -> list[dict[str, Any]]:
    rows = []
    half, end, last_page = count // 2, max(0, count - 100), max(1, count // 250)
    for name, template, headers in cases(count):
        statuses, millis = [], []
        for rep in range(reps):
            path = template.format(shift=rep, half=half - rep, end=end - rep, page=last_page - rep)
            status, ms = _request(base_url, "GET", path, headers)
            statuses.append(status)
            millis.append(ms)
        rows.append({"case": name, "statuses": statuses, "ms": millis, "median_ms": statistics.median(millis)})
    return rows


def measure(base_url: str, count: int, customer_id: str, reps: int = 3) -> dict[str, Any]:
    """Every case cold, then again after one write."""
    before = _run(base_url, count, reps)
    status, _ = _request(base_url, "PATCH", f"/customers/{customer_id}",
                         {**AUTH, "Content-Type": "application/json"}, json.dumps({"first_name": "Bench"}).encode())
    after = _run(base_url, count, reps)
    return {"count": count, "reps": reps, "write_status": status,
            "rows": [{**b, "after_write": {k: a[k] for k in ("statuses", "ms", "median_ms")}}
                     for b, a in zip(before, after)]}


def render(deep: dict[str, Any]) -> list[str]:
    """Markdown lines for the report."""
    lines = [f"## Deep offsets and searches at {deep['count']:,} customers", "",
             (f"One request at a time, cold (no page cache), {deep['reps']} repetitions; then one write "
              f"(PATCH answered {deep['write_status']}) and the same again. Milliseconds, median (min–max)."), "",
             "| case | status | ms | status after a write | ms after a write |", "|---|---|---|---|---|"]

    def cell(values: list[float]) -> str:
        return f"{statistics.median(values):,.1f} ({min(values):,.1f}–{max(values):,.1f})"

    for row in deep["rows"]:
        after = row["after_write"]
        lines.append(f"| {row['case']} | {'/'.join(str(s) for s in sorted(set(row['statuses']), key=str))} | "
                     f"{cell(row['ms'])} | {'/'.join(str(s) for s in sorted(set(after['statuses']), key=str))} | "
                     f"{cell(after['ms'])} |")
    lines.append("")
    return lines
