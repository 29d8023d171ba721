"""Truto flavour: the Unified E-Commerce API's customers (truto.one/docs, ``trutohq/truto-*-sdk``).

Emulated:

* ``GET /unified/ecommerce/customers`` (list) and ``GET /unified/ecommerce/customers/{id}`` (get),
  the only customer methods Truto offers for e-commerce; other methods get a 405 in Truto's body.
* ``Authorization: Bearer <token>`` (any non-empty token, or only ``settings.token``), then the
  required ``integrated_account_id`` query parameter: missing or empty is a 400 whose
  ``truto_error_insight.missing_required_query_parameters`` names it. The integrated account
  names the tenant (whose data a request reads).
* Paging with ``limit`` and ``next_cursor``: an empty ``next_cursor`` is the first page (the TS SDK
  sends ``next_cursor=`` first); envelope ``{result, next_cursor, prev_cursor, result_count}`` with
  ``next_cursor: null`` on the last page; ``prev_cursor`` passed back as ``next_cursor`` walks back.
  A garbled or other-query cursor is a 400.
* The get answers the bare record (not wrapped in ``result``).
* The unified customer (B3): ``id, first_name, last_name, name, company_name, status
  (active|inactive), currency, emails[{email, is_primary, type}], phones[{number, extension, type}],
  addresses[{id, street_1, street_2, city, state, postal_code, country, type}], orders[{id, status,
  total}], created_at, updated_at, remote_data``.
* ``truto_ignore_remote_data=true`` drops ``remote_data``; ``truto_exclude_fields[]=<f>`` (repeated,
  or comma-separated, top-level or dotted ``emails.type``) drops fields; ``truto_key_by=<field>`` turns
  ``result`` into an object keyed by that field; ``truto_ignore_limit=true`` ignores ``limit``;
  ``truto_response_format=raw`` answers remote (native) records; ``remote_query[...]`` is accepted.
* Unified filters: ``email`` (exact, case-insensitive), ``name`` (substring of the full name),
  ``created_at``/``updated_at`` (equal to the second) and their ``[gt]``, ``[gte]``, ``[lt]``,
  ``[lte]`` operators (ISO 8601 / RFC 3339 values), and ``sort_by[created_at|updated_at|name]=asc|desc``.
* Errors ``{statusCode, error, message}`` (``application/json``).

UNCONFIRMED choices (no primary source; documented in ``specs/truto.yaml`` too):

* Any ``integrated_account_id`` value (not only a uuid) sees the same dataset.
* ``limit`` defaults to 100 and accepts 1..1000 (other values are a 400); ``truto_ignore_limit=true``
  serves pages of the default size.
* The remote platform behind an integrated account is the flavour of this server whose name
  prefixes ``integrated_account_id`` followed by ``-``, ``_`` or ``:`` (``shopify-acc-1``,
  ``ecwid_42``; the longest such name wins), else Ecwid. ``remote_data`` is that platform's native
  customer, taken from the registry (``FLAVOURS.get(platform).native``): Ecwid's for any other
  account id, as before. ``truto_response_format=raw`` keeps the list envelope with
  ``result`` holding those native records, and a get answers the native record bare;
  ``truto_exclude_fields`` then applies to the native keys, and ``truto_key_by`` still keys by the
  unified field. ``normalized`` and ``stream`` answer the same JSON as ``unified``.
* Dates are rendered with milliseconds (``2019-01-01T00:00:00.000Z``); a phone ``number`` is
  ``+<country code> <area code> <number>``; ``is_primary`` is true for the canonical ``primary`` email;
  ``archived`` maps to ``inactive``; ``orders`` are filled for every customer.
* ``truto_key_by`` accepts the unified scalar fields only; ``null`` values key as ``"null"`` and a
  repeated value keeps the last record (JavaScript object semantics). Unknown
  ``truto_exclude_fields`` names are ignored; unknown query parameters are ignored.
* With several ``sort_by[...]`` keys the first one wins; the default order is creation time.
* ``truto_exclude_fields`` takes every array form of ``mockserver.array_params`` (UNCONFIRMED:
  the SDKs send ``truto_exclude_fields[]``).

Connection states of the integrated account (the tenant), Truto's statuses (messages and extra
members UNCONFIRMED): ``unauthorized`` 401 (``needs_reauth``), ``disabled`` 503 (blocked),
``not_found`` 404, ``downstream_error`` 502 with ``truto_is_remote_error: true`` and ``raw_response``
(a forced 502 too). Rate limit: 50 requests per 10 s window per integrated account (the 500 per
token is not modelled); 429 with ``Retry-After`` and ``truto_error_insight.rate_limit_error``
(UNCONFIRMED shape); ``ratelimit-limit`` (a plain integer), ``ratelimit-remaining`` and
``ratelimit-reset`` (seconds) on every counted answer (UNCONFIRMED: Truto sends them for the remote
API's limit, ``limit`` as ``110;w=10``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any, NamedTuple

import falcon

from mockserver.catalog import Filters, ListQuery
from mockserver.controls import Quota
from mockserver.dialect import Caller, DialectBase, Example, Found, Listing, Operation, RecordCache, Rendered, Reply
from mockserver.errors import InvalidParameter, MockServerError
from mockserver.flavours import FLAVOURS
from mockserver.flavours.truto.errors import CONNECTION_ERRORS, MissingQueryParameter, error_body, error_status
from mockserver.flavours.truto.webhooks import TrutoWebhooks
from mockserver.formats import (
    array_items,
    format_timestamp,
    millis,
    parse_timestamp,
    phone_parts,
    phone_text,
    ratelimit_headers,
    rfc3339_seconds,
)
from mockserver.pagination import decode_cursor, page_cursors
from mockserver.resources import bearer_token, bool_param, check_token, dumps, int_param, single_param

if TYPE_CHECKING:
    from mockserver.catalog import Page
    from mockserver.ratelimit import Usage
    from mockserver.settings import Settings

__all__ = [
    "CONNECTION_ERRORS", "DEFAULT_LIMIT", "DEFAULT_PLATFORM", "KEY_BY_FIELDS", "MAX_LIMIT",
    "MissingQueryParameter", "Truto", "error_body", "exclude_fields", "platform_of", "remote_record", "to_truto"
]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
DEFAULT_PLATFORM = "ecwid"
ACCOUNT_SEPARATORS = ("-", "_", ":")
RESPONSE_FORMATS = ("unified", "raw", "normalized", "stream")
KEY_BY_FIELDS = ("id", "first_name", "last_name", "name", "company_name", "status", "currency",
                 "created_at", "updated_at")
SORT_FIELDS = ("created_at", "updated_at", "name")
OPERATORS = ("gt", "gte", "lt", "lte")



def platform_of(account: str) -> str:
    """The platform behind an integrated account: the longest flavour name the account id starts with,
    followed by one of :data:`ACCOUNT_SEPARATORS`; else :data:`DEFAULT_PLATFORM`."""
    names = [name for name in FLAVOURS.names()
             if account.startswith(name) and account[len(name):len(name) + 1] in ACCOUNT_SEPARATORS]
    return max(names, key=len, default=DEFAULT_PLATFORM)


def remote_record(platform: str, record: dict[str, Any]) -> dict[str, Any]:
    """The platform's native customer for a canonical record (``remote_data``, raw responses)."""
    return FLAVOURS.get(platform).native(record)


def to_truto(record: dict[str, Any], platform: str | None = DEFAULT_PLATFORM) -> dict[str, Any]:
    """A canonical record as Truto's unified e-commerce customer, with the ``remote_data`` of ``platform``
    (none when ``platform`` is ``None``)."""
    status = record.get("status")
    unified: dict[str, Any] = {
        "id": record["id"],
        "first_name": record.get("first_name"),
        "last_name": record.get("last_name"),
        "name": record.get("name"),
        "company_name": record.get("company_name"),
        "status": "inactive" if status == "archived" else status,
        "currency": record.get("currency"),
        "emails": [{"email": e.get("email"), "is_primary": e.get("type") == "primary", "type": e.get("type")}
                   for e in record.get("emails") or ()],
        "phones": [{"number": phone_text(p), "extension": p.get("extension"), "type": p.get("type")}
                   for p in record.get("phone_numbers") or ()],
        "addresses": [{"id": a.get("id"), "street_1": a.get("line1"), "street_2": a.get("line2"),
                       "city": a.get("city"), "state": a.get("state"), "postal_code": a.get("postal_code"),
                       "country": a.get("country"), "type": a.get("type")} for a in record.get("addresses") or ()],
        "orders": [{"id": o.get("id"), "status": o.get("status"), "total": o.get("total")}
                   for o in record.get("orders") or ()],
        "created_at": millis(record.get("created_at")),
        "updated_at": millis(record.get("updated_at")),
    }
    if platform is not None:
        unified["remote_data"] = remote_record(platform, record)
    return unified


_SAME_MEMBERS = ("id", "first_name", "last_name", "name", "company_name", "currency")
"""Members a Truto customer carries as the canonical record does."""


def exclude_fields(value: dict[str, Any], paths: tuple[str, ...]) -> dict[str, Any]:
    """``value`` without the (top-level or dotted) ``paths``; unknown paths are ignored."""
    if not paths:
        return value
    top = {p for p in paths if "." not in p}
    nested: dict[str, list[str]] = {}
    for path in paths:
        if "." in path:
            parent, child = path.split(".", 1)
            nested.setdefault(parent, []).append(child)
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in top:
            continue
        children = tuple(nested.get(key, ()))
        if children and isinstance(item, dict):
            item = exclude_fields(item, children)
        elif children and isinstance(item, list):
            item = [exclude_fields(x, children) if isinstance(x, dict) else x for x in item]
        out[key] = item
    return out


# ---- request parsing ---------------------------------------------------------------------


def _instant(key: str, raw: str) -> Fraction:
    try:
        return rfc3339_seconds(raw)
    except ValueError:
        raise InvalidParameter(key, f"must be an ISO 8601 date-time with offset such as 2024-01-31T10:00:00Z, "
                                    f"got {raw!r}") from None


def parse_list_query(req: falcon.Request) -> ListQuery:
    """Unified filters and ``sort_by`` of a list request; other parameters are not filters.

    Raises:
        InvalidParameter: a filter or sort value that cannot be used.
    """
    lows: dict[str, list[int]] = {"created": [], "updated": []}
    highs: dict[str, list[int]] = {"created": [], "updated": []}
    values: dict[str, Any] = {}
    sort: tuple[str, bool] | None = None
    for key in req.params:
        field, _, rest = key.partition("[")
        if field in ("created_at", "updated_at"):
            if not rest:
                op = "eq"
            elif rest.endswith("]") and rest[:-1] in OPERATORS:
                op = rest[:-1]
            else:
                raise InvalidParameter(key, f"unknown operator; use {field}, or {field}[gt|gte|lt|lte]")
            raw = single_param(req, key) or ""
            at, which = _instant(key, raw), field[:-3]
            if op in ("eq", "gte"):
                lows[which].append(math.ceil(at))
            if op in ("eq", "lte"):
                highs[which].append(math.floor(at))
            if op == "gt":
                lows[which].append(math.floor(at) + 1)
            if op == "lt":
                highs[which].append(math.ceil(at) - 1)
        elif key in ("email", "name"):
            raw = (single_param(req, key) or "").strip()
            if raw:
                values["email" if key == "email" else "name_contains"] = raw
        elif field == "sort_by" and rest:
            name = rest[:-1] if rest.endswith("]") else ""
            direction = single_param(req, key) or ""
            if name not in SORT_FIELDS:
                raise InvalidParameter(key, f"cannot sort by {name!r}; use one of: {', '.join(SORT_FIELDS)}")
            if direction not in ("asc", "desc"):
                raise InvalidParameter(key, f"must be asc or desc, got {direction!r}")
            sort = sort or (name, direction == "desc")
    for which in ("created", "updated"):
        if lows[which]:
            values[f"{which}_from"] = max(lows[which])
        if highs[which]:
            values[f"{which}_to"] = min(highs[which])
    by, descending = sort or ("created_at", False)
    return ListQuery(Filters(**values), by, descending)


def _response_format(req: falcon.Request) -> str:
    value = single_param(req, "truto_response_format")
    if value is None:
        return "unified"
    if value not in RESPONSE_FORMATS:
        raise InvalidParameter("truto_response_format", f"must be one of: {', '.join(RESPONSE_FORMATS)}")
    return "raw" if value == "raw" else "unified"


class TrutoView(NamedTuple):
    """How a request wants its customers: the records' format and fields, and the account's platform."""

    fmt: str
    keep_remote: bool
    excluded: tuple[str, ...]
    platform: str
    key_by: str | None = None


def _view(req: falcon.Request) -> TrutoView:
    fmt, keep_remote = _response_format(req), not bool_param(req, "truto_ignore_remote_data")
    excluded = tuple(sorted(set(array_items(req.params, "truto_exclude_fields") or ())))
    return TrutoView(fmt, keep_remote, excluded, platform_of(single_param(req, "integrated_account_id") or ""))


def _record_bytes(records: RecordCache, view: TrutoView, ordinal: int | None,
                  record: Callable[[], dict[str, Any]]) -> bytes:
    def build() -> bytes:
        customer = record()
        if view.fmt == "raw":
            value = remote_record(view.platform, customer)
        else:
            value = to_truto(customer, view.platform if view.keep_remote else None)
        return dumps(exclude_fields(value, view.excluded))

    return records.bytes((view.fmt, view.keep_remote, view.excluded, view.platform), ordinal, build)


def _given(record: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    return lambda: record


def _key_of(value: Any) -> str:
    return "null" if value is None else str(value)


# ---- the dialect -------------------------------------------------------------------------


class Truto(DialectBase):
    """Truto unified e-commerce: ``{result, next_cursor}`` lists, bare gets, ``{statusCode, error, message}``."""

    name = "truto"
    title = "Truto Unified E-Commerce API (customers)"
    spec = "truto.yaml"
    operations = (
        Operation("list", "GET", "/unified/ecommerce/customers", "listCustomers"),
        Operation("get", "GET", "/unified/ecommerce/customers/{id}", "getCustomer"),
    )
    example = Example("/unified/ecommerce/customers", "/unified/ecommerce/customers/{id}",
                      query="integrated_account_id=acc-1&limit=2", item_query="integrated_account_id=acc-1")
    rate_quota = Quota("window", 50, 10.0)
    """50 requests per 10 s per integrated account (Truto's documented limit)."""
    rate_scope = "tenant"
    webhooks = TrutoWebhooks(to_truto)

    def rate_headers(self, usage: Usage) -> Mapping[str, str]:
        return ratelimit_headers(usage)  # Truto's ratelimit-* (header names are case-insensitive)

    def authenticate(self, req: falcon.Request, operation: Operation, params: Mapping[str, str],
                     settings: Settings) -> Caller:
        token = check_token(bearer_token(req), settings)  # 401 before the account is checked
        account = single_param(req, "integrated_account_id")
        if not account:
            raise MissingQueryParameter("integrated_account_id")
        return Caller(token, account)

    def parse_list(self, req: falcon.Request, params: Mapping[str, str], secret: str) -> Listing:
        view = _view(req)
        limit = int_param(req, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        if bool_param(req, "truto_ignore_limit"):
            limit = DEFAULT_LIMIT
        key_by = single_param(req, "truto_key_by")
        if key_by is not None and key_by not in KEY_BY_FIELDS:
            raise InvalidParameter("truto_key_by", f"must be one of: {', '.join(KEY_BY_FIELDS)}")
        query = parse_list_query(req)
        cursor = (single_param(req, "next_cursor") or "").strip() or None
        position = decode_cursor(cursor, secret, query.signature, name="next_cursor") if cursor else None
        return Listing(query, limit, position, view=view._replace(key_by=key_by))

    def render_page(self, req: falcon.Request, listing: Listing, page: Page, records: RecordCache,
                    secret: str) -> Reply:
        view: TrutoView = listing.view
        parts = [_record_bytes(records, view, o, _given(r)) for r, o in zip(page.records, page.ordinals)]
        if view.key_by is None:
            result = b"[" + b",".join(parts) + b"]"
        else:
            keyed: dict[str, bytes] = {}
            for record, part in zip(page.records, parts):
                keyed[_key_of(to_truto(record, None)[view.key_by])] = part
            result = b"{" + b",".join(dumps(k) + b":" + v for k, v in keyed.items()) + b"}"
        prev_cursor, next_cursor = page_cursors(page, listing.query.signature, secret)
        return Reply(b'{"result":' + result + b',"next_cursor":' + dumps(next_cursor) + b',"prev_cursor":'
                     + dumps(prev_cursor) + b',"result_count":' + str(len(parts)).encode() + b"}")

    def parse_get(self, req: falcon.Request, params: Mapping[str, str]) -> TrutoView:
        return _view(req)

    def render_record(self, req: falcon.Request, view: TrutoView, found: Found, records: RecordCache) -> Reply:
        # PERF: the record is built only when its bytes are not cached.
        return Reply(_record_bytes(records, view, found.ordinal, lambda: found.record))

    def native(self, record: dict[str, Any]) -> dict[str, Any]:
        return to_truto(record)

    def unwrap_record(self, body: Any) -> dict[str, Any]:
        return body  # type: ignore[no-any-return]

    def from_native(self, native: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
        """Canonical fields of a Truto unified customer (``remote_data`` is left out; ``notes``, which Truto
        does not carry, is kept from ``current``)."""
        fields: dict[str, Any] = {key: native[key] for key in _SAME_MEMBERS if key in native}
        if "status" in native:
            fields["status"] = "archived" if native["status"] == "inactive" else native["status"]
        fields["emails"] = [{"email": e.get("email"), "type": e.get("type")} for e in native.get("emails") or ()]
        fields["phone_numbers"] = [{**phone_parts(p.get("number") or ""), "extension": p.get("extension"),
                                    "type": p.get("type")} for p in native.get("phones") or ()]
        fields["addresses"] = [{"id": a.get("id"), "type": a.get("type"), "line1": a.get("street_1"),
                                "line2": a.get("street_2"), "city": a.get("city"), "state": a.get("state"),
                                "postal_code": a.get("postal_code"), "country": a.get("country")}
                               for a in native.get("addresses") or ()]
        fields["orders"] = [{"id": o.get("id"), "total": o.get("total"), "status": o.get("status")}
                            for o in native.get("orders") or ()]
        fields.update((key, format_timestamp(parse_timestamp(native[key])))
                      for key in ("created_at", "updated_at") if native.get(key))
        if current is not None and "notes" in current:
            fields["notes"] = current["notes"]
        return fields

    def render_error(self, error: MockServerError) -> Rendered:
        return Rendered(error_status(error), dumps(error_body(error)), "application/json", dict(error.headers))
