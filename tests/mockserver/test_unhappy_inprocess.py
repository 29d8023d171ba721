"""Admin changes, ``Prefer`` headers and seeded fault draws, in-process.

What is refused is refused with a 4xx, and a refused change leaves the server serving; the
draws of a fault profile are checked for determinism, their rates and their rules' scope.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest
from falcon.testing import TestClient

from mockserver import Settings, create_app
from mockserver.controls import Controls
from mockserver.errors import InvalidParameter
from mockserver.faults import Decision, draw, parse_prefer

ADMIN = {"Authorization": "Bearer admin"}


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(create_app(Settings(seed=3, count=10, state=str(tmp_path / "state.sqlite3"))))


def test_a_clock_advanced_out_of_range_is_refused_and_the_server_keeps_serving(client: TestClient) -> None:
    # Advancing a frozen clock past its range was stored, then every request (admin ones too) was a 500.
    assert client.simulate_put("/__admin/clock", headers=ADMIN, json={"frozen_at": 1e11 - 10}).status_code == 200
    refused = client.simulate_put("/__admin/clock", headers=ADMIN, json={"advance_seconds": 1e9})
    assert refused.status_code == 422 and "clock.frozen_at" in refused.json["detail"]
    assert client.simulate_get("/__admin/clock", headers=ADMIN).json["frozen_at"] == 1e11 - 10
    assert client.simulate_get("/customers", headers=ADMIN).status_code == 200
    for _ in range(10):  # the offset too: ten steps of 1e9 s reach its bound of 1e10
        client.simulate_delete("/__admin/clock", headers=ADMIN)
    answers = {client.simulate_put("/__admin/clock", headers=ADMIN, json={"advance_seconds": 1e9}).status_code
               for _ in range(11)}
    assert answers == {200, 422}
    assert client.simulate_get("/customers", headers=ADMIN).status_code == 200


def test_a_bucket_override_without_a_leak_is_refused_by_the_admin_api(client: TestClient) -> None:
    refused = client.simulate_put("/__admin/rate-limits", headers=ADMIN,
                                  json={"enabled": True, "flavours": {"canonical": {"model": "bucket"}}})
    assert refused.status_code == 422
    assert refused.json["errors"][0]["name"] == "rate_limits.flavours.canonical.leak_per_second"
    assert client.simulate_get("/customers", headers=ADMIN).status_code == 200


@pytest.mark.parametrize("value", ["code=٤٠٤", "code=４０４", "code=¹²³", "delay=١٠٠", "delay=1_000", "delay=１"])
def test_prefer_takes_ascii_numbers_only(value: str) -> None:
    # int() and float() read other scripts' digits and underscores; the header is HTTP, ASCII digits
    with pytest.raises(InvalidParameter):
        parse_prefer(value, {200, 404})


def test_a_superscript_code_over_http_is_a_400_not_a_500(client: TestClient) -> None:
    # "¹²³" is latin-1, so a client can send it; str.isdigit() took it and int() then raised
    response = client.simulate_get("/customers", headers={**ADMIN, "Prefer": "code=¹²³"})
    assert response.status_code == 400 and response.json["errors"][0]["name"] == "Prefer"


def test_prefer_parses_what_it_acts_on_and_ignores_other_preferences() -> None:
    assert parse_prefer("code=404", {200, 404}) == (0.0, 404, None, None, "prefer")
    assert parse_prefer('return=minimal, Code="404" ,delay=250.5, respond-async', {404}) == (250.5, 404, None, None,
                                                                                            "prefer")
    assert parse_prefer("code=429", {200}).status == 429  # always allowed
    assert parse_prefer("code=200", {200}).idle  # a documented success is the normal answer
    assert parse_prefer("fault=truncated, delay=0", set()).fault == "truncated"
    assert parse_prefer("wait=10, handling=lenient", set()).idle
    # RFC 7240 preference parameters follow ";" and do not change the value
    assert parse_prefer("code=404; reason=test, delay=5 ;x", {404}) == (5.0, 404, None, None, "prefer")
    assert parse_prefer("", set()).idle


@pytest.mark.parametrize(("value", "words"), [
    ("code=500", "not a status this operation documents"),
    ("code=4040", "code must be an HTTP status"),
    ("code=", "code must be an HTTP status"),
    ("delay=-1", "delay must be milliseconds from 0 to 60000"),
    ("delay=60001", "delay must be milliseconds from 0 to 60000"),
    ("delay=nan", "delay must be milliseconds"),
    ("delay=soon", "delay must be milliseconds"),
    ("fault=explode", "fault must be one of reset, empty, malformed, truncated"),
    ("code=404, fault=reset", "not both"),
])
def test_prefer_refuses_what_it_cannot_honour(value: str, words: str) -> None:
    with pytest.raises(InvalidParameter) as raised:
        parse_prefer(value, {200, 404})
    assert words in raised.value.detail and raised.value.location == "header"


# ---- seeded draws --------------------------------------------------------------------------------

PROFILE = Controls.from_mapping({"faults": {
    "errors": [{"status": 500, "rate": 0.3}, {"status": 503, "rate": 0.1, "retry_after": 2}],
    "connection": [{"fault": "reset", "rate": 0.05}],
    "latency": {"distribution": "uniform", "min_ms": 10, "max_ms": 20},
    "rules": [{"flavour": "shopify", "operation": "create", "errors": [{"status": 422, "rate": 0.5}]},
              {"flavour": "truto", "latency": {"ms": 5}}],
}}).faults
assert PROFILE is not None


def _outcome(decision: Decision) -> str:
    return decision.fault or str(decision.status or "ok")


def test_a_draw_is_a_function_of_seed_tenant_request_and_occurrence() -> None:
    one = [draw(PROFILE, 7, "t", "canonical", "list", "GET /customers", n) for n in range(1, 200)]
    again = [draw(PROFILE, 7, "t", "canonical", "list", "GET /customers", n) for n in range(1, 200)]
    assert one == again
    for other in ([draw(PROFILE, 8, "t", "canonical", "list", "GET /customers", n) for n in range(1, 200)],
                  [draw(PROFILE, 7, "u", "canonical", "list", "GET /customers", n) for n in range(1, 200)],
                  [draw(PROFILE, 7, "t", "canonical", "list", "GET /customers?a=1", n) for n in range(1, 200)]):
        assert [_outcome(d) for d in other] != [_outcome(d) for d in one]
    assert all(10 <= d.delay_ms <= 20 and d.source == "profile" for d in one)
    assert {d.retry_after for d in one if d.status == 503} == {2}


def test_draws_honour_the_rates() -> None:
    n = 20_000
    counts = Counter(_outcome(draw(PROFILE, 1, "t", "canonical", "get", f"GET /customers/{i % 7}", i))
                     for i in range(n))
    for outcome, rate in (("500", 0.3), ("503", 0.1), ("reset", 0.05), ("ok", 0.55)):
        # 5 standard deviations of a binomial count: a wrong rate fails, luck does not
        assert abs(counts[outcome] - rate * n) < 5 * math.sqrt(n * rate * (1 - rate)), (outcome, counts)
    assert set(counts) == {"500", "503", "reset", "ok"}


def test_rules_apply_to_their_flavour_and_operation_only() -> None:
    n = 4000
    shop_create = Counter(_outcome(draw(PROFILE, 1, "t", "shopify", "create", "POST /c", i)) for i in range(n))
    shop_list = Counter(_outcome(draw(PROFILE, 1, "t", "shopify", "list", "GET /c", i)) for i in range(n))
    other_create = Counter(_outcome(draw(PROFILE, 1, "t", "ecwid", "create", "POST /c", i)) for i in range(n))
    assert shop_create["422"] > 0 and shop_list["422"] == 0 and other_create["422"] == 0
    # the base and the matching rule share one roll: 0.45 of the base, then the rule's 0.5 of the rest
    assert abs(shop_create["ok"] - 0.05 * n) < 5 * math.sqrt(n * 0.05 * 0.95)
    assert {draw(PROFILE, 1, "t", "truto", "get", "GET /x", i).delay_ms for i in range(50)} == {5.0}
    assert all(draw(PROFILE, 1, "t", "apideck", "get", "GET /x", i).delay_ms >= 10 for i in range(50))


def test_lognormal_latency_is_capped() -> None:
    profile = Controls.from_mapping({"faults": {"latency": {"distribution": "lognormal", "median_ms": 60_000,
                                                            "sigma": 5}}}).faults
    assert profile is not None
    delays = [draw(profile, 1, "t", "canonical", "list", "GET /", i).delay_ms for i in range(500)]
    assert max(delays) == 60_000 and min(delays) < 60_000


@pytest.mark.parametrize(("path", "query", "body", "where"), [
    ("/__admin/rate-limits", "", {"enabled": True, "flavours": {"shopfy": {"limit": 1}}}, "rate_limits.flavours.shopfy"),
    ("/__admin/faults", "", {"rules": [{"flavour": "truot", "errors": [{"status": 500, "rate": 1}]}]},
     "faults.rules[0].flavour"),
    ("/__admin/faults", "tenant=t1", {"rules": [{"flavour": "ecwd"}]}, "tenants.accounts.t1.faults.rules[0].flavour"),
    ("/__admin/faults", "", {"rules": [{"flavour": "truto", "operation": "create"}]}, "faults.rules[0].operation"),
])
def test_the_admin_api_refuses_a_flavour_that_does_not_exist(client: TestClient, path: str, query: str,
                                                            body: object, where: str) -> None:
    before = client.simulate_get("/__admin/config", headers=ADMIN).json["controls"]
    refused = client.simulate_put(path, query_string=query, headers=ADMIN, json=body)
    assert refused.status_code == 422 and refused.json["errors"][0]["name"] == where
    assert client.simulate_get("/__admin/config", headers=ADMIN).json["controls"] == before
