"""What a client cannot grow without end: isolated tenants' write logs, fault sequences, quota states."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from falcon.testing import TestClient

from mockserver import Settings, create_app
from mockserver import shared as shared_module
from mockserver import tenants as tenants_module
from mockserver.controls import Controls, Quota
from mockserver.shared import LocalShared


def test_a_server_full_of_isolated_tenants_refuses_new_ones_in_the_flavours_format(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tenants_module, "MAX_TENANTS", 2)
    client = TestClient(create_app(Settings(count=20, state=str(tmp_path / "state.sqlite3"), tenants="isolated")))

    def get(consumer: str) -> object:
        return client.simulate_get("/apideck/ecommerce/customers", headers={
            "Authorization": "Bearer t", "x-apideck-app-id": "app", "x-apideck-consumer-id": consumer})

    assert get("one").status_code == 200 and get("two").status_code == 200
    refused = get("three")
    assert refused.status_code == 403
    assert refused.json["status_code"] == 403 and "isolated tenants" in refused.json["detail"]  # Apideck's body
    assert get("one").status_code == 200  # known tenants still served
    files = [p for p in (tmp_path / "state.sqlite3-tenants").iterdir() if p.suffix == ".sqlite3"]
    assert len(files) == 2


def _rows(path: str, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table} WHERE key NOT LIKE '#%'").fetchone()[0])


def test_fault_sequences_and_quota_states_start_over_past_the_bound(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared_module, "MAX_ROWS", 3)
    path = str(tmp_path / "shared")
    shared = LocalShared(path, Controls())
    assert [shared.occurrence(k) for k in ("a", "a", "b", "c")] == [1, 2, 1, 1]
    assert shared.occurrence("d") == 1  # the fourth distinct key: the sequences start over
    assert _rows(path, "counters") == 1
    assert shared.occurrence("a") == 1  # forgotten, deterministically
    quota = Quota("window", 5, 60.0)
    for token in ("t1", "t2", "t3", "t4", "t5"):
        shared.take(token, quota, 1000.0)
    assert _rows(path, "quotas") <= 3
