"""The canonical flavour over HTTP (in-process): the behaviour openapi.yaml documents."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import falcon.testing
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver import Settings, create_app
from mockserver.app import context_of
from mockserver.dataset import Dataset
from mockserver.model import CUSTOMER_PATHS
from tests.fixtures.apps import AUTH
from tests.mockserver.test_fields import reference_projection

PATHS = sorted(CUSTOMER_PATHS)


def walk(client: falcon.testing.TestClient, params: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params = dict(params)
    for _ in range(1000):
        body = client.simulate_get("/customers", params=params).json
        assert body["meta"]["items_on_page"] == len(body["data"])
        items.extend(body["data"])
        nxt = body["meta"]["cursors"]["next"]
        assert (nxt is None) == (body["links"]["next"] is None)
        if nxt is None:
            return items
        params["cursor"] = nxt
    raise AssertionError("walk did not end")


def follow(client: falcon.testing.TestClient, link: str) -> dict[str, Any]:
    """GET an absolute link the server returned."""
    parts = urlsplit(link)
    return client.simulate_get(parts.path, query_string=parts.query).json


def problem(response: falcon.testing.Result, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json
    assert body["status"] == status and body["title"] and body["detail"] and isinstance(body["errors"], list)
    return body


def test_walk_lists_every_customer_once_in_creation_order(client: falcon.testing.TestClient) -> None:
    items = walk(client, {"limit": 33})
    ds = Dataset(7, 200)
    assert [c["id"] for c in items] == [ds.id_of(i) for i in range(200)]
    assert items[5] == ds.customer(5)


def test_first_page_shape(client: falcon.testing.TestClient) -> None:
    body = client.simulate_get("/customers").json
    assert len(body["data"]) == 20 and body["meta"]["total_count"] == 200
    assert body["meta"]["cursors"]["previous"] is None and body["links"]["previous"] is None
    nxt = urlsplit(body["links"]["next"])
    assert nxt.path == "/customers" and parse_qs(nxt.query)["cursor"] == [body["meta"]["cursors"]["next"]]


def test_links_keep_the_query_and_previous_goes_back(client: falcon.testing.TestClient) -> None:
    first = client.simulate_get("/customers", params={"limit": 5, "filter[status]": "active"}).json
    second = follow(client, first["links"]["next"])
    assert all(c["status"] == "active" for c in second["data"])
    back = follow(client, second["links"]["previous"])
    assert back["data"] == first["data"]


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paths=st.lists(st.sampled_from(PATHS), min_size=1, max_size=6), limit=st.integers(1, 30))
def test_fields_response_is_the_projection_of_the_full_response(client: falcon.testing.TestClient,
                                                              paths: list[str], limit: int) -> None:
    full = client.simulate_get("/customers", params={"limit": limit}).json["data"]
    part = client.simulate_get("/customers", params={"limit": limit, "fields": ",".join(paths)}).json["data"]
    assert part == [reference_projection(c, paths) for c in full]
    one = client.simulate_get(f"/customers/{full[0]['id']}", params={"fields": ",".join(paths)}).json["data"]
    assert one == reference_projection(full[0], paths)


def test_filters_and_sorts(client: falcon.testing.TestClient) -> None:
    everyone = walk(client, {"limit": 200})
    target = everyone[42]
    by_email = walk(client, {"filter[email]": target["emails"][0]["email"].upper()})
    assert [c["id"] for c in by_email] == [target["id"]]
    phone = target["phone_numbers"][0]
    by_phone = walk(client, {"filter[phone_number]": f"({phone['area_code']}) {phone['number']}"})
    assert target["id"] in [c["id"] for c in by_phone]
    ids = [everyone[3]["id"], everyone[150]["id"], "999999999"]
    assert [c["id"] for c in walk(client, {"filter[customer_ids]": ",".join(ids)})] == ids[:2]
    archived = walk(client, {"filter[status]": "archived", "limit": 7})
    assert [c["id"] for c in archived] == [c["id"] for c in everyone if c["status"] == "archived"]
    since = everyone[120]["created_at"]
    assert walk(client, {"filter[created_since]": since}) == everyone[120:]
    by_name = walk(client, {"sort[by]": "name", "sort[direction]": "desc", "limit": 17})
    assert [c["name"] for c in by_name] == sorted((c["name"] for c in everyone), reverse=True)
    by_updated = walk(client, {"sort[by]": "updated_at", "limit": 9})
    assert [c["updated_at"] for c in by_updated] == sorted(c["updated_at"] for c in everyone)


@pytest.mark.parametrize(("params", "name"), [
    ({"limit": "0"}, "limit"), ({"limit": "201"}, "limit"), ({"limit": "ten"}, "limit"),
    ({"limit": ["1", "2"]}, "limit"), ({"cursor": "garbage"}, "cursor"), ({"fields": "id,password"}, "fields"),
    ({"filter[colour]": "red"}, "filter[colour]"), ({"filter[status]": "gone"}, "filter[status]"),
    ({"filter[created_since]": "yesterday"}, "filter[created_since]"), ({"sort[by]": "email"}, "sort[by]"),
    ({"sort[direction]": "up"}, "sort[direction]"), ({"sort[order]": "asc"}, "sort[order]"),
])
def test_bad_list_parameters_are_400_problems_naming_the_parameter(client: falcon.testing.TestClient,
                                                                   params: dict[str, Any], name: str) -> None:
    body = problem(client.simulate_get("/customers", params=params), 400)
    assert body["errors"][0]["name"] == name and body["errors"][0]["in"] == "query"


def test_cursor_from_another_dataset_or_query_is_rejected(client: falcon.testing.TestClient, tmp_path: Any) -> None:
    other = falcon.testing.TestClient(create_app(Settings(seed=8, count=200, state=str(tmp_path / "o.db"))),
                                      headers=AUTH)
    foreign = other.simulate_get("/customers", params={"limit": 2}).json["meta"]["cursors"]["next"]
    assert problem(client.simulate_get("/customers", params={"cursor": foreign}), 400)["type"] == \
        "/problems/invalid-cursor"
    mine = client.simulate_get("/customers", params={"limit": 2}).json["meta"]["cursors"]["next"]
    problem(client.simulate_get("/customers", params={"cursor": mine, "filter[status]": "active"}), 400)


def test_auth(app: falcon.App, tmp_path: Any) -> None:
    anonymous = falcon.testing.TestClient(app)
    body = problem(anonymous.simulate_get("/customers"), 401)
    assert body["type"] == "/problems/unauthorized"
    assert anonymous.simulate_get("/customers").headers["www-authenticate"].startswith("Bearer")
    problem(anonymous.simulate_get("/customers", headers={"Authorization": "Basic abc"}), 401)
    assert anonymous.simulate_get("/health").status_code == 200
    locked = falcon.testing.TestClient(create_app(Settings(count=10, token="s3cret", state=str(tmp_path / "t.db"))))
    problem(locked.simulate_get("/customers", headers=AUTH), 401)
    assert locked.simulate_get("/customers", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_get_and_404(client: falcon.testing.TestClient) -> None:
    ds = Dataset(7, 200)
    assert client.simulate_get(f"/customers/{ds.id_of(9)}").json == {"data": ds.customer(9)}
    for unknown in ("123", ds.id_of(200), "not-an-id", "%00"):
        assert problem(client.simulate_get(f"/customers/{unknown}"), 404)["type"] == "/problems/not-found"


def test_create_update_delete(client: falcon.testing.TestClient, context: Any) -> None:
    created = client.simulate_post("/customers", json={
        "first_name": "Grace", "last_name": "Hopper", "company_name": "Navy",
        "emails": [{"email": "grace@example.com", "type": "work"}],
        "addresses": [{"type": "billing", "city": "Arlington", "country": "US"}]})
    assert created.status_code == 201
    customer = created.json["data"]
    assert created.headers["location"] == f"/customers/{customer['id']}"
    assert customer["name"] == "Grace Hopper" and customer["status"] == "active"
    assert client.simulate_get(created.headers["location"]).json["data"] == customer
    assert customer["id"] in [c["id"] for c in walk(client, {"limit": 200})]
    patched = client.simulate_patch(f"/customers/{customer['id']}", json={"status": "archived"})
    assert patched.status_code == 200 and patched.json["data"]["status"] == "archived"
    assert client.simulate_get(f"/customers/{customer['id']}").json["data"]["status"] == "archived"
    assert client.simulate_delete(f"/customers/{customer['id']}").status_code == 204
    problem(client.simulate_get(f"/customers/{customer['id']}"), 404)
    problem(client.simulate_delete(f"/customers/{customer['id']}"), 404)
    assert len(walk(client, {"limit": 200})) == 200


@pytest.mark.parametrize(("body", "field"), [
    ({"emails": [{"email": "x@y.z"}]}, "name"),
    ({"first_name": "A", "emails": [{"email": "not-an-email"}]}, "emails[0].email"),
    ({"first_name": "A", "id": "1"}, "id"),
    ({"first_name": "A", "favourite": 1}, "favourite"),
    ({"first_name": "A", "status": "gone"}, "status"),
    ({"first_name": 5}, "first_name"),
    ({"first_name": "A", "currency": "euro"}, "currency"),
    ({"first_name": "A", "phone_numbers": [{"type": "mobile"}]}, "phone_numbers[0].number"),
    ([1, 2], ""),
])
def test_invalid_bodies_are_422_naming_the_field(client: falcon.testing.TestClient, body: Any, field: str) -> None:
    found = problem(client.simulate_post("/customers", json=body), 422)
    assert field in [e["name"] for e in found["errors"]] and all(e["in"] == "body" for e in found["errors"])


def test_wrong_content_type_and_malformed_json(client: falcon.testing.TestClient) -> None:
    assert problem(client.simulate_post("/customers", body="name=x", content_type="application/x-www-form-urlencoded"),
                   415)["type"] == "/problems/unsupported-media-type"
    assert problem(client.simulate_post("/customers", body="{oops", content_type="application/json"),
                   400)["type"] == "/problems/malformed-body"
    assert problem(client.simulate_post("/customers", body=b"\xff\xfe", content_type="application/json"),
                   400)["type"] == "/problems/malformed-body"
    cid = Dataset(7, 200).id_of(1)
    problem(client.simulate_patch(f"/customers/{cid}", body="x", content_type="text/plain"), 415)


def test_unknown_paths_and_methods_are_problems(client: falcon.testing.TestClient) -> None:
    problem(client.simulate_get("/nothing-here"), 404)
    body = problem(client.simulate_put("/customers"), 405)
    assert "GET" in client.simulate_put("/customers").headers["allow"] and body["type"] == "/problems/method-not-allowed"


def test_cors_preflight_and_exposed_headers(client: falcon.testing.TestClient, tmp_path: Any) -> None:
    preflight = client.simulate_options("/customers/123", headers={
        "Origin": "http://localhost:5173", "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert preflight.status_code == 200
    assert "PATCH" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    simple = client.simulate_get("/customers", headers={"Origin": "http://localhost:5173"})
    assert simple.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "Location" in simple.headers["access-control-expose-headers"]
    closed = falcon.testing.TestClient(create_app(Settings(count=5, cors=False, state=str(tmp_path / "c.db"))),
                                       headers=AUTH)
    assert "access-control-allow-origin" not in closed.simulate_get(
        "/customers", headers={"Origin": "http://localhost:5173"}).headers


def test_an_unexpected_exception_is_a_500_problem_without_traceback(app: falcon.App, caplog: Any) -> None:
    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom in the engine")

    context_of(app).catalog.list = explode  # type: ignore[method-assign]
    response = falcon.testing.TestClient(app, headers=AUTH).simulate_get("/customers")
    body = problem(response, 500)
    assert "boom" not in response.text and "Traceback" not in response.text
    assert body["type"] == "/problems/internal"
    assert "boom in the engine" in caplog.text


def test_openapi_and_health_are_served(client: falcon.testing.TestClient) -> None:
    spec = client.simulate_get("/openapi.yaml")
    assert spec.status_code == 200 and spec.headers["content-type"] == "application/yaml"
    assert b"openapi: 3.1" in spec.content
    assert client.simulate_get("/health").json["count"] == 200
