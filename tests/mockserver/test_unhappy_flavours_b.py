"""Issue 14's unhappy paths in the dialects of Ecwid, myBoxx, Shopify and ecartAPI (in process).

Each flavour answers a tenant's connection state, a forced status and a used-up quota with its
platform's own status, body and headers; every body is judged by the flavour's own OpenAPI
document (tests.fixtures.documents), not by the code that wrote it. The real-server side
(gunicorn, two workers, the official Shopify client) is tests/integration/test_unhappy_flavours_b.py.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest
from falcon.testing import Result, TestClient

from mockserver import FLAVOURS, Dataset, Settings, create_app
from mockserver.flavours.ecartapi import account_of
from tests.fixtures.documents import document

ADMIN = {"Authorization": "Bearer admin"}
SHOPIFY_429 = ("Exceeded 2 calls per second for api client. "
               "Reduce request rates to resume uninterrupted service.")
SHOPIFY_401 = "[API] Invalid API key or access token (unrecognized login or wrong password)"
FROZEN = 1_800_000_000.0


def jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS512', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


class Target(NamedTuple):
    """How one flavour reaches one tenant: the list path (under the mount) and the credentials."""

    flavour: str
    tenant: str
    path: str
    headers: dict[str, str]


def targets(tenant: str) -> dict[str, Target]:
    """Requests of each flavour for ``tenant`` (Ecwid's store id must be a number)."""
    return {
        "ecwid": Target("ecwid", tenant, f"/api/v3/{tenant}/customers", {"Authorization": "Bearer secret_b"}),
        "myboxx": Target("myboxx", tenant, "/api/json/v1/ecwid/customers", {"Authorization": f"Bearer {tenant}"}),
        "shopify": Target("shopify", tenant, "/admin/api/2024-10/customers.json",
                          {"X-Shopify-Access-Token": "shpat_b", "Host": f"{tenant}.myshopify.com"}),
        "ecartapi": Target("ecartapi", tenant, "/api/v2/customers", {"Authorization": jwt({"iss": tenant, "iat": 1})}),
    }


TENANT = "2024"
"""One id for every flavour: the same string is the same tenant everywhere."""


@pytest.fixture(scope="module")
def app() -> Any:
    return create_app(Settings(seed=14, count=30))


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    client = TestClient(app)
    yield client
    assert client.simulate_post("/__admin/reset", headers=ADMIN).status_code == 204  # controls as at start


def get(client: TestClient, target: Target, **params: str) -> Result:
    return client.simulate_get(f"/{target.flavour}{target.path}", headers=target.headers, params=params or None)


def admin(client: TestClient, path: str, body: Any) -> None:
    response = client.simulate_put(f"/__admin/{path}", json=body, headers=ADMIN)
    assert response.status_code == 200, response.text


def judged(target: Target, response: Result, method: str = "GET", path: str | None = None) -> Any:
    """The body, after the flavour's document accepted it for this status."""
    assert response.headers["content-type"].startswith("application/json")
    document(target.flavour).check_response(method, path or target.path, response.status_code, response.json)
    return response.json


# ---- connection states ---------------------------------------------------------------------------

EXPECTED_STATES: dict[str, dict[str, tuple[int, Any]]] = {
    "ecwid": {"unauthorized": (403, "INVALID_API_TOKEN"), "disabled": (402, "STORE_IS_SUSPENDED"),
              "not_found": (404, "STORE_NOT_FOUND"), "downstream_error": (500, "INTERNAL_ERROR")},
    "myboxx": {"unauthorized": (403, "INVALID_API_TOKEN"), "disabled": (402, "STORE_IS_SUSPENDED"),
               "not_found": (404, "STORE_NOT_FOUND"), "downstream_error": (500, "INTERNAL_ERROR")},
    "shopify": {"unauthorized": (401, SHOPIFY_401), "disabled": (402, "Unavailable Shop"),
                "not_found": (404, "Not Found"), "downstream_error": (503, "Service Unavailable")},
    "ecartapi": {"unauthorized": (401, "connection-unauthorized"), "disabled": (403, "connection-disabled"),
                 "not_found": (404, "connection-not-found"), "downstream_error": (502, "connection-downstream-error")},
}
TITLES = {402: "Payment Required", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error"}


def what_it_said(flavour: str, body: Any) -> Any:
    """The part of an error body that names the platform's error."""
    if flavour == "ecwid":
        return body["errorCode"]
    if flavour == "myboxx":
        return re.match(r"Ecwid answered \d+ (\w+): ", body["errors"]["detail"]).group(1)  # type: ignore[union-attr]
    if flavour == "shopify":
        return body["errors"]
    assert body["success"] is False
    return body["error"]["type"]


@pytest.mark.parametrize("state", ["unauthorized", "disabled", "not_found", "downstream_error"])
@pytest.mark.parametrize("flavour", ["ecwid", "myboxx", "shopify", "ecartapi"])
def test_each_connection_state_is_answered_in_the_platforms_format(client: TestClient, flavour: str,
                                                                   state: str) -> None:
    mine, other = targets(TENANT)[flavour], targets("4048")[flavour]
    admin(client, f"tenants/{TENANT}", {"state": state})

    response = get(client, mine)
    status, said = EXPECTED_STATES[flavour][state]
    assert response.status_code == status
    body = judged(mine, response)
    assert what_it_said(flavour, body) == said
    if flavour == "myboxx":
        assert body["errors"]["status"] == status and body["errors"]["title"] == TITLES[status]
    if flavour == "ecartapi":
        assert body["error"]["code"] == status
    if flavour == "shopify":
        assert response.headers["x-shopify-shop-api-call-limit"] == "1/40"  # rate limits are off
    assert get(client, other).status_code == 200  # another tenant's connection is fine


def test_the_same_id_is_the_same_tenant_in_every_flavour(client: TestClient) -> None:
    admin(client, f"tenants/{TENANT}", {"state": "disabled"})
    statuses = {name: get(client, target).status_code for name, target in targets(TENANT).items()}
    assert statuses == {"ecwid": 402, "myboxx": 402, "shopify": 402, "ecartapi": 403}


# ---- tenants: Shopify's shop, ecartAPI's account ------------------------------------------------

def test_the_shopify_tenant_is_the_shop_of_the_host_else_of_the_shop_domain_header(client: TestClient) -> None:
    admin(client, "tenants/acme", {"state": "not_found"})
    path = "/shopify/admin/api/2024-10/customers.json"
    token = {"X-Shopify-Access-Token": "shpat_b"}
    for headers, status in (({"Host": "acme.myshopify.com"}, 404), ({"Host": "ACME.myshopify.com:443"}, 404),
                            ({"X-Shopify-Shop-Domain": "acme.myshopify.com"}, 404),
                            ({"Host": "other.myshopify.com", "X-Shopify-Shop-Domain": "acme.myshopify.com"}, 200),
                            ({"Host": "acme.example.com"}, 200), ({"X-Shopify-Shop-Domain": "acme"}, 200),
                            ({"Host": "a_b.myshopify.com"}, 200), ({}, 200)):
        assert client.simulate_get(path, headers={**token, **headers}).status_code == status, headers
    admin(client, "tenants/default", {"state": "not_found"})
    assert client.simulate_get(path, headers={**token, "Host": "a_b.myshopify.com"}).status_code == 404


def test_shopify_links_never_come_from_the_host_that_names_the_shop(client: TestClient) -> None:
    response = client.simulate_get("/shopify/admin/api/2024-10/customers.json", params={"limit": "1"},
                                   headers={"X-Shopify-Access-Token": "shpat_b", "Host": "acme.myshopify.com"})
    assert response.status_code == 200
    link = response.headers["link"]
    assert 'rel="next"' in link and "myshopify" not in link and "acme" not in link


def test_the_ecartapi_tenant_is_the_tokens_account() -> None:
    assert account_of(jwt({"iss": "tcaPzCQpLA4y8kGA4PWAsqDZqA2DINqk", "iat": 1629394958751})) == (
        "tcaPzCQpLA4y8kGA4PWAsqDZqA2DINqk")
    assert account_of(jwt({"sub": "acct-7"})) == "acct-7"
    assert account_of(jwt({"iss": "", "sub": "acct-7"})) == "acct-7"
    for token in ("plain-token", jwt({"iss": 42}), "a.!!!.c", "a.bm90IGpzb24.c", jwt({"iss": "x" * 201}), "é.é.é"):
        assert account_of(token) == token


def test_two_ecartapi_tokens_of_one_account_share_its_connection_state(client: TestClient) -> None:
    admin(client, "tenants/acct-7", {"state": "unauthorized"})
    for token in (jwt({"iss": "acct-7", "iat": 1}), f"Bearer {jwt({'iss': 'acct-7', 'iat': 2})}",
                  jwt({"sub": "acct-7"})):
        assert client.simulate_get("/ecartapi/api/v2/customers", headers={"Authorization": token}).status_code == 401
    assert client.simulate_get("/ecartapi/api/v2/customers", headers={"Authorization": "acct-8"}).status_code == 200


# ---- Prefer: code= for every documented status ---------------------------------------------------

def concrete(flavour: str, template: str, customer: str = "12") -> str:
    values = {"storeId": "1003", "customerId": customer, "customer_id": customer, "id": customer, "version": "2024-10"}
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)


def documented() -> Iterator[tuple[str, str, str, int]]:
    for flavour in ("ecwid", "myboxx", "shopify", "ecartapi"):
        doc = document(flavour)
        for operation in FLAVOURS.get(flavour).operations:
            if not operation.operation_id:
                continue
            declared = doc.operation(operation.method, concrete(flavour, operation.path))["responses"]
            for status in sorted(int(s) for s in declared if int(s) >= 400):
                yield flavour, operation.method, concrete(flavour, operation.path), status


CASES = list(documented())


def test_every_operation_declares_the_statuses_the_mock_can_now_answer() -> None:
    declared: dict[tuple[str, str, str], set[int]] = {}
    for flavour, method, path, status in CASES:
        declared.setdefault((flavour, method, path), set()).add(status)
    needs = {"ecwid": {402, 403, 404, 429, 500}, "myboxx": {402, 403, 404, 429, 500},
             "shopify": {401, 402, 404, 429, 503}, "ecartapi": {401, 403, 404, 429, 502}}
    assert {flavour for flavour, _, _ in declared} == set(needs)
    missing = {key: needs[key[0]] - statuses for key, statuses in declared.items() if needs[key[0]] - statuses}
    assert not missing


@pytest.mark.parametrize(("flavour", "method", "path", "status"), CASES,
                         ids=[f"{f}-{m}-{p}-{s}" for f, m, p, s in CASES])
def test_prefer_code_answers_each_documented_status_in_the_documents_schema(
        client: TestClient, flavour: str, method: str, path: str, status: int) -> None:
    target = targets("1003")[flavour]
    response = client.simulate_request(method, f"/{flavour}{path}",
                                       headers={**target.headers, "Prefer": f"code={status}"})
    assert response.status_code == status, response.text
    judged(target, response, method, path)
    if status == 429:
        assert response.headers["retry-after"]


READS = [(flavour, operation.path) for flavour in ("ecwid", "myboxx", "shopify", "ecartapi")
         for operation in FLAVOURS.get(flavour).operations if operation.operation_id and operation.method == "GET"]


@pytest.mark.parametrize(("flavour", "template"), READS, ids=[f"{f}-{t}" for f, t in READS])
def test_prefer_a_documented_success_answers_the_operation_itself(client: TestClient, flavour: str,
                                                                  template: str) -> None:
    path = concrete(flavour, template, Dataset(14, 30).id_of(0))
    target = targets("1003")[flavour]
    plain = client.simulate_get(f"/{flavour}{path}", headers=target.headers)
    forced = client.simulate_get(f"/{flavour}{path}", headers={**target.headers, "Prefer": "code=200"})
    assert forced.status_code == plain.status_code == 200
    assert forced.content == plain.content
    judged(target, forced, "GET", path)


# ---- rate limits ---------------------------------------------------------------------------------

def test_each_flavour_answers_429_at_exactly_its_configured_quota(client: TestClient) -> None:
    admin(client, "clock", {"frozen_at": FROZEN})  # no window ends and no bucket leaks meanwhile
    admin(client, "rate-limits", {"enabled": True, "flavours": {name: {"limit": 3} for name in targets(TENANT)}})
    for name, target in targets(TENANT).items():
        answers = [get(client, target) for _ in range(4)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429], name
        refused = answers[-1]
        body = judged(target, refused)
        if name == "ecwid":
            assert body["errorCode"] == "RATE_LIMITED" and int(refused.headers["retry-after"]) == 60 - FROZEN % 60
        elif name == "myboxx":
            assert body["errors"]["status"] == 429 and body["errors"]["title"] == "Too Many Requests"
            assert int(refused.headers["retry-after"]) == 60 - FROZEN % 60
        elif name == "shopify":
            assert body == {"errors": SHOPIFY_429}
            assert [r.headers["x-shopify-shop-api-call-limit"] for r in answers] == ["1/3", "2/3", "3/3", "3/3"]
            assert refused.headers["retry-after"] == "0.5"  # one call leaks out in half a second
        else:
            assert body["success"] is False and body["error"]["code"] == 429
            assert body["error"]["type"] == "rate-limited" and int(refused.headers["retry-after"]) == 60 - FROZEN % 60
        if name != "shopify":
            assert not any(h.startswith("x-shopify") for h in refused.headers)


def test_quotas_count_per_token_for_ecwid_and_per_tenant_for_shopify(client: TestClient) -> None:
    admin(client, "clock", {"frozen_at": FROZEN})
    admin(client, "rate-limits", {"enabled": True, "flavours": {"ecwid": {"limit": 1}, "shopify": {"limit": 1}}})
    ecwid = "/ecwid/api/v3/1003/customers"
    assert client.simulate_get(ecwid, headers={"Authorization": "Bearer secret_one"}).status_code == 200
    assert client.simulate_get(ecwid, headers={"Authorization": "Bearer secret_one"}).status_code == 429
    assert client.simulate_get(ecwid, headers={"Authorization": "Bearer secret_two"}).status_code == 200
    assert client.simulate_get("/ecwid/api/v3/77/customers", headers={"Authorization": "Bearer secret_one"}
                               ).status_code == 429  # the token's quota, whatever the store
    shop = "/shopify/admin/api/2024-10/customers.json"
    for token, host, status in (("a", "acme", 200), ("b", "acme", 429), ("a", "other", 200)):
        headers = {"X-Shopify-Access-Token": token, "Host": f"{host}.myshopify.com"}
        assert client.simulate_get(shop, headers=headers).status_code == status


def test_the_shopify_bucket_leaks_two_calls_a_second_with_the_clock(client: TestClient) -> None:
    admin(client, "clock", {"frozen_at": FROZEN})
    admin(client, "rate-limits", {"enabled": True, "flavours": {"shopify": {"limit": 3}}})
    target = targets("acme")["shopify"]
    assert [get(client, target).status_code for _ in range(4)] == [200, 200, 200, 429]
    admin(client, "clock", {"advance_seconds": 1})
    answers = [get(client, target) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert [r.headers["x-shopify-shop-api-call-limit"] for r in answers] == ["2/3", "3/3", "3/3"]
    admin(client, "clock", {"advance_seconds": 1.5})  # three leak out: empty
    assert get(client, target).headers["x-shopify-shop-api-call-limit"] == "1/3"


def test_an_ecwid_window_opens_again_after_a_minute(client: TestClient) -> None:
    admin(client, "clock", {"frozen_at": FROZEN})
    admin(client, "rate-limits", {"enabled": True, "flavours": {"ecwid": {"limit": 2}}})
    target = targets("1003")["ecwid"]
    assert [get(client, target).status_code for _ in range(3)] == [200, 200, 429]
    admin(client, "clock", {"advance_seconds": 60})
    assert [get(client, target).status_code for _ in range(3)] == [200, 200, 429]


def test_shopify_errors_carry_the_bucket_while_limits_are_on_and_1_of_40_while_off(client: TestClient) -> None:
    target = targets("acme")["shopify"]
    missing = client.simulate_get("/shopify/admin/api/2024-10/customers/1.json", headers=target.headers)
    assert missing.status_code == 404 and missing.headers["x-shopify-shop-api-call-limit"] == "1/40"
    admin(client, "clock", {"frozen_at": FROZEN})
    admin(client, "rate-limits", {"enabled": True})
    assert [get(client, target).headers["x-shopify-shop-api-call-limit"] for _ in range(2)] == ["1/40", "2/40"]
    missing = client.simulate_get("/shopify/admin/api/2024-10/customers/1.json", headers=target.headers)
    assert missing.status_code == 404 and missing.headers["x-shopify-shop-api-call-limit"] == "3/40"
