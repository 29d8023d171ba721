"""The judge of ``contracts check-client``: every property by default, names and groups chosen, and any
journal judged without an exception."""

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
from tests.contracts.clientcheck_journal import (
    IDS,
    ROOT,
    WALK,
    Journal,
    canonical_page,
    ecwid_page,
    evidence,
    good_canonical_walk,
)

RUN = "client.exit_status", "client.within_budget"


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
