"""The Apideck flavour over HTTP (in-process): Apideck Unify's Ecommerce customers dialect.

Expectations are derived from the dataset and Apideck's documented shapes (dialects.md A),
not from the flavour's own mapping code.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import falcon.testing
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from mockserver import FLAVOURS, Settings, create_app
from mockserver.dataset import Dataset
from mockserver.flavours.ecwid import to_ecwid
from mockserver.model import CUSTOMER_PATHS
from tests.fixtures.apps import AUTH
from tests.fixtures.fuzzing import swap_in_issued_cursor
from tests.mockserver.test_fields import reference_projection

BASE = "/apideck/ecommerce/customers"
HEADERS = {**AUTH, "x-apideck-consumer-id": "test-consumer", "x-apideck-app-id": "test-app"}
ERROR_KEYS = {"status_code", "error", "type_name", "message", "detail", "ref"}
PATHS = sorted((CUSTOMER_PATHS - {"notes"}) | {"custom_mappings"})


@pytest.fixture
def api(app: falcon.App) -> falcon.testing.TestClient:
    """A client sending what the apideck-unify SDK sends: bearer key, consumer and app ids."""
    return falcon.testing.TestClient(app, headers=HEADERS)


def iso_ms(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def expected(ds: Dataset, i: int) -> dict[str, Any]:
    """Customer ``i`` as Apideck's EcommerceCustomer: the canonical fields minus ``notes``,
    plus ``custom_mappings``, with millisecond timestamps."""
    record = ds.customer(i)
    out = {k: v for k, v in record.items() if k not in ("notes", "created_at", "updated_at")}
    out["custom_mappings"] = None
    out["created_at"] = iso_ms(ds.created_of(i))
    out["updated_at"] = iso_ms(ds.updated_of(i))
    return out


def error(response: falcon.testing.Result, status: int, type_name: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json
    assert set(body) == ERROR_KEYS
    assert body["status_code"] == status and body["type_name"] == type_name
    assert body["ref"] == f"https://developers.apideck.com/errors#{type_name.lower()}"
    return body


def walk(api: falcon.testing.TestClient, params: dict[str, Any],
         headers: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """Every page, following ``meta.cursors.next`` as the SDK's ``res.next()`` does."""
    params = dict(params)
    for _ in range(1000):
        body = api.simulate_get(BASE, params=params, headers=headers).json
        yield body
        nxt = body["meta"]["cursors"]["next"]
        if nxt is None:
            return
        params["cursor"] = nxt
    raise AssertionError("walk did not end")


def test_walk_serves_every_customer_once_in_creation_order(api: falcon.testing.TestClient) -> None:
    ds = Dataset(7, 200)
    pages = list(walk(api, {"limit": 33, "raw": "false"}))
    data = [c for page in pages for c in page["data"]]
    assert [c["id"] for c in data] == [ds.id_of(i) for i in range(200)]
    assert data == [expected(ds, i) for i in range(200)]
    assert len(pages) == 7 and [p["meta"]["items_on_page"] for p in pages] == [33] * 6 + [2]
    for page in pages:
        assert {k: page[k] for k in ("status_code", "status", "service", "resource", "operation")} == {
            "status_code": 200, "status": "OK", "service": "ecwid", "resource": "customers", "operation": "all"}
        assert page["meta"]["total_count"] == 200 and "_raw" not in page
    assert pages[0]["meta"]["cursors"]["previous"] is None and pages[0]["links"]["previous"] is None
    assert pages[-1]["links"]["next"] is None


def test_cursors_look_like_apideck_and_links_are_absolute(api: falcon.testing.TestClient) -> None:
    first = api.simulate_get(BASE, params={"limit": 5}).json
    assert len(first["data"]) == 5 and first["meta"]["cursors"]["current"] is None
    nxt = first["meta"]["cursors"]["next"]
    service, kind, value = base64.b64decode(nxt, validate=True).decode().split("::", 2)
    assert (service, kind) == ("ecwid", "cursor") and value
    link = urlsplit(first["links"]["next"])
    assert link.scheme in ("http", "https") and link.netloc and link.path == BASE
    assert parse_qs(link.query) == {"limit": ["5"], "cursor": [nxt]}
    assert urlsplit(first["links"]["current"]).path == BASE
    second = api.simulate_get(link.path, query_string=link.query).json
    assert second["meta"]["cursors"]["current"] == nxt
    back = urlsplit(second["links"]["previous"])
    assert api.simulate_get(back.path, query_string=back.query).json["data"] == first["data"]


def test_default_and_bounded_limit(api: falcon.testing.TestClient) -> None:
    assert len(api.simulate_get(BASE).json["data"]) == 20
    assert len(api.simulate_get(BASE, params={"limit": 200}).json["data"]) == 200
    for bad in ("0", "201", "ten", ""):
        body = error(api.simulate_get(BASE, params={"limit": bad}), 400, "RequestValidationError")
        assert "limit" in body["detail"]


def test_authorization_comes_first_then_the_required_headers(app: falcon.App) -> None:
    client = falcon.testing.TestClient(app)
    body = error(client.simulate_get(BASE, headers={k: v for k, v in HEADERS.items() if k != "Authorization"}),
                 401, "UnauthorizedError")
    assert body["error"] == "Unauthorized" and body["message"] == "Unauthorized Request"
    error(client.simulate_get(BASE, headers={**HEADERS, "Authorization": "raw-key-without-scheme"}),
          401, "UnauthorizedError")
    for missing in ("x-apideck-consumer-id", "x-apideck-app-id"):
        for headers in ({k: v for k, v in HEADERS.items() if k != missing}, {**HEADERS, missing: " "}):
            for path in (BASE, f"{BASE}/{Dataset(7, 200).id_of(0)}"):
                body = error(client.simulate_get(path, headers=headers), 400, "RequestHeadersValidationError")
                assert body["detail"] == f"Missing Header: {missing}" and body["message"] == "Invalid Params"


def test_a_configured_token_is_the_only_key_accepted(tmp_path: Any) -> None:
    client = falcon.testing.TestClient(create_app(Settings(seed=7, count=20, token="s3cret",
                                                           state=str(tmp_path / "s.sqlite3"))))
    headers = {**HEADERS, "Authorization": "Bearer s3cret"}
    assert client.simulate_get(BASE, headers=headers).status_code == 200
    error(client.simulate_get(BASE, headers={**headers, "Authorization": "Bearer other"}), 401, "UnauthorizedError")


def test_service_header_names_the_service_and_scopes_cursors(api: falcon.testing.TestClient) -> None:
    shop = {"x-apideck-service-id": "shopify"}
    page = api.simulate_get(BASE, params={"limit": 3}, headers={**HEADERS, **shop}).json
    assert page["service"] == "shopify"
    assert base64.b64decode(page["meta"]["cursors"]["next"]).decode().startswith("shopify::cursor::")
    ecwid_next = api.simulate_get(BASE, params={"limit": 3}).json["meta"]["cursors"]["next"]
    error(api.simulate_get(BASE, params={"limit": 3, "cursor": ecwid_next}, headers={**HEADERS, **shop}),
          400, "InvalidCursorError")
    ids = [c["id"] for p in walk(api, {"limit": 64}, headers={**HEADERS, **shop}) for c in p["data"]]
    assert ids == [Dataset(7, 200).id_of(i) for i in range(200)]


@pytest.mark.parametrize("cursor", ["not-a-cursor!", base64.b64encode(b"ecwid::cursor::forged").decode(),
                                    base64.b64encode(b"zoho-crm::page::2").decode(), "%%%"])
def test_foreign_or_garbled_cursors_are_invalid_cursor_errors(api: falcon.testing.TestClient, cursor: str) -> None:
    error(api.simulate_get(BASE, params={"cursor": cursor}), 400, "InvalidCursorError")


def test_a_cursor_is_bound_to_its_filters(api: falcon.testing.TestClient) -> None:
    nxt = api.simulate_get(BASE, params={"limit": 2}).json["meta"]["cursors"]["next"]
    params = {"limit": 2, "cursor": nxt, "filter[created_since]": "2019-01-02T00:00:00.000Z"}
    error(api.simulate_get(BASE, params=params), 400, "InvalidCursorError")


def test_empty_cursor_is_the_first_page(api: falcon.testing.TestClient) -> None:
    assert api.simulate_get(BASE, params={"cursor": ""}).json["data"] == api.simulate_get(BASE).json["data"]


def test_filters(api: falcon.testing.TestClient) -> None:
    ds = Dataset(7, 200)
    target = ds.customer(42)

    def ids(params: dict[str, Any]) -> list[str]:
        return [c["id"] for p in walk(api, {"limit": 200, **params}) for c in p["data"]]

    assert ids({"filter[email]": target["emails"][0]["email"].upper()}) == [target["id"]]
    phone = target["phone_numbers"][0]
    assert target["id"] in ids({"filter[phone_number]": f"+{phone['country_code']} {phone['area_code']} "
                                                        f"{phone['number']}"})
    wanted = [ds.id_of(i) for i in (150, 3, 77)]
    assert ids({"filter[customer_ids]": ",".join(wanted + ["999999999"])}) == [ds.id_of(i) for i in (3, 77, 150)]
    since = ds.created_of(120)
    assert ids({"filter[created_since]": iso_ms(since)}) == [ds.id_of(i) for i in range(200)
                                                            if ds.created_of(i) >= since]
    # a fraction of a second later excludes the customer created at `since`
    later = datetime.fromtimestamp(since, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.500+00:00")
    assert ids({"filter[created_since]": later}) == [ds.id_of(i) for i in range(200) if ds.created_of(i) > since]
    updated = ds.updated_of(90)
    assert ids({"filter[updated_since]": iso_ms(updated)}) == [ds.id_of(i) for i in range(200)
                                                              if ds.updated_of(i) >= updated]
    assert ids({"filter[email]": "", "pass_through[search]": "leads"}) == [ds.id_of(i) for i in range(200)]
    assert api.simulate_get(BASE, params={"filter[email]": "nobody@example.com"}).json["meta"] == {
        "items_on_page": 0, "total_count": 0, "cursors": {"previous": None, "current": None, "next": None}}


@pytest.mark.parametrize(("params", "type_name"), [
    ({"filter[status]": "active"}, "UnsupportedFiltersError"),
    ({"filter[name]": "x"}, "UnsupportedFiltersError"),
    ({"filter": "x"}, "RequestValidationError"),
    ({"filter[created_since]": "yesterday"}, "RequestValidationError"),
    ({"filter[updated_since]": "2020-13-01T00:00:00Z"}, "RequestValidationError"),
    ({"filter[created_since]": ""}, "RequestValidationError"),
    ({"raw": "yes"}, "RequestValidationError"),
    ({"fields": "id,notes"}, "RequestValidationError"),
    ({"fields": "nope"}, "RequestValidationError"),
    ({"limit": ["1", "2"]}, "RequestValidationError"),
])
def test_bad_list_parameters(api: falcon.testing.TestClient, params: dict[str, Any], type_name: str) -> None:
    body = error(api.simulate_get(BASE, params=params), 400, type_name)
    assert body["error"] == "Bad Request" and body["detail"]


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paths=st.lists(st.sampled_from(PATHS), min_size=1, max_size=6), limit=st.integers(1, 25),
       i=st.integers(0, 199))
def test_fields_response_is_the_projection_of_the_full_response(api: falcon.testing.TestClient, paths: list[str],
                                                              limit: int, i: int) -> None:
    fields = " , ".join(paths)
    full = api.simulate_get(BASE, params={"limit": limit}).json["data"]
    part = api.simulate_get(BASE, params={"limit": limit, "fields": fields}).json["data"]
    assert part == [reference_projection(c, paths) for c in full]
    cid = Dataset(7, 200).id_of(i)
    one = api.simulate_get(f"{BASE}/{cid}", params={"fields": fields}).json["data"]
    assert one == reference_projection(expected(Dataset(7, 200), i), paths)


def test_raw_adds_the_connectors_native_payload(api: falcon.testing.TestClient) -> None:
    ds = Dataset(7, 200)
    page = api.simulate_get(BASE, params={"limit": 4, "raw": "true"}).json
    raw = page["_raw"]
    assert raw["total"] == 200 and raw["count"] == 4 and raw["limit"] == 4
    assert raw["items"] == [to_ecwid(ds.customer(i)) for i in range(4)]
    assert [item["id"] for item in raw["items"]] == [int(ds.id_of(i)) for i in range(4)]  # Ecwid ids are ints
    one = api.simulate_get(f"{BASE}/{ds.id_of(9)}", params={"raw": "true"}).json
    assert one["_raw"] == to_ecwid(ds.customer(9)) and one["_raw"]["email"] == ds.customer(9)["emails"][0]["email"]
    other = {**HEADERS, "x-apideck-service-id": "woocommerce"}
    assert api.simulate_get(f"{BASE}/{ds.id_of(9)}", params={"raw": "true"}, headers=other).json["_raw"] == \
        ds.customer(9)
    assert api.simulate_get(BASE, params={"limit": 2, "raw": "true"}, headers=other).json["_raw"] == {
        "items": [ds.customer(0), ds.customer(1)]}
    assert "_raw" not in api.simulate_get(f"{BASE}/{ds.id_of(9)}", params={"raw": "false"}).json


def test_raw_of_a_service_named_by_a_flavour_is_that_flavours_native_record(api: falcon.testing.TestClient,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    ds = Dataset(7, 200)
    own = {**HEADERS, "x-apideck-service-id": "apideck"}  # a registered flavour whose native record differs
    assert api.simulate_get(f"{BASE}/{ds.id_of(3)}", params={"raw": "true"}, headers=own).json["_raw"] == \
        expected(ds, 3)
    assert api.simulate_get(BASE, params={"limit": 2, "raw": "true"}, headers=own).json["_raw"] == {
        "items": [expected(ds, 0), expected(ds, 1)]}

    class StandIn:  # a platform added later (Shopify...): registered, with no change to Apideck
        name = "standin"

        def native(self, record: dict[str, Any]) -> dict[str, Any]:
            return {"standin_id": record["id"]}

    monkeypatch.setitem(FLAVOURS._loaded(), "standin", StandIn())
    other = {**HEADERS, "x-apideck-service-id": "standin"}
    assert api.simulate_get(f"{BASE}/{ds.id_of(3)}", params={"raw": "true"}, headers=other).json["_raw"] == {
        "standin_id": ds.id_of(3)}
    assert api.simulate_get(BASE, params={"limit": 2, "raw": "true"}, headers=other).json["_raw"] == {
        "items": [{"standin_id": ds.id_of(0)}, {"standin_id": ds.id_of(1)}]}


def test_a_get_answer_reads_back_as_the_canonical_record(api: falcon.testing.TestClient) -> None:
    ds, apideck = Dataset(7, 200), FLAVOURS.get("apideck")
    for i in (0, 57, 199):
        body = api.simulate_get(f"{BASE}/{ds.id_of(i)}").json
        assert apideck.from_native(apideck.unwrap_record(body), ds.customer(i)) == ds.customer(i)


def test_get_one_and_404(api: falcon.testing.TestClient) -> None:
    ds = Dataset(7, 200)
    body = api.simulate_get(f"{BASE}/{ds.id_of(17)}", params={"raw": "false"}).json
    assert body == {"status_code": 200, "status": "OK", "service": "ecwid", "resource": "customers",
                    "operation": "one", "data": expected(ds, 17)}
    missing = error(api.simulate_get(f"{BASE}/123456789"), 404, "EntityNotFoundError")
    assert missing["detail"] == "Could not find customer with id: '123456789'"
    assert missing["error"] == "Not Found"


def test_cross_flavour_consistency_with_canonical(api: falcon.testing.TestClient) -> None:
    """Customer i as Apideck equals the canonical record mapped: names, emails, phones, addresses, times."""
    ds = Dataset(7, 200)
    for i in (0, 1, 57, 199):
        canonical = api.simulate_get(f"/customers/{ds.id_of(i)}").json["data"]
        mine = api.simulate_get(f"{BASE}/{ds.id_of(i)}").json["data"]
        for key in ("id", "name", "first_name", "last_name", "company_name", "status", "currency", "emails",
                    "phone_numbers", "addresses", "orders"):
            assert mine[key] == canonical[key]
        for key in ("created_at", "updated_at"):
            assert mine[key] == canonical[key].replace("Z", ".000Z")
        assert "notes" not in mine and mine["custom_mappings"] is None


def test_writes_through_another_flavour_are_visible(api: falcon.testing.TestClient) -> None:
    created = api.simulate_post("/customers", json={"first_name": "Ada", "last_name": "Lovelace",
                                                    "emails": [{"email": "ada@example.com", "type": "primary"}]})
    assert created.status_code == 201
    cid = created.json["data"]["id"]
    got = api.simulate_get(f"{BASE}/{cid}").json["data"]
    assert got["name"] == "Ada Lovelace" and got["emails"][0]["email"] == "ada@example.com"
    assert got["created_at"].endswith(".000Z")
    found = api.simulate_get(BASE, params={"filter[email]": "ada@example.com"}).json["data"]
    assert [c["id"] for c in found] == [cid]


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE", "PUT"])
def test_writes_are_not_in_the_published_api(api: falcon.testing.TestClient, method: str) -> None:
    for path in (BASE, f"{BASE}/{Dataset(7, 200).id_of(0)}"):
        response = api.simulate_request(method, path, json={"name": "x"})
        body = error(response, 405, "MethodNotAllowedError")
        assert body["error"] == "Method Not Allowed" and "GET" in response.headers["allow"]


def test_unknown_paths_and_unexpected_errors_keep_apideck_json(api: falcon.testing.TestClient,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    error(api.simulate_get("/apideck/ecommerce/nope"), 404, "EntityNotFoundError")
    from mockserver.flavours import apideck

    def boom(*args: Any) -> bytes:
        raise RuntimeError("kaput")

    monkeypatch.setattr(apideck.Apideck, "render_page", boom)
    body = error(api.simulate_get(BASE, params={"limit": 3}), 500, "UnknownError")
    assert "kaput" not in json.dumps(body) and body["error"] == "Internal Server Error"


def test_spec_is_served(api: falcon.testing.TestClient) -> None:
    response = api.simulate_get("/apideck/openapi.yaml")
    assert response.status_code == 200 and b"customersAll" in response.content


# ---- Schemathesis: the spec and the server agree -------------------------------------------

AUTH_TOKEN = "schemathesis-token"


@pytest.fixture(scope="module")
def apideck_schema(tmp_path_factory: pytest.TempPathFactory) -> Any:
    state = str(tmp_path_factory.mktemp("apideck") / "state.sqlite3")
    app = create_app(Settings(seed=7, count=200, token=AUTH_TOKEN, state=state))
    config = SchemathesisConfig.from_dict({"auth": {"openapi": {"bearerAuth": {"bearer": AUTH_TOKEN}}}})
    schema = schemathesis.openapi.from_wsgi("/apideck/openapi.yaml", app, config=config)

    @schema.hook
    def map_case(ctx: Any, case: Any) -> Any:
        return swap_in_issued_cursor(case, "cursor", lambda body: body["meta"]["cursors"]["next"],
                                     {"Authorization": f"Bearer {AUTH_TOKEN}"})

    return schema


schema = schemathesis.pytest.from_fixture("apideck_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_schemathesis_spec_and_server_agree(case: Any) -> None:
    """Positive and negative requests, every default check: no 5xx, documented statuses and bodies."""
    response = case.call_and_validate()
    assert response.status_code < 500
    assert response.headers["content-type"][0].startswith("application/json")
