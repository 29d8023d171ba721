"""Shopify's list, search and count parameters in canonical terms, and its ``page_info`` cursors.

A ``page_info`` is the core signed cursor (:mod:`mockserver.pagination`), followed, when the list
is filtered, by ``.`` and the filters it belongs to (URL-safe base64 of JSON): Shopify's next-page
links carry only ``page_info``, ``limit`` and ``fields``, so the filters travel inside. The cursor's
signature covers the filters, so edited filters are refused like an edited cursor.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Iterable
from typing import Any, NamedTuple
from urllib.parse import urlencode

import falcon

from mockserver.array_params import array_items, array_key
from mockserver.catalog import Filters, ListQuery
from mockserver.errors import InvalidCursor, InvalidParameter
from mockserver.formats import rfc3339_seconds
from mockserver.pagination import Position, decode_cursor
from mockserver.resources import dumps, loads_json, single_param

__all__ = [
    "DATE_PARAMS",
    "LIMIT_DEFAULT",
    "LIMIT_MAX",
    "ShopifyView",
    "date_filters",
    "encode_page_info",
    "fields_param",
    "link_header",
    "list_filters",
    "parse_page_info",
    "refuse_with_page_info",
    "search_filters",
]

LIMIT_DEFAULT, LIMIT_MAX = 50, 250
IDS_MAX = 250
DATE_PARAMS = {"created_at_min": "created_from", "created_at_max": "created_to",
               "updated_at_min": "updated_from", "updated_at_max": "updated_to"}
ARRAY_PARAMS = ("ids", "fields")
"""Parameters taking a list, in any form of :mod:`mockserver.array_params`."""
INT64_MAX = 2**63 - 1
_SEARCH_FIELDS = {"email": "email", "phone": "phone", "state": "status", "id": "ids"}
"""Search terms ``<field>:<value>`` the mock reads; any other term is a word of the name."""
_NOTHING = ()
"""``Filters(ids=())``: a query no customer matches (``state:invited``)."""


class ShopifyView(NamedTuple):
    """How a page or record is shown, and where a list starts."""

    fields: tuple[str, ...] | None = None
    """Top-level fields to return (``None``: all)."""
    fields_raw: str | None = None
    since_id: int | None = None


def fields_param(req: falcon.Request) -> tuple[tuple[str, ...] | None, str | None]:
    """``fields=id,email``: the names (unknown ones select nothing) and the text to repeat in links."""
    items = array_items(req.params, "fields")
    return (tuple(dict.fromkeys(items)) or None, ",".join(items)) if items is not None else (None, None)


def _bound(name: str, raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        seconds = rfc3339_seconds(raw.strip())
    except ValueError:
        raise InvalidParameter(name, "must be an ISO 8601 date-time with offset, such as "
                                     "2024-01-05T10:00:00-05:00") from None
    return math.ceil(seconds) if name.endswith("_min") else math.floor(seconds)


def date_filters(req: falcon.Request) -> dict[str, Any]:
    """``created_at_min`` ... ``updated_at_max`` as inclusive UNIX-second bounds (``Filters`` arguments)."""
    values: dict[str, Any] = {}
    for name, target in DATE_PARAMS.items():
        bound = _bound(name, single_param(req, name))
        if bound is not None:
            values[target] = bound
    return values


def list_filters(req: falcon.Request) -> tuple[Filters, int | None]:
    """The filters and ``since_id`` of a list request."""
    values: dict[str, Any] = dict(date_filters(req))
    ids = array_items(req.params, "ids")
    if ids:
        if len(ids) > IDS_MAX:
            raise InvalidParameter("ids", f"must list at most {IDS_MAX} ids")
        if not all(i.isascii() and i.isdigit() and len(i) <= 19 and int(i) <= INT64_MAX for i in ids):
            raise InvalidParameter("ids", "must be a comma-separated list of customer ids")
        values["ids"] = tuple(str(int(i)) for i in ids)
    since = single_param(req, "since_id")
    if since is None:
        return Filters(**values), None
    if not (since.isascii() and since.isdigit() and len(since) <= 19 and int(since) <= INT64_MAX):
        raise InvalidParameter("since_id", f"must be a customer id (an integer from 0 to {INT64_MAX})")
    return Filters(**values), int(since)


def search_filters(text: str) -> Filters:
    """The mock's subset of Shopify's search syntax (see the package docstring)."""
    values: dict[str, Any] = {}
    words = []
    for term in text.split():
        field, colon, value = term.partition(":")
        value = value.strip('"')
        target = _SEARCH_FIELDS.get(field.lower()) if colon else None
        if target is None or not value:
            words.append(term)
        elif target == "status":
            status = {"enabled": "active", "disabled": "archived"}.get(value.lower())
            if status is None:
                values["ids"] = _NOTHING
            else:
                values["status"] = status
        elif target == "ids":
            values["ids"] = (str(int(value)),) if value.isascii() and value.isdigit() and len(value) <= 19 \
                else _NOTHING
        else:
            values[target] = value
    if words:
        values["name_contains"] = " ".join(words)
    return Filters(**values)


def refuse_with_page_info(req: falcon.Request, allowed: Iterable[str]) -> None:
    """Shopify's 400 for a filter sent beside ``page_info``.

    Raises:
        InvalidParameter: naming the first such parameter.
    """
    allowed = set(allowed)
    for key in req.params:
        name = array_key(key, ARRAY_PARAMS)
        if name not in allowed:
            raise InvalidParameter(name, f"{name} cannot be passed when page_info is present.")


# ---- page_info ----------------------------------------------------------------------------


def encode_page_info(cursor: str, query: ListQuery) -> str:
    """``cursor``, plus ``.<filters>`` when the list is filtered."""
    f = query.filters
    if f == Filters():
        return cursor
    return cursor + "." + base64.urlsafe_b64encode(dumps(f.as_list())).decode().rstrip("=")


def _filters_of(text: str) -> Filters:
    return Filters.from_list(loads_json(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")))


def parse_page_info(text: str, secret: str) -> tuple[ListQuery, Position]:
    """The query and position of a ``page_info``.

    Raises:
        InvalidCursor: not one this server issued (as ``page_info``, Shopify's "Invalid value.").
    """
    cursor, dot, encoded = text.partition(".")
    try:
        query = ListQuery(_filters_of(encoded)) if dot else ListQuery()
        return query, decode_cursor(cursor, secret, query.signature, name="page_info")
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, InvalidCursor):
        raise InvalidCursor("Invalid value.", name="page_info") from None


def link_header(req: falcon.Request, limit: int, view: ShopifyView, previous: str | None,
                following: str | None) -> str | None:
    """``<url>; rel="previous", <url>; rel="next"``: absolute URLs under the public base URL carrying
    only ``page_info``, ``limit`` and ``fields`` (``None`` when there is neither page)."""
    if previous is None and following is None:
        return None
    tail = f"&limit={limit}"
    if view.fields_raw is not None:
        tail += "&" + urlencode([("fields", view.fields_raw)])
    base = f"{req.prefix}{req.path}?page_info="
    links = [f'<{base}{token}{tail}>; rel="{rel}"' for token, rel in ((previous, "previous"), (following, "next"))
             if token is not None]
    return ", ".join(links)
