"""Schemathesis fuzzes the canonical flavour in-process from openapi.yaml.

Positive and negative data for every operation, all default checks (status codes, content
types, headers, response schemas, negative data rejected, no 5xx ...).

A cursor is opaque: no schema can say which strings a server issued, so a fuzzed "valid"
cursor is still one this server never issued (400 by contract). Positive cases therefore get a
real cursor for the same query; negative cases keep whatever Schemathesis generated.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import falcon.testing
import schemathesis
from schemathesis import GenerationMode

from mockserver import Settings, create_app
from mockserver.app import context_of

# NOTE: with the default "any non-empty token" policy every credential is valid, so the
# ignored-auth check only means something when the server requires a token (--token).
AUTH = {"Authorization": "Bearer schemathesis-token"}
app = create_app(Settings(seed=5, count=300, token="schemathesis-token"))
schema = schemathesis.openapi.from_wsgi("/openapi.yaml", app)
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=60)
schema.config.update(headers=AUTH)
_client = falcon.testing.TestClient(app, headers=AUTH)


def issued_cursor(query: dict[str, Any]) -> str | None:
    """A cursor this server issues for the same filters and sort (None: only one page)."""
    params = {k: v for k, v in query.items() if k not in ("cursor", "limit", "fields")}
    response = _client.simulate_get("/customers", params={**params, "limit": 1})
    return response.json["meta"]["cursors"]["next"] if response.status_code == 200 else None


@schema.hook
def map_case(context: Any, case: schemathesis.Case) -> schemathesis.Case:
    positive = case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE
    if positive and case.method == "GET" and case.path == "/customers" and case.query and "cursor" in case.query:
        cursor = issued_cursor(case.query)
        if cursor is None:
            del case.query["cursor"]
        else:
            case.query["cursor"] = cursor
    return case


CALLS: Counter[tuple[str, str]] = Counter()


@schema.parametrize()
def test_canonical_conforms_to_openapi(case: schemathesis.Case) -> None:
    mode = "positive" if case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE else "negative"
    CALLS[(f"{case.method} {case.path}", mode)] += 1
    case.call_and_validate()


def test_every_operation_was_fuzzed_with_both_kinds_of_data() -> None:
    operations = {op.ok().label for op in schema.get_all_operations()}
    print(f"\nschemathesis: {len(operations)} operations, {sum(CALLS.values())} cases: {dict(sorted(CALLS.items()))}")
    assert operations <= {label for label, _ in CALLS}
    for label in operations:
        assert CALLS[(label, "positive")] >= 1, label
    for label in ("GET /customers", "POST /customers", "PATCH /customers/{id}", "GET /customers/{id}"):
        assert CALLS[(label, "positive")] >= 20 and CALLS[(label, "negative")] >= 20, label


def test_the_fuzzing_left_the_base_dataset_intact() -> None:
    catalog = context_of(app).catalog
    untouched = [i for i in range(300) if i not in catalog.store.latest]
    assert untouched and all(catalog.get(catalog.dataset.id_of(i)) == catalog.dataset.customer(i)
                             for i in untouched[:50])
