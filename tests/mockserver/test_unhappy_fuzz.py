"""Hostile input to the unhappy-path controls, in-process: never a 5xx.

Random ``Prefer`` header values (all of Unicode) on a flavour's list, and random JSON bodies for
every admin route that takes one. A bad value is a 4xx that says what is wrong (the admin API's
problem+json, the flavour's own error format for ``Prefer``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from falcon.testing import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from mockserver import Settings, create_app

ADMIN = {"Authorization": "Bearer admin", "Content-Type": "application/json"}
FUZZ = hypothesis_settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    state = tmp_path_factory.mktemp("fuzz") / "state.sqlite3"
    return TestClient(create_app(Settings(seed=5, count=20, state=str(state))))


def _header_safe(text: str) -> bool:
    # WSGI headers are latin-1; what a socket cannot carry the client cannot send
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return "\r" not in text and "\n" not in text


PREFER_WORDS = st.sampled_from(["code", "delay", "fault", "respond-async", "wait", "return", "CODE", " code "])
PREFER_VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["404", "429", "500", "503", "200", "201", "999", "000", "0404", "reset", "empty",
                     "malformed", "truncated", "1e3", "¹²³", "nan", "inf", "-1", "60001", "1_0", "٤٠٤", "\"404\""]),
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
PREFER = st.one_of(
    st.text(max_size=40),
    st.lists(st.tuples(PREFER_WORDS, PREFER_VALUES).map(lambda p: f"{p[0]}={p[1]}"), max_size=4).map(", ".join),
).filter(_header_safe)

LISTS = [
    ("/customers", {}, ""),
    ("/truto/unified/ecommerce/customers", {}, "integrated_account_id=acc-1"),
    ("/ecwid/api/v3/7/customers", {"Authorization": "Bearer secret_x"}, ""),
]


@FUZZ
@given(prefer=PREFER, which=st.integers(0, len(LISTS) - 1))
def test_any_prefer_header_is_honoured_or_refused_never_a_5xx(client: TestClient, prefer: str, which: int) -> None:
    path, headers, query = LISTS[which]
    headers = {"Authorization": "Bearer x", **headers, "Prefer": prefer}
    # delays and connection faults are honoured for real; keep the fuzz fast and the client whole
    if "delay" in prefer.lower() or "fault" in prefer.lower():
        return
    response = client.simulate_get(path, query_string=query, headers=headers)
    assert response.status_code < 500 or response.status_code in _declared_5xx(prefer), (prefer, response.text)


def _declared_5xx(prefer: str) -> set[int]:
    """Statuses the header itself asked for (``code=500`` is answered 500 on purpose)."""
    asked = set()
    for part in prefer.split(","):
        name, _, value = part.strip().partition("=")
        value = value.strip().strip('"')
        if name.strip().lower() == "code" and value.isdigit() and len(value) == 3:
            asked.add(int(value))
    return asked


JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=10))
KEYS = st.one_of(st.sampled_from([
    "seed", "latency", "errors", "connection", "rules", "flavour", "operation", "status", "rate", "retry_after",
    "fault", "distribution", "ms", "min_ms", "max_ms", "median_ms", "sigma", "enabled", "flavours", "model",
    "limit", "seconds", "leak_per_second", "mode", "count", "state", "faults", "offset_seconds", "frozen_at",
    "advance_seconds", "apideck", "shopify", "tenants", "accounts", "rate_limits", "prefer", "clock",
]), st.text(max_size=8))
JSON = st.recursive(JSON_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)), max_leaves=20)

ROUTES = ["/__admin/faults", "/__admin/faults?tenant=t1", "/__admin/rate-limits", "/__admin/tenants/x",
          "/__admin/clock", "/__admin/config"]


@FUZZ
@given(body=JSON, which=st.integers(0, len(ROUTES) - 1))
def test_any_admin_body_is_taken_or_refused_never_a_5xx(client: TestClient, body: Any, which: int) -> None:
    path, _, query = ROUTES[which].partition("?")
    response = client.simulate_put(path, query_string=query, headers=ADMIN, body=json.dumps(body))
    assert response.status_code in (200, 400, 422), (body, response.status_code, response.text)
    if response.status_code != 200:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json["detail"]
    # whatever was taken, a request still gets an answer (not a 5xx) unless a fault profile drew one
    client.simulate_delete("/__admin/faults", headers=ADMIN)
    client.simulate_delete("/__admin/faults", query_string="tenant=t1", headers=ADMIN)
    client.simulate_delete("/__admin/clock", headers=ADMIN)
    client.simulate_delete("/__admin/rate-limits", headers=ADMIN)
    client.simulate_delete("/__admin/tenants/x", headers=ADMIN)
    client.simulate_delete("/__admin/tenants/t1", headers=ADMIN)


FAULTS = st.fixed_dictionaries({}, optional={
    "seed": st.one_of(st.integers(-5, 2**64), JSON_SCALARS),
    "latency": st.one_of(JSON, st.fixed_dictionaries({"distribution": st.sampled_from(["fixed", "uniform", "lognormal"])},
                                                     optional={"ms": JSON_SCALARS, "min_ms": JSON_SCALARS,
                                                               "max_ms": JSON_SCALARS, "median_ms": JSON_SCALARS,
                                                               "sigma": JSON_SCALARS})),
    "errors": st.lists(st.fixed_dictionaries({"status": st.one_of(st.integers(0, 700), JSON_SCALARS)},
                                             optional={"rate": st.one_of(st.floats(0, 1), JSON_SCALARS),
                                                       "retry_after": st.one_of(st.integers(-1, 10**6), JSON_SCALARS)}),
                       max_size=3),
    "rules": st.lists(st.dictionaries(KEYS, JSON, max_size=3), max_size=2),
})


@FUZZ
@given(body=FAULTS)
def test_any_fault_profile_is_taken_or_refused_never_a_5xx(client: TestClient, body: Any) -> None:
    response = client.simulate_put("/__admin/faults", headers=ADMIN, body=json.dumps(body))
    try:
        assert response.status_code in (200, 400, 422), (body, response.status_code, response.text)
    finally:
        client.simulate_delete("/__admin/faults", headers=ADMIN)


CLOCK = st.fixed_dictionaries({}, optional={
    "advance_seconds": st.one_of(st.sampled_from([1e9, -1e9]), st.floats(-2e9, 2e9), JSON_SCALARS),
    "offset_seconds": st.one_of(st.sampled_from([1e10, -1e10]), st.floats(-2e10, 2e10), JSON_SCALARS),
    "frozen_at": st.one_of(st.sampled_from([0, 1e11]), st.floats(-1, 2e11), JSON_SCALARS)})
RATES = st.fixed_dictionaries({}, optional={"enabled": st.booleans(), "flavours": st.dictionaries(
    st.sampled_from(["canonical", "truto", "ecwid", "shopify"]),
    st.fixed_dictionaries({}, optional={"model": st.sampled_from(["window", "bucket", "cone"]),
                                        "limit": st.integers(0, 5), "seconds": JSON_SCALARS,
                                        "leak_per_second": JSON_SCALARS}), max_size=2)})
STEPS = st.lists(st.one_of(st.tuples(st.just("/__admin/clock"), CLOCK),
                           st.tuples(st.just("/__admin/rate-limits"), RATES),
                           st.tuples(st.sampled_from(ROUTES), st.one_of(JSON, FAULTS))), min_size=1, max_size=8)
TRAFFIC = [("/customers", ""), ("/truto/unified/ecommerce/customers", "integrated_account_id=acc-1"),
           ("/ecwid/api/v3/7/customers", "token=secret_x"), ("/shopify/admin/api/2024-10/customers.json", "")]


@FUZZ
@given(steps=STEPS)
def test_any_sequence_of_admin_changes_leaves_the_server_serving(client: TestClient, steps: list[Any]) -> None:
    # What each change leaves behind is what the next one builds on (a clock advanced twice...).
    client.simulate_post("/__admin/reset", headers=ADMIN)
    for route, body in steps:
        path, _, query = route.partition("?")
        response = client.simulate_put(path, query_string=query, headers=ADMIN, body=json.dumps(body))
        assert response.status_code in (200, 400, 422), (route, body, response.status_code, response.text)
    client.simulate_delete("/__admin/faults", headers=ADMIN)  # its errors are 5xx on purpose
    for path in ("health", "config", "faults", "tenants", "tenants/x", "rate-limits", "clock"):
        response = client.simulate_get(f"/__admin/{path}", headers=ADMIN)
        assert response.status_code == 200, (path, response.text)
    for path, query in TRAFFIC:
        response = client.simulate_get(path, query_string=query, headers={
            "Authorization": "Bearer x", "X-Shopify-Access-Token": "x"})
        assert response.status_code < 500, (steps, path, response.text)
