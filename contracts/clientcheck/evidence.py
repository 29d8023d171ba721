"""What a client is judged on: the mock's request journal, the client's run, and the reference set.

A journal entry is the JSON the mock's ``GET /__admin/requests`` answers (one per request,
oldest first)::

    {"id": 17, "epoch": 1796320800.12, "method": "GET", "path": "/apideck/ecommerce/customers",
     "query": "limit=20&cursor=abc", "url": "/apideck/...?limit=20&cursor=abc", "headers": {...},
     "body": "..." | null, "status": 200 | null, "flavour": "apideck", "tenant": "t1",
     "operation": "list", "latency_ms": 1.9, "fault": null, "rate_limited": false,
     "response": {"headers": {"Retry-After": "1", ...}, "body": "...", "body_truncated": false}}

``status`` is ``null`` when the mock dropped the connection (a fault); ``response`` is there
while response capture is on (``check-client`` turns it on). The helpers here read entries
without trusting them to be complete: a missing key is "unknown", never an exception.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from contracts.clientcheck.pages import PageReader, header

__all__ = [
    "CONNECTION_FAULTS",
    "ClientRun",
    "Entry",
    "Evidence",
    "answer_time",
    "arrival",
    "broken_connection",
    "describe",
    "page_body",
    "query_of",
    "request_header",
    "response_header",
    "response_headers",
    "retry_after",
    "scope_of",
]

Entry = Mapping[str, Any]


@dataclass(frozen=True)
class ClientRun:
    """How the client's command ran."""

    command: Sequence[str]
    exit_code: int | None
    """``None``: it was stopped at the budget (or could not start)."""
    elapsed: float
    budget: float
    stderr_tail: str = ""
    timed_out: bool = False


@dataclass(frozen=True)
class Evidence:
    """Everything the properties judge: the client's requests, how it ran, and what the mock holds."""

    flavour: str
    reader: PageReader
    entries: Sequence[Entry]
    """The journal since the client started, oldest first (every flavour; properties filter)."""
    run: ClientRun
    reference_ids: frozenset[str] | None = None
    """Ids every customer list walk must visit (listed before and after the run); ``None``: unknown."""
    base_url: str = ""
    """The server's root, to print absolute URLs."""
    tolerance: float = 0.1
    """Seconds a client may come early after a ``Retry-After`` (clocks and rounding)."""
    notes: dict[str, Any] = field(default_factory=dict)
    complete: bool = True
    """False when the journal's ring dropped the oldest of the client's requests (a long run)."""

    def ours(self) -> list[Entry]:
        """The entries of the flavour under test."""
        return [e for e in self.entries if e.get("flavour") == self.flavour]

    def list_requests(self) -> list[Entry]:
        """The flavour's list requests, oldest first."""
        return [e for e in self.ours() if e.get("operation") == "list"]


def query_of(entry: Entry) -> dict[str, str]:
    """The request's query parameters (the first value of each)."""
    query: dict[str, str] = {}
    for key, value in parse_qsl(str(entry.get("query") or ""), keep_blank_values=True):
        query.setdefault(key, value)
    return query


def request_header(entry: Entry, name: str) -> str | None:
    headers = entry.get("headers")
    return header(headers if isinstance(headers, Mapping) else None, name)


def response_header(entry: Entry, name: str) -> str | None:
    response = entry.get("response")
    headers = response.get("headers") if isinstance(response, Mapping) else None
    return header(headers if isinstance(headers, Mapping) else None, name)


def response_headers(entry: Entry) -> Mapping[str, Any] | None:
    response = entry.get("response")
    headers = response.get("headers") if isinstance(response, Mapping) else None
    return headers if isinstance(headers, Mapping) else None


CONNECTION_FAULTS = ("reset", "empty", "malformed", "truncated")
"""The mock's connection faults: the client got no answer, or a broken one (even on a 2xx)."""


def broken_connection(entry: Entry) -> bool:
    """Whether the client got no usable answer: the connection dropped, or the answer was cut
    (``fault`` such as ``profile:truncated``: the mock ran the request and logged its status, the
    client received half of it)."""
    if entry.get("status") is None:
        return True
    fault = entry.get("fault")
    if not isinstance(fault, str):
        return False
    return any(part in CONNECTION_FAULTS for part in fault.partition(":")[2].split(","))


def page_body(entry: Entry) -> Any:
    """The decoded JSON answer the client received, or ``None`` (no capture, cut, not JSON, not 2xx)."""
    status = entry.get("status")
    response = entry.get("response")
    if not isinstance(status, int) or not 200 <= status < 300 or not isinstance(response, Mapping):
        return None
    if broken_connection(entry):
        return None
    if response.get("body_truncated"):
        return None
    body = response.get("body")
    if not isinstance(body, str):
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def retry_after(entry: Entry) -> float | None:
    """The answer's ``Retry-After`` in seconds (delta-seconds, whole or decimal), or ``None``."""
    value = response_header(entry, "Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # NOTE: an HTTP-date; the mock never sends one
    return seconds if seconds >= 0 else None


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def arrival(entry: Entry) -> float:
    """When the request arrived, in epoch seconds (0 when the entry does not say)."""
    return _number(entry.get("epoch"))


def answer_time(entry: Entry) -> float:
    """When the answer left (the request's time plus its latency), in epoch seconds."""
    return arrival(entry) + _number(entry.get("latency_ms")) / 1000


def scope_of(entry: Entry) -> tuple[str | None, str | None]:
    """The quota a request counts against: its flavour and tenant."""
    flavour, tenant = entry.get("flavour"), entry.get("tenant")
    return (None if flavour is None else str(flavour)), (None if tenant is None else str(tenant))


def describe(entry: Entry, base_url: str = "", note: str = "") -> str:
    """One line per request for a report: ``#17 18:00:00.123 GET http://.../customers?... -> 503``."""
    status = entry.get("status")
    answer = "connection dropped" if status is None else str(status)
    fault = entry.get("fault")
    if fault:
        answer += f" ({fault})"
    time = str(entry.get("time") or "")
    clock = time[11:23] if len(time) >= 23 else f"{arrival(entry):.3f}"
    url = entry.get("url") or (str(entry.get("path") or "") + (f"?{entry['query']}" if entry.get("query") else ""))
    line = f"#{entry.get('id')} {clock} {entry.get('method')} {base_url}{url} -> {answer}"
    return f"{line}  [{note}]" if note else line
