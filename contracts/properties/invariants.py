"""Reusable invariants: a property of one response or of one walk, each raising a named failure.

::

    expect_problem()        status + application/problem+json body of the documented type
    walk() / check_walk()   follow next to the end; pages gapless, disjoint, honest, full
    expected_projection()   what fields= must return, computed from the full record
    matches_filter()        the contract's meaning of each filter[...] key
    sort_key()              what sort[by] orders by
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from contracts.properties.http import PROBLEM_JSON, Reply, Target
from contracts.schema import Contract

__all__ = [
    "Page",
    "Walk",
    "check_walk",
    "expect_problem",
    "expected_projection",
    "key_of",
    "matches_filter",
    "page_of",
    "pages_for",
    "parse_time",
    "same_problem_type",
    "sort_key",
    "walk",
]

_DIGITS = re.compile(r"\D")


def expect_problem(target: Target, reply: Reply, *, status: int | tuple[int, ...], problem_type: str | None,
                   prop: str, why: str) -> None:
    """The reply is an RFC 9457 problem of the documented status and ``type``.

    Raises:
        ContractFailure: wrong status, content type or body.
    """
    statuses = (status,) if isinstance(status, int) else status
    if reply.status not in statuses:
        hint = " (a server error)" if reply.status >= 500 else (
            " (the request was accepted)" if reply.status < 300 else "")
        raise target.fail(prop, f"{why}: expected status {' or '.join(map(str, statuses))}, got "
                                f"{reply.status}{hint}.", expected=statuses[0], actual=reply.status, reply=reply)
    if reply.content_type != PROBLEM_JSON:
        raise target.fail(prop, f"{why}: the error body must be sent as {PROBLEM_JSON}.",
                          expected=PROBLEM_JSON, actual=reply.content_type or None, reply=reply)
    body = reply.json()
    problems = []
    if not isinstance(body, dict):
        problems.append("the body is not a JSON object")
    else:
        if problem_type is not None and not same_problem_type(body.get("type"), problem_type):
            problems.append(f"type is {body.get('type')!r}, not {problem_type!r} (or a URI whose path ends so)")
        if body.get("status") != reply.status:
            problems.append(f"status is {body.get('status')!r}, not the HTTP status {reply.status}")
        for key in ("title", "detail"):
            if not isinstance(body.get(key), str) or not body[key]:
                problems.append(f"{key} is not a non-empty string")
        if not isinstance(body.get("errors"), list):
            problems.append("errors is not an array")
    if problems:
        raise target.fail(prop, f"{why}: the problem body is wrong: {'; '.join(problems)}.",
                          expected={"type": problem_type, "status": reply.status, "title": "...",
                                    "detail": "...", "errors": []},
                          actual=body if body is not None else reply.excerpt(), reply=reply)


def same_problem_type(actual: Any, expected: str) -> bool:
    """Whether a problem ``type`` names the kind ``expected`` (``/problems/<kind>``).

    The contract lets each server choose relative or absolute URIs (``/problems/not-found``,
    ``https://api.example.com/problems/not-found``): the path must end in ``expected``.
    """
    if not isinstance(actual, str):
        return False
    parts = urlsplit(actual)
    return not parts.query and not parts.fragment and parts.path.endswith(expected)


@dataclass
class Page:
    reply: Reply
    items: list[dict[str, Any]]
    next: str | None
    total: Any
    items_on_page: Any
    links_next: Any


@dataclass
class Walk:
    """Every page fetched while following ``next`` from a first page."""

    params: dict[str, str]
    limit: int
    pages: list[Page] = field(default_factory=list)
    ended: bool = False
    """``next`` was null on the last page fetched."""
    looped: bool = False
    """A cursor came back that this walk had already followed."""

    @property
    def items(self) -> list[dict[str, Any]]:
        return [item for page in self.pages for item in page.items]

    @property
    def ids(self) -> list[Any]:
        return [item.get("id") for item in self.items]

    @property
    def total(self) -> Any:
        return self.pages[0].total if self.pages else None


def page_of(target: Target, reply: Reply, *, limit: int, first: bool) -> Page:
    if reply.status != 200:
        if first:
            raise target.fail("pagination.first_page", f"a valid list request was answered {reply.status}.",
                              expected=200, actual=f"{reply.status} {reply.excerpt()}", reply=reply)
        raise target.fail("pagination.follow_next", f"the server answered {reply.status} to a cursor it issued "
                                                    f"itself (meta.cursors.next of the previous page).",
                          expected=200, actual=f"{reply.status} {reply.excerpt()}", reply=reply)
    body = reply.json()
    meta = body.get("meta") if isinstance(body, dict) else None
    cursors = meta.get("cursors") if isinstance(meta, dict) else None
    data = body.get("data") if isinstance(body, dict) else None
    if not (isinstance(body, dict) and isinstance(meta, dict) and isinstance(data, list)
            and isinstance(cursors, dict) and all(isinstance(i, dict) for i in data)):
        raise target.fail("pagination.shape", "a page must be a JSON object with data[] (objects) and "
                                              "meta.cursors; see the CustomerList schema.",
                          actual=reply.excerpt(), reply=reply)
    assert isinstance(body, dict) and isinstance(meta, dict)  # for mypy: checked just above
    links = body["links"] if isinstance(body.get("links"), dict) else {}
    nxt = cursors.get("next")
    page = Page(reply, data, nxt if nxt else None, meta.get("total_count"), meta.get("items_on_page"),
                links.get("next"))
    if page.items_on_page != len(data):
        raise target.fail("pagination.items_on_page", "meta.items_on_page must be the number of customers in data.",
                          expected=len(data), actual=page.items_on_page, reply=reply)
    if len(data) > limit:
        raise target.fail("pagination.limit", f"the page holds more customers than limit={limit}.",
                          expected=f"at most {limit}", actual=len(data), reply=reply)
    if (page.next is None) != (not page.links_next):
        raise target.fail("pagination.last_page", "links.next must be null exactly when meta.cursors.next is.",
                          expected={"cursors.next": page.next, "links.next": "a URL" if page.next else None},
                          actual={"cursors.next": page.next, "links.next": page.links_next}, reply=reply)
    return page


def walk(target: Target, contract: Contract, params: dict[str, str], *, limit: int, max_pages: int) -> Walk:
    """Fetch the first page and follow ``meta.cursors.next`` until it is null.

    Fetches at most ``max_pages`` pages, and never more than the first page's ``total_count``
    needs (plus two), so a server whose cursors never end is caught without walking forever.
    Checks each page on the way (status, shape, ``items_on_page``, at most ``limit`` items,
    ``links.next`` agreeing with the cursor) and stops early on a cursor already followed.

    Raises:
        ContractFailure: a page breaks one of those rules.
    """
    result = Walk(dict(params), limit)
    query = {**params, "limit": str(limit)}
    seen: set[str] = set()
    cursor: str | None = None
    while len(result.pages) < max_pages:
        reply = target.get(contract.list_path, params={**query, **({"cursor": cursor} if cursor else {})})
        page = page_of(target, reply, limit=limit, first=cursor is None)
        result.pages.append(page)
        if len(result.pages) == 1 and isinstance(page.total, int):
            max_pages = min(max_pages, pages_for(page.total, limit) + 2)
        if page.next is None:
            result.ended = True
            break
        if page.next in seen:
            result.looped = True
            break
        seen.add(page.next)
        cursor = page.next
    return result


def key_of(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def check_walk(target: Target, result: Walk, *, expected_order: list[Any] | None = None,
               after_last: Callable[[Walk], list[Any]] | None = None) -> None:
    """The walk ended, visited every customer of ``total_count`` exactly once, with full pages.

    Args:
        expected_order: the collection's ids in walk order when known independently.
        after_last: asks the server, another way, which customers come after the walk's last one.

        Both are used only to tell a ``next`` that is null too early (every customer not reached
        comes after the last one: ``last_page``) from gaps between pages (``complete``).

    Raises:
        ContractFailure: ``pagination.terminates``, ``no_duplicates``, ``last_page``, ``limit``
            or ``complete``.
    """
    pages, limit = result.pages, result.limit
    if result.looped:
        raise target.fail("pagination.terminates", f"walking with limit={limit} never ends: page {len(pages)} "
                                                   f"returned a next cursor this walk had already followed.",
                          expected="new cursors until next=null", actual=f"{len(pages)} pages, next repeats "
                                                                           f"{pages[-1].next!r}",
                          reply=pages[-1].reply)
    seen: dict[str, int] = {}
    for n, page in enumerate(pages):
        for item in page.items:
            key = key_of(item.get("id"))
            if key in seen and seen[key] != n:
                raise target.fail("pagination.no_duplicates", f"customer {item.get('id')!r} is on page "
                                                              f"{seen[key] + 1} and again on page {n + 1} "
                                                              f"(limit={limit}).",
                                  expected="each customer once", actual=f"pages {seen[key] + 1} and {n + 1}",
                                  reply=page.reply)
            if key in seen:
                raise target.fail("pagination.no_duplicates", f"customer {item.get('id')!r} appears twice on "
                                                              f"page {n + 1}.", reply=page.reply)
            seen[key] = n
    full_pages = pages[:-1] if result.ended else pages
    for n, page in enumerate(full_pages):
        if len(page.items) < limit:
            raise target.fail("pagination.limit", f"page {n + 1} holds {len(page.items)} customers but is not the "
                                                  f"last page (its next is not null); only the last page may hold "
                                                  f"fewer than limit={limit}.", expected=limit,
                              actual=len(page.items), reply=page.reply)
    if not result.ended:
        raise target.fail("pagination.terminates", f"the walk with limit={limit} still had a next cursor after "
                                                   f"{len(pages)} full pages, more than total_count={result.total} "
                                                   f"needs.",
                          expected=f"about {pages_for(result.total, limit)} pages, then next=null",
                          actual=f"{len(pages)} pages, next={pages[-1].next!r}", reply=pages[-1].reply)
    ids = list(seen)
    for page in pages[1:]:
        if page.total != result.total:
            raise target.fail("pagination.complete", "meta.total_count changed during one walk (a walk is a "
                                                     "snapshot).", expected=result.total, actual=page.total,
                              reply=page.reply)
    if len(pages) > 1 and not pages[-1].items:
        raise target.fail("pagination.last_page", f"meta.cursors.next was not null on the last page: following "
                                                  f"it (page {len(pages)}) gave an empty page.",
                          expected="next=null on the page holding the last customers",
                          actual=f"page {len(pages) - 1} had next={pages[-2].next!r}", reply=pages[-2].reply)
    total = result.total
    if isinstance(total, int) and len(ids) < total:
        missing = _missing_after_last(result, expected_order, total)
        if missing is None and after_last is not None and result.ids:
            beyond = after_last(result)
            missing = beyond if len(beyond) == total - len(ids) else None
        if missing:
            raise target.fail("pagination.last_page", f"meta.cursors.next is null after {len(ids)} of "
                                                      f"{total} customers: the walk stops before the end.",
                              expected=f"{total} customers, then next=null",
                              actual=f"next=null after page {len(pages)} ({len(ids)} customers); "
                                     f"not reached: {missing[:5]!r}", reply=pages[-1].reply)
    if isinstance(total, int) and len(ids) != total:
        raise target.fail("pagination.complete", f"the walk visited {len(ids)} distinct customers but "
                                                 f"meta.total_count is {total} (limit={limit}).",
                          expected=total, actual=len(ids),
                          reply=pages[-1].reply)
    if not isinstance(total, int):
        raise target.fail("pagination.complete", "meta.total_count must be an integer.", actual=total,
                          reply=pages[0].reply)


def _missing_after_last(result: Walk, expected_order: list[Any] | None, total: int) -> list[Any] | None:
    """Ids not reached, when they are all of them and all come after the last visited customer; else ``None``."""
    if not expected_order:
        return None
    visited = {key_of(i) for i in result.ids}
    order = [key_of(i) for i in expected_order]
    missing = [i for i, k in zip(expected_order, order) if k not in visited]
    if not missing or not result.ids or len(missing) != total - len(visited):
        return None
    last = key_of(result.ids[-1])
    if last not in order:
        return None
    after = set(order[order.index(last) + 1:])
    return missing if all(key_of(m) in after for m in missing) else None


def pages_for(total: Any, limit: int) -> int:
    return max(1, math.ceil(total / limit)) if isinstance(total, int) else 1


def expected_projection(record: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """``record`` reduced to ``paths`` as the contract defines ``fields``.

    A top-level name keeps the value whole; ``parent.child`` keeps ``child`` of every item of
    the ``parent`` array (or object); keys keep the full record's order.
    """
    tree: dict[str, set[str] | None] = {}
    for path in paths:
        head, _, tail = path.partition(".")
        if not tail:
            tree[head] = None
        elif tree.get(head, set()) is not None:
            tree.setdefault(head, set()).add(tail)  # type: ignore[union-attr]
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key not in tree:
            continue
        keep = tree[key]
        if keep is None:
            out[key] = value
        elif isinstance(value, list):
            out[key] = [{k: v for k, v in item.items() if k in keep} if isinstance(item, dict) else item
                        for item in value]
        elif isinstance(value, dict):
            out[key] = {k: v for k, v in value.items() if k in keep}
        else:
            out[key] = value
    return out


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 date-time with offset, or ``None``."""
    if not isinstance(value, str) or not re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value, flags=re.IGNORECASE):
        return None
    try:
        parsed = datetime.fromisoformat(value.upper())
    except ValueError:
        return None
    return parsed.replace(microsecond=0)


def _phone_forms(phone: dict[str, Any]) -> set[str]:
    number = _DIGITS.sub("", str(phone.get("number") or ""))
    area = _DIGITS.sub("", str(phone.get("area_code") or ""))
    country = _DIGITS.sub("", str(phone.get("country_code") or ""))
    return {number, area + number, country + area + number}


def matches_filter(record: dict[str, Any], name: str, value: str) -> bool:
    """Whether a full customer record satisfies ``filter[name]=value`` as the contract defines it."""
    if name == "email":
        wanted = value.strip().lower()
        return any(isinstance(e, dict) and str(e.get("email") or "").lower() == wanted
                   for e in record.get("emails") or ())
    if name == "phone_number":
        wanted = _DIGITS.sub("", value)
        return bool(wanted) and any(isinstance(p, dict) and wanted in _phone_forms(p)
                                    for p in record.get("phone_numbers") or ())
    if name == "status":
        return record.get("status") == value
    if name == "customer_ids":
        return str(record.get("id")) in {p.strip() for p in value.split(",") if p.strip()}
    if name in ("created_since", "updated_since"):
        stamp, since = parse_time(record.get(name.replace("_since", "_at"))), parse_time(value)
        return stamp is not None and since is not None and stamp >= since
    raise ValueError(f"no meaning known for filter[{name}]")


def sort_key(record: dict[str, Any], by: str) -> Any:
    if by == "name":
        return record.get("name") or ""
    return parse_time(record.get(by))
