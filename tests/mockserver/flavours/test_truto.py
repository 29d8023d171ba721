"""The Truto flavour over HTTP (in-process): Truto's unified e-commerce customers dialect.

Expectations are derived from the dataset and Truto's documented shapes (dialects.md B),
not from the flavour's own mapping code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import falcon.testing
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from mockserver import FLAVOURS, Settings, create_app
from mockserver.dataset import Dataset
from mockserver.flavours.ecwid import to_ecwid
from tests.fixtures.fuzzing import swap_in_issued_cursor

BASE = "/truto/unified/ecommerce/customers"
ACCOUNT = {"integrated_account_id": "62f44730-dd91-461e-bd6a-aedd9e0ad79d"}
TOP = ("id", "first_name", "last_name", "name", "company_name", "status", "currency", "emails", "phones",
       "addresses", "orders", "created_at", "updated_at", "remote_data")
NESTED = ("emails.email", "emails.is_primary", "emails.type", "phones.number", "phones.extension", "phones.type",
          "addresses.id", "addresses.street_1", "addresses.street_2", "addresses.city", "addresses.state",
          "addresses.postal_code", "addresses.country", "addresses.type", "orders.id", "orders.status",
          "orders.total")


def iso_ms(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def expected(ds: Dataset, i: int, remote: bool = True) -> dict[str, Any]:
    """Customer ``i`` as Truto's unified customer (dialects.md B3), written out field by field."""
    c = ds.customer(i)
    out: dict[str, Any] = {
        "id": c["id"], "first_name": c["first_name"], "last_name": c["last_name"], "name": c["name"],
        "company_name": c["company_name"], "status": {"active": "active", "archived": "inactive"}[c["status"]],
        "currency": c["currency"],
        "emails": [{"email": e["email"], "is_primary": n == 0, "type": e["type"]} for n, e in enumerate(c["emails"])],
        "phones": [{"number": f"+{p['country_code']} {p['area_code']} {p['number']}", "extension": p["extension"],
                    "type": p["type"]} for p in c["phone_numbers"]],
        "addresses": [{"id": a["id"], "street_1": a["line1"], "street_2": a["line2"], "city": a["city"],
                       "state": a["state"], "postal_code": a["postal_code"], "country": a["country"],
                       "type": a["type"]} for a in c["addresses"]],
        "orders": [{"id": o["id"], "status": o["status"], "total": o["total"]} for o in c["orders"]],
        "created_at": iso_ms(ds.created_of(i)),
        "updated_at": iso_ms(ds.updated_of(i)),
    }
    if remote:
        out["remote_data"] = to_ecwid(c)
    return out


def error(response: falcon.testing.Result, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json
    assert body["statusCode"] == status and body["error"] and body["message"]
    assert set(body) <= {"statusCode", "error", "message", "truto_error_insight"}
    return body


def pages(client: falcon.testing.TestClient, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every page from ``next_cursor=`` (empty, as the TS SDK starts) until ``next_cursor`` is null."""
    params = {**ACCOUNT, "next_cursor": "", **params}
    for _ in range(1000):
        body = client.simulate_get(BASE, params=params).json
        assert body["result_count"] == len(body["result"])
        yield body
        if body["next_cursor"] is None:
            return
        params["next_cursor"] = body["next_cursor"]
    raise AssertionError("walk did not end")


def ids(client: falcon.testing.TestClient, params: dict[str, Any]) -> list[str]:
    return [c["id"] for page in pages(client, {"limit": 1000, **params}) for c in page["result"]]


def test_paging_until_next_cursor_is_null_visits_exactly_the_canonical_set(client: falcon.testing.TestClient) -> None:
    ds = Dataset(7, 200)
    walked = list(pages(client, {"limit": 45}))
    records = [c for page in walked for c in page["result"]]
    assert [c["id"] for c in records] == [ds.id_of(i) for i in range(200)]
    assert records == [expected(ds, i) for i in range(200)]
    assert [p["result_count"] for p in walked] == [45, 45, 45, 45, 20]
    assert walked[0]["prev_cursor"] is None and all(p["prev_cursor"] for p in walked[1:])
    assert set(walked[0]) == {"result", "next_cursor", "prev_cursor", "result_count"}


def test_prev_cursor_walks_back(client: falcon.testing.TestClient) -> None:
    first = client.simulate_get(BASE, params={**ACCOUNT, "limit": 7}).json
    second = client.simulate_get(BASE, params={**ACCOUNT, "limit": 7, "next_cursor": first["next_cursor"]}).json
    back = client.simulate_get(BASE, params={**ACCOUNT, "limit": 7, "next_cursor": second["prev_cursor"]}).json
    assert back["result"] == first["result"]


def test_sdk_style_paging_with_httpx(app: falcon.App) -> None:
    """truto-python-sdk 0.1.x needs Python >= 3.12 (this project runs 3.11), so its PaginationResult
    loop (dialects.md B6, truto_python_sdk/pagination_result.py) is replayed here over httpx: the
    first call without next_cursor, then next_cursor while it is truthy, stopping when a fetch
    yields no items; the query string is built as its dict_to_query_string does."""
    http = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://truto.test/truto",
                        headers={"Authorization": "Bearer sdk-token", "Content-Type": "application/json",
                                 "Accept": "application/json"})
    query: dict[str, Any] = {**ACCOUNT, "limit": 64, "truto_ignore_remote_data": "true"}
    items: list[dict[str, Any]] = []
    next_cursor: str | None = None
    fetched = 0
    buffer: list[dict[str, Any]] = []
    while True:
        if fetched == 0 or (not buffer and next_cursor):
            if next_cursor:
                query["next_cursor"] = next_cursor
            response = http.get(f"unified/ecommerce/customers?{urlencode(query)}")
            response.raise_for_status()
            assert "json" in response.headers["content-type"]
            body = response.json()
            buffer, next_cursor, fetched = list(body.get("result", [])), body.get("next_cursor"), fetched + 1
        if not buffer:
            break
        items.append(buffer.pop(0))
    ds = Dataset(7, 200)
    assert [c["id"] for c in items] == [ds.id_of(i) for i in range(200)]
    assert fetched == 4
    got = http.get(f"unified/ecommerce/customers/{ds.id_of(3)}?{urlencode(ACCOUNT)}").json()
    assert got == expected(ds, 3)
    assert http.get(f"unified/ecommerce/customers/123456789?{urlencode(ACCOUNT)}").status_code == 404


def test_get_is_the_bare_record(client: falcon.testing.TestClient) -> None:
    ds = Dataset(7, 200)
    for i in (0, 5, 199):
        assert client.simulate_get(f"{BASE}/{ds.id_of(i)}", params=ACCOUNT).json == expected(ds, i)


def test_archived_customers_are_inactive(client: falcon.testing.TestClient) -> None:
    ds = Dataset(7, 200)
    archived = [i for i in range(200) if ds.status_of(i) == "archived"]
    assert archived
    body = client.simulate_get(f"{BASE}/{ds.id_of(archived[0])}", params=ACCOUNT).json
    assert body["status"] == "inactive"


def test_cross_flavour_consistency_with_canonical(client: falcon.testing.TestClient) -> None:
    ds = Dataset(7, 200)
    for i in (0, 1, 57, 199):
        canonical = client.simulate_get(f"/customers/{ds.id_of(i)}").json["data"]
        mine = client.simulate_get(f"{BASE}/{ds.id_of(i)}", params=ACCOUNT).json
        assert [mine[k] for k in ("id", "first_name", "last_name", "name", "company_name", "currency")] == \
            [canonical[k] for k in ("id", "first_name", "last_name", "name", "company_name", "currency")]
        assert [e["email"] for e in mine["emails"]] == [e["email"] for e in canonical["emails"]]
        assert [p["number"].rsplit(" ", 1)[-1] for p in mine["phones"]] == [p["number"] for p in
                                                                          canonical["phone_numbers"]]
        assert [(a["street_1"], a["city"], a["postal_code"], a["country"]) for a in mine["addresses"]] == \
            [(a["line1"], a["city"], a["postal_code"], a["country"]) for a in canonical["addresses"]]
        assert mine["created_at"] == canonical["created_at"].replace("Z", ".000Z")
        assert mine["updated_at"] == canonical["updated_at"].replace("Z", ".000Z")


def without(value: Any, paths: list[str]) -> Any:
    """Independent reference: drop top-level keys, and ``parent.child`` keys inside arrays."""
    out = {}
    for key, item in value.items():
        if key in paths:
            continue
        children = {p.split(".", 1)[1] for p in paths if p.startswith(f"{key}.")}
        if children:
            item = [{k: v for k, v in x.items() if k not in children} for x in item]
        out[key] = item
    return out


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paths=st.lists(st.sampled_from(TOP + NESTED), min_size=1, max_size=5), limit=st.integers(1, 20),
       repeated=st.booleans())
def test_excluded_fields_response_is_the_full_response_minus_those_fields(
        client: falcon.testing.TestClient, paths: list[str], limit: int, repeated: bool) -> None:
    full = client.simulate_get(BASE, params={**ACCOUNT, "limit": limit}).json["result"]
    exclude = {"truto_exclude_fields[]": paths} if repeated else {"truto_exclude_fields": ",".join(paths)}
    part = client.simulate_get(BASE, params={**ACCOUNT, "limit": limit, **exclude}).json["result"]
    assert part == [without(c, paths) for c in full]


def test_ignore_remote_data_and_unknown_exclusions(client: falcon.testing.TestClient) -> None:
    ds = Dataset(7, 200)
    body = client.simulate_get(BASE, params={**ACCOUNT, "limit": 3, "truto_ignore_remote_data": "true",
                                             "truto_exclude_fields[]": "no_such_field"}).json
    assert body["result"] == [expected(ds, i, remote=False) for i in range(3)]
    one = client.simulate_get(f"{BASE}/{ds.id_of(4)}", params={**ACCOUNT, "truto_ignore_remote_data": "true"}).json
    assert one == expected(ds, 4, remote=False)


def test_key_by_makes_result_an_object(client: falcon.testing.TestClient) -> None:
    listed = client.simulate_get(BASE, params={**ACCOUNT, "limit": 10}).json
    keyed = client.simulate_get(BASE, params={**ACCOUNT, "limit": 10, "truto_key_by": "id"}).json
    assert keyed["result"] == {c["id"]: c for c in listed["result"]}
    assert list(keyed["result"]) == [c["id"] for c in listed["result"]]
    assert keyed["next_cursor"] == listed["next_cursor"] and keyed["result_count"] == 10
    by_currency = client.simulate_get(BASE, params={**ACCOUNT, "limit": 10, "truto_key_by": "currency"}).json
    assert set(by_currency["result"]) == {c["currency"] for c in listed["result"]}


@pytest.mark.parametrize("account", ["canonical-1", "canonical_42", "canonical:x"])
def test_an_account_named_after_a_flavour_carries_that_flavours_native_record(client: falcon.testing.TestClient,
                                                                             account: str) -> None:
    ds = Dataset(7, 200)
    on_canonical = {"integrated_account_id": account}
    one = client.simulate_get(f"{BASE}/{ds.id_of(6)}", params=on_canonical).json
    assert one["remote_data"] == ds.customer(6)  # the canonical flavour's own customer is the canonical record
    assert {k: v for k, v in one.items() if k != "remote_data"} == expected(ds, 6, remote=False)
    page = client.simulate_get(BASE, params={**on_canonical, "limit": 3}).json
    assert [c["remote_data"] for c in page["result"]] == [ds.customer(i) for i in range(3)]
    raw = client.simulate_get(BASE, params={**on_canonical, "limit": 3, "truto_response_format": "raw"}).json
    assert raw["result"] == [ds.customer(i) for i in range(3)]


@pytest.mark.parametrize("account", ["acc-1", "canonical", "canonicalx-1", "x-canonical-1", "woocommerce-7"])
def test_any_other_account_carries_ecwids_native_record(client: falcon.testing.TestClient, account: str) -> None:
    ds = Dataset(7, 200)
    one = client.simulate_get(f"{BASE}/{ds.id_of(6)}", params={"integrated_account_id": account}).json
    assert one == expected(ds, 6)
    assert one["remote_data"] == to_ecwid(ds.customer(6))


def test_a_get_answer_reads_back_as_the_canonical_record(client: falcon.testing.TestClient) -> None:
    ds, truto = Dataset(7, 200), FLAVOURS.get("truto")
    for i in (0, 57, 199):
        body = client.simulate_get(f"{BASE}/{ds.id_of(i)}", params=ACCOUNT).json
        record = ds.customer(i)  # Truto drops the ids of emails and phones
        assert truto.from_native(truto.unwrap_record(body), record) == {
            **record, "emails": [{"email": e["email"], "type": e["type"]} for e in record["emails"]],
            "phone_numbers": [{k: v for k, v in p.items() if k != "id"} for p in record["phone_numbers"]]}


def test_raw_response_format_serves_remote_records(client: falcon.testing.TestClient) -> None:
    ds = Dataset(7, 200)
    body = client.simulate_get(BASE, params={**ACCOUNT, "limit": 5, "truto_response_format": "raw"}).json
    assert body["result"] == [to_ecwid(ds.customer(i)) for i in range(5)]
    assert [r["id"] for r in body["result"]] == [int(ds.id_of(i)) for i in range(5)]
    one = client.simulate_get(f"{BASE}/{ds.id_of(8)}", params={**ACCOUNT, "truto_response_format": "raw"}).json
    assert one == to_ecwid(ds.customer(8))
    for fmt in ("unified", "normalized", "stream"):
        same = client.simulate_get(BASE, params={**ACCOUNT, "limit": 5, "truto_response_format": fmt}).json
        assert same["result"] == [expected(ds, i) for i in range(5)]


def test_limit_default_and_bounds(client: falcon.testing.TestClient) -> None:
    assert client.simulate_get(BASE, params=ACCOUNT).json["result_count"] == 100
    assert client.simulate_get(BASE, params={**ACCOUNT, "limit": 3, "truto_ignore_limit": "true"}
                               ).json["result_count"] == 100
    for bad in ("0", "1001", "many"):
        assert "limit" in error(client.simulate_get(BASE, params={**ACCOUNT, "limit": bad}), 400)["message"]


def test_filters_and_sort(client: falcon.testing.TestClient) -> None:
    ds = Dataset(7, 200)
    everyone = [ds.id_of(i) for i in range(200)]
    target = ds.customer(61)
    assert ids(client, {"email": target["emails"][0]["email"].upper()}) == [target["id"]]
    needle = target["last_name"][1:4].lower()
    assert ids(client, {"name": needle}) == [ds.id_of(i) for i in range(200) if needle in ds.name_of(i).lower()]
    t = ds.created_of(100)
    t_text = iso_ms(t)
    assert ids(client, {"created_at": t_text}) == [ds.id_of(i) for i in range(200) if ds.created_of(i) == t]
    assert ids(client, {"created_at[gt]": t_text}) == [ds.id_of(i) for i in range(200) if ds.created_of(i) > t]
    assert ids(client, {"created_at[gte]": t_text, "created_at[lt]": iso_ms(ds.created_of(150))}) == \
        [ds.id_of(i) for i in range(200) if t <= ds.created_of(i) < ds.created_of(150)]
    u = ds.updated_of(40)
    assert ids(client, {"updated_at[lte]": iso_ms(u)}) == [ds.id_of(i) for i in range(200) if ds.updated_of(i) <= u]
    assert ids(client, {"sort_by[created_at]": "desc"}) == everyone[::-1]
    by_updated = sorted(range(200), key=lambda i: (ds.updated_of(i), i))
    assert ids(client, {"sort_by[updated_at]": "asc", "limit": 30}) == [ds.id_of(i) for i in by_updated]
    assert ids(client, {"email": "", "name": "", "remote_query[foo]": "bar", "unknown": "x"}) == everyone


@pytest.mark.parametrize("params", [
    {"created_at": "yesterday"}, {"updated_at[gt]": ""}, {"created_at[eq]": "2019-01-01T00:00:00Z"},
    {"sort_by[email]": "asc"}, {"sort_by[name]": "up"}, {"truto_key_by": "emails"}, {"truto_key_by": ""},
    {"truto_response_format": "xml"}, {"truto_ignore_remote_data": "yes"}, {"next_cursor": "garbage"},
])
def test_bad_parameters_are_400(client: falcon.testing.TestClient, params: dict[str, Any]) -> None:
    body = error(client.simulate_get(BASE, params={**ACCOUNT, **params}), 400)
    assert body["error"] == "Bad Request"


def test_a_cursor_is_bound_to_its_filters(client: falcon.testing.TestClient) -> None:
    nxt = client.simulate_get(BASE, params={**ACCOUNT, "limit": 2}).json["next_cursor"]
    error(client.simulate_get(BASE, params={**ACCOUNT, "limit": 2, "next_cursor": nxt, "name": "a"}), 400)


def test_integrated_account_id_is_required(client: falcon.testing.TestClient) -> None:
    ds = Dataset(7, 200)
    for path in (BASE, f"{BASE}/{ds.id_of(0)}"):
        for params in ({}, {"integrated_account_id": ""}):
            body = error(client.simulate_get(path, params=params), 400)
            assert body["message"] == "integrated_account_id is required"
            insight = body["truto_error_insight"]["missing_required_query_parameters"]
            assert insight["value"] == ["integrated_account_id"] and insight["description"]
    other = client.simulate_get(BASE, params={"integrated_account_id": "another-account", "limit": 5}).json
    assert other == client.simulate_get(BASE, params={**ACCOUNT, "limit": 5}).json


def test_auth(app: falcon.App, tmp_path: Any) -> None:
    anonymous = falcon.testing.TestClient(app)
    body = error(anonymous.simulate_get(BASE, params=ACCOUNT), 401)
    assert body["error"] == "Unauthorized"
    locked = falcon.testing.TestClient(create_app(Settings(seed=7, count=20, token="tok",
                                                           state=str(tmp_path / "s.sqlite3"))))
    assert locked.simulate_get(BASE, params=ACCOUNT, headers={"Authorization": "Bearer tok"}).status_code == 200
    error(locked.simulate_get(BASE, params=ACCOUNT, headers={"Authorization": "Bearer nope"}), 401)


def test_404_405_and_500_are_truto_errors(client: falcon.testing.TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    body = error(client.simulate_get(f"{BASE}/123456789", params=ACCOUNT), 404)
    assert body["error"] == "Not Found" and "123456789" in body["message"]
    error(client.simulate_get("/truto/unified/ecommerce/nope", params=ACCOUNT), 404)
    for method in ("POST", "PATCH", "DELETE"):
        response = client.simulate_request(method, f"{BASE}/{Dataset(7, 200).id_of(0)}", params=ACCOUNT, json={})
        assert error(response, 405)["error"] == "Method Not Allowed" and "GET" in response.headers["allow"]
    from mockserver.flavours import truto

    def boom(*args: Any) -> bytes:
        raise RuntimeError("kaput")

    monkeypatch.setattr(truto.Truto, "render_page", boom)
    failed = error(client.simulate_get(BASE, params={**ACCOUNT, "limit": 9}), 500)
    assert "kaput" not in json.dumps(failed) and failed["error"] == "Internal Server Error"


def test_writes_through_another_flavour_are_visible(client: falcon.testing.TestClient) -> None:
    created = client.simulate_post("/customers", json={"name": "Grace Hopper", "status": "archived",
                                                       "emails": [{"email": "grace@example.com"}]})
    cid = created.json["data"]["id"]
    got = client.simulate_get(f"{BASE}/{cid}", params=ACCOUNT).json
    assert got["status"] == "inactive" and got["emails"][0]["email"] == "grace@example.com"
    assert ids(client, {"email": "grace@example.com"}) == [cid]


# ---- Schemathesis: the spec and the server agree -------------------------------------------

AUTH_TOKEN = "schemathesis-token"


@pytest.fixture(scope="module")
def truto_schema(tmp_path_factory: pytest.TempPathFactory) -> Any:
    state = str(tmp_path_factory.mktemp("truto") / "state.sqlite3")
    app = create_app(Settings(seed=7, count=200, token=AUTH_TOKEN, state=state))
    config = SchemathesisConfig.from_dict({"auth": {"openapi": {"bearerAuth": {"bearer": AUTH_TOKEN}}}})
    schema = schemathesis.openapi.from_wsgi("/truto/openapi.yaml", app, config=config)

    @schema.hook
    def map_case(ctx: Any, case: Any) -> Any:
        return swap_in_issued_cursor(case, "next_cursor", lambda body: body["next_cursor"],
                                     {"Authorization": f"Bearer {AUTH_TOKEN}"})

    return schema


schema = schemathesis.pytest.from_fixture("truto_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_schemathesis_spec_and_server_agree(case: Any) -> None:
    """Positive and negative requests, every default check: no 5xx, documented statuses and bodies."""
    response = case.call_and_validate()
    assert response.status_code < 500
    assert response.headers["content-type"][0].startswith("application/json")
