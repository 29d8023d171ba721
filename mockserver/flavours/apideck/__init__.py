"""Apideck Unify flavour: the Ecommerce API's Customers (``apideck-libraries/openapi-specs:ecommerce.yml``).

Emulated:

* ``GET /ecommerce/customers`` (``customersAll``) and ``GET /ecommerce/customers/{id}``
  (``customersOne``), the only customer operations of the published spec. Other methods get a
  405 in Apideck's error body (the spec has no write path for ecommerce customers).
* ``Authorization: Bearer <key>`` (any non-empty key, or only ``settings.token``; the SDK adds the
  ``Bearer`` prefix itself), then the required ``x-apideck-consumer-id`` and ``x-apideck-app-id``
  headers: a missing or blank one is a 400 ``RequestHeadersValidationError`` whose detail is
  ``Missing Header: <name>``. The consumer id names the tenant (whose data a request reads).
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

* Without ``x-apideck-service-id`` the service is ``ecwid``: the mock's default "connection".
* ``_raw`` is the native customer of the connector: when the service id is the name of a flavour
  of this server (``ecwid``, ``shopify``...), that flavour's own customer record, taken from the
  registry (``FLAVOURS.get(service).native``); for any other service id, the canonical record.
  A list's ``_raw`` is ``{items: [...]}``, except for ``ecwid``, whose search-result shape
  ``{total, count, limit, items}`` it keeps (no ``offset``: pages are keyset walks).
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

Connection states of the consumer (the tenant). Apideck documents the ``type_name`` of each, but
not its status code (UNCONFIRMED statuses and messages):

* ``unauthorized``: 401 ``ConnectorCredentialsError`` (the connection's credentials expired or
  were revoked; a bad API key stays a 401 ``UnauthorizedError``).
* ``disabled``: 403 ``ConnectorDisabledError``.
* ``not_found``: 404 ``ConnectionNotFoundError``.
* ``downstream_error``: 502 ``ConnectorExecutionError`` with ``downstream_errors[]`` (Apideck proxies
  the downstream's status; the mock's downstream "answers" 502). A forced 502 (``Prefer: code=502``)
  answers the same body.

Rate limits: Apideck imposes none of its own and forwards the connector's in
``x-downstream-ratelimit-limit``/``-remaining``/``-reset``; the mock counts 100 requests per 60 s
window per consumer (UNCONFIRMED: a stand-in for the connector's limit) and sends the three headers
on every counted answer, ``-reset`` as the Unix time (seconds) the window restarts (UNCONFIRMED
unit; Apideck computes it from the current time). A refused request is a 429
``ConnectorRateLimitError`` whose ``detail`` is ``{context, error}``, with ``Retry-After``.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import time
from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import falcon

from mockserver.catalog import Filters, ListQuery
from mockserver.controls import Quota
from mockserver.dataset import format_timestamp, parse_timestamp
from mockserver.dialect import Caller, DialectBase, Example, Found, Listing, Operation, RecordCache, Rendered, Reply
from mockserver.errors import InvalidCursor, InvalidParameter, MissingHeader, MockServerError, UnsupportedFilter
from mockserver.fields import FieldSet, parse_fields, project
from mockserver.flavours import FLAVOURS
from mockserver.flavours.apideck.errors import CONNECTION_ERRORS, error_body, error_status
from mockserver.flavours.apideck.webhooks import ApideckWebhooks
from mockserver.formats import array_items, array_key, array_text, millis, rfc3339_seconds
from mockserver.model import CUSTOMER_PATHS
from mockserver.pagination import decode_cursor, page_cursors
from mockserver.resources import bearer_token, bool_param, check_token, cursor_links, dumps, int_param, single_param

if TYPE_CHECKING:
    from mockserver.catalog import Page
    from mockserver.ratelimit import Usage
    from mockserver.settings import Settings

__all__ = ["APIDECK_PATHS", "CONNECTION_ERRORS", "DEFAULT_SERVICE", "FIELDS_PATTERN", "Apideck", "error_body",
           "native_record", "to_apideck", "unwrap_cursor", "wrap_cursor"]

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

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_MAILBOX = re.compile(rf"(?=[^@]{{1,64}}@){_ATEXT}(?:\.{_ATEXT})*@(?=[^@]{{1,253}}\Z){_LABEL}(?:\.{_LABEL})+")
"""An RFC 5321 mailbox without quoted local parts or address literals: what ``format: email`` accepts."""


def _email(entry: dict[str, Any]) -> dict[str, Any]:
    address = entry.get("email")
    return entry if address is None or _MAILBOX.fullmatch(address) else {**entry, "email": None}


def _address(entry: dict[str, Any]) -> dict[str, Any]:
    return entry if entry.get("type") is not None else {**entry, "type": "other"}


_SCALARS = ("name", "first_name", "last_name", "company_name", "status", "currency")  # as canonical has them


def to_apideck(record: dict[str, Any]) -> dict[str, Any]:
    """A canonical record as an Apideck ``EcommerceCustomer`` (see the module notes for mapped values)."""
    return {
        "id": record["id"],
        **{key: record.get(key) for key in _SCALARS},
        "emails": [_email(e) for e in record.get("emails") or ()],
        "phone_numbers": record.get("phone_numbers") or [],
        "addresses": [_address(a) for a in record.get("addresses") or ()],
        "orders": record.get("orders") or [],
        "custom_mappings": None,
        "created_at": millis(record.get("created_at")),
        "updated_at": millis(record.get("updated_at")),
    }


def native_record(service: str, record: dict[str, Any]) -> dict[str, Any]:
    """What the connector behind ``service`` returns for this customer (``_raw``): the native record of
    the flavour of that name, else the canonical record."""
    return FLAVOURS.get(service).native(record) if service in FLAVOURS else record


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


def service_of(req: falcon.Request) -> str:
    """The connector a request targets (``x-apideck-service-id``, else :data:`DEFAULT_SERVICE`)."""
    return (req.get_header("x-apideck-service-id") or "").strip(" \t") or DEFAULT_SERVICE


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


class ApideckView(NamedTuple):
    """How a request wants its customers: for which connector, with ``_raw`` or not, which fields."""

    service: str
    raw: bool
    fields_raw: str
    fields: FieldSet | None
    cursor: str | None = None  # the list cursor as sent: meta.cursors.current


def _view(req: falcon.Request) -> ApideckView:
    return ApideckView(service_of(req), bool_param(req, "raw"), *fields_param(req))


# ---- rendering ---------------------------------------------------------------------------


def _head(service: str, operation: str) -> bytes:
    return (b'{"status_code":200,"status":"OK","service":' + dumps(service)
            + b',"resource":"customers","operation":"' + operation.encode() + b'"')


def _data_bytes(records: RecordCache, view: ApideckView, ordinal: int | None,
                record: Callable[[], dict[str, Any]]) -> bytes:
    return records.bytes(("data", view.fields_raw), ordinal, lambda: dumps(project(to_apideck(record()), view.fields)))


def _raw_bytes(records: RecordCache, service: str, ordinal: int | None, record: Callable[[], dict[str, Any]]) -> bytes:
    # Every service id that is no flavour gets the canonical record: one cache entry for them all.
    variant = ("raw", service if service in FLAVOURS else None)
    return records.bytes(variant, ordinal, lambda: dumps(native_record(service, record())))


def _given(record: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    return lambda: record


# ---- the dialect -------------------------------------------------------------------------


class Apideck(DialectBase):
    """Apideck Unify Ecommerce: ``data[]`` + ``meta.cursors``, errors as ``{status_code, error, type_name, ...}``."""

    name = "apideck"
    title = "Apideck Unify Ecommerce API (customers)"
    spec = "apideck.yaml"
    operations = (
        Operation("list", "GET", "/ecommerce/customers", "customersAll"),
        Operation("get", "GET", "/ecommerce/customers/{id}", "customersOne"),
    )
    example = Example("/ecommerce/customers", "/ecommerce/customers/{id}",
                      headers=(("x-apideck-consumer-id", "test-consumer"), ("x-apideck-app-id", "my-app")))
    rate_quota = Quota("window", 100, 60.0)
    """UNCONFIRMED: Apideck forwards the connector's limit; a stand-in of 100 requests a minute per consumer."""
    rate_scope = "tenant"
    webhooks = ApideckWebhooks(DEFAULT_SERVICE)

    def rate_headers(self, usage: Usage) -> Mapping[str, str]:
        # UNCONFIRMED: -reset as the Unix time of the window's restart (the client's clock, not the mock's).
        return {"x-downstream-ratelimit-limit": str(usage.limit),
                "x-downstream-ratelimit-remaining": str(usage.remaining),
                "x-downstream-ratelimit-reset": str(math.ceil(time.time() + usage.reset_seconds))}

    def authenticate(self, req: falcon.Request, operation: Operation, params: Mapping[str, str],
                     settings: Settings) -> Caller:
        token = check_token(bearer_token(req), settings)  # 401 before the headers are checked
        values = [(req.get_header(header) or "").strip(" \t") for header in REQUIRED_HEADERS]
        for header, value in zip(REQUIRED_HEADERS, values):
            if not value:
                raise MissingHeader(header)
        return Caller(token, values[0])  # the consumer is the tenant

    def page_variant(self, req: falcon.Request, caller: Caller) -> Hashable:
        return service_of(req)  # the envelope's service, the cursors and _raw depend on it

    def parse_list(self, req: falcon.Request, params: Mapping[str, str], secret: str) -> Listing:
        view = _view(req)
        limit = int_param(req, "limit", 20, 1, 200)
        query = parse_list_query(req)
        cursor = (single_param(req, "cursor") or "").strip() or None
        position = decode_cursor(unwrap_cursor(view.service, cursor), secret, query.signature) if cursor else None
        return Listing(query, limit, position, view=view._replace(cursor=cursor))

    def render_page(self, req: falcon.Request, listing: Listing, page: Page, records: RecordCache,
                    secret: str) -> Reply:
        view: ApideckView = listing.view
        service = view.service
        loads = [(_given(r), o) for r, o in zip(page.records, page.ordinals)]
        parts = [_data_bytes(records, view, ordinal, record) for record, ordinal in loads]
        prev_cursor, next_cursor = (wrap_cursor(service, c) if c else None
                                    for c in page_cursors(page, listing.query.signature, secret))
        meta: dict[str, Any] = {"items_on_page": len(parts),
                                "cursors": {"previous": prev_cursor, "current": view.cursor, "next": next_cursor}}
        if page.total is not None:
            meta["total_count"] = page.total
        links = cursor_links(req, prev_cursor, next_cursor)
        body = (_head(service, "all") + b',"data":[' + b",".join(parts) + b'],"meta":' + dumps(meta)
                + b',"links":' + dumps(links))
        if view.raw:
            items = b",".join(_raw_bytes(records, service, ordinal, record) for record, ordinal in loads)
            if service == DEFAULT_SERVICE:  # Ecwid's search-result shape
                envelope = {"total": page.total, "count": len(parts), "limit": listing.limit}
                body += b',"_raw":' + dumps(envelope)[:-1] + b',"items":[' + items + b"]}"
            else:
                body += b',"_raw":{"items":[' + items + b"]}"
        return Reply(body + b"}")

    def parse_get(self, req: falcon.Request, params: Mapping[str, str]) -> ApideckView:
        return _view(req)

    def render_record(self, req: falcon.Request, view: ApideckView, found: Found, records: RecordCache) -> Reply:
        # PERF: the record is built only when its bytes are not cached.
        data = _data_bytes(records, view, found.ordinal, lambda: found.record)
        body = _head(view.service, "one") + b',"data":' + data
        if view.raw:
            body += b',"_raw":' + _raw_bytes(records, view.service, found.ordinal, lambda: found.record)
        return Reply(body + b"}")

    def native(self, record: dict[str, Any]) -> dict[str, Any]:
        return to_apideck(record)

    def unwrap_record(self, body: Any) -> dict[str, Any]:
        return body["data"]  # type: ignore[no-any-return]

    def from_native(self, native: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
        """Canonical fields of an EcommerceCustomer: the same members without ``custom_mappings``, dates
        to the second; ``notes``, which Apideck does not carry, is kept from ``current``."""
        fields = {key: value for key, value in native.items() if key != "custom_mappings"}
        fields.update((key, format_timestamp(parse_timestamp(fields[key])))
                      for key in ("created_at", "updated_at") if fields.get(key))
        if current is not None and "notes" in current:
            fields["notes"] = current["notes"]
        return fields

    def render_error(self, error: MockServerError) -> Rendered:
        return Rendered(error_status(error), dumps(error_body(error)), "application/json", dict(error.headers))
