"""The kit is general: an independent implementation of the contract passes ``contracts check``,
and the contract states what every implementation must do, not how the mock does it."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from contracts.cli import main
from contracts.properties.invariants import same_problem_type
from tests.contracts.independent import SPEC, independent_app, served


@pytest.fixture(scope="module")
def contract() -> dict[str, Any]:
    with open(SPEC, encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.safe_load(handle)
    return document


def test_an_independent_implementation_passes_contracts_check_over_a_socket(
        capsys: pytest.CaptureFixture[str]) -> None:
    # UUID ids, its own data and cursors, absolute problem types and Location, its own realm:
    # everything the contract leaves to the server differs from the mock, and no check is exempted.
    with served(independent_app(seed=5, count=70)) as url:
        code = main(["check", "--base-url", url, "--seed", "2", "--max-examples", "6"])
    out, err = capsys.readouterr()

    assert code == 0, out + err
    assert out.startswith("PASSED"), out
    assert "skip" not in err.split(), err
    exercised = next(line for line in out.splitlines() if line.startswith("exercised filters: "))
    assert "multi-valued (customer_ids" in exercised and "NOT exercised" not in exercised, exercised


def test_the_contract_leaves_realm_problem_uris_and_location_to_the_server(contract: dict[str, Any]) -> None:
    components = contract["components"]
    challenge = components["headers"]["WWWAuthenticate"]["schema"]
    kind = components["schemas"]["Problem"]["properties"]["type"]
    location = components["headers"]["Location"]["schema"]

    assert "const" not in challenge and "enum" not in kind
    for accepted in ('Bearer realm="mockserver"', 'Bearer realm="shop", error="invalid_token"', "bearer", "Bearer"):
        assert re.search(challenge["pattern"], accepted), accepted
    for refused in ('Basic realm="x"', "Bearerish", ""):
        assert not re.search(challenge["pattern"], refused), refused
    for accepted in ("/problems/not-found", "https://api.example.com/problems/not-found"):
        assert re.search(kind["pattern"], accepted), accepted
    assert not re.search(kind["pattern"], "/problems/teapot")
    assert location.get("format") == "uri-reference" and "pattern" not in location


def test_mock_specifics_live_only_in_the_mock_notes(contract: dict[str, Any]) -> None:
    description = contract["info"]["description"]
    general, _, notes = description.partition("## Notes on the mock server (not part of the contract)")
    service = {op["operationId"] for item in contract["paths"].values() for op in item.values()
               if isinstance(op, dict) and "Service" in (op.get("tags") or ())}
    rest = yaml.safe_dump({**contract, "info": {**contract["info"], "description": general},
                           "paths": {p: i for p, i in contract["paths"].items()
                                     if not any(isinstance(o, dict) and o.get("operationId") in service
                                                for o in i.values())}})
    rest = rest.split("\n  examples:\n")[0]  # examples show the mock's answers, which is what they are for

    assert notes, "the mock's own notes are a marked section of the description"
    for mock_only in ("9-digit", "numeric string", "Faker", "2019-01-01", "--state", "SQLite", "overlay",
                      "--no-cors", "byte-identical", "seed", "realm=\"mockserver\" ", "-e<n>", "serves this document"):
        assert mock_only not in rest, mock_only
    for fact in ("9-digit", "Faker", "2019-01-01", "--state", "--no-cors", 'realm="mockserver"'):
        assert fact in notes, fact


@pytest.mark.parametrize(("actual", "ok"), [
    ("/problems/not-found", True), ("https://api.example.com/problems/not-found", True),
    ("http://127.0.0.1:9/v2/problems/not-found", True), ("/problems/not-found-at-all", False),
    ("/problems/invalid-body", False), ("/problems/not-found?x=1", False), (None, False), (404, False)])
def test_a_problem_type_may_be_relative_or_absolute(actual: Any, ok: bool) -> None:
    assert same_problem_type(actual, "/problems/not-found") is ok
