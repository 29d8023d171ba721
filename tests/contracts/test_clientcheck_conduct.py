"""check-client's conduct properties (Retry-After, repeated 429s, unsafe retries, exit and budget) on
hand-written journals."""

from __future__ import annotations

import pytest

from contracts.clientcheck.judge import judge
from tests.contracts.clientcheck_journal import (
    IDS,
    Journal,
    canonical_page,
    evidence,
    failed,
    good_canonical_walk,
    outcome,
)

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


def test_an_attempt_whose_body_the_journal_lacks_is_not_judged() -> None:
    """Dropped before the mock read it: the next write of the same size may be another customer."""
    journal = Journal("canonical")
    create(journal, None, unread=True)
    create(journal, 201, body='{"name": "Bob"}')  # as long as BODY
    assert len('{"name": "Bob"}') == len(BODY)
    assert failed(evidence(journal, None), *RETRY) == set()


def test_a_write_whose_answer_was_cut_has_failed_for_the_client() -> None:
    """``truncated``: the mock ran the create (201 in the journal), the client got half an answer."""
    journal = Journal("canonical")
    journal.add("POST", "/customers", operation="create", status=201, request_body=BODY, fault="profile:truncated")
    create(journal, 201)
    report = judge(evidence(journal, None), list(RETRY))
    assert report.failed_properties == ["retries.idempotent_only"]
    assert "201 (profile:truncated)" in report.failures[0].requests[0]
    keyed = Journal("canonical")
    keyed.add("POST", "/customers", operation="create", status=201, request_body=BODY,
              request_headers={"Idempotency-Key": "k"}, fault="profile:delay=5,truncated")
    create(keyed, 201, key="k")
    assert failed(evidence(keyed, None), *RETRY) == set()


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
