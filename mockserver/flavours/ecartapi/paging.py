"""ecartAPI list requests: filters, ``sinceId`` (with the customers created in its second), page
numbers, offsets and opaque page tokens, resolved against the catalog.

A page token wraps the core signed cursor plus the filters (and ``sinceId`` place) it belongs to,
so a walk by tokens may repeat its filters or omit them. The UNCONFIRMED choices are listed in
the package docstring (:mod:`mockserver.flavours.ecartapi`).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from mockserver.array_params import array_items
from mockserver.catalog import Filters, ListQuery, Page
from mockserver.errors import InvalidCursor, InvalidParameter, NotFound, UnsupportedFilter
from mockserver.pagination import Position, decode_cursor
from mockserver.resources import int_param, loads_json, single_param

if TYPE_CHECKING:
    import falcon

    from mockserver.catalog import Catalog
    from mockserver.store import Entry

__all__ = ["PageRequest", "count", "encode_token", "fetch_page", "parse_filters"]

PAGE_MAX = 1_000_000_000
_DATE_ONLY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_UNIX_EPOCH = datetime(1970, 1, 1)
Since = tuple[int, int]
"""The ``(created, ordinal)`` place of the ``sinceId`` customer: the walk starts after it."""


# ---- filters ---------------------------------------------------------------------------

def parse_date(name: str, raw: str, *, end: bool) -> int:
    """ISO 8601 date or date-time to UNIX seconds (``end``: inclusive upper bound).

    Raises:
        InvalidParameter: not a date.
    """
    text = raw.strip()
    try:
        if _DATE_ONLY.fullmatch(text):
            days = (date.fromisoformat(text) - _UNIX_EPOCH.date()).days
            return days * 86400 + (86399 if end else 0)
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidParameter(name, f"must be an ISO 8601 date or date-time, got {raw!r}") from None
    # NOTE: arithmetic on naive values: datetime.timestamp() overflows near years 1 and 9999.
    offset = value.utcoffset()
    seconds = (value.replace(tzinfo=None) - _UNIX_EPOCH).total_seconds() - (offset.total_seconds() if offset else 0)
    return math.floor(seconds) if end else math.ceil(seconds)


def parse_filters(req: falcon.Request) -> tuple[Filters, bool]:
    """The list filters, and whether the request names any.

    Raises:
        InvalidParameter: a bad date, a ``[from]``/``[to]`` sent alone, a repeated parameter.
        UnsupportedFilter: ``createdAt[...]``/``updatedAt[...]`` with another key.
    """
    values: dict[str, Any] = {}
    for key in req.params:
        base, bracket, rest = key.partition("[")
        if base in ("createdAt", "updatedAt") and (not bracket or rest not in ("from]", "to]")):
            raise UnsupportedFilter(key, f"use {base}[from] and {base}[to] together")
    for field, prefix in (("createdAt", "created"), ("updatedAt", "updated")):
        low, high = single_param(req, f"{field}[from]"), single_param(req, f"{field}[to]")
        if (low is None) != (high is None):
            missing, sent = (f"{field}[to]", f"{field}[from]") if high is None else (f"{field}[from]", f"{field}[to]")
            raise InvalidParameter(missing, f"is required when {sent} is sent; send both or neither")
        if low is not None and high is not None:
            values[f"{prefix}_from"] = parse_date(f"{field}[from]", low, end=False)
            values[f"{prefix}_to"] = parse_date(f"{field}[to]", high, end=True)
    ids = array_items(req.params, "ids")
    if ids:
        values["ids"] = ids
    email = single_param(req, "email")
    if email is not None and email.strip():
        values["email"] = email.strip()
    name, search = single_param(req, "name"), single_param(req, "search")
    needle = name if name is not None and name.strip() else search
    if needle is not None and needle.strip():
        values["name_contains"] = needle
    return Filters(**values), bool(values)


# ---- page tokens -----------------------------------------------------------------------


def encode_token(query: ListQuery, cursor: str, since: Since | None) -> str:
    """Opaque page token: the core signed ``cursor`` plus the filters (and sinceId place) it belongs to."""
    payload = [1, query.filters.as_list(), list(since) if since else None, cursor]
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(text: str, secret: str, query: ListQuery | None) -> tuple[ListQuery, Position, Since | None]:
    """The query, position and sinceId place of a page token (``query``: the request's, if it has filters).

    Raises:
        InvalidCursor: not a token from this server, or for other filters.
    """
    try:
        payload = loads_json(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8"))
        version, filters, since, cursor = payload
        if version != 1 or not isinstance(cursor, str):
            raise ValueError("version")
        token_query = ListQuery(Filters.from_list(filters))
        if since is not None and not (isinstance(since, list) and len(since) == 2
                                      and all(isinstance(v, int) for v in since)):
            raise ValueError("since")
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidCursor("must be a page number or a page token exactly as returned in pagination.nextPage",
                            name="page") from None
    wanted = query if query is not None else token_query
    position = decode_cursor(cursor, secret, wanted.signature, name="page")
    return wanted, position, tuple(since) if since else None


# ---- sinceId -----------------------------------------------------------------------------


def since_place(catalog: Catalog, raw: str | None, state: Mapping[int, Entry]) -> Since | None:
    """The place of the ``sinceId`` customer, live or deleted (``None`` without ``sinceId``).

    Raises:
        InvalidParameter: not a customer id.
        NotFound: no customer has ever had that id.
    """
    if raw is None:
        return None
    ordinal = catalog.dataset.ordinal_of(raw) if raw.isascii() else None
    if ordinal is None:
        raise InvalidParameter("sinceId", f"must be a customer id (9 digits), got {raw!r}")
    if ordinal >= catalog.dataset.count and ordinal not in state:
        raise NotFound(f"sinceId: no customer has ever had id '{raw}'")
    return catalog.entry_timestamps(ordinal, state)[0], ordinal


def with_since(filters: Filters, since: Since | None) -> ListQuery:
    """The query of customers created from the sinceId customer's second on (its ties: see :func:`count_ties`)."""
    if since is not None:
        low = since[0] if filters.created_from is None else max(filters.created_from, since[0])
        filters = replace(filters, created_from=low)
    return ListQuery(filters)


def count_ties(catalog: Catalog, query: ListQuery, since: Since | None) -> int:
    """Customers of ``query`` created in the same second as, and up to, the sinceId customer: the walk
    starts after them, though they pass the filters."""
    if since is None or query.filters.created_from != since[0]:
        return 0
    high = query.filters.created_to
    ties = ListQuery(replace(query.filters, created_to=since[0] if high is None else min(high, since[0])))
    count, position = 0, None
    while True:  # a handful at most: customers created within one second
        page = catalog.list(ties, 1000, position)
        count += sum(1 for ordinal in page.ordinals if ordinal <= since[1])
        if not page.has_next or page.last_key is None:
            return count
        position = Position(page.last_key, False, page.version, ties.signature)


def count(catalog: Catalog, filters: Filters, raw_since: str | None) -> int | None:
    """How many customers the filters and ``sinceId`` select (``None`` when too costly to count)."""
    state = catalog.store.state_at(catalog.store.refresh())
    since = since_place(catalog, raw_since, state)
    query = with_since(filters, since)
    total = catalog.total(query, state)
    return total - count_ties(catalog, query, since) if total is not None else None


# ---- pages -------------------------------------------------------------------------------


@dataclass
class PageRequest:
    """An ecartAPI list request: what ``parse_list`` read, then what :func:`fetch_page` resolved.

    ``sinceId`` and ``page`` are read from ``req`` by :func:`fetch_page`, after the filters, in the
    order ecartAPI checks them (a ``sinceId`` needs the catalog, a page token the ``sinceId``).
    """

    req: falcon.Request
    filters: Filters
    filtered: bool
    """Whether the request names any filter (else a page token's own filters are used)."""
    offset: int
    query: ListQuery | None = None
    """The query walked: the filters with ``sinceId``, or a page token's."""
    since: Since | None = None
    number: int | None = None
    """The 1-based page number asked for (``None`` with a token or no ``page``)."""
    ties: int = 0
    """Customers the ``sinceId`` walk starts after though they pass the filters (not in ``total``)."""


def _at_offset(catalog: Catalog, query: ListQuery, offset: int, limit: int) -> Page:
    version = catalog.store.refresh()
    total = catalog.total(query, catalog.store.state_at(version))
    if total is not None and offset >= total:  # PERF: no walk to find nothing
        return Page([], None, None, False, offset > 0, total, version)
    return catalog.list_at_offset(query, offset, limit)


def fetch_page(catalog: Catalog, paging: PageRequest, limit: int, version: int) -> Page:
    """The page a list request asks for; ``paging`` is completed with what was resolved.

    Raises:
        InvalidParameter, NotFound: a bad ``sinceId``; InvalidParameter, InvalidCursor: a bad ``page``.
    """
    req = paging.req
    since = since_place(catalog, single_param(req, "sinceId"), catalog.store.state_at(version))
    query = with_since(paging.filters, since)
    raw_page = single_param(req, "page")
    number = position = None
    if raw_page is not None and raw_page.strip().isdigit() and raw_page.isascii():
        number = int_param(req, "page", 1, 1, PAGE_MAX)
    elif raw_page is not None:
        query, position, since = decode_token(raw_page, catalog.dataset.fingerprint,
                                              query if paging.filtered or since else None)
    ties = count_ties(catalog, query, since)
    if position is not None:
        page = catalog.list(query, limit, position, latest=version)
    elif number is None and paging.offset == 0:
        start = Position(since, False, version, query.signature) if since else None
        page = catalog.list(query, limit, start, latest=version)
    else:
        page = _at_offset(catalog, query, ties + ((number or 1) - 1) * limit + paging.offset, limit)
    paging.query, paging.since, paging.number, paging.ties = query, since, number, ties
    return page
