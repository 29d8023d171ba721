"""The kit proves it catches bugs: every broken server is flagged by the property that owns
the bug, in front of the mock and in front of the independent implementation
(tests/contracts/independent), and correct implementations (the mock, the independent one, an
offset-cursor one) pass."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from contracts.check import CHECK_GROUPS, check_server
from contracts.properties import PROPERTIES
from mockserver import Settings, create_app
from tests.contracts.broken import BUGS, WSGIApp
from tests.contracts.broken.offset import offset_server
from tests.contracts.independent import independent_app

PROPERTY_GROUPS = [g for g in CHECK_GROUPS if g != "schemathesis"]


@pytest.fixture
def small(tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(seed=7, count=60, state=str(tmp_path / "state.sqlite3"))


@pytest.fixture(params=["mock", "independent"])
def correct(request: pytest.FixtureRequest, small: Settings) -> tuple[str, Callable[[], WSGIApp]]:
    """A correct server to plant bugs in front of: the mock, or the independent implementation."""
    if request.param == "mock":
        return "mock", lambda: create_app(small)
    return "independent", lambda: independent_app(seed=7, count=60)


def test_the_catalogue_is_large_and_spans_the_properties() -> None:
    assert len(BUGS) >= 15
    flagged = {bug.flags for bug in BUGS.values()}
    assert len(flagged) >= 12
    assert {bug.flags.split(".")[0] for bug in BUGS.values()} >= {
        "pagination", "fields", "filters", "sort", "get", "errors", "determinism", "writes", "schemathesis"}


@pytest.mark.parametrize("name", sorted(BUGS))
def test_check_flags_the_broken_server_by_the_right_property(
        name: str, correct: tuple[str, Callable[[], WSGIApp]]) -> None:
    bug = BUGS[name]
    server, inner = correct
    # In front of the mock every Hypothesis property runs (so a bug must not hide behind another
    # property); in front of the independent server the bug's own group does (the suite stays fast).
    # Schemathesis' examples phase joins for the bugs that only a schema check can see.
    own = bug.flags.split(".")[0]
    checks = [g for g in PROPERTY_GROUPS if server == "mock" or g == own]
    checks += ["schemathesis.examples"] if own == "schemathesis" else []
    report = check_server(app=bug.build(inner()), seed=3, max_examples=5, checks=checks)

    assert not report.ok, f"{name} ({bug.summary}) was not caught in front of the {server} server"
    assert bug.flags in report.failed_properties, report.render()
    failure = next(f for f in report.failures if f.prop == bug.flags)
    assert failure.requests and failure.curl and failure.curl.startswith("curl ")
    assert failure.seed == 3
    assert failure.prop in failure.render() and failure.message in failure.render()


def test_the_mock_passes_the_full_check(small: Settings) -> None:
    report = check_server(app=create_app(small), max_examples=8)

    assert report.ok, report.render()
    assert set(report.passed) == set(PROPERTIES), "every property ran (none skipped)"
    assert report.stats["schemathesis_cases"] > 500
    ran = {r.name.split(" [")[0] for r in report.results if r.name.startswith("schemathesis ") and not r.skipped}
    assert {"schemathesis GET /customers", "schemathesis POST /customers", "schemathesis GET /customers/{id}",
            "schemathesis PATCH /customers/{id}", "schemathesis DELETE /customers/{id}"} <= ran


def test_an_independent_implementation_with_other_cursors_and_data_passes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Another dataset and another cursor format (offsets in base64 JSON): only what the server
    # says is checked, so a correct implementation that is not the mock passes too.
    app = offset_server(create_app(Settings(seed=2024, count=130, state=str(tmp_path / "state.sqlite3"))))
    report = check_server(app=app, seed=1, max_examples=8, checks=PROPERTY_GROUPS + ["schemathesis.examples",
                                                                                   "schemathesis.fuzzing"])

    assert report.ok, report.render()
    assert set(report.passed) == set(PROPERTIES)


def test_every_filter_kind_is_exercised_on_every_run_whatever_the_budget(
        correct: tuple[str, Callable[[], WSGIApp]]) -> None:
    # The smallest budget: only the explicit examples are guaranteed, and they cover every kind.
    report = check_server(app=correct[1](), seed=9, max_examples=1, checks=["filters"])

    assert report.ok, report.render()
    exercised = report.coverage["filters"]
    assert "NOT exercised" not in exercised, exercised
    forms = dict(part.split(" (", 1) for part in exercised.split("; "))
    for name in ("email", "phone_number", "status", "customer_ids", "created_since", "updated_since"):
        # customer_ids is a list: repeating it is one of its documented forms, not an error.
        for form in ("single", "bad value") + (() if name == "customer_ids" else ("repeated key",)):
            assert f"{name} " in forms[form], (form, name, exercised)
    assert "customer_ids" in forms["multi-valued"] and "+" in forms["combined"]
    assert "filter[nickname]" in forms["unknown key"] and "filter[status " in forms["malformed key"]
    assert f"exercised filters: {exercised}" in report.render()
