"""Apideck, Truto and canonical on the unhappy paths: connection states, forced statuses, rate limits.

Expectations come from the platforms' documents (``../shared/reference/dialects.md``: Apideck's
``type_name``s, Truto's 401/503/404/502 and 50 requests per 10 s, RFC 9457 problems for canonical)
and every body is judged by the flavour's own OpenAPI document, not by the code that wrote it.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from falcon.testing import Result, TestClient

from mockserver import FLAVOURS, Dataset, ServerProcess, Settings, create_app
from tests.fixtures.documents import document

FLAVOURS_A = ("apideck", "truto", "canonical")
ADMIN = {"Authorization": "Bearer admin"}
SEED, COUNT = 4, 40
FROZEN = 1_800_000_000  # a multiple of 60 and of 10: the start of a window in every model here


def credentials(flavour: str, tenant: str) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and query parameters that name ``tenant`` in the flavour's own way."""
    if flavour == "apideck":
        return {**ADMIN, "x-apideck-consumer-id": tenant, "x-apideck-app-id": "app"}, {}
    if flavour == "truto":
        return dict(ADMIN), {"integrated_account_id": tenant}
    return {**ADMIN, "X-Tenant-Id": tenant}, {}


def paths(flavour: str) -> dict[str, tuple[str, str]]:
    """Each operation of the flavour: (method, path relative to the server)."""
    dialect = FLAVOURS.get(flavour)
    item = dialect.example.item_path.replace("{id}", Dataset(SEED, COUNT).id_of(3))
    found = {}
    for operation in dialect.operations:
        path = dialect.example.path if "{id}" not in operation.path else item
        found[operation.name] = (operation.method, f"/{flavour}{path}")
    return found


def call(client: TestClient, flavour: str, tenant: str, operation: str = "list",
         extra: dict[str, str] | None = None) -> Result:
    method, path = paths(flavour)[operation]
    headers, params = credentials(flavour, tenant)
    body = {"first_name": "Ada"} if method in ("POST", "PATCH") else None
    return client.simulate_request(method, path, headers={**headers, **(extra or {})}, params=params, json=body)


def check(flavour: str, method: str, path: str, response: Result) -> Any:
    """The body, once the flavour's document has declared its status and accepted it."""
    body = response.json if response.content else None
    if body is not None:
        document(flavour).check_response(method, path.removeprefix(f"/{flavour}"), response.status_code, body)
    return body


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(Settings(seed=SEED, count=COUNT)))


# ---- connection states ----------------------------------------------------------------------

EXPECTED = {  # flavour -> state -> (status, what the platform's body says)
    "apideck": {"unauthorized": (401, "ConnectorCredentialsError"), "disabled": (403, "ConnectorDisabledError"),
                "not_found": (404, "ConnectionNotFoundError"), "downstream_error": (502, "ConnectorExecutionError")},
    "truto": {"unauthorized": (401, "Unauthorized"), "disabled": (503, "Service Unavailable"),
              "not_found": (404, "Not Found"), "downstream_error": (502, "Bad Gateway")},
    "canonical": {"unauthorized": (401, "/problems/connection-unauthorized"),
                  "disabled": (403, "/problems/connection-disabled"),
                  "not_found": (404, "/problems/connection-not-found"),
                  "downstream_error": (502, "/problems/connection-downstream-error")},
}


def said(flavour: str, body: dict[str, Any]) -> Any:
    """What names the error in the platform's body: Apideck's type_name, Truto's reason, the problem type."""
    return body[{"apideck": "type_name", "truto": "error", "canonical": "type"}[flavour]]


@pytest.mark.parametrize("state", ["unauthorized", "disabled", "not_found", "downstream_error"])
@pytest.mark.parametrize("flavour", FLAVOURS_A)
def test_each_connection_state_is_answered_in_the_platforms_format(client: TestClient, flavour: str,
                                                                  state: str) -> None:
    tenant = f"state-{flavour}-{state}"
    assert client.simulate_put(f"/__admin/tenants/{tenant}", json={"state": state}, headers=ADMIN).status_code == 200
    status, marker = EXPECTED[flavour][state]
    for operation, (method, path) in paths(flavour).items():
        response = call(client, flavour, tenant, operation)
        assert response.status_code == status, (operation, response.text)
        assert response.headers["content-type"].startswith(
            "application/problem+json" if flavour == "canonical" else "application/json")
        body = check(flavour, method, path, response)
        assert said(flavour, body) == marker
        if flavour == "apideck":
            assert body["status_code"] == status
        elif flavour == "truto":
            assert body["statusCode"] == status
            assert body.get("truto_is_remote_error", False) is (state == "downstream_error")
        else:
            assert body["status"] == status
    # another tenant is not affected, and the state can be cleared again
    assert call(client, flavour, f"other-{tenant}").status_code == 200
    assert client.simulate_put(f"/__admin/tenants/{tenant}", json={"state": "ok"}, headers=ADMIN).status_code == 200
    assert call(client, flavour, tenant).status_code == 200


def test_a_bad_apideck_key_stays_an_unauthorized_error_while_a_connection_is_a_credentials_error() -> None:
    client = TestClient(create_app(Settings(seed=SEED, count=COUNT, token="k")))
    response = client.simulate_get("/apideck/ecommerce/customers", headers={
        "Authorization": "Bearer wrong", "x-apideck-consumer-id": "c", "x-apideck-app-id": "a"})
    assert response.status_code == 401 and response.json["type_name"] == "UnauthorizedError"


# ---- Prefer: code=<every documented status> ------------------------------------------------------


def documented(flavour: str) -> Iterator[tuple[str, str, str, int]]:
    """Every error status each operation of the flavour's document declares."""
    for name, (method, path) in paths(flavour).items():
        operation = document(flavour).operation(method, path.removeprefix(f"/{flavour}"))
        for status in operation["responses"]:
            if str(status).isdigit() and int(status) >= 400:
                yield flavour, name, method, int(status)


CASES = [case for flavour in FLAVOURS_A for case in documented(flavour)]


def required_headers(flavour: str, method: str, path: str, status: int) -> dict[str, Any]:
    spec = document(flavour).spec
    response = document(flavour).operation(method, path.removeprefix(f"/{flavour}"))["responses"][str(status)]
    while "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].split("/")[-1]]
    found = {}
    for name, header in (response.get("headers") or {}).items():
        while "$ref" in header:
            header = spec["components"]["headers"][header["$ref"].split("/")[-1]]
        if header.get("required"):
            found[name] = header["schema"]
    return found


@pytest.mark.parametrize(("flavour", "operation", "method", "status"), CASES,
                         ids=[f"{f}-{o}-{s}" for f, o, _, s in CASES])
def test_prefer_code_answers_every_documented_status_in_a_body_the_document_accepts(
        client: TestClient, flavour: str, operation: str, method: str, status: int) -> None:
    response = call(client, flavour, "prefer", operation, {"Prefer": f"code={status}"})
    assert response.status_code == status, response.text
    _, path = paths(flavour)[operation]
    body = check(flavour, method, path, response)
    assert body is not None
    for name, schema in required_headers(flavour, method, path, status).items():
        assert name in response.headers, f"{flavour} {status} lacks its documented {name} header"
        assert jsonschema_rs.validator_for(schema).is_valid(response.headers[name]), (name, response.headers[name])


def test_the_cases_cover_the_connection_statuses_and_429() -> None:
    statuses = {(f, s) for f, _, _, s in CASES}
    for flavour, states in EXPECTED.items():
        assert {(flavour, status) for status, _ in states.values()} | {(flavour, 429)} <= statuses


# ---- rate limits --------------------------------------------------------------------------------

WINDOWS = {"apideck": 60, "truto": 10, "canonical": 60}
QUOTA_HEADERS = {
    "apideck": ("x-downstream-ratelimit-limit", "x-downstream-ratelimit-remaining", "x-downstream-ratelimit-reset"),
    "truto": ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"),
    "canonical": ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"),
}


@pytest.mark.parametrize("flavour", FLAVOURS_A)
def test_the_quota_allows_exactly_its_limit_then_429_until_the_clock_moves_on(flavour: str) -> None:
    client = TestClient(create_app(Settings(seed=SEED, count=COUNT)))
    assert client.simulate_put("/__admin/clock", json={"frozen_at": FROZEN}, headers=ADMIN).status_code == 200
    assert client.simulate_put("/__admin/rate-limits", json={"enabled": True, "flavours": {flavour: {"limit": 3}}},
                               headers=ADMIN).status_code == 200
    limit_h, remaining_h, reset_h = QUOTA_HEADERS[flavour]
    for n in range(3):
        response = call(client, flavour, "quota")
        assert response.status_code == 200
        assert response.headers[limit_h] == "3" and response.headers[remaining_h] == str(2 - n)
    refused = call(client, flavour, "quota")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(WINDOWS[flavour])  # the frozen clock is at the window's start
    assert refused.headers[remaining_h] == "0"
    if flavour == "apideck":  # UNCONFIRMED unit: Unix time of the window's restart
        assert abs(int(refused.headers[reset_h]) - (time.time() + WINDOWS[flavour])) < 5
    else:
        assert refused.headers[reset_h] == str(WINDOWS[flavour])
    method, path = paths(flavour)["list"]
    body = check(flavour, method, path, refused)
    if flavour == "apideck":
        assert body["type_name"] == "ConnectorRateLimitError" and body["status_code"] == 429
        assert set(body["detail"]) == {"context", "error"}
    elif flavour == "truto":
        assert body["statusCode"] == 429 and "rate_limit_error" in body["truto_error_insight"]
    else:
        assert body["type"] == "/problems/rate-limited" and body["status"] == 429
    assert call(client, flavour, "another-quota").status_code == 200  # a quota is per tenant
    assert client.simulate_put("/__admin/clock", json={"advance_seconds": WINDOWS[flavour] - 1},
                               headers=ADMIN).status_code == 200
    assert call(client, flavour, "quota").status_code == 429
    assert client.simulate_put("/__admin/clock", json={"advance_seconds": 1}, headers=ADMIN).status_code == 200
    again = call(client, flavour, "quota")
    assert again.status_code == 200 and again.headers[remaining_h] == "2"


def test_truto_counts_fifty_requests_per_ten_seconds_by_default() -> None:
    client = TestClient(create_app(Settings(seed=SEED, count=COUNT)))
    client.simulate_put("/__admin/clock", json={"frozen_at": FROZEN}, headers=ADMIN)
    client.simulate_put("/__admin/rate-limits", json={"enabled": True}, headers=ADMIN)
    statuses = Counter(call(client, "truto", "busy").status_code for _ in range(51))
    assert statuses == {200: 50, 429: 1}


# ---- canonical tenants ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", " ", "x" * 201, "a\tb", "bell\x07"])
def test_a_bad_canonical_tenant_id_is_a_400_problem(client: TestClient, value: str) -> None:
    response = client.simulate_get("/canonical/customers", headers={**ADMIN, "X-Tenant-Id": value})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json["errors"] == [{"in": "header", "name": "X-Tenant-Id", "detail": response.json["errors"][0]
                                        ["detail"]}]
    document("canonical").check_response("GET", "/customers", 400, response.json)


def test_canonical_tenants_are_isolated_by_their_header() -> None:
    client = TestClient(create_app(Settings(seed=SEED, count=COUNT, tenants="isolated")))
    headers = {**ADMIN, "X-Tenant-Id": "job-1", "Content-Type": "application/json"}
    created = client.simulate_post("/canonical/customers", headers=headers, json={"first_name": "Only", "last_name": "One"})
    assert created.status_code == 201
    new_id = created.json["data"]["id"]
    assert client.simulate_get(f"/canonical/customers/{new_id}", headers=headers).status_code == 200
    for other in ({**ADMIN, "X-Tenant-Id": "job-2"}, ADMIN):
        assert client.simulate_get(f"/canonical/customers/{new_id}", headers=other).status_code == 404
    longest = {**ADMIN, "X-Tenant-Id": "t" * 200}
    assert client.simulate_get("/canonical/customers", headers=longest).status_code == 200


def test_apideck_and_truto_still_name_their_tenants() -> None:
    client = TestClient(create_app(Settings(seed=SEED, count=COUNT)))
    client.simulate_put("/__admin/tenants/shared-id", json={"state": "disabled"}, headers=ADMIN)
    assert call(client, "apideck", "shared-id").status_code == 403  # the consumer id
    assert call(client, "truto", "shared-id").status_code == 503  # the integrated account
    assert call(client, "canonical", "shared-id").status_code == 403  # X-Tenant-Id
    assert call(client, "apideck", "someone-else").status_code == 200


# ---- real gunicorn ----------------------------------------------------------------------------------


def test_concurrent_clients_on_two_workers_get_exactly_the_quota(tmp_path: Any) -> None:
    with ServerProcess(Settings(seed=SEED, count=COUNT, workers=2, state=str(tmp_path / "state.db"))) as server:
        def admin(path: str, body: bytes) -> None:
            request = urllib.request.Request(f"{server.url}/__admin/{path}", data=body, method="PUT",
                                             headers={**ADMIN, "Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=10) as answer:
                assert answer.status == 200

        admin("clock", b'{"frozen_at": %d}' % FROZEN)
        admin("rate-limits", b'{"enabled": true, "flavours": {"truto": {"limit": 7}}}')
        statuses: list[int] = []
        waits: set[str | None] = set()
        start = threading.Barrier(20)

        def client() -> None:
            url = f"{server.url}/truto/unified/ecommerce/customers?integrated_account_id=crowd&limit=1"
            start.wait()
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=ADMIN), timeout=20) as answer:
                    statuses.append(answer.status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
                waits.add(error.headers["Retry-After"])

        threads = [threading.Thread(target=client) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert Counter(statuses) == {200: 7, 429: 13}
        assert waits == {"10"}  # the frozen clock stands at the start of Truto's 10 s window
