"""The admin API against its own document (``mockserver/specs/admin.yaml``), fuzzed by Schemathesis.

Positive and negative data for every operation, every default check: each answer (errors
included) must be one the document declares, with its schema and content type; bad data must be
refused with a 4xx, never a 5xx.
"""

from __future__ import annotations

from typing import Any

import schemathesis
import yaml
from falcon.testing import TestClient

from mockserver import Settings, create_app
from tests.fixtures.fuzzing import FuzzLog, fuzz_schema

ADMIN = "admin-schemathesis"
app = create_app(Settings(seed=3, count=30, token="api-token", admin_token=ADMIN))
# NOTE: two rules no schema can state are 422s for schema-valid bodies: the error and connection
# rates of one rule add up to 1 at most, and a uniform latency's max_ms is at least its min_ms.
schema = fuzz_schema(app, "/__admin/openapi.yaml", bearer=ADMIN, scheme="adminBearer", max_examples=40, checks={
    "positive_data_acceptance": {"expected-statuses": ["2xx", 404, 422]}})
log = FuzzLog()


@schema.parametrize()
def test_the_admin_api_conforms_to_its_document(case: schemathesis.Case) -> None:
    log.call(case)


def test_every_admin_operation_was_fuzzed_with_both_kinds_of_data() -> None:
    writes = ("PUT /__admin/config", "PUT /__admin/faults", "PUT /__admin/tenants/{tenant}",
              "PUT /__admin/rate-limits", "PUT /__admin/clock")
    FuzzLog().sample(schema, negative=writes).assert_covered(schema, negative=writes, ok=writes)


def _answer(path: str, method: str, **case: Any) -> Any:
    """Call one operation as the document describes it and check the answer against it."""
    headers = case.pop("headers", {"Authorization": f"Bearer {ADMIN}"})
    operation = schema[path][method]
    example = operation.Case(headers=headers, **case)
    response = example.call()
    example.validate_response(response)
    return response


def test_every_kind_of_error_is_an_answer_the_document_declares() -> None:
    unauthorized = _answer("/__admin/health", "GET", headers={"Authorization": "Bearer wrong"})
    assert unauthorized.status_code == 401 and unauthorized.json()["type"] == "/problems/unauthorized"
    assert _answer("/__admin/health", "GET", headers={}).status_code == 401
    assert _answer("/__admin/health", "GET", headers={"X-Mock-Admin-Token": ADMIN}).status_code == 200
    missing = _answer("/__admin/tenants/{tenant}", "DELETE", path_parameters={"tenant": "never-configured"})
    assert missing.status_code == 404 and "never-configured" in missing.json()["detail"]
    text = _answer("/__admin/config", "PUT", body="prefer: false", media_type="text/plain")
    assert text.status_code == 415 and text.headers["content-type"] == ["application/problem+json"]
    bad = _answer("/__admin/faults", "PUT", body={"errors": [{"status": 500, "rate": 2}]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["name"] == "faults.errors[0].rate"
    deep = _answer("/__admin/config", "PUT", body={"faults": {"rules": [{"connection": [{"fault": "fire"}]}]}})
    assert deep.json()["errors"][0]["name"] == "faults.rules[0].connection[0].fault"
    shared = _answer("/__admin/tenants/{tenant}/reset", "POST", path_parameters={"tenant": "in-the-shared-data"})
    assert shared.status_code == 422


def test_a_body_that_is_not_json_is_a_400_the_document_declares() -> None:
    client = TestClient(app)
    answer = client.simulate_put("/__admin/rate-limits", body="{", headers={
        "Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"})
    assert answer.status_code == 400
    operation = yaml.safe_load(client.simulate_get("/__admin/openapi.yaml").text)["paths"]["/__admin/rate-limits"]["put"]
    assert "400" in operation["responses"] and answer.headers["content-type"] == "application/problem+json"
    assert set(answer.json) >= {"type", "title", "status", "detail"}


def test_the_document_is_served_to_anyone_and_describes_every_admin_route() -> None:
    from mockserver.admin import ADMIN_PREFIX

    client = TestClient(app)
    served = client.simulate_get("/__admin/openapi.yaml")
    assert served.status_code == 200 and served.headers["content-type"].startswith("application/yaml")
    documented = set(yaml.safe_load(served.text)["paths"])
    mounted = {route for route in _routes(app) if route.startswith(ADMIN_PREFIX)}
    assert documented == mounted


def _routes(application: Any) -> set[str]:
    found: set[str] = set()

    def walk(nodes: Any) -> None:
        for node in nodes:
            if node.resource is not None:
                found.add(node.uri_template)
            walk(node.children)

    walk(application._router._roots)
    return found


def test_null_or_falsy_values_are_refused_not_read_as_defaults() -> None:
    # Found while documenting: "errors": 0, "ms": null or "rate_limits": null used to pass as
    # "nothing" (null even turned rate limits on); each is now a 422 naming its key.
    client = TestClient(app, headers={"Authorization": f"Bearer {ADMIN}"})
    client.simulate_post("/__admin/reset")  # the fuzzing above may have left anything
    for body, key in (({"faults": {"errors": 0}}, "faults.errors"),
                      ({"faults": {"latency": {"ms": None}}}, "faults.latency.ms"),
                      ({"tenants": {"mode": None}}, "tenants.mode"),
                      ({"tenants": 0}, "tenants"),
                      ({"rate_limits": None}, "rate_limits"),
                      ({"rate_limits": {"flavours": {"shopify": {"leak_per_second": 0}}}},
                       "rate_limits.flavours.shopify.leak_per_second")):
        answer = client.simulate_put("/__admin/config", json=body)
        assert answer.status_code == 422, body
        assert answer.json["errors"][0]["name"] == key
    assert client.simulate_get("/__admin/rate-limits").json["enabled"] is False


def test_turning_rate_limits_on_keeps_the_quotas_and_advance_comes_alone() -> None:
    client = TestClient(app, headers={"Authorization": f"Bearer {ADMIN}"})
    try:
        client.simulate_put("/__admin/rate-limits", json={"enabled": False, "flavours": {"shopify": {"limit": 3}}})
        assert client.simulate_put("/__admin/rate-limits", json={"enabled": True}).json == {
            "enabled": True, "flavours": {"shopify": {"limit": 3}}}
        mixed = client.simulate_put("/__admin/clock", json={"advance_seconds": 5, "offset_seconds": 1})
        assert mixed.status_code == 422 and "offset_seconds" in mixed.json["detail"]
        client.simulate_delete("/__admin/faults", params={"tenant": "nobody"})
        assert "nobody" not in client.simulate_get("/__admin/tenants").json["accounts"]
    finally:
        client.simulate_post("/__admin/reset")


def test_advancing_the_clock_out_of_range_is_refused_and_leaves_the_server_usable() -> None:
    # Found by the fuzzing: advance_seconds on a frozen clock stored an unvalidated time, and every
    # later admin request (reset included) answered 500.
    client = TestClient(app, headers={"Authorization": f"Bearer {ADMIN}"})
    client.simulate_put("/__admin/clock", json={"frozen_at": 99_999_999_000})
    for _ in range(2):
        answer = client.simulate_put("/__admin/clock", json={"advance_seconds": 999_999_999})
        assert answer.status_code == 422 and answer.json["errors"][0]["name"] == "clock.frozen_at"
    assert client.simulate_get("/__admin/clock").json["now"] == 99_999_999_000
    client.simulate_put("/__admin/clock", json={"offset_seconds": -9_500_000_000})
    assert client.simulate_put("/__admin/clock", json={"advance_seconds": -10**9}).json["errors"][0]["name"] == (
        "clock.offset_seconds")
    assert client.simulate_put("/__admin/clock", json={"advance_seconds": 10**9}).json["offset_seconds"] == -8.5e9
    assert client.simulate_post("/__admin/reset").status_code == 204
