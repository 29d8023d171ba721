"""contracts.strategies and contracts.generated: valid data, the edge cases real data has, shrinking.

Validity is judged by jsonschema_rs (a Schemathesis dependency) against the schemas of the
documents themselves, not by the code that generated the data.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import falcon.testing
import httpx
import jsonschema_rs
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from contracts import strategies as S
from contracts.generated import GeneratedAPI, generated_api, generated_apis
from contracts.openapi import bundled_document, find_operations, flavour_operation_ids, operations
from mockserver import FLAVOURS, Dataset, Settings, create_app

FAST = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
AUTH = {"Authorization": "Bearer test-token"}
NO_DB = settings(database=None)
"""``find`` without the example database: the minimal example comes from generation, not a replay."""


def _document(flavour: str) -> dict[str, Any]:
    return bundled_document(FLAVOURS.get(flavour).spec)


def _validator(doc: dict[str, Any], schema: Any) -> jsonschema_rs.Validator:
    """A 2020-12 validator for ``schema`` whose ``#/components/...`` references resolve in ``doc``."""
    return jsonschema_rs.Draft202012Validator({"allOf": [schema], "components": doc.get("components") or {}},
                                              validate_formats=True)


def _list_response_schema(doc: dict[str, Any], flavour: str) -> Any:
    list_id, get_id = flavour_operation_ids(flavour)
    listing, _ = find_operations(doc, list_id=list_id, get_id=get_id)
    return listing.response_schema(doc, "200")


# ---- validity against every flavour's document -------------------------------------------------

@pytest.mark.parametrize("flavour", FLAVOURS.names())
def test_pages_customers_and_errors_validate_against_the_flavours_document(flavour: str) -> None:
    doc = _document(flavour)
    page = _validator(doc, _list_response_schema(doc, flavour))
    error_statuses = sorted({int(code) for op in operations(doc) for code in op.spec.get("responses", {})
                             if str(code).isdigit() and int(code) >= 400})

    @FAST
    @given(body=S.pages(flavour), customer=S.customers(flavour), error=S.error_bodies(flavour=flavour),
           query=S.list_queries(flavour))
    def check(body: Any, customer: Any, error: Any, query: dict[str, str]) -> None:
        page.validate(body)
        assert json.loads(json.dumps(customer)) == customer  # plain JSON
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in query.items())
        assert any(_matches(doc, error, status) for status in error_statuses)

    check()


def _matches(doc: dict[str, Any], body: Any, status: int) -> bool:
    for op in operations(doc):
        schema = op.response_schema(doc, status)
        if schema is not None and _validator(doc, schema).is_valid(body):
            return True
    return False


@FAST
@given(customer=S.customers(), fields=S.field_selections(), page=S.pages(fields=["id", "emails.email"]))
def test_canonical_customers_and_projections_validate(customer: dict[str, Any], fields: list[str],
                                                      page: dict[str, Any]) -> None:
    doc = _document("canonical")
    schemas = doc["components"]["schemas"]
    _validator(doc, schemas["Customer"]).validate(customer)
    assert list(customer) == list(schemas["Customer"]["properties"]), "every property, in the schema's order"
    assert customer["updated_at"] >= customer["created_at"]
    _validator(doc, schemas["CustomerList"]).validate(page)
    assert all(set(c) <= {"id", "emails"} for c in page["data"])


@FAST
@given(body=S.error_bodies())
def test_canonical_error_types_match_their_status(body: dict[str, Any]) -> None:
    doc = _document("canonical")
    _validator(doc, doc["components"]["schemas"]["Problem"]).validate(body)
    table = {"/problems/invalid-parameter": 400, "/problems/invalid-cursor": 400, "/problems/malformed-body": 400,
             "/problems/unauthorized": 401, "/problems/not-found": 404, "/problems/unsupported-media-type": 415,
             "/problems/invalid-body": 422, "/problems/internal": 500,
             "/problems/connection-unauthorized": 401, "/problems/connection-disabled": 403,
             "/problems/connection-not-found": 404, "/problems/rate-limited": 429,
             "/problems/connection-downstream-error": 502}
    assert table[body["type"]] == body["status"]


@FAST
@given(page=S.pages())
def test_canonical_pages_are_consistent(page: dict[str, Any]) -> None:
    meta, links = page["meta"], page["links"]
    limit = int(parse_qs(urlsplit(links["current"]).query)["limit"][0])
    assert meta["items_on_page"] == len(page["data"]) <= limit
    assert (meta["cursors"]["next"] is None) == (links["next"] is None)
    if meta["cursors"]["next"] is not None:
        assert len(page["data"]) == limit, "a page before the last is full"
        assert parse_qs(urlsplit(links["next"]).query)["cursor"] == [meta["cursors"]["next"]]
    assert meta["total_count"] >= len(page["data"])
    assert len({c["id"] for c in page["data"]}) == len(page["data"])


# ---- the edge cases real data has -------------------------------------------------------------------


def _drawn(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """``count`` examples of ``strategy`` (derandomized: the same examples on every run, no shrinking)."""
    seen: list[Any] = []

    @settings(max_examples=count, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value: Any) -> None:
        seen.append(value)

    collect()
    return seen


EDGE_CASES = {
    "a name longer than 255 characters": lambda c: isinstance(c["name"], str) and len(c["name"]) > 255,
    "a non-ASCII name": lambda c: isinstance(c["name"], str) and not c["name"].isascii(),
    "a null name": lambda c: c["name"] is None,
    "no emails at all": lambda c: c["emails"] == [],
    "an address with a null line2": lambda c: any(a.get("line2") is None for a in c["addresses"]),
    "three orders": lambda c: len(c["orders"]) == 3,
}


def test_customers_include_the_edge_cases_real_data_has() -> None:
    drawn = _drawn(S.customers(), 150)
    missing = [name for name, condition in EDGE_CASES.items() if not any(condition(c) for c in drawn)]
    assert not missing, f"150 customers never had: {missing}"


def test_pages_include_the_last_page_the_empty_page_and_the_maximum_page() -> None:
    drawn = _drawn(S.pages(), 40)
    assert any(p["meta"]["cursors"]["next"] is None and p["data"] for p in drawn)
    assert any(not p["data"] for p in drawn)
    assert any(p["meta"]["items_on_page"] == int(parse_qs(urlsplit(p["links"]["current"]).query)["limit"][0])
               for p in drawn), "full pages"
    assert any(size == 200 for size in _drawn(S.page_sizes(), 40)), "the maximum page size is drawn"
    full = _drawn(S.pages(limit=200, last=False), 3)[-1]
    assert len(full["data"]) == 200 == len({c["id"] for c in full["data"]})


def test_error_bodies_cover_every_documented_status() -> None:
    documented = {400, 401, 403, 404, 415, 422, 429, 500, 502}
    assert {body["status"] for body in _drawn(S.error_bodies(), 80)} == documented
    for status in sorted(documented):
        assert {body["status"] for body in _drawn(S.error_bodies(status), 3)} == {status}


# ---- shrinking and argument checks -----------------------------------------------------------------------


def test_examples_shrink_to_what_the_docstrings_say() -> None:
    assert find(S.page_sizes(), lambda n: True, settings=NO_DB) == 1
    assert find(S.page_sizes("ecwid"), lambda n: n > 50, settings=NO_DB) == 51
    assert find(S.field_selections(), lambda f: True, settings=NO_DB) == ["id"]
    assert find(S.list_queries(), lambda q: True, settings=NO_DB) == {}
    assert find(S.foreign_cursors(), lambda c: True, settings=NO_DB) == "0"


@pytest.mark.parametrize("call", [
    lambda: S.customers("no-such-flavour"),
    lambda: S.customers(fields=["nope"]),
    lambda: S.customers(fields="id,name"),
    lambda: S.pages(limit=0),
    lambda: S.pages(limit=201),
    lambda: S.pages("ecwid", limit=101),
    lambda: S.pages("ecwid", fields=["id"]),
    lambda: S.pages(last="yes"),
    lambda: S.error_bodies(418),
    lambda: S.error_bodies(409),
    lambda: S.field_selections(min_size=-1),
    lambda: S.field_selections(min_size=3, max_size=2),
    lambda: S.list_queries("ecwid", dataset=Dataset(1, 10)),
    lambda: S.foreign_cursors(like=""),
    lambda: generated_apis(min_size=5, max_size=2),
    lambda: generated_api("7"),  # type: ignore[arg-type]
], ids=["flavour", "unknown-field", "fields-string", "limit-0", "limit-201", "ecwid-limit", "ecwid-fields",
        "last", "status-418", "status-not-canonical", "min-size", "sizes", "dataset-flavour", "like", "api-sizes",
        "seed-type"])
def test_bad_arguments_raise_at_once(call: Any) -> None:
    with pytest.raises(InvalidArgument):
        call()


# ---- against the mock -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def canonical() -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(Settings(seed=3, count=120)), headers=AUTH)


@FAST
@given(query=S.list_queries(dataset=Dataset(3, 120)))
def test_every_drawn_list_query_is_accepted_by_the_mock(canonical: falcon.testing.TestClient,
                                                        query: dict[str, str]) -> None:
    response = canonical.simulate_get("/customers", params=query)
    assert response.status_code == 200, (query, response.text)


@FAST
@given(cursor=st.one_of(S.foreign_cursors(), st.just("x").flatmap(lambda _: S.foreign_cursors(like=_real()))))
def test_foreign_cursors_are_rejected_by_the_mock(canonical: falcon.testing.TestClient, cursor: str) -> None:
    response = canonical.simulate_get("/customers", params={"cursor": cursor, "limit": "5"})
    assert response.status_code == 400, (cursor, response.text)
    assert response.json["type"] == "/problems/invalid-cursor"


def _real() -> str:
    client = falcon.testing.TestClient(create_app(Settings(seed=3, count=120)), headers=AUTH)
    return client.simulate_get("/customers", params={"limit": "5"}).json["meta"]["cursors"]["next"]  # type: ignore


# ---- mock mode ----------------------------------------------------------------------------------------


def _walk(client: httpx.Client, params: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    items, pages = [], []
    params = dict(params)
    for _ in range(1000):
        body = client.get("/customers", params=params).json()
        pages.append(body)
        items.extend(body["data"])
        if body["meta"]["cursors"]["next"] is None:
            return items, pages
        params["cursor"] = body["meta"]["cursors"]["next"]
    raise AssertionError("the walk did not end")


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(api=generated_apis(max_size=250), limit=S.page_sizes())
def test_a_client_walking_a_generated_api_reads_every_customer_once(api: GeneratedAPI, limit: int) -> None:
    doc = _document("canonical")
    page_schema = _validator(doc, doc["components"]["schemas"]["CustomerList"])
    with httpx.Client(transport=httpx.WSGITransport(app=api), base_url="http://api", headers=AUTH) as client:
        items, pages = _walk(client, {"limit": limit})
        for body in pages:
            page_schema.validate(body)
            assert body["meta"]["total_count"] == len(api.customers)
        assert [c["id"] for c in items] == [c["id"] for c in api.customers]
        if api.customers:
            one = client.get(f"/customers/{api.customers[-1]['id']}", params={"fields": "id,name"}).json()
            assert one == {"data": {"id": api.customers[-1]["id"], "name": api.customers[-1]["name"]}}


def test_generated_api_filters_sorts_and_rejects_like_the_contract() -> None:
    api = generated_api(11, min_size=30)
    with httpx.Client(transport=httpx.WSGITransport(app=api), base_url="http://api", headers=AUTH) as client:
        by_name, _ = _walk(client, {"limit": 7, "sort[by]": "name", "sort[direction]": "desc"})
        names = [c["name"] or "" for c in by_name]
        assert names == sorted(names, reverse=True) and len(by_name) == len(api.customers)
        wanted = [api.customers[0]["id"], api.customers[-1]["id"]]
        chosen, _ = _walk(client, {"filter[customer_ids]": ", ".join(wanted)})
        assert sorted(c["id"] for c in chosen) == sorted(wanted)
        for params, kind in [({"limit": "0"}, "invalid-parameter"), ({"cursor": "zz"}, "invalid-cursor"),
                             ({"fields": "nope"}, "invalid-parameter"), ({"filter[x]": "1"}, "invalid-parameter")]:
            response = client.get("/customers", params=params)
            assert response.status_code == 400 and response.json()["type"] == f"/problems/{kind}"
            assert response.headers["content-type"] == "application/problem+json"
        assert client.get("/customers/nobody").status_code == 404
        assert httpx.Client(transport=httpx.WSGITransport(app=api), base_url="http://api").get(
            "/customers").status_code == 401


def test_generated_api_is_deterministic_and_injects_faults() -> None:
    assert generated_api(5).customers == generated_api(5).customers
    assert generated_api(5).customers != generated_api(6).customers
    api = GeneratedAPI([{"id": "1", "name": "A"}], faults={1: {"type": "/problems/internal", "title": "Internal "
                       "Server Error", "status": 500, "detail": "boom", "errors": []}})
    with httpx.Client(transport=httpx.WSGITransport(app=api), base_url="http://api", headers=AUTH) as client:
        assert client.get("/customers").status_code == 200
        failed = client.get("/customers")
        assert failed.status_code == 500 and failed.json()["detail"] == "boom"
        assert client.get("/customers").status_code == 200
    assert api.requests == ["GET /customers"] * 3
    with pytest.raises(ValueError, match="unique"):
        GeneratedAPI([{"id": "1"}, {"id": "1"}])


def test_drawn_emails_are_addresses_every_email_validator_accepts() -> None:
    """``.@0.aa`` (a dot-led local part) was drawn and failed ``format: email`` now and then."""
    import re

    from contracts.json_strategies import EMAIL

    email = jsonschema_rs.Draft202012Validator({"type": "string", "format": "email"}, validate_formats=True)
    for refused in (".@0.aa", "a.@b.cc", "a..b@c.dd", "a@-.aa", "a@b-.cc"):
        assert not email.is_valid(refused) and re.fullmatch(EMAIL, refused) is None, refused

    @FAST
    @given(st.from_regex(EMAIL))
    def check(address: str) -> None:
        assert email.is_valid(address), address

    check()
