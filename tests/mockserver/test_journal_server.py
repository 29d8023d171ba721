"""The request journal against real gunicorn (2 workers) and real sockets: exact counts across
workers, the ring's bound under a long run, no secret in it, faults and 429s journaled, filters and paging."""

from __future__ import annotations

import http.client
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from mockserver import FLAVOURS, Settings
from mockserver.server import ServerProcess
from tests.mockserver.unhappy_client import ADMIN, admin, call, connect

API = {"Authorization": "Bearer api-token"}


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("journal") / "state.sqlite3"


@pytest.fixture(scope="module")
def server(state: Path) -> Iterator[ServerProcess]:
    with ServerProcess(Settings(seed=42, count=30, workers=2, state=str(state), journal_body_bytes=256)) as running:
        yield running


@pytest.fixture(autouse=True)
def clean(request: pytest.FixtureRequest) -> None:
    if "server" in request.fixturenames:
        admin(request.getfixturevalue("server"), "POST", "reset")


def _all(server: ServerProcess, **filters: Any) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    params = {"limit": "1000", **{k: str(v) for k, v in filters.items()}}
    while True:
        page = admin(server, "GET", "requests?" + urlencode(params))
        entries += page["requests"]
        if page["next"] is None:
            return entries
        params["after"] = str(page["next"])


def _count(server: ServerProcess, matcher: dict[str, Any]) -> int:
    return int(admin(server, "POST", "requests/count", matcher)["count"])


# ---- exact across workers ----------------------------------------------------------------------


def test_a_count_is_exact_across_workers(server: ServerProcess) -> None:
    start = threading.Barrier(8)

    def send(thread: int) -> list[int]:
        start.wait()
        return [call(server, "GET", f"/customers?limit=1&n={thread}-{i}", {**API, "X-Tenant-Id": "counted"})[0]
                for i in range(25)]

    with ThreadPoolExecutor(8) as pool:
        statuses = [s for future in [pool.submit(send, t) for t in range(8)] for s in future.result()]
    assert statuses == [200] * 200
    assert _count(server, {"method": "GET", "urlPath": "/customers", "tenant": "counted"}) == 200
    found = admin(server, "POST", "requests/find", {"tenant": "counted", "queryParameters": {"limit": {"equalTo": "1"}}})
    entries = found["requests"]
    assert len(entries) == 200 and len({e["id"] for e in entries}) == 200
    assert sorted({e["query"] for e in entries}) == sorted(f"limit=1&n={t}-{i}" for t in range(8) for i in range(25))
    assert set(admin(server, "GET", "health")["workers"]["live"]) == {e["worker"] for e in entries}
    assert len({e["worker"] for e in entries}) == 2


def test_entries_are_in_the_order_the_requests_were_answered_whichever_worker_served_them(
        server: ServerProcess) -> None:
    sent = 0
    while sent < 60 or (len({e["worker"] for e in _all(server, tenant="ordered")}) < 2 and sent < 600):
        # one after the other, each on a fresh connection: the workers take turns (as the kernel hands them out)
        assert call(server, "GET", f"/customers?limit=1&seq={sent}", {**API, "X-Tenant-Id": "ordered"})[0] == 200
        sent += 1
    entries = _all(server, tenant="ordered")
    assert [e["query"] for e in entries] == [f"limit=1&seq={i}" for i in range(sent)]
    assert len({e["worker"] for e in entries}) == 2


# ---- bounded ----------------------------------------------------------------------------------------


def test_the_journal_stays_within_its_bound_under_a_long_run(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    journal = Path(f"{state}-requests")
    with ServerProcess(Settings(seed=1, count=10, workers=2, state=str(state), journal_size=500)) as server:

        def burst(thread: int, n: int, offset: int) -> None:
            conn = connect(server)
            try:
                for i in range(n):
                    status, _, _ = call(server, "GET", f"/customers?limit=1&n={offset + thread * n + i}", API, conn=conn)
                    assert status == 200
            finally:
                conn.close()

        wal = Path(f"{journal}-wal")
        sizes = []
        for offset in (0, 2500):
            with ThreadPoolExecutor(5) as pool:
                for future in [pool.submit(burst, t, 500, offset) for t in range(5)]:
                    future.result()
            sizes.append((journal.stat().st_size, wal.stat().st_size if wal.exists() else 0))
        assert call(server, "GET", "/customers?limit=1&n=last", API)[0] == 200
        entries = _all(server)
    assert 500 <= len(entries) <= 500 + 64, len(entries)
    assert entries[-1]["query"] == "limit=1&n=last"
    ids = [e["id"] for e in entries]
    assert ids == list(range(ids[-1] - len(ids) + 1, ids[-1] + 1))  # the newest ones, none missing
    assert ids[-1] >= 5001
    # the WAL is checkpointed as it goes (its pages reused), and once folded in, the file holds the
    # ring: 5,000 entries kept would be several MB
    assert all(wal_size <= 5 << 20 for _, wal_size in sizes), sizes
    with sqlite3.connect(journal) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert conn.execute("SELECT count(*) FROM requests").fetchone()[0] == len(entries)
    conn.close()
    assert journal.stat().st_size < 600 * 1024, journal.stat().st_size


# ---- secrets --------------------------------------------------------------------------------------


def test_secrets_never_appear_in_the_journal(server: ServerProcess, state: Path) -> None:
    admin(server, "PUT", "config", {"journal": {"responses": True}})  # answers that echo a token too
    secrets: list[str] = []

    def secret(kind: str) -> str:
        value = f"S3cret{kind}{uuid.uuid4().hex[:12]}"
        secrets.append(value)
        return value

    answered = dropped = 0
    for flavour in FLAVOURS:
        example = flavour.example
        for variant in ("ok", "no-token", "reset"):
            token = secret("Token")
            headers = dict(example.credentials(token)) if variant != "no-token" else dict(example.headers)
            if "x-apideck-app-id" in {k.lower() for k in headers}:
                headers = {k: v for k, v in headers.items() if k.lower() != "x-apideck-app-id"}
                headers["x-apideck-app-id"] = secret("AppId")
            headers.update({"Proxy-Authorization": f"Basic {secret('Proxy')}", "Cookie": f"session={secret('Cookie')}",
                            "X-Mock-Admin-Token": secret("Admin"), "X-Api-Key": secret("ApiKey")})
            if flavour.name != "shopify":
                headers["X-Shopify-Access-Token"] = secret("Shop")
            if variant == "reset":
                headers["Prefer"] = "fault=reset"
            query = {"limit": "2", "token": f"secret_{secret('Query')}", "access_token": secret("Access"),
                     "api_key": secret("ApiKeyQ"), "key": secret("Key"), "oauth_signature": secret("OAuth"),
                     "consumer_secret": secret("Consumer"), "password": secret("Password")}
            if flavour.name == "truto":
                query["integrated_account_id"] = "acct-1"
            if flavour.name == "ecwid" and variant == "no-token":
                del query["token"]  # Ecwid's own way to send its token
            path = f"/{flavour.name}{example.path}?{urlencode(query)}"
            try:
                status, _, _ = call(server, "GET", path, headers)
                answered += 1
                assert status < 500 and (variant != "no-token" or status in (400, 401, 403)), (flavour.name, variant, status)
            except (ConnectionError, http.client.HTTPException):
                assert variant == "reset", flavour.name
                dropped += 1
    entries = _all(server)
    assert len(entries) == answered + dropped == len(FLAVOURS) * 3 and dropped == len(FLAVOURS)
    assert all(e["headers"].get("Cookie") == "***" and "password=***" in e["query"] for e in entries)
    assert sum("response" in e for e in entries) == answered
    text = json.dumps(entries)
    files = b"".join(Path(f"{state}-requests{suffix}").read_bytes() for suffix in ("", "-wal")
                     if Path(f"{state}-requests{suffix}").exists())
    for value in secrets:
        assert value not in text and value.encode() not in files, value
    assert sum("token-" in (e["tenant"] or "") for e in entries) >= 2  # myBoxx, ecartAPI: the token is the account


# ---- faults and limits -----------------------------------------------------------------------------


def test_dropped_connections_and_429s_are_journaled_with_their_fault_or_limit(server: ServerProcess) -> None:
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        call(server, "GET", "/customers?limit=1", {**API, "Prefer": "fault=reset", "X-Tenant-Id": "faulty"})
    admin(server, "PUT", "tenants/profiled", {"faults": {"connection": [{"fault": "empty", "rate": 1}]}})
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        call(server, "GET", "/customers?limit=2", {**API, "X-Tenant-Id": "profiled"})
    admin(server, "PUT", "rate-limits", {"enabled": True, "flavours": {"canonical": {"limit": 2, "seconds": 600}}})
    statuses = [call(server, "GET", "/customers?limit=3", {**API, "X-Tenant-Id": "limited"})[0] for _ in range(3)]
    assert statuses == [200, 200, 429]

    dropped = _all(server, tenant="faulty") + _all(server, tenant="profiled")
    assert [(e["status"], e["fault"], e["rate_limited"]) for e in dropped] == [
        (None, "prefer:reset", False), (None, "profile:empty", False)]
    limited = _all(server, tenant="limited")
    assert [(e["status"], e["rate_limited"], e["fault"]) for e in limited] == [
        (200, False, None), (200, False, None), (429, True, None)]
    assert _count(server, {"status": 429, "tenant": "limited"}) == 1


# ---- filters, paging, bodies, clearing ---------------------------------------------------------------


def test_filters_and_paging(server: ServerProcess) -> None:
    call(server, "GET", "/no/such/path", API)
    call(server, "DELETE", "/customers", API)
    call(server, "POST", "/customers", {**API, "Content-Type": "application/json", "X-Tenant-Id": "w"},
         {"first_name": "Ada", "notes": "x" * 1000})
    call(server, "GET", "/customers", {})
    for i in range(7):
        call(server, "GET", f"/ecwid/api/v3/1003/customers?limit={i + 1}", {"Authorization": "Bearer secret_x"})
    everything = _all(server)
    assert [e["status"] for e in everything[:2]] + [everything[3]["status"]] == [404, 405, 401]
    assert [e["path"] for e in _all(server, status=404)] == ["/no/such/path"]
    assert [e["method"] for e in _all(server, method="delete")] == ["DELETE"]
    assert len(_all(server, flavour="ecwid")) == 7
    assert len(_all(server, path_pattern=r"/ecwid/.*/customers")) == 7
    assert _all(server, since=everything[4]["time"])[0]["id"] == everything[4]["id"]

    page = admin(server, "GET", "requests?flavour=ecwid&limit=3")
    seen = [e["query"] for e in page["requests"]]
    while page["next"] is not None:
        page = admin(server, "GET", f"requests?flavour=ecwid&limit=3&after={page['next']}")
        seen += [e["query"] for e in page["requests"]]
    assert seen == [f"limit={i + 1}" for i in range(7)]

    posted = _all(server, method="POST")[0]
    assert posted["body_truncated"] is True and len(posted["body"].encode()) <= 256
    assert posted["body"].startswith('{"first_name": "Ada"')

    # a value of the wrong form is a 400; a string that is no regular expression a 422 (the document's rule)
    for query, name, expected in (("status=abc", "status", 400), ("since=yesterday", "since", 400),
                                  ("path_pattern=(", "path_pattern", 422), ("limit=0", "limit", 400),
                                  ("colour=red", "colour", 400), ("method=G%20T", "method", 400)):
        status, _, data = call(server, "GET", f"/__admin/requests?{query}", ADMIN)
        assert status == expected and json.loads(data)["errors"][0]["name"] == name, (query, data)


def test_clearing_one_tenant_or_everything(server: ServerProcess) -> None:
    for tenant in ("a", "b", "a"):
        call(server, "GET", "/customers?limit=1", {**API, "X-Tenant-Id": tenant})
    status, _, _ = call(server, "DELETE", "/__admin/requests?tenant=a", ADMIN)
    assert status == 204
    assert [e["tenant"] for e in _all(server)] == ["b"]
    admin(server, "POST", "reset")
    assert _all(server) == []


def test_near_misses_over_http_say_what_differs(server: ServerProcess) -> None:
    call(server, "POST", "/customers", {**API, "Content-Type": "application/json", "Idempotency-Key": "k-1"},
         {"first_name": "Ada"})
    call(server, "GET", "/customers?limit=5", API)
    matcher = {"method": "POST", "urlPath": "/customers", "headers": {"Idempotency-Key": {"equalTo": "k-2"}}}
    assert _count(server, matcher) == 0
    misses = admin(server, "POST", "requests/near-misses?limit=1", matcher)["near_misses"]
    assert len(misses) == 1 and misses[0]["request"]["method"] == "POST"
    assert misses[0]["differences"] == ['headers.Idempotency-Key: expected equalTo "k-2", got "k-1"']
    status, _, data = call(server, "POST", "/__admin/requests/count", ADMIN, {"headers": {"X": {"matches": "("}}})
    assert status == 422 and json.loads(data)["errors"][0]["name"] == "headers.X.matches"


def test_response_capture_is_off_by_default_and_keeps_headers_and_body_when_on(server: ServerProcess) -> None:
    call(server, "GET", "/customers?limit=1", API)
    admin(server, "PUT", "config", {"journal": {"responses": True, "max_response_bytes": 100}})
    status, headers, body = call(server, "GET", "/customers?limit=1", API)
    assert status == 200
    first, second = _all(server)
    assert "response" not in first
    response = second["response"]
    assert response["headers"]["Content-Type"] == headers["content-type"]
    assert response["body_truncated"] is True and response["body"] == body[:100].decode("utf-8", "replace")


def test_a_server_without_a_journal_says_so(tmp_path: Path) -> None:
    with ServerProcess(Settings(seed=1, count=5, workers=1, state=str(tmp_path / "s.sqlite3"), journal_size=0)) as server:
        assert call(server, "GET", "/customers", API)[0] == 200
        status, _, data = call(server, "GET", "/__admin/requests", ADMIN)
    assert status == 404 and "--journal-size 0" in json.loads(data)["detail"]
    assert not os.path.exists(tmp_path / "s.sqlite3-requests")


def _raw(server: ServerProcess, head: str, body: bytes, then: bytes = b"") -> tuple[bytes, float]:
    """Send ``head`` and ``body`` in one write (then ``then`` after the answer); the answer's first line."""
    conn = connect(server)
    conn.connect()
    sock = conn.sock
    started = time.perf_counter()
    sock.sendall(head.encode() + b"\r\n" + body)
    answer = sock.recv(65536)
    elapsed = time.perf_counter() - started
    if then:
        sock.sendall(then)
    conn.close()
    return answer.split(b"\r\n", 1)[0], elapsed


def test_a_refused_requests_body_is_journaled_when_it_has_arrived(server: ServerProcess) -> None:
    body = b'{"first_name": "Eve"}'
    line, _ = _raw(server, f"POST /customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                           f"Content-Length: {len(body)}\r\nConnection: close\r\n", body)
    assert line == b"HTTP/1.1 401 Unauthorized"  # refused before the operation read its body
    line, _ = _raw(server, f"POST /customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n"
                           f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\nConnection: close\r\n", body)
    assert line == b"HTTP/1.1 415 Unsupported Media Type"
    assert [(e["status"], e["body"]) for e in _all(server, method="POST")] == [(401, body.decode()), (415, body.decode())]


def test_the_journal_never_waits_for_a_body_still_on_its_way(server: ServerProcess) -> None:
    line, elapsed = _raw(server, "POST /customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                 "Content-Length: 40\r\nConnection: close\r\n", b'{"first_', then=b'name": "Eve"}')
    assert line == b"HTTP/1.1 401 Unauthorized" and elapsed < 2  # the body deadline is 5 s
    assert [(e["status"], e["body"]) for e in _all(server, method="POST")] == [(401, None)]
