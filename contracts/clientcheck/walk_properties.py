"""Walk properties: the client fetched every customer exactly once, following the cursors it was given.

A customer is *fetched* when it is on a list page the mock answered with 2xx (a page lost to a
dropped connection or an error was never the client's). The reference set is what the mock
lists when nothing goes wrong, walked before and after the client ran: customers in both walks
must be fetched; customers created or deleted during the run are not required.

A probe counts: a client that asks for ``limit=1`` to read the total, then walks from the first
page, fetches that first customer twice.
"""

from __future__ import annotations

from typing import Any

from contracts.clientcheck.evidence import Entry, Evidence, page_body, query_of, response_headers
from contracts.clientcheck.judge import NotApplicable, client_property, fail

__all__ = ["deliveries"]

SHOWN_IDS = 10


def deliveries(evidence: Evidence) -> list[tuple[Entry, list[str]]]:
    """Each successful list answer of the flavour with the customer ids it delivered, oldest first."""
    pages = []
    for entry in evidence.list_requests():
        body = page_body(entry)
        if body is not None:
            pages.append((entry, evidence.reader.ids(body)))
    return pages


def _walked(evidence: Evidence) -> list[Entry]:
    if not evidence.complete:
        raise NotApplicable("the journal's ring dropped the client's oldest requests; start the mock with a "
                            "larger --journal-size")
    requests = evidence.list_requests()
    if not requests:
        raise NotApplicable(f"the client sent no {evidence.flavour} list request")
    if not any(isinstance(e.get("response"), dict) for e in requests):
        raise NotApplicable("the journal kept no answers (response capture was off)")
    return requests


def _ids(ids: list[Any]) -> str:
    shown = ", ".join(str(i) for i in ids[:SHOWN_IDS])
    return shown + (f" and {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else "")


@client_property("walk.every_customer")
def every_customer(evidence: Evidence) -> None:
    """Every customer the mock lists was on a page the client fetched (no gaps).

    The reference set is the list walked with nothing going wrong, before and after the run."""
    requests = _walked(evidence)
    if evidence.reference_ids is None:
        raise NotApplicable("the reference list could not be walked")
    fetched = {i for _, ids in deliveries(evidence) for i in ids}
    missing = sorted(evidence.reference_ids - fetched)
    if not missing:
        return
    total = len(evidence.reference_ids)
    notes = []
    for entry in requests:
        body = page_body(entry)
        notes.append((entry, f"{len(evidence.reader.ids(body))} customers" if body is not None else "nothing delivered"))
    raise fail(evidence, "walk.every_customer",
               f"{len(missing)} of the {total} customers the mock lists were never on a page the client fetched "
               f"({_ids(missing)}). Follow the next page until the flavour says there is none, and fetch again a "
               f"page whose request failed.", notes, expected=f"{total} customers", actual=f"{total - len(missing)}")


@client_property("walk.no_duplicates")
def no_duplicates(evidence: Evidence) -> None:
    """No customer was on two pages the client fetched: a page once fetched is not fetched again.

    A walk restarted from the first page after an error fetches its first pages twice."""
    _walked(evidence)
    first_seen: dict[str, Entry] = {}
    repeated: dict[str, tuple[Entry, Entry]] = {}
    for entry, ids in deliveries(evidence):
        for customer in ids:
            if customer in first_seen and customer not in repeated:
                repeated[customer] = (first_seen[customer], entry)
            first_seen.setdefault(customer, entry)
    if not repeated:
        return
    shown: list[tuple[Entry, str]] = []
    seen_pairs = set()
    for customer, (before, again) in repeated.items():
        pair = (id(before), id(again))
        if pair in seen_pairs:
            continue
        seen_pairs.add(pair)
        shown += [(before, f"first fetched {customer}"), (again, f"fetched {customer} again")]
    raise fail(evidence, "walk.no_duplicates",
               f"{len(repeated)} customers were fetched more than once ({_ids(list(repeated))}). Keep the cursor of "
               f"the page that failed and ask for that page again, instead of walking from the start.", shown[:12],
               expected="each customer once", actual=f"{len(repeated)} customers twice or more")


@client_property("walk.cursors_as_issued")
def cursors_as_issued(evidence: Evidence) -> None:
    """Every page position the client sent (cursor, page token, ``page_info``, offset) was issued by an
    earlier answer of the mock: the client passes cursors back exactly as given and never makes one up.

    For offset paging (Ecwid, myBoxx) the issued offset is the answered ``offset + count``;
    ecartAPI's page numbers (``page=3``) need no issuing."""
    requests = _walked(evidence)
    reader = evidence.reader
    issued: set[str] = set()
    last_answer: Entry | None = None
    for entry in requests:
        position = reader.position(query_of(entry))
        if position is not None and reader.needs_issuing(position) and position not in issued:
            shown: list[tuple[Entry, str]] = []
            if last_answer is not None:
                shown.append((last_answer, "the last page answered before it"))
            shown.append((entry, f"{reader.cursor_param}={position} was never issued"))
            raise fail(evidence, "walk.cursors_as_issued",
                       f"the client sent {reader.cursor_param}={_short(position)}, which no earlier answer issued. "
                       f"Pass back exactly the {_how(reader.style)} of the last page; do not compute, edit or "
                       f"reuse cursors from another query.", shown,
                       expected=sorted(issued)[:5] or "no position (the first page)", actual=position)
        body = page_body(entry)
        if body is not None:
            issued |= reader.issued(body, response_headers(entry))
            last_answer = entry


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _how(style: str) -> str:
    return {"offset": "offset + count", "link": "Link rel=\"next\" URL"}.get(style, "next cursor")
