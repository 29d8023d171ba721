"""Truto flavour: the Unified E-Commerce API's customers (truto.one/docs, ``trutohq/truto-*-sdk``).

Emulated:

* ``GET /unified/ecommerce/customers`` (list) and ``GET /unified/ecommerce/customers/{id}`` (get),
  the only customer methods Truto offers for e-commerce; other methods get a 405 in Truto's body.
* ``Authorization: Bearer <token>`` (any non-empty token, or only ``settings.token``), then the
  required ``integrated_account_id`` query parameter: missing or empty is a 400 whose
  ``truto_error_insight.missing_required_query_parameters`` names it.
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
* The remote platform behind the mock's integrated account is Ecwid: ``remote_data`` is Ecwid's native
  customer (``flavours.ecwid.to_ecwid``). ``truto_response_format=raw`` keeps the list envelope with
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
"""

from __future__ import annotations

import math
from fractions import Fraction
from http import HTTPStatus
from typing import Any

import falcon

from mockserver.array_params import array_items
from mockserver.catalog import Filters, ListQuery
from mockserver.errors import InvalidParameter, MockServerError
from mockserver.flavours import Rendered, Route
from mockserver.flavours.apideck import bool_param, millis, rfc3339_seconds
from mockserver.flavours.ecwid import to_ecwid
from mockserver.pagination import Position, decode_cursor, encode_cursor
from mockserver.resources import ServerContext, bearer_token, dumps, int_param, send_bytes, single_param

__all__ = [
    "DEFAULT_LIMIT",
    "KEY_BY_FIELDS",
    "MAX_LIMIT",
    "MissingQueryParameter",
    "Truto",
    "error_body",
    "exclude_fields",
    "to_truto",
]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
RESPONSE_FORMATS = ("unified", "raw", "normalized", "stream")
KEY_BY_FIELDS = ("id", "first_name", "last_name", "name", "company_name", "status", "currency",
                 "created_at", "updated_at")
SORT_FIELDS = ("created_at", "updated_at", "name")
OPERATORS = ("gt", "gte", "lt", "lte")
INSIGHT = "The following query parameters are required but were not provided in the request."


class MissingQueryParameter(InvalidParameter):
    """400: a query parameter the unified model requires is absent or empty."""

    kind = "missing-parameter"

    def __init__(self, name: str) -> None:
        super().__init__(name, "is required")


def _phone_number(phone: dict[str, Any]) -> str:
    parts = [f"+{phone['country_code']}" if phone.get("country_code") else "", phone.get("area_code") or "",
             phone.get("number") or ""]
    return " ".join(p for p in parts if p)


def to_truto(record: dict[str, Any], remote: bool = True) -> dict[str, Any]:
    """A canonical record as Truto's unified e-commerce customer (with ``remote_data`` if ``remote``)."""
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
        "phones": [{"number": _phone_number(p), "extension": p.get("extension"), "type": p.get("type")}
                   for p in record.get("phone_numbers") or ()],
        "addresses": [{"id": a.get("id"), "street_1": a.get("line1"), "street_2": a.get("line2"),
                       "city": a.get("city"), "state": a.get("state"), "postal_code": a.get("postal_code"),
                       "country": a.get("country"), "type": a.get("type")} for a in record.get("addresses") or ()],
        "orders": [{"id": o.get("id"), "status": o.get("status"), "total": o.get("total")}
                   for o in record.get("orders") or ()],
        "created_at": millis(record.get("created_at")),
        "updated_at": millis(record.get("updated_at")),
    }
    if remote:
        unified["remote_data"] = to_ecwid(record)
    return unified


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


def _exclusions(req: falcon.Request) -> tuple[str, ...]:
    return tuple(sorted(set(array_items(req.params, "truto_exclude_fields") or ())))


def _required_account(req: falcon.Request) -> None:
    if not single_param(req, "integrated_account_id"):
        raise MissingQueryParameter("integrated_account_id")


def _response_format(req: falcon.Request) -> str:
    value = single_param(req, "truto_response_format")
    if value is None:
        return "unified"
    if value not in RESPONSE_FORMATS:
        raise InvalidParameter("truto_response_format", f"must be one of: {', '.join(RESPONSE_FORMATS)}")
    return "raw" if value == "raw" else "unified"


def _key_of(value: Any) -> str:
    return "null" if value is None else str(value)


# ---- resource ----------------------------------------------------------------------------


class CustomersResource:
    """``/unified/ecommerce/customers`` (list) and ``/unified/ecommerce/customers/{id}`` (get)."""

    def __init__(self, context: ServerContext, name: str = "truto") -> None:
        self.context = context
        self.catalog = context.catalog
        self.name = name

    def _record_bytes(self, record: dict[str, Any], ordinal: int | None, fmt: str, keep_remote: bool,
                      excluded: tuple[str, ...]) -> bytes:
        def build() -> bytes:
            value = to_ecwid(record) if fmt == "raw" else to_truto(record, remote=keep_remote)
            return dumps(exclude_fields(value, excluded))

        if ordinal is None:
            return build()
        return self.context.record_bytes(self.name, (fmt, keep_remote, excluded), ordinal, build)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.context.check_token(bearer_token(req))
        _required_account(req)
        version = self.catalog.store.refresh()
        # PERF: pages are served from bytes, keyed by everything that shapes them.
        cache_key = (self.name, req.prefix, req.path, req.query_string, version)
        cached = self.context.pages.get(cache_key)
        if cached is None:
            cached = self.context.pages.put(cache_key, self._list(req, version))
        send_bytes(resp, cached)

    def _list(self, req: falcon.Request, latest: int) -> bytes:
        fmt = _response_format(req)
        keep_remote = not bool_param(req, "truto_ignore_remote_data")
        limit = int_param(req, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        if bool_param(req, "truto_ignore_limit"):
            limit = DEFAULT_LIMIT
        key_by = single_param(req, "truto_key_by")
        if key_by is not None and key_by not in KEY_BY_FIELDS:
            raise InvalidParameter("truto_key_by", f"must be one of: {', '.join(KEY_BY_FIELDS)}")
        excluded = _exclusions(req)
        query = parse_list_query(req)
        secret = self.catalog.dataset.fingerprint
        cursor = (single_param(req, "next_cursor") or "").strip() or None
        position = decode_cursor(cursor, secret, query.signature, name="next_cursor") if cursor else None
        page = self.catalog.list(query, limit, position, latest=latest)
        parts = [self._record_bytes(r, o, fmt, keep_remote, excluded) for r, o in zip(page.records, page.ordinals)]
        if key_by is None:
            result = b"[" + b",".join(parts) + b"]"
        else:
            keyed: dict[str, bytes] = {}
            for record, part in zip(page.records, parts):
                keyed[_key_of(to_truto(record, remote=False)[key_by])] = part
            result = b"{" + b",".join(dumps(k) + b":" + v for k, v in keyed.items()) + b"}"
        next_cursor = prev_cursor = None
        if page.has_next and page.last_key is not None:
            next_cursor = encode_cursor(Position(page.last_key, False, page.version, query.signature), secret)
        if page.has_previous and page.first_key is not None:
            prev_cursor = encode_cursor(Position(page.first_key, True, page.version, query.signature), secret)
        return (b'{"result":' + result + b',"next_cursor":' + dumps(next_cursor) + b',"prev_cursor":'
                + dumps(prev_cursor) + b',"result_count":' + str(len(parts)).encode() + b"}")

    def on_get_item(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self.context.check_token(bearer_token(req))
        _required_account(req)
        fmt = _response_format(req)
        keep_remote = not bool_param(req, "truto_ignore_remote_data")
        excluded = _exclusions(req)
        state = self.catalog.state()
        record = self.catalog.get(id)
        ordinal = self.catalog.ordinal_of(id, state)
        send_bytes(resp, self._record_bytes(record, ordinal, fmt, keep_remote, excluded))


# ---- errors ------------------------------------------------------------------------------


def error_body(error: MockServerError) -> dict[str, Any]:
    """Truto's error object for ``error``."""
    try:
        reason = HTTPStatus(error.status).phrase
    except ValueError:
        reason = error.title
    body: dict[str, Any] = {"statusCode": error.status, "error": reason, "message": error.detail}
    if isinstance(error, MissingQueryParameter):
        body["message"] = f"{error.name} is required"
        body["truto_error_insight"] = {
            "missing_required_query_parameters": {"description": INSIGHT, "value": [error.name]},
        }
    return body


class Truto:
    """Truto unified e-commerce: ``{result, next_cursor}`` lists, bare gets, ``{statusCode, error, message}``."""

    name = "truto"
    title = "Truto Unified E-Commerce API (customers)"
    spec = "truto.yaml"

    def routes(self, context: ServerContext) -> list[Route]:
        resource = CustomersResource(context, self.name)
        return [Route("/unified/ecommerce/customers", resource),
                Route("/unified/ecommerce/customers/{id}", resource, "item")]

    def render_error(self, error: MockServerError) -> Rendered:
        return Rendered(error.status, dumps(error_body(error)), "application/json", dict(error.headers))
