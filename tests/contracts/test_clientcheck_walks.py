"""check-client's walk properties (every customer, no duplicates, cursors as issued) on hand-written journals.

What is expected is written out here, never produced by the code under test.
"""

from __future__ import annotations

from contracts.clientcheck.judge import judge
from contracts.clientcheck.pages import READERS
from tests.contracts.clientcheck_journal import (
    IDS,
    ROOT,
    WALK,
    Journal,
    canonical_page,
    ecwid_page,
    evidence,
    failed,
    good_canonical_walk,
    outcome,
)


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


def test_a_page_whose_answer_was_cut_was_not_fetched() -> None:
    """The journal keeps the whole page the mock rendered; the client got half of it, and asks again."""
    journal = Journal("canonical")
    journal.add("GET", "/customers", "limit=2", body=canonical_page(["a1", "a2"], "CUR-B"), fault="profile:malformed")
    good_canonical_walk(journal)
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
