"""Hostile input to the journal's admin routes, in-process: never a 5xx.

Random matchers (well-formed ones built from the matcher's own keys, and any JSON) for count, find
and near-misses, and random query strings for ``GET /__admin/requests``. A bad one is a 4xx
problem+json naming the key.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from falcon.testing import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from mockserver import Settings, create_app
from mockserver.matching import MATCHER_KEYS

ADMIN = {"Authorization": "Bearer admin", "Content-Type": "application/json"}
FUZZ = hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    state = tmp_path_factory.mktemp("fuzz") / "state.sqlite3"
    client = TestClient(create_app(Settings(seed=5, count=20, state=str(state))))
    auth = {"Authorization": "Bearer x"}
    client.simulate_get("/customers", query_string="limit=2&tag=a", headers={**auth, "Idempotency-Key": "k"})
    client.simulate_post("/customers", json={"first_name": "Ada", "emails": [{"email": "a@example.com"}]}, headers=auth)
    client.simulate_post("/customers", body=b"not json", headers={**auth, "Content-Type": "application/json"})
    client.simulate_get("/ecwid/api/v3/1003/customers", headers={"Authorization": "Bearer secret_x"})
    client.simulate_get("/nowhere")
    return client


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=8)
TEXT = st.one_of(st.text(max_size=12), st.sampled_from(["GET", "post", "ANY", "/customers", ".*", "(", "[z-a]", "a{99999}",
                                                        "$", "$.emails[0].email", "$.a[*]", "$['x']", "$..", "$[-1]"]))
VALUE = st.one_of(
    st.fixed_dictionaries({}, optional={"equalTo": TEXT, "contains": TEXT, "matches": TEXT, "absent": st.booleans(),
                                        "caseInsensitive": st.booleans()}),
    JSON,
)
BODY = st.one_of(
    st.fixed_dictionaries({}, optional={"equalToJson": JSON, "matchesJsonPath": TEXT | st.fixed_dictionaries(
        {"expression": TEXT}, optional={"equalTo": TEXT, "matches": TEXT}), "contains": TEXT, "absent": st.booleans()}),
    JSON,
)
MATCHER = st.one_of(
    st.fixed_dictionaries({}, optional={
        "method": TEXT, "url": TEXT, "urlPath": TEXT, "urlPattern": TEXT, "urlPathPattern": TEXT,
        "queryParameters": st.dictionaries(TEXT, VALUE, max_size=2) | JSON,
        "headers": st.dictionaries(TEXT, VALUE, max_size=2) | JSON,
        "bodyPatterns": st.lists(BODY, max_size=3) | JSON,
        "flavour": TEXT, "tenant": TEXT, "status": st.integers(-10, 1000) | JSON,
    }),
    st.dictionaries(st.sampled_from([*MATCHER_KEYS, "extra"]), JSON, max_size=4),
    JSON,
)


@FUZZ
@given(matcher=MATCHER, route=st.sampled_from(["count", "find", "near-misses"]))
def test_any_matcher_is_answered_or_refused_naming_the_key(client: TestClient, matcher: Any, route: str) -> None:
    response = client.simulate_post(f"/__admin/requests/{route}", body=json.dumps(matcher), headers=ADMIN)
    assert response.status_code in (200, 400, 422), (matcher, response.text)
    if response.status_code == 422:
        problem = response.json
        assert problem["detail"].startswith(problem["errors"][0]["name"] + ": ")
    elif route == "count":
        assert response.json["count"] >= 0


FILTER_NAMES = st.sampled_from(["method", "path", "path_pattern", "flavour", "tenant", "status", "since", "after",
                                "limit", "other"])


@FUZZ
@given(params=st.lists(st.tuples(FILTER_NAMES, TEXT | st.integers(-5, 2000).map(str)), max_size=4))
def test_any_request_filter_is_answered_or_refused_naming_the_parameter(client: TestClient,
                                                                        params: list[tuple[str, str]]) -> None:
    response = client.simulate_get("/__admin/requests", query_string=urlencode(params), headers=ADMIN)
    assert response.status_code in (200, 400, 422), (params, response.text)
    if response.status_code != 200:
        assert response.json["errors"][0]["name"] in {name for name, _ in params}
    else:
        assert len(response.json["requests"]) <= 1000


def test_a_path_pattern_that_does_not_compile_is_a_422_as_the_document_says(client: TestClient) -> None:
    """A string is what the document asks for; one that is no regular expression is unprocessable, not
    malformed (Schemathesis' schema-valid fuzzing got a 400 the document's rule for valid data refuses)."""
    response = client.simulate_get("/__admin/requests", query_string="path_pattern=%5Bz", headers=ADMIN)
    assert response.status_code == 422
    assert response.json["errors"][0]["name"] == "path_pattern"
    assert "regular expression" in response.json["detail"]
