"""Ecwid's request parameters in canonical terms: the customer search and the ids in paths.

The search's UNCONFIRMED choices (default ``limit``, ``keyword`` and ``name`` on the name only,
filters and sorts it refuses) are listed in the package docstring (:mod:`mockserver.flavours.ecwid`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import falcon

from mockserver.catalog import Filters, ListQuery
from mockserver.dialect import Listing
from mockserver.errors import InvalidParameter, NotFound, UnsupportedFilter
from mockserver.flavours.ecwid.fields import SEARCH_FIELDS, response_fields
from mockserver.resources import int_param, single_param

__all__ = ["MAX_LIMIT", "SORTS", "canonical_id", "parse_date", "parse_search", "store_id"]

MAX_LIMIT = 100
DEFAULT_LIMIT = 100
MAX_OFFSET = 10**18 - 1
UNSUPPORTED_FILTERS = ("customerGroup", "customerGroupIds", "minOrderCount", "maxOrderCount", "acceptMarketing",
                       "city", "postalCode", "stateOrProvinceCode", "countryCodes", "companyName", "lang",
                       "minSalesValue", "maxSalesValue", "purchasedProductIds", "taxExempt", "b2b_b2c", "fiscalCode",
                       "electronicInvoicePecEmail", "electronicInvoiceSdiCode")
SORTS = {
    "NAME_ASC": ("name", False), "NAME_DESC": ("name", True),
    "REGISTERED_DATE_ASC": ("created_at", False), "REGISTERED_DATE_DESC": ("created_at", True),
    "UPDATED_DATE_ASC": ("updated_at", False), "UPDATED_DATE_DESC": ("updated_at", True),
}
UNSUPPORTED_SORTS = ("EMAIL_ASC", "EMAIL_DESC", "ORDER_COUNT_ASC", "ORDER_COUNT_DESC", "SALES_VALUE_ASC",
                     "SALES_VALUE_DESC", "FIRST_ORDER_DATE_ASC", "FIRST_ORDER_DATE_DESC", "LAST_ORDER_DATE_ASC",
                     "LAST_ORDER_DATE_DESC")
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


def parse_date(name: str, raw: str) -> int:
    """UNIX seconds from one of Ecwid's date formats (a naive date-time is UTC).

    Raises:
        InvalidParameter: none of UNIX seconds, ``yyyy-MM-dd HH:mm:ss Z``, ``yyyy-MM-dd HH:mm:ss``,
            ``yyyy-MM-dd`` matches.
    """
    text = raw.strip()
    if text.isascii() and text.isdigit() and len(text) <= 12:
        return int(text)
    if not text.isascii():  # strptime's %Y also reads the digits of other scripts
        raise InvalidParameter(name, f"must be UNIX seconds or a date in ASCII digits, got {raw!r}")
    for fmt in _DATE_FORMATS:
        try:
            value = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return int(value.replace(tzinfo=value.tzinfo or UTC).timestamp())
    raise InvalidParameter(name, f"must be UNIX seconds, 'yyyy-MM-dd HH:mm:ss Z', 'yyyy-MM-dd HH:mm:ss' or "
                                 f"'yyyy-MM-dd', got {raw!r}")


def _filter_text(req: falcon.Request, name: str) -> str | None:
    value = single_param(req, name)
    return value if value is not None and value.strip() else None


def parse_search(req: falcon.Request) -> Listing:
    """Ecwid search parameters as a catalog query and an offset; the view is the ``responseFields``
    :class:`~mockserver.flavours.ecwid.fields.Selection`.

    Raises:
        InvalidParameter: a bad ``offset``, ``limit``, date, ``sortBy`` or ``responseFields``.
        UnsupportedFilter: a documented Ecwid filter or sort order the mock cannot evaluate.
    """
    for unsupported in UNSUPPORTED_FILTERS:
        if unsupported in req.params:
            raise UnsupportedFilter(unsupported, "this Ecwid filter is not supported by the mock server")
    offset = int_param(req, "offset", 0, 0, MAX_OFFSET)
    limit = int_param(req, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    selection = response_fields(req, SEARCH_FIELDS)
    keyword, name = _filter_text(req, "keyword"), _filter_text(req, "name")
    if keyword and name and name.lower() not in keyword.lower() and keyword.lower() not in name.lower():
        raise UnsupportedFilter("name", "the mock matches keyword and name against the name only and cannot "
                                        "combine two unrelated terms; send one of them")
    values: dict[str, Any] = {}
    if keyword or name:
        values["name_contains"] = max(keyword or "", name or "", key=len)
    if (email := _filter_text(req, "email")) is not None:
        values["email"] = email
    if (phone := _filter_text(req, "phone")) is not None:
        values["phone"] = phone
    for param, key in (("createdFrom", "created_from"), ("createdTo", "created_to"),
                       ("updatedFrom", "updated_from"), ("updatedTo", "updated_to")):
        raw = single_param(req, param)
        if raw is not None:
            values[key] = parse_date(param, raw)
    sort_by = single_param(req, "sortBy")
    sort_by = "NAME_ASC" if sort_by is None else sort_by
    if sort_by in UNSUPPORTED_SORTS:
        raise UnsupportedFilter("sortBy", f"{sort_by} is not supported by the mock server; use one of: "
                                          f"{', '.join(SORTS)}")
    if sort_by not in SORTS:
        raise InvalidParameter("sortBy", f"must be one of: {', '.join(SORTS)}")
    sort, descending = SORTS[sort_by]
    return Listing(ListQuery(Filters(**values), sort, descending), limit, offset=offset, view=selection)


def _number(raw: str) -> int | None:
    text = raw.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def canonical_id(raw: str) -> str:
    """The canonical id of an Ecwid customer id (``253092533`` -> ``"253092533"``).

    Raises:
        NotFound: not a number (no customer can have it).
    """
    number = _number(raw)
    if number is None:
        raise NotFound(f"Customer #{raw} is not found", entity="customer", entity_id=raw)
    return str(number)


def store_id(raw: str) -> int:
    """Any positive integer is a store (all see the default dataset).

    Raises:
        NotFound: not a number (rendered ``STORE_NOT_FOUND``).
    """
    number = _number(raw)
    if not number:
        raise NotFound(f"Store with id '{raw}' is not found", entity="store", entity_id=raw)
    return number
