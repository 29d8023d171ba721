"""check_server's API, the reusable invariants in contracts.properties, and the report handlers."""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from contracts.check import check_server
from contracts.failures import CheckReport, CheckResult, ContractFailure, ServerUnreachable, UnknownCheck, UsageError
from contracts.properties import (
    Page,
    Reply,
    Target,
    Walk,
    check_walk,
    expect_problem,
    expected_projection,
    matches_filter,
)
from contracts.report import ConsoleHandler, JUnitHandler
from contracts.schema import Contract, load_spec
from mockserver import Settings, create_app
from tests.contracts.broken import BUGS, Middleware, query, respond, with_query


@pytest.fixture
def small(tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(seed=7, count=60, state=str(tmp_path / "state.sqlite3"))


# ----------------------------------------------------------------- check_server


def test_check_server_needs_a_target() -> None:
    with pytest.raises(UsageError, match="base URL"):
        check_server()


def test_unknown_check_names_the_valid_ones(small: Settings) -> None:
    with pytest.raises(UnknownCheck, match="pagination") as caught:
        check_server(app=create_app(small), checks=["pagnation"])
    assert "'pagnation'" in str(caught.value)


def test_an_unreachable_server_is_a_usage_error_not_a_failure() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ServerUnreachable, match=f"cannot reach http://127.0.0.1:{port}/customers"):
        check_server(f"http://127.0.0.1:{port}")


def test_a_base_url_without_the_collection_is_a_usage_error(small: Settings) -> None:
    with pytest.raises(ServerUnreachable, match="answered 404"):
        check_server("http://testserver/nothing-here", app=_mounted_elsewhere(create_app(small)))


def _mounted_elsewhere(app: Any) -> Any:
    def wrapper(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"].startswith("/nothing-here"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no"]
        return app(environ, start_response)
    return wrapper


def test_progress_reports_one_line_per_property_and_the_report_lists_them(small: Settings) -> None:
    lines: list[str] = []
    report = check_server(app=create_app(small), checks=["get", "errors"], max_examples=3, progress=lines.append)

    assert report.ok, report.render()
    names = ["get.matches_list", "get.unknown_id", "errors.bad_limit", "errors.missing_auth"]
    assert report.passed == names
    assert [line.split()[1] for line in lines] == names
    assert all(line.startswith("ok ") for line in lines)
    assert "PASSED in-process app: 4 properties held, 0 failed" in report.render()


class _CustomerIdsCapped(Middleware):
    """filter[customer_ids] keeps only its first three ids (a hard-coded IN-list size)."""

    def request(self, environ: dict[str, Any]) -> dict[str, Any]:
        params = [(k, ",".join(v.split(",")[:3]) if k == "filter[customer_ids]" else v) for k, v in query(environ)]
        return with_query(environ, params)


def test_a_failure_is_shrunk_to_the_minimal_request(small: Settings) -> None:
    report = check_server(app=_CustomerIdsCapped(create_app(small)), checks=["filters.match"], max_examples=60)

    assert report.failed_properties == ["filters.complete"]
    (failure,) = report.failures
    decisive = urlsplit(failure.requests[0].split()[1])
    ids = parse_qs(decisive.query)["filter[customer_ids]"][0].split(",")
    assert len(ids) == 4, "Hypothesis shrinks to the smallest list that breaks: 4 ids"
    assert "no-such-id" not in ids
    assert failure.curl is not None and "filter%5Bcustomer_ids%5D=" in failure.curl
    assert failure.seed == 0
    text = failure.render()
    for part in ("FAILED filters.complete:", "expected:", "actual:", "requests:", "reproduce: curl", "seed: 0"):
        assert part in text


def test_a_custom_token_stays_out_of_curl_lines(small: Settings) -> None:
    report = check_server(app=BUGS["status_filter_ignored"].build(create_app(small)), token="s3cret", checks=["filters.match"],
                          max_examples=2)

    (failure,) = report.failures
    assert failure.curl is not None and "s3cret" not in failure.curl
    assert '"Authorization: Bearer $CONTRACTS_TOKEN"' in failure.curl


class _ReadOnly(Middleware):
    """A server without writes: 405 to POST, PATCH and DELETE, and an Allow header that says so."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ["REQUEST_METHOD"] in ("POST", "PATCH", "DELETE"):
            body = (b'{"type": "/problems/method-not-allowed", "title": "Method Not Allowed", "status": 405, '
                    b'"detail": "This server is read-only.", "errors": []}')
            return respond(start_response, "405 Method Not Allowed", [
                ("Content-Type", "application/problem+json"), ("Allow", "GET, OPTIONS")], body)
        return super().__call__(environ, start_response)

    def response(self, environ: dict[str, Any], status: str, headers: list[tuple[str, str]],
                 body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
        allow = [(k, ", ".join(m for m in v.split(", ") if m not in ("POST", "PATCH", "DELETE")))
                 if k.lower() == "allow" else (k, v) for k, v in headers]
        return status, allow, body


def test_a_read_only_server_passes_with_writes_skipped(small: Settings) -> None:
    report = check_server(app=_ReadOnly(create_app(small)), max_examples=3)

    assert report.ok, report.render()
    skipped = {r.name for r in report.results if r.skipped}
    assert {"writes.lifecycle", "schemathesis POST /customers", "schemathesis PATCH /customers/{id}",
            "schemathesis DELETE /customers/{id}"} <= skipped
    assert "writes.lifecycle" not in report.passed


# ------------------------------------------------------------------- invariants


def _reply(status: int = 200, body: bytes = b"{}", content_type: str = "application/json") -> Reply:
    return Reply("GET", "http://x/customers", status, httpx.Headers({"content-type": content_type}), body,
                 {"Authorization": "Bearer t"})


def _walk(pages: list[list[str]], *, limit: int, total: int, ended: bool = True) -> Walk:
    result = Walk({}, limit, ended=ended)
    for n, ids in enumerate(pages):
        last = n == len(pages) - 1
        nxt = None if last and ended else f"c{n}"
        result.pages.append(Page(_reply(), [{"id": i} for i in ids], nxt, total, len(ids), nxt and f"/p?c={nxt}"))
    return result


def _target() -> Target:
    return Target(httpx.Client(base_url="http://x"), "t")


def _fails(prop: str, result: Walk, **kwargs: Any) -> ContractFailure:
    with pytest.raises(ContractFailure) as caught:
        check_walk(_target(), result, **kwargs)
    assert caught.value.prop == prop, caught.value.render()
    return caught.value


def test_a_gapless_disjoint_walk_with_full_pages_holds() -> None:
    check_walk(_target(), _walk([["a", "b"], ["c", "d"], ["e"]], limit=2, total=5))
    check_walk(_target(), _walk([[]], limit=2, total=0))


def test_walk_invariants_name_the_broken_property() -> None:
    _fails("pagination.no_duplicates", _walk([["a", "b"], ["b", "c"]], limit=2, total=3))
    _fails("pagination.limit", _walk([["a"], ["b", "c"]], limit=2, total=3))
    _fails("pagination.terminates", _walk([["a", "b"], ["c", "d"]], limit=2, total=9, ended=False))
    _fails("pagination.last_page", _walk([["a", "b"], []], limit=2, total=2))
    _fails("pagination.complete", _walk([["a", "b"], ["d"]], limit=2, total=4))
    gap = _fails("pagination.complete", _walk([["a", "c"], ["d"]], limit=2, total=4),
                 expected_order=["a", "b", "c", "d"])
    assert gap.expected == 4 and gap.actual == 3
    early = _fails("pagination.last_page", _walk([["a", "b"]], limit=2, total=4), expected_order=["a", "b", "c", "d"])
    assert "c" in str(early.actual)
    # Without a reference order, the server is asked what comes after the last customer.
    _fails("pagination.last_page", _walk([["a", "b"]], limit=2, total=4), after_last=lambda walk: ["c", "d"])
    _fails("pagination.complete", _walk([["a", "b"]], limit=2, total=4), after_last=lambda walk: ["d"])


def test_projection_keeps_selected_paths_in_record_order() -> None:
    record = {"id": "1", "name": "Ada", "emails": [{"id": "e", "email": "a@b.co", "type": None}],
              "addresses": [], "notes": None}
    assert expected_projection(record, ["notes", "emails.email", "id"]) == {
        "id": "1", "emails": [{"email": "a@b.co"}], "notes": None}
    assert list(expected_projection(record, ["notes", "id"])) == ["id", "notes"]
    assert expected_projection(record, ["emails.type", "emails"]) == {"emails": record["emails"]}
    assert expected_projection(record, ["addresses.city"]) == {"addresses": []}


def test_filters_mean_what_the_contract_says() -> None:
    customer = {"id": "42", "status": "archived", "emails": [{"email": "Ada@Example.com"}],
                "phone_numbers": [{"country_code": "1", "area_code": "415", "number": "677-1817"}],
                "created_at": "2020-05-01T10:00:00Z", "updated_at": "2021-01-01T00:00:00Z"}
    assert matches_filter(customer, "email", " ada@example.COM ")
    assert not matches_filter(customer, "email", "ada@example.co")
    for phone in ("677-1817", "(415) 677-1817", "+1 415 677 1817"):
        assert matches_filter(customer, "phone_number", phone)
    assert not matches_filter(customer, "phone_number", "415")
    assert not matches_filter(customer, "phone_number", "no digits")
    assert matches_filter(customer, "status", "archived") and not matches_filter(customer, "status", "active")
    assert matches_filter(customer, "customer_ids", "7, 42 ,") and not matches_filter(customer, "customer_ids", "4")
    assert matches_filter(customer, "created_since", "2020-05-01T12:00:00+02:00")
    assert not matches_filter(customer, "created_since", "2020-05-01T10:00:01Z")
    assert matches_filter(customer, "updated_since", "2020-12-31T23:59:59.9Z")


def test_problem_bodies_are_checked_for_status_type_and_media_type() -> None:
    good = (b'{"type": "/problems/not-found", "title": "Not Found", "status": 404, "detail": "no", '
            b'"errors": []}')
    expect_problem(_target(), _reply(404, good, "application/problem+json"), status=404,
                   problem_type="/problems/not-found", prop="get.unknown_id", why="x")
    for reply in (_reply(200, b"{}"), _reply(404, good, "application/json"),
                  _reply(404, good.replace(b"not-found", b"missing"), "application/problem+json"),
                  _reply(404, good.replace(b"404,", b"400,"), "application/problem+json")):
        with pytest.raises(ContractFailure) as caught:
            expect_problem(_target(), reply, status=404, problem_type="/problems/not-found", prop="get.unknown_id",
                           why="x")
        assert caught.value.prop == "get.unknown_id"


def test_the_contract_facts_come_from_the_document() -> None:
    contract = Contract.from_document(load_spec())
    assert (contract.list_path, contract.item_path) == ("/customers", "/customers/{id}")
    assert (contract.limit_min, contract.limit_max, contract.limit_default) == (1, 200, 20)
    assert {"id", "emails", "emails.email", "addresses.city", "orders.total"} <= set(contract.field_paths)
    assert set(contract.filters) == {"email", "phone_number", "status", "customer_ids", "created_since",
                                     "updated_since"}
    assert contract.sort_keys == ("created_at", "updated_at", "name")
    assert contract.writes == ("POST", "PATCH", "DELETE")


# ---------------------------------------------------------------------- reports


def _report() -> CheckReport:
    failure = ContractFailure(prop="pagination.no_duplicates", message="customer 'a' is on pages 1 and 2.",
                              expected="each customer once", actual="pages 1 and 2",
                              requests=["GET http://x/customers?limit=2 -> 200"],
                              curl="curl -sS -i http://x/customers?limit=2", seed=5)
    results = [CheckResult("pagination.walk", [failure], 1.5, detail="7 examples"),
               CheckResult("get.unknown_id", [], 0.25, detail="12 examples"),
               CheckResult("writes.lifecycle", [], 0.1, skipped="writes are not supported")]
    return CheckReport("http://x", passed=["get.unknown_id"], failures=[failure], duration=2.0, results=results)


def test_console_handler_prints_progress_then_the_report() -> None:
    progress: list[str] = []
    output: list[str] = []
    handler = ConsoleHandler(progress.append, output.append)
    report = _report()
    for result in report.results:
        handler.on_result(result)
    handler.on_finish(report)

    assert progress == ["FAIL pagination.walk (7 examples, 1.5s) -> pagination.no_duplicates",
                        "ok   get.unknown_id (12 examples, 0.2s)",
                        "skip writes.lifecycle (writes are not supported)"]
    assert output[0].startswith("FAILED http://x: 1 properties held, 1 failed in 2.0s")
    assert "reproduce: curl -sS -i http://x/customers?limit=2" in output[0]


def test_junit_handler_writes_one_testcase_per_result(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "reports" / "contracts.xml"
    JUnitHandler(path).on_finish(_report())

    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert list(cases) == ["pagination.walk", "get.unknown_id", "writes.lifecycle"]
    failure = cases["pagination.walk"].find("failure")
    assert failure is not None and failure.get("type") == "pagination.no_duplicates"
    assert "reproduce: curl" in (failure.text or "") and "seed: 5" in (failure.text or "")
    assert cases["writes.lifecycle"].find("skipped") is not None
    assert cases["get.unknown_id"].get("classname") == "contracts.get"
