"""The client properties of ``contracts check-client``, judged on hand-written journal entries.

Each journal here is written out by hand in the journal contract's shape (the pages as the
platforms publish them), so what is expected never comes from the code under test.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.clientcheck.evidence import ClientRun, Evidence
from contracts.clientcheck.judge import CLIENT_PROPERTIES, judge, selected
from contracts.clientcheck.pages import READERS
from contracts.failures import UnknownCheck

T0 = 1_796_320_800.0
ROOT = "http://127.0.0.1:9"


class Journal:
    """Builds entries one request at a time, like the mock's journal: ids and times go up."""

    def __init__(self, flavour: str, tenant: str = "t1") -> None:
        self.flavour = flavour
        self.tenant = tenant
        self.entries: list[dict[str, Any]] = []
        self.clock = T0

    def add(self, method: str, path: str, query: str = "", *, status: int | None = 200, body: Any = None,
            headers: dict[str, str] | None = None, after: float = 0.05, operation: str = "list",
            request_body: str | None = None, request_headers: dict[str, str] | None = None,
            tenant: str | None = None, latency_ms: float = 2.0) -> dict[str, Any]:
        self.clock += after
        entry: dict[str, Any] = {
            "id": len(self.entries) + 1, "epoch": self.clock, "method": method, "path": path, "query": query,
            "url": path + (f"?{query}" if query else ""), "headers": {"Authorization": "***", **(request_headers or {})},
            "body": request_body, "body_truncated": False, "status": status, "flavour": self.flavour,
            "tenant": tenant or self.tenant, "operation": operation, "latency_ms": latency_ms,
            "fault": None if status is not None else "profile:reset", "rate_limited": status == 429,
            "worker": 1,
            "response": {"headers": headers or {}, "body": None if body is None else json.dumps(body),
                         "body_truncated": False},
        }
        self.entries.append(entry)
        return entry


def evidence(journal: Journal, reference: set[str] | None, *, exit_code: int | None = 0, timed_out: bool = False,
             stderr: str = "", elapsed: float = 1.0) -> Evidence:
    run = ClientRun(["client"], exit_code, elapsed, 30.0, stderr, timed_out)
    return Evidence(journal.flavour, READERS.get(journal.flavour), journal.entries, run,
                    None if reference is None else frozenset(reference), ROOT)


def outcome(ev: Evidence, *names: str) -> dict[str, str]:
    report = judge(ev, list(names) or None)
    return {r.name: ("skip" if r.skipped is not None else "ok" if r.ok else "FAIL") for r in report.results}


def failed(ev: Evidence, *names: str) -> set[str]:
    return {name for name, status in outcome(ev, *names).items() if status == "FAIL"}


def canonical_page(ids: list[str], next_cursor: str | None, previous: str | None = None) -> dict[str, Any]:
    return {"data": [{"id": i, "name": f"customer {i}"} for i in ids],
            "meta": {"items_on_page": len(ids), "total_count": 6,
                     "cursors": {"previous": previous, "current": None, "next": next_cursor}},
            "links": {"previous": None, "current": "x",
                      "next": None if next_cursor is None else f"{ROOT}/customers?limit=2&cursor={next_cursor}"}}


def ecwid_page(ids: list[int], offset: int, total: int = 6) -> dict[str, Any]:
    return {"total": total, "count": len(ids), "offset": offset, "limit": 2, "items": [{"id": i} for i in ids]}


IDS = {"a1", "a2", "b1", "b2", "c1", "c2"}
WALK = "walk.every_customer", "walk.no_duplicates", "walk.cursors_as_issued"


def good_canonical_walk(journal: Journal) -> None:
    journal.add("GET", "/customers", "limit=2", body=canonical_page(["a1", "a2"], "CUR-B"))
    journal.add("GET", "/customers", "limit=2&cursor=CUR-B", body=canonical_page(["b1", "b2"], "CUR-C", "CUR-A"))
    journal.add("GET", "/customers", "limit=2&cursor=CUR-C", body=canonical_page(["c1", "c2"], None, "CUR-B"))


def test_there_is_a_page_reader_for_every_flavour_of_the_mock() -> None:
    from mockserver import FLAVOURS

    assert sorted(READERS.names()) == sorted(FLAVOURS.names())


# ---- walks --------------------------------------------------------------------------------------


def test_a_complete_walk_holds_every_walk_property() -> None:
    journal = Journal("canonical")
    good_canonical_walk(journal)
    assert outcome(evidence(journal, IDS), *WALK) == dict.fromkeys(WALK, "ok")


def test_a_failed_page_fetched_again_is_neither_a_gap_nor_a_duplicate() -> None:
    journal = Journal("canonical")
    journal.add("GET", "/customers", "limit=2", body=canonical_page(["a1", "a2"], "CUR-B"))
    journal.add("GET", "/customers", "limit=2&cursor=CUR-B", status=None)  # connection dropped
    journal.add("GET", "/customers", "limit=2&cursor=CUR-B", status=500, body={"type": "/problems/internal"})
    journal.add("GET", "/customers", "limit=2&cursor=CUR-B", body=canonical_page(["b1", "b2"], "CUR-C"))
    journal.add("GET", "/customers", "limit=2&cursor=CUR-C", body=canonical_page(["c1", "c2"], None))
    assert failed(evidence(journal, IDS), *WALK) == set()


def test_a_walk_that_stops_early_misses_customers() -> None:
    journal = Journal("canonical")
    journal.add("GET", "/customers", "limit=2", body=canonical_page(["a1", "a2"], "CUR-B"))
    journal.add("GET", "/customers", "limit=2&cursor=CUR-B", body=canonical_page(["b1", "b2"], "CUR-C"))
    report = judge(evidence(journal, IDS), list(WALK))
    assert report.failed_properties == ["walk.every_customer"]
    failure = report.failures[0]
    assert "2 of the 6 customers" in failure.message and "c1, c2" in failure.message
    assert failure.requests[0].startswith("#1 ") and f"GET {ROOT}/customers?limit=2 -> 200" in failure.requests[0]
    assert "[2 customers]" in failure.requests[1]


def test_a_page_lost_to_an_error_and_never_asked_again_is_a_gap() -> None:
    journal = Journal("canonical")
    journal.add("GET", "/customers", "limit=2", body=canonical_page(["a1", "a2"], "CUR-B"))
    journal.add("GET", "/customers", "limit=2&cursor=CUR-B", status=503, body={"title": "unavailable"})
    assert failed(evidence(journal, IDS), *WALK) == {"walk.every_customer"}


def test_a_walk_restarted_after_an_error_fetches_customers_twice() -> None:
    journal = Journal("canonical")
    journal.add("GET", "/customers", "limit=2", body=canonical_page(["a1", "a2"], "CUR-B"))
    journal.add("GET", "/customers", "limit=2&cursor=CUR-B", status=503, body={"title": "unavailable"})
    good_canonical_walk(journal)
    report = judge(evidence(journal, IDS), list(WALK))
    assert report.failed_properties == ["walk.no_duplicates"]
    failure = report.failures[0]
    assert "2 customers were fetched more than once (a1, a2)" in failure.message
    assert [line.split(" ")[0] for line in failure.requests] == ["#1", "#3"]


def test_a_customer_created_during_the_run_is_not_required() -> None:
    journal = Journal("canonical")
    good_canonical_walk(journal)
    # the reference set is what both walks (before and after the run) listed: a1..c2
    assert failed(evidence(journal, IDS), *WALK) == set()
    assert failed(evidence(journal, IDS | {"new"}), *WALK) == {"walk.every_customer"}


def test_a_cursor_nobody_issued_is_flagged_with_the_page_before_it() -> None:
    journal = Journal("canonical")
    journal.add("GET", "/customers", "limit=2", body=canonical_page(["a1", "a2"], "CUR-B"))
    journal.add("GET", "/customers", "limit=2&cursor=CUR-B", body=canonical_page(["b1", "b2"], "CUR-C"))
    journal.add("GET", "/customers", "limit=2&cursor=MADE-UP", body=canonical_page(["c1", "c2"], None))
    report = judge(evidence(journal, IDS), list(WALK))
    assert report.failed_properties == ["walk.cursors_as_issued"]
    failure = report.failures[0]
    assert "cursor=MADE-UP" in failure.message
    assert failure.requests[0].startswith("#2 ") and failure.requests[1].startswith("#3 ")
    assert "cursor=MADE-UP was never issued" in failure.requests[1]


def test_a_cursor_issued_only_after_it_was_sent_is_not_issued() -> None:
    journal = Journal("canonical")
    journal.add("GET", "/customers", "limit=2&cursor=CUR-B", body=canonical_page(["b1", "b2"], "CUR-C"))
    journal.add("GET", "/customers", "limit=2", body=canonical_page(["a1", "a2"], "CUR-B"))
    journal.add("GET", "/customers", "limit=2&cursor=CUR-C", body=canonical_page(["c1", "c2"], None))
    assert failed(evidence(journal, IDS), *WALK) == {"walk.cursors_as_issued"}


def test_a_previous_cursor_counts_as_issued() -> None:
    journal = Journal("canonical")
    good_canonical_walk(journal)
    journal.add("GET", "/customers", "limit=2&cursor=CUR-A", body=canonical_page(["c1", "c2"], None))
    assert "walk.cursors_as_issued" not in failed(evidence(journal, IDS), *WALK)


def test_offsets_are_issued_as_offset_plus_count() -> None:
    journal = Journal("ecwid")
    path = "/ecwid/api/v3/1003/customers"
    journal.add("GET", path, "limit=2", body=ecwid_page([1, 2], 0))
    journal.add("GET", path, "limit=2&offset=2", body=ecwid_page([3, 4], 2))
    journal.add("GET", path, "offset=4&limit=2", body=ecwid_page([5, 6], 4))
    ids = {"1", "2", "3", "4", "5", "6"}
    assert failed(evidence(journal, ids), *WALK) == set()

    jumping = Journal("ecwid")
    jumping.add("GET", path, "limit=2&offset=0", body=ecwid_page([1, 2], 0))
    jumping.add("GET", path, "limit=2&offset=4", body=ecwid_page([5, 6], 4))
    assert failed(evidence(jumping, ids), *WALK) == {"walk.every_customer", "walk.cursors_as_issued"}


def test_myboxx_pages_are_read_inside_its_envelope() -> None:
    journal = Journal("myboxx")
    path = "/myboxx/api/json/v1/ecwid/customers"
    for offset, ids in ((0, [1, 2]), (2, [3, 4]), (4, [5, 6])):
        journal.add("GET", path, f"limit=2&offset={offset}",
                    body={"data": {"id": "u", "type": "ecwid", "attributes": ecwid_page(ids, offset)}})
    assert failed(evidence(journal, {"1", "2", "3", "4", "5", "6"}), *WALK) == set()


def test_shopify_page_info_comes_from_the_link_header() -> None:
    journal = Journal("shopify")
    path = "/shopify/admin/api/2024-01/customers.json"
    link = '<http://x/shopify/admin/api/2024-01/customers.json?page_info=P2&limit=2>; rel="next"'
    journal.add("GET", path, "limit=2", body={"customers": [{"id": 11}, {"id": 12}]}, headers={"Link": link})
    journal.add("GET", path, "page_info=P2&limit=2", body={"customers": [{"id": 13}]})
    assert failed(evidence(journal, {"11", "12", "13"}), *WALK) == set()

    forged = Journal("shopify")
    forged.add("GET", path, "limit=2", body={"customers": [{"id": 11}, {"id": 12}]}, headers={"link": link})
    forged.add("GET", path, "page_info=P3&limit=2", body={"customers": [{"id": 13}]})
    assert failed(evidence(forged, {"11", "12", "13"}), *WALK) == {"walk.cursors_as_issued"}


def test_ecartapi_page_numbers_need_no_issuing_but_tokens_do() -> None:
    journal = Journal("ecartapi")
    path = "/ecartapi/api/v2/customers"
    journal.add("GET", path, "limit=2", body={"customers": [{"id": "1"}], "pagination": {"nextPage": "TOK2"}})
    journal.add("GET", path, "limit=2&page=TOK2", body={"customers": [{"id": "2"}], "pagination": {"nextPage": None}})
    journal.add("GET", path, "limit=2&page=2", body={"customers": [{"id": "2"}], "pagination": {"nextPage": None}})
    assert "walk.cursors_as_issued" not in failed(evidence(journal, {"1", "2"}), *WALK)
    journal.add("GET", path, "limit=2&page=TOK9", body={"customers": [], "pagination": {"nextPage": None}})
    assert "walk.cursors_as_issued" in failed(evidence(journal, {"1", "2"}), *WALK)


def test_walk_properties_do_not_apply_to_a_client_that_never_lists() -> None:
    journal = Journal("canonical")
    journal.add("POST", "/customers", operation="create", status=201, request_body='{"name": "x"}')
    assert outcome(evidence(journal, IDS), *WALK) == dict.fromkeys(WALK, "skip")


def test_other_flavours_requests_are_not_the_walk() -> None:
    journal = Journal("canonical")
    good_canonical_walk(journal)
    other = Journal("apideck")
    other.add("GET", "/apideck/ecommerce/customers", "limit=2&cursor=FOREIGN", body=canonical_page(["a1"], None))
    journal.entries.extend(other.entries)
    assert failed(evidence(journal, IDS), *WALK) == set()


# ---- rate limits --------------------------------------------------------------------------------

RATE = "rate_limit.honours_retry_after", "rate_limit.no_429_after_429"


def limited(journal: Journal, wait_after_429: float, retry_after: str = "1") -> None:
    journal.add("GET", "/customers", "limit=2", body=canonical_page(["a1", "a2"], "CUR-B"))
    journal.add("GET", "/customers", "limit=2&cursor=CUR-B", status=429, headers={"Retry-After": retry_after},
                latency_ms=0.0)
    journal.add("GET", "/customers", "limit=2&cursor=CUR-B", body=canonical_page(["b1", "b2"], "CUR-C"),
                after=wait_after_429)


def test_waiting_retry_after_holds_and_coming_early_does_not() -> None:
    waited = Journal("canonical")
    limited(waited, 1.0)
    assert outcome(evidence(waited, None), *RATE) == dict.fromkeys(RATE, "ok")

    early = Journal("canonical")
    limited(early, 0.5)
    report = judge(evidence(early, None), list(RATE))
    assert report.failed_properties == ["rate_limit.honours_retry_after"]
    failure = report.failures[0]
    assert "0.50 s after 'Retry-After: 1'" in failure.message
    assert "Retry-After: 1" in failure.requests[0] and "sent 0.50 s later" in failure.requests[1]


def test_retry_after_allows_a_tenth_of_a_second_and_counts_from_the_answer() -> None:
    nearly = Journal("canonical")
    limited(nearly, 0.92)
    assert failed(evidence(nearly, None), *RATE) == set()
    # the answer left 300 ms after the request arrived: the wait counts from then
    slow = Journal("canonical")
    slow.add("GET", "/customers", "limit=2", status=429, headers={"retry-after": "1"}, latency_ms=300.0)
    slow.add("GET", "/customers", "limit=2", body=canonical_page(["a1"], None), after=1.1)
    assert failed(evidence(slow, None), *RATE) == {"rate_limit.honours_retry_after"}


def test_decimal_retry_after_and_503_count_too() -> None:
    shopify = Journal("canonical")
    limited(shopify, 0.3, retry_after="0.5")
    assert failed(evidence(shopify, None), *RATE) == {"rate_limit.honours_retry_after"}
    unavailable = Journal("canonical")
    unavailable.add("GET", "/customers", "limit=2", status=503, headers={"Retry-After": "1"}, latency_ms=0)
    unavailable.add("GET", "/customers", "limit=2", body=canonical_page(["a1"], None), after=0.2)
    assert outcome(evidence(unavailable, None), *RATE) == {"rate_limit.honours_retry_after": "FAIL",
                                                           "rate_limit.no_429_after_429": "skip"}


def test_another_tenant_may_go_on_while_one_waits() -> None:
    journal = Journal("canonical")
    journal.add("GET", "/customers", "limit=2", status=429, headers={"Retry-After": "1"}, latency_ms=0)
    journal.add("GET", "/customers", "limit=2", body=canonical_page(["a1"], None), after=0.1, tenant="t2")
    journal.add("GET", "/customers", "limit=2", body=canonical_page(["a1"], None), after=1.0)
    assert failed(evidence(journal, None), *RATE) == set()


def test_a_429_right_after_a_429_is_flagged() -> None:
    journal = Journal("canonical")
    journal.add("GET", "/customers", "limit=2", status=429, headers={"Retry-After": "1"}, latency_ms=0)
    journal.add("GET", "/customers", "limit=2", status=429, headers={"Retry-After": "1"}, after=0.05)
    journal.add("GET", "/customers", "limit=2", status=429, headers={"Retry-After": "1"}, after=0.05)
    journal.add("GET", "/customers", "limit=2", body=canonical_page(["a1"], None), after=1.0)
    report = judge(evidence(journal, None), list(RATE))
    assert report.failed_properties == sorted(RATE)
    repeated = next(f for f in report.failures if f.prop == "rate_limit.no_429_after_429")
    assert "2 times" in repeated.message
    assert [line.split(" ")[0] for line in repeated.requests] == ["#1", "#2", "#3"]


def test_a_request_already_in_flight_when_the_429_left_is_not_the_next_one() -> None:
    """A concurrent client: #2 arrived before #1's 429 was answered, and finished after it."""
    journal = Journal("canonical")
    journal.add("GET", "/customers", "limit=2", status=429, headers={"Retry-After": "1"}, latency_ms=20.0)
    journal.add("GET", "/customers", "limit=2&cursor=CUR-B", status=429, headers={"Retry-After": "1"},
                after=0.01, latency_ms=30.0)
    journal.add("GET", "/customers", "limit=2", body=canonical_page(["a1"], None), after=1.05)
    journal.add("GET", "/customers", "limit=2&cursor=CUR-B", body=canonical_page(["b1"], None), after=0.01)
    assert outcome(evidence(journal, None), *RATE) == dict.fromkeys(RATE, "ok")
    journal.entries[2]["epoch"] -= 0.5  # the retry of #1 half a second early
    assert outcome(evidence(journal, None), *RATE) == {"rate_limit.honours_retry_after": "FAIL",
                                                       "rate_limit.no_429_after_429": "ok"}


def test_a_429_without_retry_after_is_still_judged_by_the_next_answer() -> None:
    journal = Journal("canonical")
    journal.add("GET", "/customers", "limit=2", status=429, latency_ms=0)
    journal.add("GET", "/customers", "limit=2", status=429, after=0.01)
    assert outcome(evidence(journal, None), *RATE) == {"rate_limit.honours_retry_after": "skip",
                                                       "rate_limit.no_429_after_429": "FAIL"}


def test_rate_properties_do_not_apply_without_a_429() -> None:
    journal = Journal("canonical")
    good_canonical_walk(journal)
    assert outcome(evidence(journal, IDS), *RATE) == dict.fromkeys(RATE, "skip")


# ---- retries ------------------------------------------------------------------------------------

RETRY = ("retries.idempotent_only",)
BODY = '{"name": "Ada"}'


def create(journal: Journal, status: int | None, body: str = BODY, key: str | None = None,
           method: str = "POST", unread: bool = False) -> None:
    """One write; ``unread``: the mock failed it before reading its body (the journal has none)."""
    headers = {"Content-Length": str(len(body.encode()))}
    if key:
        headers["Idempotency-Key"] = key
    journal.add(method, "/customers", operation="create", status=status, request_body=None if unread else body,
                request_headers=headers)


@pytest.mark.parametrize("first", [None, 500, 503], ids=["dropped", "500", "503"])
def test_a_failed_post_sent_again_with_the_same_body_is_flagged(first: int | None) -> None:
    journal = Journal("canonical")
    create(journal, first)
    create(journal, 201)
    report = judge(evidence(journal, None), list(RETRY))
    assert report.failed_properties == ["retries.idempotent_only"]
    assert "1 failed POST requests were sent again" in report.failures[0].message
    assert [line.split(" ")[0] for line in report.failures[0].requests] == ["#1", "#2"]


def test_the_same_idempotency_key_on_both_attempts_makes_a_retry_safe() -> None:
    keyed = Journal("canonical")
    create(keyed, None, key="k-1")
    create(keyed, 201, key="k-1")
    assert failed(evidence(keyed, None), *RETRY) == set()
    changed = Journal("canonical")
    create(changed, None, key="k-1")
    create(changed, 201, key="k-2")
    assert failed(evidence(changed, None), *RETRY) == {"retries.idempotent_only"}


@pytest.mark.parametrize(("first", "method", "second_body"), [
    (429, "POST", BODY),          # refused before it ran
    (201, "POST", BODY),          # it worked: a second identical customer is the client's wish
    (None, "POST", '{"name": "Bob"}'),  # another customer, not a retry
    (None, "PUT", BODY),          # idempotent
    (503, "DELETE", None),        # idempotent
])
def test_what_is_not_an_unsafe_retry(first: int | None, method: str, second_body: str | None) -> None:
    journal = Journal("canonical")
    create(journal, first, body=BODY if second_body is not None else "", method=method)
    create(journal, 201, body=second_body if second_body is not None else "", method=method)
    assert outcome(evidence(journal, None), *RETRY) == {
        "retries.idempotent_only": "ok" if method == "POST" else "skip"}


def test_an_attempt_failed_before_its_body_was_read_matches_by_content_length() -> None:
    journal = Journal("canonical")
    create(journal, None, unread=True)
    create(journal, 201)
    assert failed(evidence(journal, None), *RETRY) == {"retries.idempotent_only"}
    other = Journal("canonical")
    create(other, 503, unread=True)
    create(other, 201, body='{"name": "Someone else"}')
    assert failed(evidence(other, None), *RETRY) == set()


def test_unread_attempts_of_different_customers_are_not_each_others_retries() -> None:
    """Two customers, each failed once (no body journaled) and retried with its own key."""
    journal = Journal("canonical")
    create(journal, None, key="k-ada", unread=True)
    create(journal, 201, key="k-ada")
    create(journal, 503, body='{"name": "Bob"}', key="k-bob", unread=True)
    create(journal, 201, body='{"name": "Bob"}', key="k-bob")
    assert failed(evidence(journal, None), *RETRY) == set()


def test_a_patch_counts_like_a_post() -> None:
    journal = Journal("canonical")
    journal.add("PATCH", "/customers/1", operation="update", status=None, request_body=BODY)
    journal.add("PATCH", "/customers/1", operation="update", status=200, request_body=BODY)
    assert failed(evidence(journal, None), *RETRY) == {"retries.idempotent_only"}


# ---- the run ------------------------------------------------------------------------------------

RUN = "client.exit_status", "client.within_budget"


def test_a_crash_is_reported_with_the_end_of_stderr() -> None:
    journal = Journal("canonical")
    good_canonical_walk(journal)
    report = judge(evidence(journal, IDS, exit_code=3, stderr="Traceback...\nKeyError: 'next'\n"), list(RUN))
    assert report.failed_properties == ["client.exit_status"]
    assert "exited with status 3" in report.failures[0].message
    assert "| KeyError: 'next'" in report.failures[0].message


def test_a_client_stopped_at_the_budget_fails_the_budget_only() -> None:
    journal = Journal("canonical")
    good_canonical_walk(journal)
    ev = evidence(journal, IDS, exit_code=None, timed_out=True, elapsed=30.2)
    assert outcome(ev, *RUN) == {"client.exit_status": "skip", "client.within_budget": "FAIL"}


def test_every_property_is_judged_by_default_and_names_can_be_chosen() -> None:
    journal = Journal("canonical")
    good_canonical_walk(journal)
    report = judge(evidence(journal, IDS))
    assert [r.name for r in report.results] == list(CLIENT_PROPERTIES)
    assert report.ok
    assert selected(["walk"]) == list(WALK)
    assert selected(["rate_limit.no_429_after_429", "client"]) == ["rate_limit.no_429_after_429", *RUN]
    with pytest.raises(UnknownCheck, match="unknown client property 'walks'"):
        selected(["walks"])


# ---- any journal: judged, never a crash -----------------------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=8)
KEYS = ("id", "epoch", "time", "method", "path", "query", "url", "headers", "body", "status", "flavour", "tenant",
        "operation", "latency_ms", "response")
PAGE = st.sampled_from([canonical_page(["a1"], "CUR-B"), ecwid_page([1], 0), {"customers": [{"id": 1}]}, {}])
RESPONSE = st.fixed_dictionaries({}, optional={
    "headers": st.dictionaries(st.sampled_from(["Retry-After", "Link", "X"]), st.text(max_size=12) | JSON),
    "body": PAGE.map(json.dumps) | JSON, "body_truncated": st.booleans()})
ENTRY = st.fixed_dictionaries({}, optional={
    **{key: JSON for key in KEYS},
    "status": st.sampled_from([None, 200, 429, 500, 503, "200"]) | JSON,
    "method": st.sampled_from(["GET", "POST", "PATCH", None, 3]),
    "flavour": st.sampled_from(["canonical", "ecwid", "shopify", None]),
    "operation": st.sampled_from(["list", "create", None]),
    "epoch": st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=4) | st.none(),
    "response": RESPONSE | JSON,
})


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(ENTRY, max_size=8), st.sampled_from(["canonical", "ecwid", "shopify"]))
def test_any_journal_is_judged_without_an_exception(entries: list[dict[str, Any]], flavour: str) -> None:
    """Whatever the journal holds (missing keys, wrong types, cut bodies), every property answers."""
    ev = Evidence(flavour, READERS.get(flavour), entries, ClientRun(["client"], 0, 1.0, 30.0), frozenset({"1"}),
                  ROOT)
    report = judge(ev)
    assert [r.name for r in report.results] == list(CLIENT_PROPERTIES)
    for failure in report.failures:
        assert failure.render()
