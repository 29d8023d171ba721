"""What the reference clients share: each platform's list as a client of it knows it, and one HTTP call.

These clients stand for *your* code: they use the standard library only and know nothing of the
kit (no import of ``contracts`` or ``mockserver``). Each is a script run as
``python <script>.py {url} --flavour F [--limit N] [--creates N [--idempotency-keys]]``; ``MOCK_TOKEN``
is the token.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Page = tuple[list[str], dict[str, str] | None, Any]
"""A page's customer ids, the query of the next page (``None``: the last), and its body."""


@dataclass(frozen=True)
class Platform:
    path: str
    items: tuple[str, ...]
    style: str  # cursor | offset | link
    next_at: tuple[str, ...] = ()
    param: str = "cursor"
    total_at: tuple[str, ...] = ()
    auth: str = "bearer"
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    create: str | None = None
    """The path a customer is created at (``None``: the platform has no create)."""


PLATFORMS = {
    "canonical": Platform("/customers", ("data",), "cursor", ("meta", "cursors", "next"), "cursor",
                          ("meta", "total_count"), create="/customers"),
    "apideck": Platform("/ecommerce/customers", ("data",), "cursor", ("meta", "cursors", "next"), "cursor",
                        ("meta", "total_count"), headers={"x-apideck-consumer-id": "my-shop", "x-apideck-app-id": "my-app"}),
    "truto": Platform("/unified/ecommerce/customers", ("result",), "cursor", ("next_cursor",), "next_cursor",
                      params={"integrated_account_id": "acc-1"}),
    "ecartapi": Platform("/api/v2/customers", ("customers",), "cursor", ("pagination", "nextPage"), "page",
                         ("pagination", "total"), auth="plain"),
    "ecwid": Platform("/api/v3/1003/customers", ("items",), "offset", param="offset", total_at=("total",),
                      create="/api/v3/1003/customers"),
    "myboxx": Platform("/api/json/v1/ecwid/customers", ("data", "attributes", "items"), "offset", param="offset",
                       total_at=("data", "attributes", "total")),
    "shopify": Platform("/admin/api/2024-01/customers.json", ("customers",), "link", param="page_info",
                        auth="shopify"),
}


class Failed(Exception):
    """An attempt that got no usable answer: ``status`` (``None``: the connection broke) and ``wait``."""

    def __init__(self, status: int | None, wait: float | None = None) -> None:
        super().__init__(f"status {status}")
        self.status = status
        self.wait = wait


def _at(body: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        body = body.get(key) if isinstance(body, dict) else None
    return body


class Client:
    def __init__(self, base: str, flavour: str, token: str) -> None:
        self.base = base.rstrip("/")
        self.platform = PLATFORMS[flavour]
        p = self.platform
        auth = {"shopify": {"X-Shopify-Access-Token": token}, "plain": {"Authorization": token}}.get(
            p.auth, {"Authorization": f"Bearer {token}"})
        self.headers = {**auth, **p.headers, "Accept": "application/json"}

    def send(self, method: str, path: str, query: dict[str, str] | None = None, body: Any = None,
             headers: dict[str, str] | None = None) -> tuple[dict[str, str], Any]:
        """One attempt: the answer's headers and JSON body, or :class:`Failed`."""
        url = self.base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = None if body is None else json.dumps(body).encode()
        all_headers = {**self.headers, **(headers or {}), **({"Content-Type": "application/json"} if data else {})}
        request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return dict(response.headers.items()), json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            with error:
                try:
                    error.read()
                except (http.client.HTTPException, OSError):
                    raise Failed(None) from None  # an error answer cut short: no answer at all
            wait = error.headers.get("Retry-After")
            raise Failed(error.code, float(wait) if wait else None) from None
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError, ValueError):
            raise Failed(None) from None

    # ---- pages ---------------------------------------------------------------------------------

    def first_query(self, limit: int) -> dict[str, str]:
        return {**self.platform.params, "limit": str(limit)}

    def page(self, query: dict[str, str]) -> Page:
        """One attempt at the page ``query`` asks for."""
        headers, body = self.send("GET", self.platform.path, query)
        p = self.platform
        items = _at(body, p.items) or []
        ids = [str(item["id"]) for item in items]
        following: dict[str, str] | None = None
        if p.style == "offset":
            start = int(query.get(p.param, 0)) + len(items)
            if items and start < int(_at(body, p.total_at)):
                following = {**query, p.param: str(start)}
        elif p.style == "link":
            found = re.search(r'<([^>]*)>;\s*rel="next"', headers.get("Link") or headers.get("link") or "")
            if found:
                following = {**p.params, **dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(found.group(1)).query))}
        else:
            token = _at(body, p.next_at)
            if token:
                following = {**query, p.param: str(token)}
        return ids, following, body

    def total(self, body: Any) -> int:
        return int(_at(body, self.platform.total_at))


def patiently(attempt: Callable[..., Any], *args: Any, tries: int = 12, **kwargs: Any) -> Any:
    """Call ``attempt(*args, **kwargs)`` until it answers: wait ``Retry-After`` when given, else a short back-off.

    Only what may be sent again gets here: GETs, and POSTs that carry an Idempotency-Key.
    """
    for n in range(tries):
        try:
            return attempt(*args, **kwargs)
        except Failed as failed:
            if n == tries - 1 or (failed.status is not None and failed.status < 500
                                               and failed.status != 429):
                raise
            time.sleep(failed.wait if failed.wait is not None else 0.05 * (n + 1))
    raise AssertionError("unreachable")


def walk(client: Client, limit: int) -> list[str]:
    """The right walk: follow the next page, fetch a failed page again (and only it)."""
    ids: list[str] = []
    query: dict[str, str] | None = client.first_query(limit)
    while query is not None:
        page_ids, query, _ = patiently(client.page, query)
        ids.extend(page_ids)
    return ids


def create_safely(client: Client, n: int, keyed: bool = False) -> None:
    """Create ``n`` customers without ever creating one twice.

    A POST refused with 429 never ran: it is sent again after Retry-After. A POST that failed
    otherwise (dropped, 5xx) may have run: without ``keyed`` it is not sent again (the customer is
    reported on stderr, to be checked by hand); with ``keyed`` every attempt carries the same
    Idempotency-Key, so the platform can tell a retry from a second customer.
    """
    path = client.platform.create or ""
    for i in range(n):
        body = new_customer(client, i)
        if keyed:
            retry_create(client, body, {"Idempotency-Key": str(uuid.uuid4())})
            continue
        for _ in range(12):
            try:
                client.send("POST", path, body=body)
            except Failed as failed:
                if failed.status == 429:
                    time.sleep(failed.wait if failed.wait is not None else 1)
                    continue
                print(f"customer {i}: the create failed ({failed.status or 'connection broken'}); it may or may "
                      f"not exist: not sent again", file=sys.stderr)
                if failed.wait is not None:  # the next request waits as asked all the same
                    time.sleep(failed.wait)
            break


def retry_create(client: Client, body: Any, headers: dict[str, str] | None = None) -> None:
    """POST ``body`` until it answers; a 409 (Ecwid: the email exists) means an earlier attempt created it."""
    try:
        patiently(client.send, "POST", client.platform.create or "", body=body, headers=headers)
    except Failed as failed:
        if failed.status != 409:
            raise
        print("the customer exists already: an earlier attempt created it", file=sys.stderr)


def new_customer(client: Client, i: int) -> dict[str, Any]:
    if client.platform.style == "offset":  # Ecwid's customer
        return {"email": f"client-{i}@example.com", "billingPerson": {"name": f"Client {i}"}}
    return {"name": f"Client {i}", "first_name": "Client", "last_name": str(i),
            "emails": [{"email": f"client-{i}@example.com", "type": "primary"}]}


def arguments(description: str) -> tuple[Client, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("url")
    parser.add_argument("--flavour", default=os.environ.get("MOCK_FLAVOUR", "canonical"), choices=PLATFORMS)
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--creates", type=int, default=0, help="create this many customers before the walk")
    parser.add_argument("--idempotency-keys", action="store_true",
                        help="retry a failed create, with the same Idempotency-Key on every attempt")
    args = parser.parse_args()
    return Client(args.url, args.flavour, os.environ.get("MOCK_TOKEN", "secret_token")), args


def done(ids: list[str]) -> None:
    print(f"{len(ids)} customers ({len(set(ids))} distinct)")
    sys.exit(0)
