"""Reusable contract invariants and the Hypothesis properties ``contracts check`` runs.

Everything here judges *what the server says* against the contract, never against our
dataset: a correct implementation with other data, id and cursor formats passes.

::

    Target / Reply            a recording HTTP client; every failure carries the requests it made
    walk() / check_walk()     follow ``next`` to the end; pages gapless, disjoint, honest
    expected_projection()     what ``fields=`` must return, computed from the full record
    expect_problem()          status + ``application/problem+json`` body of the documented type
    matches_filter()          the contract's meaning of each ``filter[...]`` key
    PROPERTIES                name -> Property (group, cost, body), run by :func:`run_property`

Bounds (so a check of a huge server stays fast): a walk never fetches more than
``Budget.max_pages`` pages (page sizes are drawn so a complete walk fits), and the full-walk
properties work on a *reference collection* of at most ``Budget.walk_max_items`` customers:
the whole collection when ``total_count`` is that small, otherwise the newest customers
(``filter[created_since]`` window found with a descending sort). Sub-collections for small
page sizes are ``filter[customer_ids]`` samples of it.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, Verbosity, example, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import Flaky

from contracts.failures import CheckResult, ContractFailure, curl_line
from contracts.schema import Contract

__all__ = [
    "PROPERTIES",
    "Budget",
    "Context",
    "Property",
    "Reply",
    "Target",
    "Walk",
    "check_walk",
    "expect_problem",
    "expected_projection",
    "matches_filter",
    "run_property",
    "walk",
]

PROBLEM_JSON = "application/problem+json"
TOKEN_VARIABLE = "CONTRACTS_TOKEN"
DEFAULT_TOKEN = "contract-token"
_DIGITS = re.compile(r"\D")
_URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


# --------------------------------------------------------------------------- HTTP


@dataclass
class Reply:
    """One request and its response, as the target answered it."""

    method: str
    url: str
    status: int
    headers: httpx.Headers
    content: bytes
    request_headers: dict[str, str]
    request_body: str | None = None
    _json: Any = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The parsed body, or ``None`` when it is not JSON."""
        if not self._parsed:
            self._parsed = True
            try:
                self._json = json.loads(self.content) if self.content else None
            except ValueError:
                self._json = None
        return self._json

    def line(self) -> str:
        return f"{self.method} {self.url} -> {self.status}"

    def excerpt(self, limit: int = 300) -> str:
        text = self.content.decode("utf-8", "replace")
        return text if len(text) <= limit else text[: limit - 3] + "..."


class Target:
    """The server under test: an ``httpx.Client`` that records every exchange.

    Args:
        client: with ``base_url`` set (and a ``WSGITransport`` for in-process apps).
        token: the bearer token sent unless a request says ``auth=False``.
    """

    def __init__(self, client: httpx.Client, token: str) -> None:
        self.client = client
        self.token = token
        self.log: list[Reply] = []
        self.count = 0
        """Requests sent so far (the log only keeps the current example's)."""

    def request(self, method: str, path: str, *, params: dict[str, Any] | list[tuple[str, str]] | None = None,
                body: Any = None, auth: bool = True, headers: dict[str, str] | None = None) -> Reply:
        sent = dict(headers or {})
        if auth:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        content = None
        if body is not None:
            content = json.dumps(body, ensure_ascii=False)
            sent.setdefault("Content-Type", "application/json")
        query = [(k, str(v)) for k, v in (params.items() if isinstance(params, dict) else params or [])]
        response = self.client.request(method, path, params=query, content=content, headers=sent)
        reply = Reply(method, str(response.url), response.status_code, response.headers, response.content,
                      sent, content)
        self.log.append(reply)
        self.count += 1
        return reply

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def curl(self, reply: Reply) -> str:
        """A curl line for ``reply``'s request; a token other than the default is read from $CONTRACTS_TOKEN."""
        headers = dict(reply.request_headers)
        secret = headers.get("Authorization") == f"Bearer {self.token}" and self.token != DEFAULT_TOKEN
        if secret:
            headers["Authorization"] = "Bearer __TOKEN__"
        line = curl_line(reply.method, reply.url, headers, reply.request_body)
        if secret:
            line = line.replace("'Authorization: Bearer __TOKEN__'", f'"Authorization: Bearer ${TOKEN_VARIABLE}"')
        return line

    def fail(self, prop: str, message: str, *, expected: Any = None, actual: Any = None,
             reply: Reply | None = None) -> ContractFailure:
        """A failure carrying this example's requests and a curl line for ``reply`` (default: the last one)."""
        reply = reply or (self.log[-1] if self.log else None)
        return ContractFailure(prop=prop, message=message, expected=expected, actual=actual,
                               requests=[r.line() for r in self.log], curl=self.curl(reply) if reply else None)


# ------------------------------------------------------------------ invariants


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
        if problem_type is not None and body.get("type") != problem_type:
            problems.append(f"type is {body.get('type')!r}, not {problem_type!r}")
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


def _page(target: Target, reply: Reply, *, limit: int, first: bool) -> Page:
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
    if not (isinstance(data, list) and isinstance(cursors, dict) and all(isinstance(i, dict) for i in data)):
        raise target.fail("pagination.shape", "a page must be a JSON object with data[] (objects) and "
                                              "meta.cursors; see the CustomerList schema.",
                          actual=reply.excerpt(), reply=reply)
    links = body.get("links") if isinstance(body.get("links"), dict) else {}
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
    """Fetch the first page and follow ``meta.cursors.next`` until it is null (at most ``max_pages`` pages).

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
        page = _page(target, reply, limit=limit, first=cursor is None)
        result.pages.append(page)
        if page.next is None:
            result.ended = True
            break
        if page.next in seen:
            result.looped = True
            break
        seen.add(page.next)
        cursor = page.next
    return result


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def check_walk(target: Target, result: Walk, *, expected_order: list[Any] | None = None) -> None:
    """The walk ended, visited every customer of ``total_count`` exactly once, with full pages.

    Args:
        expected_order: the collection's ids in walk order when known independently (used
            only to tell a ``next`` that is null too early from a gap between pages).

    Raises:
        ContractFailure: ``pagination.terminates``, ``no_duplicates``, ``last_page``, ``limit``
            or ``complete``.
    """
    pages, limit = result.pages, result.limit
    if result.looped or not result.ended:
        how = "returned a cursor it had already issued in this walk" if result.looped else (
            f"still had a next cursor after {len(pages)} pages")
        raise target.fail("pagination.terminates", f"walking with limit={limit} never ends: the server {how} "
                                                   f"(total_count={result.total}).",
                          expected=f"about {_pages_for(result.total, limit)} pages, then next=null",
                          actual=f"{len(pages)} pages, next={pages[-1].next!r}")
    ids = [_key(i) for i in result.ids]
    seen: dict[str, int] = {}
    for n, page in enumerate(pages):
        for item in page.items:
            key = _key(item.get("id"))
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
    for n, page in enumerate(pages[:-1]):
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
        missing = _missing_after_last(result, expected_order)
        if missing is not None and pages[-1].items and len(pages[-1].items) == limit:
            raise target.fail("pagination.last_page", f"meta.cursors.next is null after {len(ids)} of "
                                                      f"{total} customers: the walk stops before the end.",
                              expected=f"{total} customers, then next=null",
                              actual=f"next=null after page {len(pages)} ({len(ids)} customers); "
                                     f"not reached: {missing[:5]!r}", reply=pages[-1].reply)
    for n, page in enumerate(pages[:-1]):
        if len(page.items) < limit:
            raise target.fail("pagination.limit", f"page {n + 1} holds {len(page.items)} customers but is not the "
                                                  f"last page; only the last page may hold fewer than limit="
                                                  f"{limit}.", expected=limit, actual=len(page.items),
                              reply=page.reply)
    if isinstance(total, int) and len(ids) != total:
        raise target.fail("pagination.complete", f"the walk visited {len(ids)} distinct customers but "
                                                 f"meta.total_count is {total} (limit={limit}).",
                          expected=total, actual=len(ids),
                          reply=pages[-1].reply)
    if not isinstance(total, int):
        raise target.fail("pagination.complete", "meta.total_count must be an integer.", actual=total,
                          reply=pages[0].reply)


def _missing_after_last(result: Walk, expected_order: list[Any] | None) -> list[Any] | None:
    """Ids not reached, when every one of them comes after the last visited customer; else ``None``."""
    if not expected_order:
        return None
    visited = {_key(i) for i in result.ids}
    order = [_key(i) for i in expected_order]
    missing = [i for i, k in zip(expected_order, order) if k not in visited]
    if not missing or not result.ids:
        return None
    last = _key(result.ids[-1])
    if last not in order:
        return None
    after = set(order[order.index(last) + 1:])
    return missing if all(_key(m) in after for m in missing) else None


def _pages_for(total: Any, limit: int) -> int:
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
        parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
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


# ------------------------------------------------------------------- context


@dataclass(frozen=True)
class Budget:
    """How much one check run may ask of the server."""

    max_examples: int = 25
    """Hypothesis examples for cheap properties; walk-heavy ones use a fraction (see ``Property.cost``)."""
    walk_max_items: int = 1000
    """Largest reference collection walked in full."""
    max_pages: int = 100
    """Most pages one walk may fetch (page sizes are drawn so that a complete walk fits)."""


@dataclass
class Universe:
    """The reference collection: customers the full-walk properties know about."""

    params: dict[str, str]
    """Filters that define it (empty: the whole collection)."""
    items: list[dict[str, Any]]
    complete: bool
    """True when it is the whole collection (no window)."""

    @property
    def ids(self) -> list[Any]:
        return [item.get("id") for item in self.items]


class Skip(Exception):
    """The property cannot run against this server (e.g. no customers, no write support)."""


@dataclass
class Context:
    """What a property runs against."""

    target: Target
    contract: Contract
    seed: int = 0
    budget: Budget = field(default_factory=Budget)
    _universe: Universe | None = None

    def universe(self) -> Universe:
        """The reference collection (walked once, with the largest page size)."""
        if self._universe is None:
            self._universe = self._reference()
        return self._universe

    def _reference(self) -> Universe:
        c, budget, target = self.contract, self.budget, self.target
        first = _page(target, target.get(c.list_path, params={"limit": c.limit_max}), limit=c.limit_max, first=True)
        params: dict[str, str] = {}
        total = first.total if isinstance(first.total, int) else 0
        if total > budget.walk_max_items and "created_since" in c.filters and "created_at" in c.sort_keys:
            newest = walk(target, c, {"sort[by]": "created_at", "sort[direction]": "desc"}, limit=c.limit_max,
                          max_pages=max(1, budget.walk_max_items // c.limit_max))
            since = newest.items[-1].get("created_at") if newest.items else None
            if isinstance(since, str):
                params = {"filter[created_since]": since}
        pages = min(budget.max_pages, _pages_for(min(total, budget.walk_max_items * 2), c.limit_max) + 1)
        result = walk(target, c, params, limit=c.limit_max, max_pages=pages)
        items, seen = [], set()
        for item in result.items:
            key = _key(item.get("id"))
            if key not in seen:
                seen.add(key)
                items.append(item)
        return Universe(params, items, complete=not params)

    def limits(self, size: int) -> st.SearchStrategy[int]:
        """Page sizes for a walk of ``size`` customers that fits in the page budget (shrinks to the smallest)."""
        c = self.contract
        low = max(c.limit_min, math.ceil(max(size, 1) / (self.budget.max_pages - 1)))
        return st.integers(min(low, c.limit_max), c.limit_max)

    def walk_pages(self, size: int, limit: int) -> int:
        return min(self.budget.max_pages, _pages_for(size, limit) + 2)


# ----------------------------------------------------------------- registry


@dataclass(frozen=True)
class Property:
    """A named Hypothesis property: ``build(ctx)`` gives the strategy, explicit examples and the test body."""

    name: str
    group: str
    cost: int
    """Examples are ``max_examples // cost`` (at least 2): walks cost more than single requests."""
    build: Callable[[Context], tuple[st.SearchStrategy[Any], list[Any], Callable[[Any], None]]]
    doc: str


PROPERTIES: dict[str, Property] = {}


def prop(name: str, cost: int = 1) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a property builder under ``name`` (its group is the part before the dot)."""

    def register(build: Callable[..., Any]) -> Callable[..., Any]:
        if name in PROPERTIES:
            raise ValueError(f"a property named {name!r} is already registered")
        PROPERTIES[name] = Property(name, name.split(".")[0], cost, build, (build.__doc__ or "").strip())
        return build

    return register


def run_property(ctx: Context, name: str) -> CheckResult:
    """Run one registered property with Hypothesis; the result holds its (shrunk) failure, if any."""
    spec = PROPERTIES[name]
    started = time.perf_counter()
    examples_run = 0
    try:
        strategy, explicit, body = spec.build(ctx)
    except Skip as why:
        return CheckResult(name, skipped=str(why), elapsed=time.perf_counter() - started)
    except ContractFailure as failure:
        failure.seed = ctx.seed
        return CheckResult(name, [failure], time.perf_counter() - started)

    def test(value: Any) -> None:
        nonlocal examples_run
        examples_run += 1
        ctx.target.log.clear()
        try:
            body(value)
        except (ContractFailure, Skip):
            raise
        except httpx.HTTPError as exc:
            raise ctx.target.fail(name, f"the request failed: {type(exc).__name__}: {exc}. The server dropped "
                                        f"the connection or did not answer in time.") from None
        except Exception as exc:  # noqa: BLE001 - an answer the check did not foresee is reported, not raised
            raise ctx.target.fail(name, f"the check could not interpret the server's answers "
                                        f"({type(exc).__name__}: {exc}).") from None

    runs = max(2, ctx.budget.max_examples // spec.cost)
    wrapped = given(strategy)(test)
    for value in reversed(explicit):
        wrapped = example(value)(wrapped)
    wrapped = settings(max_examples=runs, deadline=None, database=None, print_blob=False,
                       report_multiple_bugs=False, verbosity=Verbosity.quiet,
                       suppress_health_check=list(HealthCheck),
                       phases=[Phase.explicit, Phase.generate, Phase.shrink])(wrapped)
    wrapped = hypothesis_seed(ctx.seed)(wrapped)
    failures: list[ContractFailure] = []
    skipped = None
    try:
        wrapped()
    except ContractFailure as failure:
        failures.append(failure)
    except Skip as why:
        skipped = str(why)
    except Flaky as flaky:
        inner = next((e for e in _leaves(flaky) if isinstance(e, ContractFailure)), None)
        if inner is None:
            raise
        inner.message += (" The failure did not repeat when the same requests were sent again: the server "
                          "answers the same requests differently.")
        failures.append(inner)
    for failure in failures:
        failure.seed = ctx.seed
    return CheckResult(name, failures, time.perf_counter() - started, skipped=skipped,
                       detail=f"{examples_run} examples")


def _leaves(error: BaseException) -> Iterator[BaseException]:
    yield error
    for inner in getattr(error, "exceptions", ()) or ():
        yield from _leaves(inner)
    if error.__cause__ is not None:
        yield from _leaves(error.__cause__)


# ---------------------------------------------------------------- helpers


def _sort_params(by: str | None, direction: str | None) -> dict[str, str]:
    return {**({"sort[by]": by} if by else {}), **({"sort[direction]": direction} if direction else {})}


def _sorts(ctx: Context) -> st.SearchStrategy[tuple[str | None, str | None]]:
    c = ctx.contract
    return st.tuples(st.sampled_from([None, *c.sort_keys]), st.sampled_from([None, *c.sort_directions]))


def _need_items(ctx: Context, n: int = 1) -> Universe:
    universe = ctx.universe()
    if len(universe.items) < n:
        raise Skip(f"the server lists {len(universe.items)} customers; this property needs at least {n}")
    return universe


def _ordered(universe: Universe, ids: list[Any] | None, by: str | None, direction: str | None) -> list[Any]:
    """The expected walk order of ``ids`` (all of the universe when ``None``) under a sort."""
    wanted = None if ids is None else {_key(i) for i in ids}
    items = [i for i in universe.items if wanted is None or _key(i.get("id")) in wanted]
    by = by or "created_at"
    keyed = [(sort_key(i, by), n, i.get("id")) for n, i in enumerate(items)]
    if any(k is None for k, _, _ in keyed):
        return [i for _, _, i in keyed]
    keyed.sort(key=lambda t: (t[0], t[1]), reverse=direction == "desc")
    return [i for _, _, i in keyed]


def _id_sample(universe: Universe, max_size: int = 40) -> st.SearchStrategy[list[Any]]:
    """Distinct ids of the reference collection (shrinks towards the first one alone)."""
    ids = universe.ids
    return st.lists(st.integers(0, len(ids) - 1), min_size=1, max_size=min(max_size, len(ids)),
                    unique=True).map(lambda picks: [ids[i] for i in sorted(picks)])


def _ids_param(ids: list[Any]) -> str:
    return ",".join(str(i) for i in ids)


# --------------------------------------------------------------- pagination


@prop("pagination.walk", cost=3)
def _pagination_walk(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """For any limit (and sort), following next from the first page ends, visits every customer
    exactly once (no duplicates, no gaps vs total_count), never returns more than limit items,
    keeps items_on_page honest and has next=null exactly on the last page."""
    universe = ctx.universe()
    size = len(universe.items)
    subset = st.tuples(st.just("subset"), _id_sample(universe)) if universe.items else st.nothing()
    collection = st.one_of(subset, st.just(("all", None)))
    strategy = collection.flatmap(lambda col: st.tuples(
        st.just(col), ctx.limits(len(col[1]) if col[1] is not None else size), _sorts(ctx)))
    c = ctx.contract
    smallest = max(c.limit_min, math.ceil(max(size, 1) / (ctx.budget.max_pages - 1)))
    explicit = [(("all", None), c.limit_max, (None, None)), (("all", None), smallest, (None, None))]
    if size > 2:
        explicit.append((("all", None), min(c.limit_max, max(smallest, size // 2 + 1)), (None, None)))

    def body(value: Any) -> None:
        (_, ids), limit, (by, direction) = value
        params = {**universe.params, **_sort_params(by, direction)}
        if ids is not None:
            params["filter[customer_ids]"] = _ids_param(ids)
        n = len(ids) if ids is not None else size
        result = walk(ctx.target, c, params, limit=limit, max_pages=ctx.walk_pages(n, limit))
        check_walk(ctx.target, result, expected_order=_ordered(universe, ids, by, direction))

    return strategy, explicit, body


@prop("pagination.stable", cost=5)
def _pagination_stable(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """The same walk twice gives the same pages, customers and order."""
    universe = ctx.universe()
    size = len(universe.items)
    strategy = st.tuples(ctx.limits(size), _sorts(ctx))

    def body(value: Any) -> None:
        limit, (by, direction) = value
        params = {**universe.params, **_sort_params(by, direction)}
        pages = ctx.walk_pages(size, limit)
        first = walk(ctx.target, ctx.contract, params, limit=limit, max_pages=pages)
        second = walk(ctx.target, ctx.contract, params, limit=limit, max_pages=pages)
        a = [[_key(i) for i in p.items] for p in first.pages]
        b = [[_key(i) for i in p.items] for p in second.pages]
        if a != b:
            n = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            raise ctx.target.fail("pagination.stable", f"walking the same query twice gave different pages "
                                                       f"(first difference on page {n + 1}, limit={limit}).",
                                  expected=a[n] if n < len(a) else None, actual=b[n] if n < len(b) else None)
        if first.items != second.items:
            raise ctx.target.fail("pagination.stable", "walking the same query twice returned the same customers "
                                                       "with different content.")

    return strategy, [(ctx.contract.limit_default, (None, None))], body


@prop("pagination.bad_cursor")
def _pagination_bad_cursor(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """A garbage cursor, or a cursor issued for another query, is a 400 invalid-cursor problem
    (not a 500, and not page one)."""
    c = ctx.contract
    garbage = st.text(alphabet=_URLSAFE, min_size=0, max_size=40).map(lambda s: "Zz" + s + "Q")
    foreign_queries = []
    if len(c.sort_keys) > 1:
        foreign_queries.append(_sort_params(c.sort_keys[-1], c.sort_directions[-1] if c.sort_directions else None))
    if "status" in c.filters:
        foreign_queries.append({"filter[status]": "archived"})
    strategy = st.one_of(st.tuples(st.just("garbage"), garbage),
                         st.tuples(st.just("foreign"), st.sampled_from(foreign_queries or [{}])))

    def body(value: Any) -> None:
        kind, payload = value
        if kind == "garbage":
            cursor, why = payload, "a cursor the server never issued"
            reply = ctx.target.get(c.list_path, params={"limit": 2, "cursor": cursor})
        else:
            universe = _need_items(ctx, 2)
            issued = ctx.target.get(c.list_path, params={**universe.params, **payload, "limit": 1})
            page = _page(ctx.target, issued, limit=1, first=True)
            if page.next is None:
                return
            why = f"a cursor issued for another query ({', '.join(f'{k}={v}' for k, v in payload.items())})"
            reply = ctx.target.get(c.list_path, params={**universe.params, "limit": 1, "cursor": page.next})
        expect_problem(ctx.target, reply, status=400, problem_type="/problems/invalid-cursor",
                       prop="pagination.bad_cursor", why=f"the list was asked with {why}")

    explicit = [("garbage", "not-a-cursor"), ("foreign", foreign_queries[0])] if foreign_queries else []
    return strategy, explicit, body


# ------------------------------------------------------------------- fields


def _field_lists(ctx: Context) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(list(ctx.contract.field_paths)), min_size=1, max_size=6)


def _fields_text(paths: list[str], spaced: bool) -> str:
    return (", " if spaced else ",").join(paths)


@prop("fields.projection", cost=2)
def _fields_projection(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """For any subset of valid field paths (nested included), the response equals the projection
    of the full response, key order included, on lists and on gets."""
    universe = _need_items(ctx)
    c = ctx.contract
    strategy = st.tuples(_field_lists(ctx), st.booleans(), st.integers(1, min(10, c.limit_max)), _sorts(ctx),
                         st.integers(0, len(universe.items) - 1))
    nested = [p for p in c.field_paths if "." in p]
    explicit = [(["id", "name"], False, 5, (None, None), 0)]
    explicit += [([c.field_paths[0], path], False, 5, (None, None), 0) for path in nested[:1]]
    explicit += [([nested[i]], True, 5, (None, None), 0) for i in range(1, min(len(nested), 12), 3)]

    def body(value: Any) -> None:
        paths, spaced, limit, (by, direction), index = value
        text = _fields_text(paths, spaced)
        params = {**universe.params, **_sort_params(by, direction), "limit": limit}
        full = _page(ctx.target, ctx.target.get(c.list_path, params=params), limit=limit, first=True)
        reply = ctx.target.get(c.list_path, params={**params, "fields": text})
        projected = _page(ctx.target, reply, limit=limit, first=True)
        expected = [expected_projection(item, paths) for item in full.items]
        _same_projection(ctx, expected, projected.items, text, reply)
        customer = universe.ids[index]
        whole = ctx.target.get(c.item_url(customer))
        if whole.status != 200 or not isinstance(whole.json(), dict):
            raise ctx.target.fail("get.matches_list", f"GET of a listed customer answered {whole.status}.",
                                  expected=200, actual=whole.status)
        reply = ctx.target.get(c.item_url(customer), params={"fields": text})
        if reply.status != 200 or not isinstance(reply.json(), dict):
            raise ctx.target.fail("fields.projection", f"GET with fields={text!r} answered {reply.status}.",
                                  expected=200, actual=f"{reply.status} {reply.excerpt()}")
        _same_projection(ctx, [expected_projection(whole.json().get("data") or {}, paths)],
                         [reply.json().get("data")], text, reply)

    return strategy, explicit, body


def _same_projection(ctx: Context, expected: list[Any], actual: list[Any], text: str, reply: Reply) -> None:
    for want, got in zip(expected, actual):
        if json.dumps(want) != json.dumps(got):
            order = " (same keys, other order)" if want == got else ""
            raise ctx.target.fail("fields.projection", f"fields={text!r} must return exactly the selected "
                                                       f"properties of the full record{order}.",
                                  expected=want, actual=got, reply=reply)
    if len(expected) != len(actual):
        raise ctx.target.fail("fields.projection", f"fields={text!r} changed which customers are on the page.",
                              expected=len(expected), actual=len(actual), reply=reply)


@prop("fields.unknown")
def _fields_unknown(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """An unknown field path is a 400 invalid-parameter problem, on lists and gets."""
    c = ctx.contract
    valid = set(c.field_paths)
    unknown = st.one_of(
        st.sampled_from(["nope", "emails.nope", "id.value", "Name", "address", "meta"]),
        st.from_regex(r"[a-z]{2,10}(\.[a-z]{2,8})?", fullmatch=True),
    ).filter(lambda p: p not in valid)
    strategy = st.tuples(st.lists(st.sampled_from(list(c.field_paths)), max_size=3), unknown, st.booleans())

    def body(value: Any) -> None:
        paths, bad, on_get = value
        text = ",".join([*paths, bad])
        if on_get:
            universe = _need_items(ctx)
            reply = ctx.target.get(c.item_url(universe.ids[0]), params={"fields": text})
        else:
            reply = ctx.target.get(c.list_path, params={"fields": text, "limit": 1})
        expect_problem(ctx.target, reply, status=400, problem_type="/problems/invalid-parameter",
                       prop="fields.unknown", why=f"fields={text!r} names an unknown field {bad!r}")

    return strategy, [([], "nope", False), (["id"], "emails.nope", True)], body


# ------------------------------------------------------------- filters, sort


def _filter_values(ctx: Context, universe: Universe, name: str) -> st.SearchStrategy[str]:
    """Values for ``filter[name]`` taken from real customers (so they match), or matching nothing."""
    items = universe.items
    pick = st.integers(0, len(items) - 1).map(lambda i: items[i])
    if name == "email":
        def emails(item: dict[str, Any]) -> st.SearchStrategy[str]:
            found = [e["email"] for e in item.get("emails") or () if isinstance(e, dict) and e.get("email")]
            return st.sampled_from(found) if found else st.just("nobody@example.invalid")
        value = pick.flatmap(emails)
        return st.one_of(value, value.map(str.upper), value.map(lambda v: f"  {v} "),
                         st.just("nobody@example.invalid"))
    if name == "phone_number":
        def phones(item: dict[str, Any]) -> st.SearchStrategy[str]:
            found = [p for p in item.get("phone_numbers") or () if isinstance(p, dict) and p.get("number")]
            if not found:
                return st.just("000")
            return st.sampled_from(found).flatmap(lambda p: st.sampled_from([
                str(p.get("number")), f"({p.get('area_code') or ''}) {p.get('number')}",
                f"+{p.get('country_code') or ''} {p.get('area_code') or ''} {p.get('number')}"]))
        return pick.flatmap(phones)
    if name == "status":
        return st.sampled_from(["active", "archived"])
    if name == "customer_ids":
        return st.tuples(_id_sample(universe, 8), st.booleans()).map(
            lambda t: (", " if t[1] else ",").join([str(i) for i in t[0]] + (["no-such-id"] if t[1] else [])))
    if name in ("created_since", "updated_since"):
        key = name.replace("_since", "_at")

        def stamps(item: dict[str, Any]) -> st.SearchStrategy[str]:
            moment = parse_time(item.get(key))
            if moment is None:
                return st.just(str(item.get(key)))
            shifted = moment.astimezone(timezone(timedelta(hours=2))).isoformat()
            return st.sampled_from([str(item.get(key)), shifted])
        return pick.flatmap(stamps)
    raise ValueError(name)


_KNOWN_FILTERS = ("email", "phone_number", "status", "customer_ids", "created_since", "updated_since")


@prop("filters.match", cost=3)
def _filters_match(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """Every customer a filtered walk returns satisfies the filters, and no customer of the
    reference collection that satisfies them is missing."""
    universe = _need_items(ctx)
    names = [n for n in ctx.contract.filters if n in _KNOWN_FILTERS]
    if not names:
        raise Skip("the contract documents no filter this kit knows")
    one = st.sampled_from(names).flatmap(lambda n: st.tuples(st.just(n), _filter_values(ctx, universe, n)))
    filters = st.lists(one, min_size=1, max_size=2, unique_by=lambda f: f[0])
    strategy = st.tuples(filters, ctx.limits(len(universe.items)), _sorts(ctx))
    c = ctx.contract
    explicit = []
    if "status" in names:
        explicit += [([("status", "archived")], c.limit_max, (None, None)),
                     ([("status", "active")], c.limit_max, (None, None))]

    def body(value: Any) -> None:
        chosen, limit, (by, direction) = value
        params = dict(universe.params)
        for name, text in chosen:
            key = f"filter[{name}]"
            if key in params and name.endswith("_since"):  # the reference window and the filter combine (AND)
                a, b = parse_time(params[key]), parse_time(text)
                text = params[key] if a and b and a > b else text
            params[key] = text
        params.update(_sort_params(by, direction))
        wanted = [i for i in universe.items if all(matches_filter(i, n, v) for n, v in chosen)]
        result = walk(ctx.target, c, params, limit=limit, max_pages=ctx.walk_pages(len(universe.items), limit))
        described = "&".join(f"filter[{n}]={v}" for n, v in chosen)
        for page in result.pages:
            for item in page.items:
                broken = [n for n, v in chosen if not matches_filter(item, n, v)]
                if broken:
                    raise ctx.target.fail("filters.match", f"{described} returned customer {item.get('id')!r}, "
                                                           f"which does not satisfy filter[{broken[0]}].",
                                          expected=f"customers with {described}",
                                          actual=_filter_view(item, broken[0]), reply=page.reply)
        check_walk(ctx.target, result)
        got = {_key(i) for i in result.ids}
        missing = [i.get("id") for i in wanted if _key(i.get("id")) not in got]
        if missing:
            raise ctx.target.fail("filters.complete", f"{described} left out customers that satisfy it (they "
                                                      f"are in the unfiltered walk).",
                                  expected=f"{len(wanted)} customers incl. {missing[:5]!r}",
                                  actual=f"{len(got)} customers", reply=result.pages[0].reply)

    return strategy, explicit, body


def _filter_view(item: dict[str, Any], name: str) -> Any:
    field_name = {"email": "emails", "phone_number": "phone_numbers", "customer_ids": "id",
                  "created_since": "created_at", "updated_since": "updated_at"}.get(name, name)
    return {"id": item.get("id"), field_name: item.get(field_name)}


@prop("sort.order", cost=3)
def _sort_order(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """The sort order (sort[by], sort[direction]) holds across page boundaries."""
    universe = _need_items(ctx, 2)
    c = ctx.contract
    if not c.sort_keys:
        raise Skip("the contract documents no sort[by] values")
    size = len(universe.items)
    low = ctx.limits(size)
    strategy = st.tuples(st.sampled_from(c.sort_keys), st.sampled_from(c.sort_directions or ("asc",)),
                         low.map(lambda n: min(n, max(1, size // 2)) if size > 1 else n))
    explicit = [(k, d, max(1, min(c.limit_default, size // 2))) for k in c.sort_keys
                for d in (c.sort_directions or ("asc",))][:6]

    def body(value: Any) -> None:
        by, direction, limit = value
        limit = max(limit, c.limit_min, math.ceil(size / (ctx.budget.max_pages - 1)))
        params = {**universe.params, **_sort_params(by, direction)}
        result = walk(ctx.target, c, params, limit=limit, max_pages=ctx.walk_pages(size, limit))
        previous: Any = None
        for n, page in enumerate(result.pages):
            for item in page.items:
                key = sort_key(item, by)
                if key is None:
                    raise ctx.target.fail("sort.order", f"customer {item.get('id')!r} has no usable {by} "
                                                        f"(RFC 3339 expected) to sort by.",
                                          actual=item.get(by), reply=page.reply)
                if previous is not None and (key < previous[0] if direction == "asc" else key > previous[0]):
                    where = "across a page boundary" if previous[2] != n else f"on page {n + 1}"
                    raise ctx.target.fail("sort.order", f"sort[by]={by}&sort[direction]={direction} is not "
                                                        f"respected {where} (limit={limit}).",
                                          expected=f"{by} {'>=' if direction == 'asc' else '<='} "
                                                   f"{_show(previous[0])} (after {previous[1]!r})",
                                          actual=f"{_show(key)} for {item.get('id')!r}", reply=page.reply)
                previous = (key, item.get("id"), n)
        check_walk(ctx.target, result)

    return strategy, explicit, body


def _show(key: Any) -> str:
    return key.isoformat() if isinstance(key, datetime) else repr(key)


# ----------------------------------------------------------------------- get


@prop("get.matches_list")
def _get_matches_list(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """GET /customers/{id} returns exactly the list entry with that id."""
    universe = _need_items(ctx)

    def body(index: int) -> None:
        listed = universe.items[index]
        reply = ctx.target.get(ctx.contract.item_url(listed.get("id")))
        body_ = reply.json()
        got = body_.get("data") if isinstance(body_, dict) else None
        if reply.status != 200 or got != listed:
            raise ctx.target.fail("get.matches_list", f"GET of customer {listed.get('id')!r} must return the "
                                                      f"customer the list shows with that id.",
                                  expected=listed, actual=got if reply.status == 200 else
                                  f"{reply.status} {reply.excerpt()}", reply=reply)

    return st.integers(0, len(universe.items) - 1), [0, len(universe.items) - 1], body


@prop("get.unknown_id")
def _get_unknown_id(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """An id no customer has is a 404 not-found problem."""
    universe = ctx.universe()
    known = {str(i) for i in universe.ids}
    alien = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20).map(lambda s: "no-such-" + s)
    numeric = st.integers(1, 10**9 - 1).map(str).filter(lambda s: s not in known)
    strategy = st.one_of(alien, numeric) if universe.complete else alien

    def body(customer: str) -> None:
        reply = ctx.target.get(ctx.contract.item_url(customer))
        expect_problem(ctx.target, reply, status=404, problem_type="/problems/not-found", prop="get.unknown_id",
                       why=f"customer {customer!r} does not exist")

    return strategy, ["no-such-customer"], body


# -------------------------------------------------------------------- errors


@prop("errors.bad_limit")
def _errors_bad_limit(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """A limit that is not an integer in the documented range is a 400 invalid-parameter problem."""
    c = ctx.contract
    out_of_range = st.one_of(st.integers(-1000, c.limit_min - 1), st.integers(c.limit_max + 1, 10**6))
    strategy = st.one_of(out_of_range.map(str), st.sampled_from(["abc", "1.5", "ten", "2e1", "0x10"]))

    def body(limit: str) -> None:
        reply = ctx.target.get(c.list_path, params={"limit": limit})
        expect_problem(ctx.target, reply, status=400, problem_type="/problems/invalid-parameter",
                       prop="errors.bad_limit", why=f"limit={limit!r} is outside {c.limit_min}-{c.limit_max}"
                       if limit.lstrip("-").isdigit() else f"limit={limit!r} is not an integer")

    return strategy, [str(c.limit_min - 1), str(c.limit_max + 1), "abc"], body


@prop("errors.missing_auth")
def _errors_missing_auth(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """Every operation without a usable bearer token is a 401 unauthorized problem with a
    WWW-Authenticate header, checked before anything else (nothing is created or changed)."""
    c = ctx.contract
    universe = ctx.universe()
    operations = ["list", "get"] + [m.lower() for m in c.writes]
    credentials = [None, "Basic Y29udHJhY3Q6a2l0", "Bearer ", "bearer"]
    strategy = st.tuples(st.sampled_from(operations), st.sampled_from(credentials))

    def body(value: Any) -> None:
        operation, credential = value
        headers = {"Authorization": credential} if credential is not None else {}
        some_id = universe.ids[0] if universe.ids else "no-such-customer"
        if operation == "list":
            reply = ctx.target.request("GET", c.list_path, params={"limit": 1}, auth=False, headers=headers)
        elif operation == "get":
            reply = ctx.target.request("GET", c.item_url(some_id), auth=False, headers=headers)
        elif operation == "post":
            reply = ctx.target.request("POST", c.list_path, body={"name": "Contract Kit"}, auth=False,
                                       headers=headers)
            _cleanup_created(ctx, reply)
        else:
            reply = ctx.target.request(operation.upper(), c.item_url("no-such-customer"),
                                       body={"notes": "contract kit"} if operation == "patch" else None,
                                       auth=False, headers=headers)
        why = f"{reply.method} without a usable token (Authorization: {credential!r})"
        expect_problem(ctx.target, reply, status=401, problem_type="/problems/unauthorized",
                       prop="errors.missing_auth", why=why)
        challenge = reply.headers.get("www-authenticate", "")
        if not challenge.lower().startswith("bearer"):
            raise ctx.target.fail("errors.missing_auth", f"{why}: a 401 must carry a WWW-Authenticate: Bearer "
                                                         f"challenge.", expected='Bearer realm="..."',
                                  actual=challenge or None, reply=reply)

    return strategy, [(op, None) for op in operations], body


def _cleanup_created(ctx: Context, reply: Reply) -> None:
    body = reply.json()
    if reply.status == 201 and isinstance(body, dict) and isinstance(body.get("data"), dict):
        ctx.target.request("DELETE", ctx.contract.item_url(body["data"].get("id")))
        ctx.target.log.pop()


# ---------------------------------------------------------------- determinism


@prop("determinism.same_body")
def _determinism(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """The same request twice gives the same body (lists, projections and gets)."""
    universe = _need_items(ctx)
    c = ctx.contract
    listing = st.tuples(st.just("list"), st.integers(1, c.limit_max), _sorts(ctx),
                        st.one_of(st.none(), _field_lists(ctx)))
    getting = st.tuples(st.just("get"), st.integers(0, len(universe.items) - 1), st.just((None, None)),
                        st.one_of(st.none(), _field_lists(ctx)))
    strategy = st.one_of(listing, getting)

    def body(value: Any) -> None:
        kind, number, (by, direction), paths = value
        extra = {"fields": ",".join(paths)} if paths else {}
        if kind == "list":
            path, params = c.list_path, {**universe.params, **_sort_params(by, direction), "limit": number, **extra}
        else:
            path, params = c.item_url(universe.ids[number]), extra
        first = ctx.target.get(path, params=params)
        second = ctx.target.get(path, params=params)
        a, b = first.json(), second.json()
        if first.status != second.status or (a if a is not None else first.content) != (
                b if b is not None else second.content):
            raise ctx.target.fail("determinism.same_body", "the same request sent twice got different answers.",
                                  expected=_first_difference(a, b)[0], actual=_first_difference(a, b)[1],
                                  reply=second)

    return strategy, [("list", c.limit_default, (None, None), None), ("get", 0, (None, None), None)], body


def _first_difference(a: Any, b: Any, path: str = "$") -> tuple[Any, Any]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{path}.{key}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for n, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return _first_difference(x, y, f"{path}[{n}]")
    return {path: a}, {path: b}


# --------------------------------------------------------------------- writes


_names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc", "Zl", "Zp"]), min_size=1,
                 max_size=40).filter(lambda s: s.strip() != "")


def _new_customers() -> st.SearchStrategy[dict[str, Any]]:
    email = st.from_regex(r"[a-z][a-z0-9.]{0,15}@[a-z]{2,10}\.(com|org|example)", fullmatch=True)
    return st.fixed_dictionaries({"first_name": _names}, optional={
        "last_name": _names,
        "company_name": st.one_of(st.none(), _names),
        "status": st.sampled_from(["active", "archived"]),
        "currency": st.sampled_from(["EUR", "USD", "GBP", "JPY"]),
        "notes": st.one_of(st.none(), st.text(max_size=200)),
        "emails": st.lists(st.fixed_dictionaries({"email": email},
                                                 optional={"type": st.sampled_from(["primary", "work"])}),
                           max_size=2),
    })


@prop("writes.lifecycle", cost=8)
def _writes(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """When the server supports writes: a created customer is in GET and in a new walk exactly
    once, an update shows in GET and in the list, and after a delete GET is a 404 and the walk
    no longer has it. (405 or 501 to POST means writes are not supported: skipped.)"""
    c = ctx.contract
    if "POST" not in c.writes:
        raise Skip("the contract documents no POST")
    ctx.universe()

    def body(new: dict[str, Any]) -> None:
        target = ctx.target
        created = target.request("POST", c.list_path, body=new)
        if created.status in (405, 501):
            raise Skip(f"the server answered {created.status} to POST {c.list_path}: writes are not supported")
        data = (created.json() or {}).get("data") if isinstance(created.json(), dict) else None
        if created.status != 201 or not isinstance(data, dict) or data.get("id") in (None, ""):
            raise target.fail("writes.create", "POST of a valid customer must answer 201 with the stored record "
                                               "in data (with its new id).", expected=201,
                              actual=f"{created.status} {created.excerpt()}", reply=created)
        customer = data["id"]
        try:
            _check_created(ctx, new, data, created)
            _check_listed(ctx, data, "writes.create", "the created customer")
            changes = {"notes": "updated by the contract kit",
                       "status": "archived" if data.get("status") != "archived" else "active"}
            if "PATCH" in c.writes:
                updated = target.request("PATCH", c.item_url(customer), body=changes)
                after = (updated.json() or {}).get("data") if isinstance(updated.json(), dict) else None
                if updated.status != 200 or not isinstance(after, dict) or any(
                        after.get(k) != v for k, v in changes.items()):
                    raise target.fail("writes.update", "PATCH must answer 200 with the updated record.",
                                      expected=changes, actual=after if updated.status == 200 else
                                      f"{updated.status} {updated.excerpt()}", reply=updated)
                stamps = parse_time(after.get("updated_at")), parse_time(after.get("created_at"))
                if None in stamps or stamps[0] < stamps[1] or after.get("created_at") != data.get("created_at"):
                    raise target.fail("writes.update", "after an update created_at must not change and "
                                                       "updated_at must not be earlier than it.",
                                      expected={"created_at": data.get("created_at")},
                                      actual={k: after.get(k) for k in ("created_at", "updated_at")},
                                      reply=updated)
                _check_get(ctx, customer, after, "writes.update", "the updated customer")
                _check_listed(ctx, after, "writes.update", "the updated customer")
        finally:
            if "DELETE" in c.writes:
                deleted = target.request("DELETE", c.item_url(customer))
        if "DELETE" not in c.writes:
            return
        if deleted.status not in (200, 204):
            raise target.fail("writes.delete", "DELETE of an existing customer must answer 204.", expected=204,
                              actual=f"{deleted.status} {deleted.excerpt()}", reply=deleted)
        gone = target.get(c.item_url(customer))
        expect_problem(target, gone, status=404, problem_type="/problems/not-found", prop="writes.delete",
                       why=f"GET of customer {customer!r} after deleting it")
        listed = _list_ids(ctx, customer)
        if listed:
            raise target.fail("writes.delete", f"the deleted customer {customer!r} is still listed.",
                              expected=0, actual=listed)

    return _new_customers(), [{"first_name": "Ada", "last_name": "Lovelace"}], body


def _check_created(ctx: Context, sent: dict[str, Any], data: dict[str, Any], reply: Reply) -> None:
    for key, value in sent.items():
        if key == "emails":
            got = [{k: e.get(k) for k in ("email", "type") if k in s}
                   for s, e in zip(value, data.get("emails") or []) if isinstance(e, dict)]
            if got != [{k: s[k] for k in ("email", "type") if k in s} for s in value]:
                raise ctx.target.fail("writes.create", "the created customer must hold the emails sent.",
                                      expected=value, actual=data.get("emails"), reply=reply)
        elif data.get(key) != value and not (key == "status" and value is None):
            raise ctx.target.fail("writes.create", f"the created customer must hold the {key} sent.",
                                  expected=value, actual=data.get(key), reply=reply)
    _check_get(ctx, data["id"], data, "writes.create", "the created customer")


def _check_get(ctx: Context, customer: Any, record: dict[str, Any], prop_name: str, what: str) -> None:
    reply = ctx.target.get(ctx.contract.item_url(customer))
    got = reply.json().get("data") if isinstance(reply.json(), dict) else None
    if reply.status != 200 or got != record:
        raise ctx.target.fail(prop_name, f"GET of {what} must return it as the write answered it.",
                              expected=record, actual=got if reply.status == 200 else
                              f"{reply.status} {reply.excerpt()}", reply=reply)


def _list_ids(ctx: Context, customer: Any) -> list[Any]:
    """Where ``customer`` shows up in a new walk of the reference collection (with its window
    widened to it) plus a ``filter[customer_ids]`` lookup."""
    universe = ctx.universe()
    c = ctx.contract
    found = []
    if "customer_ids" in c.filters:
        page = _page(ctx.target, ctx.target.get(c.list_path, params={"filter[customer_ids]": str(customer),
                                                                     "limit": c.limit_max}),
                     limit=c.limit_max, first=True)
        found += [i for i in page.items if str(i.get("id")) == str(customer)]
    if universe.complete:
        size = len(universe.items) + 1
        result = walk(ctx.target, c, {}, limit=c.limit_max, max_pages=ctx.walk_pages(size, c.limit_max))
        found += [i for i in result.items if str(i.get("id")) == str(customer)]
    return found


def _check_listed(ctx: Context, record: dict[str, Any], prop_name: str, what: str) -> None:
    found = _list_ids(ctx, record["id"])
    expected_copies = ("customer_ids" in ctx.contract.filters) + ctx.universe().complete
    if len(found) != expected_copies or any(f != record for f in found):
        raise ctx.target.fail(prop_name, f"{what} must appear exactly once in a new walk"
                                         f"{' and in filter[customer_ids]' if 'customer_ids' in ctx.contract.filters else ''}"
                                         f", as the write answered it.",
                              expected=record, actual=found or "not listed")
