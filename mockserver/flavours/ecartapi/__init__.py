"""ecartAPI flavour: ``/api/v2/customers`` with camelCase records and ``{"success": ...}`` envelopes.

Emulated (sources: ``seeds/ecartapi-customers.txt``, ``reference/dialects.md`` section C and the
qodex.ai mirror of ecartAPI's public request collection):

* ``GET /api/v2/customers`` -> ``{"success": true, "customers": [...]}``; ``limit`` (default 50),
  ``page`` (a 1-based page number *or* an opaque page token), ``sinceId``, ``offset``, ``ids``,
  ``email``, ``name``, ``search``, ``createdAt[from]``/``createdAt[to]`` and
  ``updatedAt[from]``/``updatedAt[to]`` (each pair must be sent together, else 400).
* ``GET /api/v2/customers/count``, ``GET|PUT|DELETE /api/v2/customers/{id}``,
  ``POST /api/v2/customers`` (``firstName`` and ``lastName`` required),
  ``GET /api/v2/customers/{id}/orders``.
* ``Authorization: <token>`` with or without ``Bearer``; any non-empty token unless the server
  has ``settings.token``.
* The record: ``id`` (string), ``email``, ``firstName``, ``lastName``, ``status {id, status}``,
  ``note``, ``phone``, ``currency``, ``addresses[] {..., country/state {code, name, codeIso2,
  codeIso3}, defaultBilling, defaultShipping}``, ``dates {createdAt, updatedAt}`` (RFC 3339 ``Z``).
* 400 ``"The resource is not available for this ecommerce"`` for the ecartAPI resources this mock
  store does not offer (``/api/v2/orders``, ``/api/v2/products``, ``/api/v2/webhooks``, and one
  level below them), whatever the method.

UNCONFIRMED choices (no primary source; assumptions of this mock, not ecartAPI behaviour):

* **Next page token.** Returned twice: in the body as ``pagination.nextPage`` (string or
  ``null`` on the last page; also ``pagination.prevPage``, ``limit``, ``page`` and ``total``) and
  as an RFC 8288 ``Link: <url>; rel="next", <url>; rel="prev"`` header whose URLs repeat the
  request with ``page=<token>``. Tokens are opaque (URL-safe base64 wrapping the core signed
  keyset cursor plus the filters it belongs to): a walk by tokens never skips or repeats a
  customer when others are written meanwhile. With a token, the request may repeat its filters
  (they must be unchanged, else 400) or omit them (the token's are used); ``offset`` is ignored.
  Page numbers are offsets (``(page - 1) * limit + offset``) and the answer to a page-number
  request also carries tokens. A bad token is 400.
* ``limit`` is 1..250; ``page`` numbers and ``offset`` go up to 1,000,000,000.
* ``sinceId``: customers created after that customer, in creation order; a deleted customer still
  marks its place; an id never issued is 404, a malformed one 400. With ``sinceId`` there is no
  ``prevPage`` (forward-only, like Shopify's ``since_id``) and ``total``/``count`` count only
  customers after it.
* ``search`` filters by name like ``name`` (ignored when ``name`` is given); blank ``ids``,
  ``email``, ``name`` and ``search`` mean no filter. Dates are ISO 8601: a date-time with offset or
  ``Z``, a date-time without offset (read as UTC), or a date (``[to]`` then means the end of that
  day). ``[from]`` after ``[to]`` gives an empty list.
* Bodies: ``GET``/``PUT``/``POST`` customer -> ``{"success": true, "customer": {...}}`` (seen in
  the mirror's examples; ``POST`` answers 200 as the mirror's example does), ``DELETE`` ->
  ``{"success": true, "id": "<id>"}``, count -> ``{"success": true, "count": N}``, orders ->
  ``{"success": true, "orders": [...]}`` in the shape of the mirror's order examples (fields the
  canonical order lacks are ``null``).
* Request bodies may be bare or wrapped as ``{"customer": {...}}`` (the mirror's examples wrap).
  ``PUT`` is partial: only the fields sent change. ``id`` and ``dates`` are ignored; other
  unknown fields are 422.
* Mapping to the canonical record: ``status`` ``active``/``archived`` <-> ``enabled``/``disabled``
  (``status.id`` is ``null``; writes accept the object or the bare string); ``email`` and ``phone``
  are the first canonical email and phone number (``"+<country> <area> <number>[ ext. <ext>]"``),
  writing them replaces only that first entry; ``note`` <-> ``notes``; address ``firstName``,
  ``lastName`` are the customer's, ``company`` is the customer's ``company_name`` (written from
  the first address that has one), ``state.name`` is the canonical state, ``phone`` and
  ``references`` are ``null`` (accepted, not stored); ``defaultBilling``/``defaultShipping`` are
  "type is billing/shipping" (writing both true stores billing, neither stores other).
* Errors: ``{"success": false, "error": {"code": <HTTP status>, "type": "<kind>", "message":
  "...", "details": [{"location", "name", "message"}]}}`` with ``application/json``; methods a
  path does not serve are 405 with ``Allow``. A list the mock would have to walk customer by
  customer past 200,000 of them (an ``updatedAt`` window with a deep ``page``) is 400 with type
  ``search-too-broad`` and a message saying how to narrow it.
* ``ids`` takes every array form of ``mockserver.array_params`` (UNCONFIRMED: ecartAPI documents
  only the comma-separated one).
* **Tenant.** The token's account (:func:`account_of`): the ``iss`` claim of a JWT payload (the
  store token in ecartAPI's "Add Store" example carries ``iss`` and ``iat``), else ``sub``, else
  the token itself; signatures are not checked.
* **Connection states** answer in the error shape above: ``unauthorized`` 401, ``disabled`` 403,
  ``not_found`` 404, ``downstream_error`` 502 (the store platform failed), typed
  ``connection-<state>``.
* **Rate limits.** ecartAPI has none of its own (docs.ecartapi.com/docs/limits: every 429 is the
  platform's, passed on); the mock's store is no platform, so with ``--rate-limits`` it counts 100
  requests a minute per account and answers 429 typed ``rate-limited`` with ``Retry-After``.

The dialect is here; :mod:`.mapping` is the customer both ways (and its orders), :mod:`.paging`
the list request (filters, ``sinceId``, page numbers and tokens), :mod:`.bodies` the write bodies.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

import falcon
import orjson

from mockserver.catalog import ListQuery
from mockserver.controls import Quota
from mockserver.dialect import (
    Caller,
    DialectBase,
    Example,
    Found,
    Listing,
    Operation,
    RecordCache,
    Rendered,
    Reply,
    Write,
)
from mockserver.errors import BadRequest, MockServerError, NotFound
from mockserver.flavours.ecartapi.bodies import validate_input
from mockserver.flavours.ecartapi.mapping import orders_of, to_canonical, to_ecart
from mockserver.flavours.ecartapi.paging import PageRequest, count, encode_token, fetch_page, parse_filters
from mockserver.flavours.ecartapi.webhooks import EcartAPIWebhooks
from mockserver.model import validate_customer_input
from mockserver.pagination import page_cursors
from mockserver.resources import bearer_token, check_token, dumps, int_param, link_with, read_json, single_param

if TYPE_CHECKING:
    from mockserver.catalog import Catalog, Page
    from mockserver.settings import Settings

__all__ = ["EcartAPI", "ResourceNotAvailable", "account_of"]

LIMIT_DEFAULT, LIMIT_MAX = 50, 250
OFFSET_MAX = 1_000_000_000
NOT_AVAILABLE = ("orders", "products", "webhooks")
NOT_AVAILABLE_MESSAGE = "The resource is not available for this ecommerce"
_RECORD = "customer"
"""Record cache variant: one serialization of a customer, in pages and get answers alike."""


class ResourceNotAvailable(BadRequest):
    """400: ecartAPI knows the resource but the connected store (this mock) does not offer it."""

    kind = "resource-not-available"

    def __init__(self) -> None:
        super().__init__(NOT_AVAILABLE_MESSAGE)


def account_of(token: str) -> str:
    """The tenant of a token: the account claim of a JWT's payload (``iss``, as the store token in
    ecartAPI's "Add Store" example carries, else ``sub``), else the token itself.

    The signature is not checked: the mock names a tenant, it grants nothing.
    """
    parts = token.split(".")
    if len(parts) == 3 and len(parts[1]) <= 4096:
        try:
            claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except (ValueError, orjson.JSONDecodeError):
            claims = None
        if isinstance(claims, dict):
            for claim in ("iss", "sub"):
                value = claims.get(claim)
                if isinstance(value, str) and 0 < len(value) <= 200 and value.isprintable():
                    return value
    return token


def _native_json(record: dict[str, Any]) -> bytes:
    return dumps(to_ecart(record))


def _customer(customer_json: bytes) -> bytes:
    return b'{"success":true,"customer":' + customer_json + b"}"


# NOTE: not in ecartapi.yaml (an empty operationId): ecartAPI's other resources, which refuse after authentication
_REFUSED = tuple(Operation("not-available", method, path, "")
                 for path in ("/api/v2/{resource}", "/api/v2/{resource}/{id}")
                 for method in ("GET", "POST", "PUT", "PATCH", "DELETE"))


class EcartAPI(DialectBase):
    """ecartAPI unified API: ``{"success": true, "customers": [...]}`` with page numbers or page tokens."""

    name = "ecartapi"
    title = "ecartAPI v2 Customers"
    spec = "ecartapi.yaml"
    operations = (
        Operation("list", "GET", "/api/v2/customers", "listCustomers"),
        Operation("create", "POST", "/api/v2/customers", "createCustomer"),
        Operation("count", "GET", "/api/v2/customers/count", "countCustomers"),
        Operation("get", "GET", "/api/v2/customers/{id}", "getCustomer"),
        Operation("update", "PUT", "/api/v2/customers/{id}", "updateCustomer"),
        Operation("delete", "DELETE", "/api/v2/customers/{id}", "deleteCustomer"),
        Operation("orders", "GET", "/api/v2/customers/{id}/orders", "listCustomerOrders"),
        *_REFUSED,
    )
    example = Example("/api/v2/customers", "/api/v2/customers/{id}", token_scheme="")
    rate_quota = Quota("window", 100, 60.0)
    """UNCONFIRMED: ecartAPI has no limit of its own and passes on the store platform's 429; the mock's
    store is no platform, so it counts 100 requests a minute per account, with no headers but ``Retry-After``."""
    rate_scope = "tenant"

    webhooks = EcartAPIWebhooks()

    def authenticate(self, req: falcon.Request, operation: Operation, params: Mapping[str, str],
                     settings: Settings) -> Caller:
        """Accept ``Authorization: <token>`` and ``Authorization: Bearer <token>``."""
        header = (req.get_header("Authorization") or "").strip()
        token = bearer_token(req) if header.lower().partition(" ")[0] == "bearer" else header
        token = check_token(token, settings)
        return Caller(token, account_of(token))

    # -- list -----------------------------------------------------------------------------

    def parse_list(self, req: falcon.Request, params: Mapping[str, str], secret: str) -> Listing:
        limit = int_param(req, "limit", LIMIT_DEFAULT, 1, LIMIT_MAX)
        offset = int_param(req, "offset", 0, 0, OFFSET_MAX)
        filters, filtered = parse_filters(req)
        return Listing(ListQuery(filters), limit, view=PageRequest(req, filters, filtered, offset))

    def fetch(self, catalog: Catalog, listing: Listing, version: int) -> Page:
        return fetch_page(catalog, listing.view, listing.limit, version)

    def render_page(self, req: falcon.Request, listing: Listing, page: Page, records: RecordCache,
                    secret: str) -> Reply:
        paging: PageRequest = listing.view
        query = paging.query
        assert query is not None  # resolved by fetch
        prev_cursor, next_cursor = page_cursors(page, query.signature, secret)
        next_token = encode_token(query, next_cursor, paging.since) if next_cursor else None
        # NOTE: a sinceId walk is forward-only
        prev_token = encode_token(query, prev_cursor, None) if prev_cursor and paging.since is None else None
        parts = [records.bytes(_RECORD, o, partial(_native_json, r)) for r, o in zip(page.records, page.ordinals)]
        total = page.total - paging.ties if page.total is not None else None
        pagination = {"limit": listing.limit, "page": paging.number, "nextPage": next_token, "prevPage": prev_token,
                      "total": total}
        links = [f'<{link_with(req, {"page": t})}>; rel="{rel}"'
                 for t, rel in ((next_token, "next"), (prev_token, "prev")) if t]
        body = b'{"success":true,"customers":[' + b",".join(parts) + b'],"pagination":' + dumps(pagination) + b"}"
        return Reply(body, headers={"Link": ", ".join(links)} if links else {})

    # -- items and writes -----------------------------------------------------------------

    def render_record(self, req: falcon.Request, view: Any, found: Found, records: RecordCache) -> Reply:
        # PERF: the record is built only when its bytes are not cached
        return Reply(_customer(records.bytes(_RECORD, found.ordinal, lambda: _native_json(found.record))))

    def parse_create(self, req: falcon.Request, params: Mapping[str, str]) -> Write:
        body = validate_input(read_json(req), creating=True)
        return Write(validate_customer_input(to_canonical(body, None), creating=True))

    def render_created(self, req: falcon.Request, record: dict[str, Any]) -> Reply:
        # NOTE: 200, as the mirror's example answers a create
        return Reply(_customer(_native_json(record)), headers={"Location": f"{req.path.rstrip('/')}/{record['id']}"})

    def parse_update(self, req: falcon.Request, params: Mapping[str, str], current: dict[str, Any]) -> Write:
        body = validate_input(read_json(req), creating=False)
        return Write(validate_customer_input(to_canonical(body, current), creating=False))

    def render_updated(self, req: falcon.Request, record: dict[str, Any]) -> Reply:
        return Reply(_customer(_native_json(record)))

    def render_deleted(self, req: falcon.Request, customer_id: str) -> Reply:
        return Reply(dumps({"success": True, "id": customer_id}))

    # -- its own operations ---------------------------------------------------------------

    def handle(self, operation: Operation, req: falcon.Request, caller: Caller, params: Mapping[str, str],
               catalog: Catalog) -> Reply:
        if operation.name == "count":
            filters, _ = parse_filters(req)
            return Reply(dumps({"success": True, "count": count(catalog, filters, single_param(req, "sinceId"))}))
        if operation.name == "orders":
            record = catalog.get(params["id"])
            customer_url = f"{req.prefix}{req.path.rsplit('/', 1)[0]}"
            return Reply(dumps({"success": True, "orders": orders_of(record, customer_url)}))
        if params["resource"] not in NOT_AVAILABLE:
            raise NotFound("No such path on this server.")
        raise ResourceNotAvailable()

    # -- the native record ----------------------------------------------------------------

    def native(self, record: dict[str, Any]) -> dict[str, Any]:
        return to_ecart(record)

    def unwrap_record(self, body: Any) -> dict[str, Any]:
        return body["customer"]  # type: ignore[no-any-return]

    def from_native(self, native: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
        return to_canonical(native, current)

    def render_error(self, error: MockServerError) -> Rendered:
        body = {"success": False, "error": {
            "code": error.status,
            "type": error.kind,
            "message": error.detail,
            "details": [{"location": p.location, "name": p.name, "message": p.detail} for p in error.problems],
        }}
        return Rendered(error.status, dumps(body), "application/json", {})
