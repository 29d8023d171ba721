"""The myBoxx flavour over HTTP (in-process): Ecwid bodies inside myBoxx's envelope.

The Ecwid flavour is the reference here: every ``attributes`` must equal what ``/ecwid`` answers
for the same request, so the composition (not a copy) is what the tests pin down.
"""

from __future__ import annotations

import uuid
from typing import Any

import falcon.testing
import pytest
import schemathesis

from mockserver import Settings, create_app
from mockserver.dataset import Dataset
from tests.fixtures.fuzzing import FuzzLog, fuzz_schema
from tests.mockserver.flavours.test_ecwid import keyword_and_name

PARTNER = {"Authorization": "Bearer partner-token"}
SECRET = {"Authorization": "Bearer secret_test"}
CANONICAL = {"Authorization": "Bearer any"}
BASE = "/myboxx/api/json/v1/ecwid"
ECWID = "/ecwid/api/v3/42/customers"
COUNT = 200


@pytest.fixture
def myboxx(app: falcon.App) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(app, headers=PARTNER)


def data(response: falcon.testing.Result) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json
    assert list(body) == ["data"] and list(body["data"]) == ["id", "type", "attributes"]
    assert body["data"]["type"] == "ecwid"
    return body["data"]  # type: ignore[no-any-return]


def errors(response: falcon.testing.Result, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json
    assert list(body) == ["errors"] and set(body["errors"]) == {"status", "title", "detail"}
    assert body["errors"]["status"] == status and body["errors"]["title"]
    return body["errors"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("params", [{}, {"limit": 7, "offset": 30, "sortBy": "REGISTERED_DATE_DESC"},
                                    {"keyword": "an", "responseFields": "total,items(id,email)"}])
def test_list_attributes_are_the_ecwid_search_result(myboxx: falcon.testing.TestClient,
                                                     params: dict[str, Any]) -> None:
    listed = data(myboxx.simulate_get(f"{BASE}/customers", params=params))
    assert listed["attributes"] == myboxx.simulate_get(ECWID, params=params, headers=SECRET).json
    assert str(uuid.UUID(listed["id"])) == listed["id"]


def test_list_ids_are_deterministic_uuids_of_the_query(myboxx: falcon.testing.TestClient) -> None:
    first = data(myboxx.simulate_get(f"{BASE}/customers", params={"limit": 5}))["id"]
    assert data(myboxx.simulate_get(f"{BASE}/customers", params={"limit": 5}))["id"] == first
    assert data(myboxx.simulate_get(f"{BASE}/customers", params={"limit": 6}))["id"] != first
    assert uuid.UUID(first).version == 5


def test_a_head_request_first_leaves_the_id_a_get_then_answers(myboxx: falcon.testing.TestClient) -> None:
    # the page cache keeps the enveloped page, which HEAD and GET share
    assert myboxx.simulate_head(f"{BASE}/customers", params={"limit": 3}).status_code == 200
    listed = data(myboxx.simulate_get(f"{BASE}/customers", params={"limit": 3}))
    namespace = uuid.UUID("6bb19930-6728-4901-bfbc-53456e85d0d0")  # the seed's list example
    assert listed["id"] == str(uuid.uuid5(namespace, f"GET {BASE}/customers?limit=3"))


def test_paging_through_myboxx_lists_every_canonical_customer(client: falcon.testing.TestClient,
                                                             myboxx: falcon.testing.TestClient) -> None:
    ids: list[int] = []
    while True:
        page = data(myboxx.simulate_get(f"{BASE}/customers", params={"offset": len(ids), "limit": 45}))["attributes"]
        ids.extend(c["id"] for c in page["items"])
        if not page["items"]:
            break
    canonical = client.simulate_get("/customers", params={"limit": 200}, headers=CANONICAL).json["data"]
    assert len(ids) == COUNT == page["total"] and set(ids) == {int(c["id"]) for c in canonical}


def test_single_customer(myboxx: falcon.testing.TestClient) -> None:
    cid = Dataset(7, COUNT).id_of(9)
    single = data(myboxx.simulate_get(f"{BASE}/customer/{cid}"))
    assert single["id"] == int(cid)
    assert single["attributes"] == myboxx.simulate_get(f"{ECWID}/{cid}", headers=SECRET).json
    part = data(myboxx.simulate_get(f"{BASE}/customer/{cid}", params={"responseFields": "id,billingPerson(name)"}))
    assert part["attributes"] == {"id": int(cid), "billingPerson": {"name": single["attributes"]["name"]}}


def test_writes_use_post_and_are_visible_everywhere(client: falcon.testing.TestClient,
                                                    myboxx: falcon.testing.TestClient) -> None:
    body = {"email": "kurt@example.mx", "billingPerson": {"name": "Kurt Gödel", "countryCode": "MX"}}
    created = data(myboxx.simulate_post(f"{BASE}/add_customer", json=body))
    assert created["attributes"] == {} and isinstance(created["id"], str) and created["id"].isdigit()
    cid = created["id"]
    canonical = client.simulate_get(f"/customers/{cid}", headers=CANONICAL).json["data"]
    assert canonical["name"] == "Kurt Gödel" and canonical["emails"][0]["email"] == "kurt@example.mx"
    assert canonical["addresses"][0]["country"] == "MX"

    updated = data(myboxx.simulate_post(f"{BASE}/update_customer/{cid}", json={"billingPerson": {"city": "Brno"}}))
    assert updated["attributes"] == {"updateCount": 1} and uuid.UUID(updated["id"])
    assert myboxx.simulate_get(f"{ECWID}/{cid}", headers=SECRET).json["billingPerson"]["city"] == "Brno"

    deleted = data(myboxx.simulate_post(f"{BASE}/delete_customer/{cid}"))
    assert deleted["attributes"] == {"deleteCount": 1} and uuid.UUID(deleted["id"])
    assert client.simulate_get(f"/customers/{cid}", headers=CANONICAL).status_code == 404
    errors(myboxx.simulate_get(f"{BASE}/customer/{cid}"), 404)
    errors(myboxx.simulate_post(f"{BASE}/delete_customer/{cid}"), 404)


def test_validation_errors_answer_412_with_field_messages(myboxx: falcon.testing.TestClient) -> None:
    detail = errors(myboxx.simulate_post(f"{BASE}/add_customer", json={"email": "nope", "taxExempt": "x"}), 412)
    assert detail["title"] == "Validation failed"
    assert set(detail["detail"]) == {"email", "taxExempt"}
    assert all(isinstance(message, str) for message in detail["detail"].values())
    cid = Dataset(7, COUNT).id_of(0)
    assert "billingPerson.countryCode" in errors(
        myboxx.simulate_post(f"{BASE}/update_customer/{cid}", json={"billingPerson": {"countryCode": "x"}}),
        412)["detail"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer "}, {"Authorization": "Token abc"}])
def test_missing_partner_token_answers_401(app: falcon.App, headers: dict[str, str]) -> None:
    response = falcon.testing.TestClient(app).simulate_get(f"{BASE}/customers", headers=headers)
    assert errors(response, 401)["title"] == "Unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_configured_token_is_the_only_one_accepted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app(Settings(seed=7, count=10, token="partner-only", state=str(tmp_path / "state.sqlite3")))
    anonymous = falcon.testing.TestClient(app)
    errors(anonymous.simulate_get(f"{BASE}/customers", headers={"Authorization": "Bearer other"}), 401)
    ok = anonymous.simulate_get(f"{BASE}/customers", headers={"Authorization": "Bearer partner-only"})
    assert data(ok)["attributes"]["total"] == 10


def test_other_errors_keep_ecwid_statuses(myboxx: falcon.testing.TestClient) -> None:
    assert isinstance(errors(myboxx.simulate_get(f"{BASE}/customers", params={"limit": 500}), 400)["detail"], str)
    errors(myboxx.simulate_get(f"{BASE}/customers", params={"sortBy": "EMAIL_ASC"}), 400)
    errors(myboxx.simulate_get(f"{BASE}/customer/999999999"), 404)
    errors(myboxx.simulate_get(f"{BASE}/customer/abc"), 404)
    errors(myboxx.simulate_get(f"{BASE}/add_customer"), 405)
    errors(myboxx.simulate_put(f"{BASE}/update_customer/1", json={}), 405)
    errors(myboxx.simulate_post(f"{BASE}/add_customer", body="{", headers={"Content-Type": "application/json"}), 400)
    errors(myboxx.simulate_post(f"{BASE}/add_customer", body="x", headers={"Content-Type": "text/plain"}), 415)
    taken = myboxx.simulate_get(f"{ECWID}/{Dataset(7, COUNT).id_of(4)}", headers=SECRET).json["email"]
    errors(myboxx.simulate_post(f"{BASE}/add_customer", json={"email": taken}), 409)


# ---- Schemathesis ------------------------------------------------------------------------------

# NOTE: a configured token makes the ignored-auth check meaningful; 412 is myBoxx's documented
# status for a body that fails validation, so negative bodies may answer it.
_APP = create_app(Settings(seed=13, count=150, token="partner-schemathesis"))
_schema = fuzz_schema(_APP, "/myboxx/openapi.yaml", bearer="partner-schemathesis", checks={
    "negative_data_rejection": {"expected-statuses": [400, 401, 403, 404, 405, 409, 412, 415, 422]}})
_log = FuzzLog()


@_schema.hook
def filter_query(context: Any, query: dict[str, Any] | None) -> bool:
    return not keyword_and_name(query)


@_schema.parametrize()
def test_myboxx_conforms_to_its_openapi_document(case: schemathesis.Case) -> None:
    _log.call(case)


def test_every_myboxx_operation_was_fuzzed_with_both_kinds_of_data() -> None:
    assert len(list(_schema.get_all_operations())) == 5
    busy = ("GET /api/json/v1/ecwid/customers", "POST /api/json/v1/ecwid/add_customer")
    FuzzLog().sample(_schema, negative=busy).assert_covered(_schema, negative=busy, ok=busy[:1])
