"""The unhappy paths against real gunicorn (2 workers) and real sockets: tenants, seeded faults,
rate limits, connection faults, ``Prefer`` and what the admin API changes in every worker.

Flavour-neutral: tenants are the ids the flavours already read (Ecwid's store id in the path,
Truto's ``integrated_account_id``); a flavour's own error bodies are tested with the flavour.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from mockserver import Settings
from mockserver.server import ServerProcess
from tests.mockserver.unhappy_client import ADMIN, ECWID, admin, call, connect


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(Settings(seed=42, count=30, workers=2, tenants="isolated")) as running:
        yield running


# ---- tenants -------------------------------------------------------------------------------------


def _ecwid_list(server: ServerProcess, store: str) -> dict[str, Any]:
    status, _, data = call(server, "GET", f"/ecwid/api/v3/{store}/customers?limit=100", ECWID)
    assert status == 200, data
    body: dict[str, Any] = json.loads(data)
    return body


def _create_many(server: ServerProcess, store: str, thread: int, n: int, start: threading.Barrier) -> list[int]:
    start.wait()
    ids = []
    for i in range(n):
        status, _, data = call(server, "POST", f"/ecwid/api/v3/{store}/customers", ECWID,
                               {"email": f"w{thread}-{i}@store{store}.example.com",
                                "billingPerson": {"firstName": f"W{i}"}})
        assert status == 200, data
        ids.append(json.loads(data)["id"])
    return ids


def test_isolated_tenants_see_only_their_own_concurrent_writes(server: ServerProcess) -> None:
    seeded = {tenant: _ecwid_list(server, tenant) for tenant in ("101", "202")}
    start = threading.Barrier(4)
    with ThreadPoolExecutor(4) as pool:
        futures = {tenant: [pool.submit(_create_many, server, tenant, t, 10, start) for t in range(2)]
                   for tenant in ("101", "202")}
    created = {tenant: {i for f in fs for i in f.result()} for tenant, fs in futures.items()}
    assert len(created["101"]) == len(created["202"]) == 20

    for tenant, other in (("101", "202"), ("202", "101")):
        listed = _ecwid_list(server, tenant)
        ids = {item["id"] for item in listed["items"]}
        assert listed["total"] == 30 + 20
        assert created[tenant] <= ids and not created[other] & ids
        assert ids - created[tenant] == {item["id"] for item in seeded[tenant]["items"]}
        assert {item["email"] for item in listed["items"] if item["id"] in created[tenant]} == {
            f"w{t}-{i}@store{tenant}.example.com" for t in range(2) for i in range(10)}
        # the same id is the same tenant in every flavour: Truto's account 101 is Ecwid's store 101
        status, _, data = call(server, "GET", f"/truto/unified/ecommerce/customers?integrated_account_id={tenant}"
                                              "&limit=100", ADMIN)
        assert status == 200
        assert {int(c["id"]) for c in json.loads(data)["result"]} == ids

    # resetting one tenant forgets its writes only
    admin(server, "POST", "tenants/101/reset")
    assert {item["id"] for item in _ecwid_list(server, "101")["items"]} == {
        item["id"] for item in seeded["101"]["items"]}
    assert created["202"] <= {item["id"] for item in _ecwid_list(server, "202")["items"]}


def test_isolated_datasets_differ_from_the_shared_one_and_are_the_same_on_every_run(server: ServerProcess) -> None:
    path = "/ecwid/api/v3/{}/customers?limit=100"
    one, two = (call(server, "GET", path.format(t), ECWID)[2] for t in ("303", "404"))
    admin(server, "PUT", "tenants/505", {"mode": "shared"})
    shared = call(server, "GET", path.format("505"), ECWID)[2]
    assert len({one, two, shared}) == 3
    assert json.loads(one)["total"] == json.loads(shared)["total"] == 30
    # a second run with the same seed: the same tenant has the same bytes, the shared one too
    with ServerProcess(Settings(seed=42, count=30, workers=2, tenants="isolated")) as again:
        assert call(again, "GET", path.format("303"), ECWID)[2] == one
        assert call(again, "GET", path.format("404"), ECWID)[2] == two
        admin(again, "PUT", "tenants/505", {"mode": "shared"})
        assert call(again, "GET", path.format("505"), ECWID)[2] == shared


# ---- what the admin API changes, every worker sees at once ----------------------------------------


def _by_worker(server: ServerProcess, path: str, headers: dict[str, str]) -> dict[int, set[tuple[int, bytes]]]:
    """Answers to ``path`` over 20 fresh connections, by the worker (pid) that served the connection."""
    def one(_: int) -> tuple[int, int, bytes]:
        conn = connect(server)
        try:
            pid = json.loads(call(server, "GET", "/__admin/health", ADMIN, conn=conn)[2])["workers"]["this"]
            status, _, data = call(server, "GET", path, headers, conn=conn)
            return pid, status, data
        finally:
            conn.close()

    answers: dict[int, set[tuple[int, bytes]]] = {}
    with ThreadPoolExecutor(10) as pool:
        for pid, status, data in pool.map(one, range(20)):
            answers.setdefault(pid, set()).add((status, data))
    return answers


def test_an_admin_change_is_seen_by_every_worker_at_once(server: ServerProcess) -> None:
    path = "/truto/unified/ecommerce/customers?integrated_account_id=w-1&limit=1"
    admin(server, "PUT", "tenants/w-1", {"state": "disabled"})
    disabled = _by_worker(server, path, ADMIN)
    admin(server, "DELETE", "tenants/w-1")
    enabled = _by_worker(server, path, ADMIN)
    assert len(disabled) == len(enabled) == 2  # both workers answered
    assert len({answer for answers in disabled.values() for answer in answers}) == 1  # one answer, every worker
    (status, _), = next(iter(disabled.values()))
    assert 400 <= status < 600 and status != 429
    assert {status for answers in enabled.values() for status, _ in answers} == {200}


def test_new_isolated_tenants_first_requests_at_once_on_both_workers_are_answered(server: ServerProcess) -> None:
    # Two workers making a new tenant's write log at once: SQLite answered one "database is
    # locked" (a 500) about once in 30 new tenants.
    def first(tenant: int) -> set[int]:
        path = f"/truto/unified/ecommerce/customers?integrated_account_id=new-{tenant}&limit=1"
        with ThreadPoolExecutor(16) as pool:
            return set(pool.map(lambda _: call(server, "GET", path, ADMIN)[0], range(16)))

    assert set().union(*(first(tenant) for tenant in range(80))) == {200}
