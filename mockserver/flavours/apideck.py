"""Apideck Unify flavour: the Ecommerce API's Customers (``apideck-libraries/openapi-specs:ecommerce.yml``).

Emulated:

* ``GET /ecommerce/customers`` (``customersAll``) and ``GET /ecommerce/customers/{id}``
  (``customersOne``), the only customer operations of the published spec. Other methods get a
  405 in Apideck's error body (the spec has no write path for ecommerce customers).
* ``Authorization: Bearer <key>`` (any non-empty key, or only ``settings.token``; the SDK adds the
  ``Bearer`` prefix itself), then the required ``x-apideck-consumer-id`` and ``x-apideck-app-id``
  headers: a missing or blank one is a 400 ``RequestHeadersValidationError`` whose detail is
  ``Missing Header: <name>``.
* ``x-apideck-service-id`` picks the connector named in the envelope's ``service``.
* ``cursor`` + ``limit`` (1..200, default 20): envelope ``{status_code, status, service, resource,
  operation, data, meta: {items_on_page, cursors: {previous, current, next}, total_count}, links}``
  with absolute ``links``; the end of the list is ``meta.cursors.next: null`` (what the SDK's
  ``res.next()`` reads). Cursors are ``base64("<service>::cursor::<signed core cursor>")``, the
  ``service::kind::value`` look of the spec's examples; a garbled, foreign or other-query cursor
  is a 400 ``InvalidCursorError``.
* ``fields`` with dot notation over the EcommerceCustomer paths; ``filter[email]``,
  ``filter[phone_number]``, ``filter[customer_ids]``, ``filter[updated_since]``,
  ``filter[created_since]``; any other filter key is a 400 ``UnsupportedFiltersError``;
  ``pass_through[...]`` is accepted and ignored (there is no downstream to pass it to).
* ``raw=true`` adds ``_raw``: the chosen service's native payload for the same customers.
* Records are the canonical customers as ``EcommerceCustomer`` (``additionalProperties: false``),
  with ``custom_mappings`` and millisecond ``.000Z`` timestamps.
* Errors ``{status_code, error, type_name, message, detail, ref}``, always ``application/json``
  (the SDK only raises its typed errors for that content type).

UNCONFIRMED choices (no primary source; documented in ``specs/apideck.yaml`` too):

* Without ``x-apideck-service-id`` the service is ``ecwid``: the mock's one "connection".
* ``_raw`` for service ``ecwid`` is Ecwid's native customer (``flavours.ecwid.to_ecwid``); a list's
  ``_raw`` is Ecwid's search-result shape ``{total, count, limit, items}`` (no ``offset``: pages
  are keyset walks). For any other service id ``_raw`` is the canonical record (get) or
  ``{items: [canonical records]}`` (list).
* The canonical record is looser than ``EcommerceCustomer``, so two values are mapped to keep every
  response valid: an address without a type is ``other`` (Apideck's ``type`` is a non-null enum),
  and an email the canonical API accepted but that is not an RFC 5321 dot-atom address (non-ASCII,
  control characters, ``a..b@c.de``: Apideck declares ``format: email``) is ``email: null``.
* ``custom_mappings`` is ``null`` (no mappings configured). The canonical ``notes`` field is not
  served: EcommerceCustomer has no such property and forbids additional ones.
* The authorization check runs before the header checks; a key without the ``Bearer`` scheme is a
  401. ``raw`` accepts exactly ``true``/``false``. Unknown ``fields`` names are a 400
  ``RequestValidationError``. An empty ``email``, ``phone_number`` or ``customer_ids`` filter means
  "no filter"; ``*_since`` dates must be RFC 3339 date-times (the spec's examples are), and
  ``created_since`` keeps customers created at or after that instant. ``email`` is exact and
  case-insensitive, ``phone_number`` compares digits.
* ``meta`` is omitted on the get response; ``total_count`` is always given (ecwid reports totals).
* 405 uses ``type_name`` ``MethodNotAllowedError``, unknown paths ``EntityNotFoundError``, 500
  ``UnknownError``.
* ``filter[customer_ids]`` and ``fields`` take every array form of ``mockserver.array_params``
  (UNCONFIRMED: Apideck documents only the comma-separated one).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from datetime import date
from fractions import Fraction
from http import HTTPStatus
from typing import Any

import falcon

from mockserver.array_params import array_items, array_key, array_text
from mockserver.catalog import Filters, ListQuery
from mockserver.errors import (
    InvalidCursor,
    InvalidParameter,
    MissingHeader,
    MockServerError,
    NotFound,
    UnsupportedFilter,
)
from mockserver.fields import FieldSet, parse_fields, project
from mockserver.flavours import Rendered, Route
from mockserver.flavours.ecwid import to_ecwid
from mockserver.model import CUSTOMER_PATHS
from mockserver.pagination import Position, decode_cursor, encode_cursor
from mockserver.resources import (
    ServerContext,
    bearer_token,
    dumps,
    int_param,
    link_with,
    send_bytes,
    single_param,
)

__all__ = [
    "APIDECK_PATHS",
    "DEFAULT_SERVICE",
    "FIELDS_PATTERN",
    "Apideck",
    "bool_param",
    "error_body",
    "millis",
    "native_record",
    "rfc3339_seconds",
    "to_apideck",
    "unwrap_cursor",
    "wrap_cursor",
]

DEFAULT_SERVICE = "ecwid"
FILTER_KEYS = ("email", "phone_number", "customer_ids", "updated_since", "created_since")
ARRAY_PARAMS = ("filter[customer_ids]", "fields")
"""Parameters taking a list, in any form of :mod:`mockserver.array_params` (UNCONFIRMED beyond the comma form)."""
REQUIRED_HEADERS = ("x-apideck-consumer-id", "x-apideck-app-id")
APIDECK_PATHS: frozenset[str] = frozenset((CUSTOMER_PATHS - {"notes"}) | {"custom_mappings"})
"""Every valid ``fields`` path of an EcommerceCustomer."""

_FIELD_ALTERNATIVES = "|".join(re.escape(p) for p in sorted(APIDECK_PATHS, key=lambda p: (-len(p), p)))
FIELDS_PATTERN = f"^ *(?:(?:{_FIELD_ALTERNATIVES}) *)?(?:, *(?:(?:{_FIELD_ALTERNATIVES}) *)?)*$"
"""What ``fields`` accepts: known paths separated by commas, spaces around them, blank entries ignored."""
_FIELDS_RE = re.compile(FIELDS_PATTERN[1:-1])
_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))", re.ASCII)
_EPOCH_DAY = date(1970, 1, 1).toordinal()


def rfc3339_seconds(text: str) -> Fraction:
    """The exact UNIX time of an RFC 3339 ``date-time`` (offset required, leap second allowed).

    Raises:
        ValueError: not an RFC 3339 date-time, or not a real calendar date.
    """
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not an RFC 3339 date-time")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    if hour > 23 or minute > 59 or second > 60:
        raise ValueError(f"{text!r} has an out-of-range time")
    days = date(year, month, day).toordinal() - _EPOCH_DAY  # ValueError for impossible dates
    offset = 0
    if match.group(9):
        off_hour, off_minute = int(match.group(10)), int(match.group(11))
        if off_hour > 23 or off_minute > 59:
            raise ValueError(f"{text!r} has an out-of-range offset")
        offset = (off_hour * 3600 + off_minute * 60) * (1 if match.group(9) == "+" else -1)
    fraction = Fraction(match.group(7)) if match.group(7) else Fraction(0)
    return days * 86400 + hour * 3600 + minute * 60 + second + fraction - offset


def millis(timestamp: str | None) -> str | None:
    """``2020-09-30T07:43:32Z`` -> ``2020-09-30T07:43:32.000Z`` (Apideck dates carry milliseconds)."""
    if timestamp is None or not timestamp.endswith("Z") or "." in timestamp:
        return timestamp
    return timestamp[:-1] + ".000Z"


_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_MAILBOX = re.compile(rf"(?=[^@]{{1,64}}@){_ATEXT}(?:\.{_ATEXT})*@(?=[^@]{{1,253}}\Z){_LABEL}(?:\.{_LABEL})+")
"""An RFC 5321 mailbox without quoted local parts or address literals: what ``format: email`` accepts."""


def _email(entry: dict[str, Any]) -> dict[str, Any]:
    address = entry.get("email")
    return entry if address is None or _MAILBOX.fullmatch(address) else {**entry, "email": None}


def _address(entry: dict[str, Any]) -> dict[str, Any]:
    return entry if entry.get("type") is not None else {**entry, "type": "other"}


def to_apideck(record: dict[str, Any]) -> dict[str, Any]:
    """A canonical record as an Apideck ``EcommerceCustomer`` (see the module notes for mapped values)."""
    return {
        "id": record["id"],
        "name": record.get("name"),
        "first_name": record.get("first_name"),
        "last_name": record.get("last_name"),
        "company_name": record.get("company_name"),
        "status": record.get("status"),
        "currency": record.get("currency"),
        "emails": [_email(e) for e in record.get("emails") or ()],
        "phone_numbers": record.get("phone_numbers") or [],
        "addresses": [_address(a) for a in record.get("addresses") or ()],
        "orders": record.get("orders") or [],
        "custom_mappings": None,
        "created_at": millis(record.get("created_at")),
        "updated_at": millis(record.get("updated_at")),
    }


def native_record(service: str, record: dict[str, Any]) -> dict[str, Any]:
    """What the connector behind ``service`` returns for this customer (``_raw``)."""
    return to_ecwid(record) if service == DEFAULT_SERVICE else record


# ---- cursors -----------------------------------------------------------------------------


def wrap_cursor(service: str, core: str) -> str:
    return base64.b64encode(f"{service}::cursor::{core}".encode()).decode()


def unwrap_cursor(service: str, text: str) -> str:
    """The core cursor inside an Apideck-looking one issued for ``service``.

    Raises:
        InvalidCursor: not base64, or not ``<service>::cursor::<value>`` for this service.
    """
    # NOTE: an unencoded "+" in a hand-built URL arrives as a space; standard and URL-safe
    # alphabets are both accepted so a copied cursor still works.
    cleaned = text.strip().replace(" ", "+").replace("-", "+").replace("_", "/")
    try:
        decoded = base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidCursor("the cursor is not base64 text this server issued; pass back meta.cursors.next "
                            "exactly as returned") from None
    prefix = f"{service}::cursor::"
    if not decoded.startswith(prefix):
        raise InvalidCursor(f"the cursor was not issued for service {service!r} by this server")
    return decoded[len(prefix):]


# ---- request parsing ---------------------------------------------------------------------


def bool_param(req: falcon.Request, name: str) -> bool:
    """A ``true``/``false`` query parameter (absent means false).

    Raises:
        InvalidParameter: any other value.
    """
    raw = single_param(req, name)
    if raw is None:
        return False
    if raw not in ("true", "false"):
        raise InvalidParameter(name, f"must be true or false, got {raw!r}")
    return raw == "true"


def _since(key: str, raw: str) -> int:
    try:
        return math.ceil(rfc3339_seconds(raw))
    except ValueError:
        raise InvalidParameter(key, f"must be an RFC 3339 date-time such as 2020-09-30T07:43:32.000Z, "
                                    f"got {raw!r}") from None


def parse_list_query(req: falcon.Request) -> ListQuery:
    """The filters of a ``customersAll`` request (Apideck has no sort for ecommerce customers).

    Raises:
        UnsupportedFilter: a ``filter[...]`` key outside EcommerceCustomersFilter.
        InvalidParameter: a filter value that cannot be used, or a non-object ``filter``.
    """
    values: dict[str, Any] = {}
    for key in dict.fromkeys(array_key(k, ARRAY_PARAMS) for k in req.params):
        if key in ("filter", "pass_through"):
            raise InvalidParameter(key, f"must be an object: {key}[<name>]=<value>")
        if not key.startswith("filter["):
            continue  # pass_through[...] and unknown parameters are ignored
        name = key[7:-1] if key.endswith("]") else ""
        if name not in FILTER_KEYS:
            raise UnsupportedFilter(key, f"filter {name!r} is not supported; supported filters: "
                                         f"{', '.join(FILTER_KEYS)}")
        if name == "customer_ids":
            ids = array_items(req.params, key)
            if ids:  # NOTE: an empty filter is ignored, as for the other keys
                values["ids"] = ids
            continue
        raw = single_param(req, key) or ""
        if name.endswith("_since"):
            values[name.replace("_since", "_from")] = _since(key, raw)
            continue
        raw = raw.strip()
        if not raw:
            continue
        if name == "email":
            values["email"] = raw
        elif name == "phone_number":
            values["phone"] = raw
    return ListQuery(Filters(**values))


def fields_param(req: falcon.Request) -> tuple[str, FieldSet | None]:
    """The ``fields`` selection.

    Raises:
        InvalidParameter: an entry is not an EcommerceCustomer path.
    """
    raw = array_text(req.params, "fields") or ""
    if not _FIELDS_RE.fullmatch(raw):
        raise InvalidParameter("fields", f"must be a comma-separated list of fields; valid fields are: "
                                         f"{', '.join(sorted(APIDECK_PATHS))}")
    return raw, parse_fields(raw, APIDECK_PATHS)


# ---- resource ----------------------------------------------------------------------------


class CustomersResource:
    """``/ecommerce/customers`` (customersAll) and ``/ecommerce/customers/{id}`` (customersOne)."""

    def __init__(self, context: ServerContext, name: str = "apideck") -> None:
        self.context = context
        self.catalog = context.catalog
        self.name = name

    def _service(self, req: falcon.Request) -> str:
        """Check auth and the required headers; the service id the request targets."""
        self.context.check_token(bearer_token(req))
        for header in REQUIRED_HEADERS:
            value = req.get_header(header)
            if value is None or not value.strip(" \t"):
                raise MissingHeader(header)
        return (req.get_header("x-apideck-service-id") or "").strip(" \t") or DEFAULT_SERVICE

    def _data_bytes(self, record: dict[str, Any], ordinal: int | None, fields_raw: str,
                    fields: FieldSet | None) -> bytes:
        def build() -> bytes:
            return dumps(project(to_apideck(record), fields))

        if ordinal is None:
            return build()
        return self.context.record_bytes(self.name, ("data", fields_raw), ordinal, build)

    def _raw_bytes(self, service: str, record: dict[str, Any], ordinal: int | None) -> bytes:
        def build() -> bytes:
            return dumps(native_record(service, record))

        if ordinal is None:
            return build()
        return self.context.record_bytes(self.name, ("raw", service), ordinal, build)

    @staticmethod
    def _head(service: str, operation: str) -> bytes:
        return (b'{"status_code":200,"status":"OK","service":' + dumps(service)
                + b',"resource":"customers","operation":"' + operation.encode() + b'"')

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        service = self._service(req)
        version = self.catalog.store.refresh()
        # PERF: pages are served from bytes; the service header changes the body, so it is in the key.
        cache_key = (self.name, req.prefix, req.path, req.query_string, version, service)
        cached = self.context.pages.get(cache_key)
        if cached is None:
            cached = self.context.pages.put(cache_key, self._list(req, service, version))
        send_bytes(resp, cached)

    def _list(self, req: falcon.Request, service: str, latest: int) -> bytes:
        raw = bool_param(req, "raw")
        limit = int_param(req, "limit", 20, 1, 200)
        fields_raw, fields = fields_param(req)
        query = parse_list_query(req)
        secret = self.catalog.dataset.fingerprint
        cursor = (single_param(req, "cursor") or "").strip() or None
        position = None
        if cursor is not None:
            position = decode_cursor(unwrap_cursor(service, cursor), secret, query.signature)
        page = self.catalog.list(query, limit, position, latest=latest)
        parts = [self._data_bytes(r, o, fields_raw, fields) for r, o in zip(page.records, page.ordinals)]
        next_cursor = prev_cursor = None
        if page.has_next and page.last_key is not None:
            next_cursor = wrap_cursor(service, encode_cursor(
                Position(page.last_key, False, page.version, query.signature), secret))
        if page.has_previous and page.first_key is not None:
            prev_cursor = wrap_cursor(service, encode_cursor(
                Position(page.first_key, True, page.version, query.signature), secret))
        meta: dict[str, Any] = {
            "items_on_page": len(parts),
            "cursors": {"previous": prev_cursor, "current": cursor, "next": next_cursor},
        }
        if page.total is not None:
            meta["total_count"] = page.total
        links = {
            "previous": link_with(req, {"cursor": prev_cursor}) if prev_cursor else None,
            "current": link_with(req, {}),
            "next": link_with(req, {"cursor": next_cursor}) if next_cursor else None,
        }
        body = (self._head(service, "all") + b',"data":[' + b",".join(parts) + b'],"meta":' + dumps(meta)
                + b',"links":' + dumps(links))
        if raw:
            items = b",".join(self._raw_bytes(service, r, o) for r, o in zip(page.records, page.ordinals))
            if service == DEFAULT_SERVICE:
                envelope = {"total": page.total, "count": len(parts), "limit": limit}
                body += b',"_raw":' + dumps(envelope)[:-1] + b',"items":[' + items + b"]}"
            else:
                body += b',"_raw":{"items":[' + items + b"]}"
        return body + b"}"

    def on_get_item(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        service = self._service(req)
        raw = bool_param(req, "raw")
        fields_raw, fields = fields_param(req)
        state = self.catalog.state()
        record = self.catalog.get(id)
        ordinal = self.catalog.ordinal_of(id, state)
        body = self._head(service, "one") + b',"data":' + self._data_bytes(record, ordinal, fields_raw, fields)
        if raw:
            body += b',"_raw":' + self._raw_bytes(service, record, ordinal)
        send_bytes(resp, body + b"}")


# ---- errors ------------------------------------------------------------------------------


def _type_and_message(error: MockServerError) -> tuple[str, str]:
    if isinstance(error, MissingHeader):
        return "RequestHeadersValidationError", "Invalid Params"
    if isinstance(error, InvalidCursor):
        return "InvalidCursorError", "Invalid Cursor"
    if isinstance(error, UnsupportedFilter):
        return "UnsupportedFiltersError", "Unsupported Filters"
    if isinstance(error, NotFound):
        return "EntityNotFoundError", "Unknown Customer" if error.entity else "Unknown Resource"
    by_status = {
        400: ("RequestValidationError", "Invalid Params"),
        401: ("UnauthorizedError", "Unauthorized Request"),
        402: ("RequestLimitError", "Request Limit Reached"),
        403: ("ForbiddenError", "Forbidden"),
        405: ("MethodNotAllowedError", "Method Not Allowed"),
        415: ("RequestValidationError", "Invalid Params"),
        422: ("InvalidStateError", "Invalid State"),
        429: ("ConnectorRateLimitError", "Connector Rate Limit Error"),
    }
    return by_status.get(error.status, ("UnknownError", "Unknown Error"))


def error_body(error: MockServerError) -> dict[str, Any]:
    """Apideck's error object for ``error``."""
    type_name, message = _type_and_message(error)
    try:
        reason = HTTPStatus(error.status).phrase
    except ValueError:
        reason = error.title
    return {
        "status_code": error.status,
        "error": reason,
        "type_name": type_name,
        "message": message,
        "detail": error.detail,
        "ref": f"https://developers.apideck.com/errors#{type_name.lower()}",
    }


class Apideck:
    """Apideck Unify Ecommerce: ``data[]`` + ``meta.cursors``, errors as ``{status_code, error, type_name, ...}``."""

    name = "apideck"
    title = "Apideck Unify Ecommerce API (customers)"
    spec = "apideck.yaml"

    def routes(self, context: ServerContext) -> list[Route]:
        resource = CustomersResource(context, self.name)
        return [Route("/ecommerce/customers", resource), Route("/ecommerce/customers/{id}", resource, "item")]

    def render_error(self, error: MockServerError) -> Rendered:
        return Rendered(error.status, dumps(error_body(error)), "application/json", dict(error.headers))
