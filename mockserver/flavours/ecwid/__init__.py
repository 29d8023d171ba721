"""Ecwid REST API v3 flavour: ``/api/v3/{storeId}/customers`` and ``/profile``.

Emulated (dialects.md section D, seeds/ecwid-customer-fields.txt):

* ``GET /api/v3/{storeId}/customers``: ``offset``/``limit`` paging (``limit`` 1..100), envelope
  ``{total, count, offset, limit, items}``; filters ``keyword``, ``name``, ``email``, ``phone``,
  ``createdFrom``/``createdTo``/``updatedFrom``/``updatedTo`` (UNIX seconds, ``yyyy-MM-dd HH:mm:ss Z``,
  ``yyyy-MM-dd HH:mm:ss`` or ``yyyy-MM-dd``, UTC, inclusive); ``sortBy`` ``NAME_*`` (default
  ``NAME_ASC``), ``REGISTERED_DATE_*``, ``UPDATED_DATE_*``; ``responseFields=items(id,email)``.
* ``GET|PUT|DELETE /api/v3/{storeId}/customers/{customerId}`` (``responseFields=id,billingPerson(name)``
  on get) and ``POST /api/v3/{storeId}/customers``: ``{"id": N}`` with **200** (pyecwid requires 200),
  ``{"updateCount": 1}``, ``{"deleteCount": 1}``; 404 for an unknown customer, 409 when the email
  belongs to another customer.
* ``GET /api/v3/{storeId}/profile``: a fixed, plausible store profile (pyecwid calls it at start-up).
* Auth: ``Authorization: Bearer <token>`` or ``?token=`` (the header wins). Tokens must start with
  ``secret_`` or ``public_`` (and equal ``settings.token`` when set), else 403 ``INVALID_API_TOKEN``
  (Ecwid answers 403, not 401, for a bad token). ``public_`` tokens only read the profile, as on Ecwid
  (docs.ecwid.com/develop-apps/app-settings: public data only): customers answer 403
  ``INSUFFICIENT_APP_SCOPE``.
* Errors: ``{"errorMessage": ..., "errorCode": ...}`` with the documented codes: ``WRONG_PARAMETER``
  400 (bad parameters *and* bad bodies), ``INVALID_API_TOKEN``/``INSUFFICIENT_APP_SCOPE`` 403,
  ``STORE_NOT_FOUND`` 404 (non-numeric store id), ``METHOD_NOT_ALLOWED`` 405, ``RATE_LIMITED`` 429,
  ``INTERNAL_ERROR`` 500. Every 404 has a code: ``CUSTOMER_NOT_FOUND`` for a missing customer and
  ``NOT_FOUND`` for an unknown path (UNCONFIRMED: Ecwid documents no code for these; the names follow
  its ``ORDER_NOT_FOUND``/``PRODUCT_NOT_FOUND`` pattern). ``errorCode`` is omitted where Ecwid documents
  none and a client has nothing to branch on (duplicate email 409, 415).

The dialect is :class:`Ecwid` (authentication, paging, rendering, writes, errors); by concern:
:mod:`.mapping` (the pure record mapping :func:`to_ecwid` / :func:`from_ecwid`), :mod:`.fields`
(``responseFields``), :mod:`.search` (query parameters and path ids) and :mod:`.bodies` (write
bodies). myBoxx composes over this dialect through the registry.

UNCONFIRMED choices (no primary source settles them):

* Every ``storeId`` (any positive integer) is a tenant: the same default dataset unless the server
  (or that tenant) is ``isolated``.
* Connection states (issue 14): ``unauthorized`` 403 ``INVALID_API_TOKEN``, ``disabled`` 402
  ``STORE_IS_SUSPENDED``, ``not_found`` 404 ``STORE_NOT_FOUND`` (all documented codes), and
  ``downstream_error`` 500 ``INTERNAL_ERROR`` (UNCONFIRMED: Ecwid documents no outage answer).
* Rate limits (with ``--rate-limits``): 600 requests a minute per token (documented), counted in
  fixed windows (UNCONFIRMED: Ecwid does not say fixed or sliding); then 429 ``RATE_LIMITED`` with
  ``Retry-After`` in whole seconds and no other rate headers (Ecwid documents none).
* Default ``limit`` is 100 (the docs say 10, their examples and the official Java client use 100);
  ``limit`` outside 1..100, a negative or non-integer ``offset`` answer 400 rather than being clamped.
* ``keyword`` and ``name`` are both case-insensitive substrings of the customer *name* (Ecwid's keyword
  searches every field); giving both with different values is a 400. ``email`` is exact and
  case-insensitive and matches secondary emails too.
* Documented filters the mock cannot evaluate (``customerGroup``, ``minOrderCount``, ``city``, ...) and
  the sort orders ``EMAIL_*``, ``ORDER_COUNT_*``, ``SALES_VALUE_*``, ``*_ORDER_DATE_*`` answer 400
  ``WRONG_PARAMETER`` instead of being ignored; unknown parameters are ignored. Ties in a sort are
  broken by creation order.
* ``responseFields`` naming an unknown field is a 400 (Ecwid may ignore it).
* Records always carry every key (missing text is ``""``, not omitted); ``customerGroupId`` 0
  "General", ``taxId`` "", ``taxIdValid`` true, ``taxExempt`` false; ``b2b_b2c`` is ``b2b`` when the
  customer has a company; ``acceptMarketing`` is a hash of the id; ``lang`` follows the billing
  country; ``stats`` sums every order (a negative canonical total, a refund, lowers the sum, which
  stops at 0: Ecwid's stats are never negative); ``shippingAddresses`` are the canonical ``shipping`` addresses
  (``other`` ones are not shown) with the customer's name, company and first phone; address and contact
  ids are CRC-32 hashes of the canonical sub-ids; ``street`` joins ``line1`` and ``line2`` with ``\\n``;
  the phone is ``+<country> <area> <number>[ x<extension>]``; ``contacts`` carry the registration date.
* Writes: ``email`` is required on create, ``password`` is accepted and dropped; ``billingPerson`` is
  merged key by key into the current one on update, ``shippingAddresses`` replaces the address book;
  ``customerGroupId``, ``taxId``, ``taxExempt``, ``acceptMarketing``, ``lang`` and the other Ecwid-only
  fields are type-checked but not stored (reads show the derived values); when a billing person or
  ``shippingAddresses`` would take the canonical address book past its 20 entries, the addresses
  Ecwid does not show (neither billing nor shipping) go first, from the end, then the last shipping
  ones; a name joined from two long halves is cut to 255 characters; read-only fields (``id``,
  ``registered``, ``stats``, ``contacts``...) are ignored; ``null`` means "not given" and ``""`` clears
  a value. Body errors answer 400 ``WRONG_PARAMETER``.
* A customer id that is not a number answers 404 (like an unknown one).
* ``responseFields`` also takes the repeated, ``[]`` and indexed forms of
  ``mockserver.array_params``, its values joined with commas (UNCONFIRMED for Ecwid).
* ``total`` of a name search combined with another filter over a huge dataset (which the catalog does
  not count) is a lower bound: ``offset`` + ``count``, plus one while more follow.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any

import falcon

from mockserver.catalog import Filters, ListQuery, Page
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
from mockserver.errors import (
    BadRequest,
    Conflict,
    ConnectionProblem,
    Forbidden,
    InvalidBody,
    MethodNotAllowed,
    MockServerError,
    NotFound,
    Unauthorized,
    UnsupportedMediaType,
)
from mockserver.fields import FieldSet, project
from mockserver.flavours.ecwid.bodies import validate_ecwid_body
from mockserver.flavours.ecwid.fields import CUSTOMER_FIELDS, Selection, response_fields
from mockserver.flavours.ecwid.mapping import from_ecwid, primary, to_ecwid
from mockserver.flavours.ecwid.search import canonical_id, parse_search, store_id
from mockserver.flavours.ecwid.webhooks import EcwidWebhooks
from mockserver.model import validate_customer_input
from mockserver.resources import bearer_token, dumps, read_json, same_secret, single_param

if TYPE_CHECKING:
    from mockserver.catalog import Catalog
    from mockserver.settings import Settings

__all__ = ["CONNECTION_ERRORS", "Ecwid", "InsufficientScope", "ecwid_error", "from_ecwid", "profile", "to_ecwid"]
# NOTE: to_ecwid/from_ecwid stay importable here for tests, and for Apideck and Truto until they read
# Ecwid's native record through the registry (FLAVOURS.get("ecwid").native).

BASE = "/api/v3/{storeId}"
UPDATED = b'{"updateCount":1}'
DELETED = b'{"deleteCount":1}'


class InsufficientScope(Forbidden):
    """403: the token lacks the access scope (``public_`` tokens reach only the store profile)."""

    kind = "insufficient-scope"


def ecwid_token(req: falcon.Request) -> str | None:
    """The token of ``Authorization: Bearer`` or else of ``?token=``."""
    return bearer_token(req) or single_param(req, "token") or None


def _customer_json(record: dict[str, Any], fields: FieldSet | None) -> bytes:
    return dumps(project(to_ecwid(record), fields))


def _canonical(body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    return validate_customer_input(from_ecwid(body, current), creating=False)


def _email_free(email: str, own_id: str | None, catalog: Catalog) -> None:
    """Write check: no customer but ``own_id`` has ``email``.

    Raises:
        Conflict: another customer has it.
    """
    page = catalog.list(ListQuery(Filters(email=email)), 2)
    if any(r["id"] != own_id for r in page.records):
        raise Conflict(f"The customer with email '{email}' already exists")


@lru_cache(maxsize=64)
def profile(store: int) -> bytes:
    """A plausible, fixed store profile (``GET /api/v3/{storeId}/profile``)."""
    return dumps({
        "generalInfo": {"storeId": store, "storeUrl": f"https://store{store}.company.site",
                        "starterSite": {"ecwidSubdomain": f"store{store}",
                                        "generatedUrl": f"https://store{store}.company.site/"}},
        "account": {"accountName": "Mock Store Owner", "accountNickName": "mockstore",
                    "accountEmail": "owner@example.com", "availableFeatures": ["API", "CUSTOMER_GROUPS"]},
        "settings": {"closed": False, "storeName": "Mock Store", "orderCommentsEnabled": False},
        "mailNotifications": {"adminNotificationEmails": ["owner@example.com"],
                              "customerNotificationFromEmail": "owner@example.com"},
        "company": {"companyName": "Mock Store", "email": "owner@example.com", "street": "1 Main St",
                    "city": "New York", "countryCode": "US", "postalCode": "10001",
                    "stateOrProvinceCode": "NY", "phone": "+1 212 555-0100"},
        "formatsAndUnits": {"currency": "USD", "currencyPrefix": "$", "currencySuffix": "",
                            "currencyPrecision": 2, "currencyGroupSeparator": ",",
                            "currencyDecimalSeparator": ".", "weightUnit": "KILOGRAM",
                            "dateFormat": "MMM d, yyyy", "timeFormat": "hh:mm a", "timezone": "UTC"},
        "languages": {"enabledLanguages": ["en"], "defaultLanguage": "en"},
    })



CONNECTION_ERRORS = {
    "unauthorized": (403, "INVALID_API_TOKEN", "The access token was revoked or has expired; install the app again."),
    "disabled": (402, "STORE_IS_SUSPENDED", "The store is suspended: its plan lapsed or it was closed."),
    "not_found": (404, "STORE_NOT_FOUND", "Store not found: it was deleted or never existed."),
    "downstream_error": (500, "INTERNAL_ERROR", "Ecwid failed to answer (a simulated outage); retry later."),
}
"""Ecwid's answer for each connection state (dialects.md D5; the downstream one is UNCONFIRMED)."""


def ecwid_error(error: MockServerError) -> tuple[int, str | None, str]:
    """Ecwid's status, ``errorCode`` (``None`` where Ecwid documents none) and message for an error."""
    if isinstance(error, ConnectionProblem):
        return CONNECTION_ERRORS[error.state]
    if isinstance(error, Unauthorized):
        return 403, "INVALID_API_TOKEN", error.detail
    if isinstance(error, InsufficientScope):
        return 403, "INSUFFICIENT_APP_SCOPE", error.detail
    if isinstance(error, (BadRequest, InvalidBody)):
        return 400, "WRONG_PARAMETER", error.detail
    if isinstance(error, NotFound):
        if error.entity == "customer":
            return 404, "CUSTOMER_NOT_FOUND", f"Customer #{error.entity_id} is not found"
        return 404, "STORE_NOT_FOUND" if error.entity == "store" else "NOT_FOUND", error.detail
    if isinstance(error, MethodNotAllowed):
        return 405, "METHOD_NOT_ALLOWED", error.detail
    if isinstance(error, UnsupportedMediaType):
        return 415, None, "Unsupported content-type: expected application/json"
    codes = {402: "NOT_AVAILABLE_ON_CURRENT_PLAN", 403: "INSUFFICIENT_APP_SCOPE", 408: "TIMEOUT",
             429: "RATE_LIMITED", 500: "INTERNAL_ERROR"}
    status = error.status if 400 <= error.status < 600 else 500
    return status, codes.get(status, "INTERNAL_ERROR" if status >= 500 else None), error.detail



class Ecwid(DialectBase):
    """Ecwid REST API v3: offset paging, ``responseFields``, ``{errorMessage, errorCode}`` errors."""

    name = "ecwid"
    title = "Ecwid REST API v3"
    spec = "ecwid.yaml"
    operations = (
        Operation("list", "GET", f"{BASE}/customers", "searchCustomers"),
        Operation("create", "POST", f"{BASE}/customers", "createCustomer"),
        Operation("get", "GET", f"{BASE}/customers/{{customerId}}", "getCustomer"),
        Operation("update", "PUT", f"{BASE}/customers/{{customerId}}", "updateCustomer"),
        Operation("delete", "DELETE", f"{BASE}/customers/{{customerId}}", "deleteCustomer"),
        Operation("profile", "GET", f"{BASE}/profile", "getStoreProfile"),
    )
    example = Example("/api/v3/1003/customers", "/api/v3/1003/customers/{id}", token_prefix="secret_")
    rate_quota = Quota("window", 600, 60.0)
    """600 requests a minute per token (docs.ecwid.com/api-reference); no headers but ``Retry-After``."""
    rate_scope = "token"

    webhooks = EcwidWebhooks()

    def authenticate(self, req: falcon.Request, operation: Operation, params: Mapping[str, str],
                     settings: Settings) -> Caller:
        """The token (``secret_``/``public_``, header or query), then the store: the tenant is its id.

        Raises:
            Unauthorized: missing or invalid token (rendered as Ecwid's 403 ``INVALID_API_TOKEN``).
            InsufficientScope: a ``public_`` token on anything but the profile.
            NotFound: the store id is not a positive number (``STORE_NOT_FOUND``).
        """
        token = ecwid_token(req)
        expected = settings.token
        if not token:
            raise Unauthorized("API token is missing: send 'Authorization: Bearer secret_...' or '?token='.")
        if expected is not None and not same_secret(token, expected):
            raise Unauthorized("API token is invalid for this store.")
        if expected is None and not token.startswith(("secret_", "public_")):
            raise Unauthorized("API token is invalid: Ecwid tokens start with 'secret_' or 'public_'.")
        if token.startswith("public_") and operation.name != "profile":
            raise InsufficientScope("Public tokens cannot access customers: use a secret token with the "
                                    "read_customers and update_customers scopes.")
        return Caller(token, str(store_id(params["storeId"])))

    def parse_list(self, req: falcon.Request, params: Mapping[str, str], secret: str) -> Listing:
        return parse_search(req)

    def fetch(self, catalog: Catalog, listing: Listing, version: int) -> Page:
        offset, state = listing.offset or 0, catalog.state(version)
        if offset >= catalog.dataset.count + len(state):  # past any possible end: nothing to walk
            return Page([], None, None, False, offset > 0, catalog.total(listing.query, state) or 0, version)
        return catalog.list_at_offset(listing.query, offset, listing.limit)

    def render_page(self, req: falcon.Request, listing: Listing, page: Page, records: RecordCache,
                    secret: str) -> Reply:
        selection: Selection = listing.view
        fields, offset = selection.fields, listing.offset or 0
        total = page.total
        if total is None:  # NOTE: a name search over a huge dataset: a lower bound, see the docstring
            total = offset + len(page.items) + (1 if page.has_next else 0)
        head = {"total": total, "count": len(page.items), "offset": offset, "limit": listing.limit}
        if fields is not None:
            head = {k: v for k, v in head.items() if k in fields}
        parts = [dumps(head)[:-1]]
        if fields is None or "items" in fields:
            variant, item_fields = f"items:{selection.text}", None if fields is None else fields["items"]
            items = b",".join(records.bytes(variant, ordinal, partial(_customer_json, record, item_fields))
                              for record, ordinal in zip(page.records, page.ordinals))
            parts.append((b"," if head else b"") + b'"items":[' + items + b"]")
        return Reply(b"".join(parts) + b"}")

    def customer_id(self, params: Mapping[str, str]) -> str:
        return canonical_id(params["customerId"])

    def parse_get(self, req: falcon.Request, params: Mapping[str, str]) -> Selection:
        return response_fields(req, CUSTOMER_FIELDS)

    def render_record(self, req: falcon.Request, view: Selection, found: Found, records: RecordCache) -> Reply:
        # PERF: the record is built only when its bytes are not cached.
        return Reply(records.bytes(f"item:{view.text}", found.ordinal,
                                   lambda: _customer_json(found.record, view.fields)))

    def parse_create(self, req: falcon.Request, params: Mapping[str, str]) -> Write:
        body = validate_ecwid_body(read_json(req), creating=True)
        # NOTE: checked inside the write transaction, so two workers cannot both take one email
        return Write(_canonical(body, None), partial(_email_free, body["email"], None))

    def render_created(self, req: falcon.Request, record: dict[str, Any]) -> Reply:
        # NOTE: 200, not 201: Ecwid answers 200 and pyecwid's add() raises on anything else.
        return Reply(dumps({"id": int(record["id"])}))

    def parse_update(self, req: falcon.Request, params: Mapping[str, str], current: dict[str, Any]) -> Write:
        body = validate_ecwid_body(read_json(req), creating=False)
        email, own = body.get("email"), primary(current.get("emails") or [])
        # resending the customer's own email changes nothing, even if another flavour gave it to others too
        check = None
        if isinstance(email, str) and email.casefold() != (own["email"] if own else "").casefold():
            check = partial(_email_free, email, current["id"])
        return Write(_canonical(body, current) or None, check)

    def render_updated(self, req: falcon.Request, record: dict[str, Any]) -> Reply:
        return Reply(UPDATED)

    def render_deleted(self, req: falcon.Request, customer_id: str) -> Reply:
        return Reply(DELETED)

    def handle(self, operation: Operation, req: falcon.Request, caller: Caller, params: Mapping[str, str],
               catalog: Catalog) -> Reply:
        if operation.name == "profile":  # readable with secret and public tokens
            return Reply(profile(int(caller.tenant)))
        return super().handle(operation, req, caller, params, catalog)

    def native(self, record: dict[str, Any]) -> dict[str, Any]:
        return to_ecwid(record)

    def unwrap_record(self, body: Any) -> dict[str, Any]:
        return body  # type: ignore[no-any-return]  # a get answers the customer itself

    def from_native(self, native: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
        return from_ecwid(native, current)

    def render_error(self, error: MockServerError) -> Rendered:
        status, code, message = ecwid_error(error)
        body: dict[str, Any] = {"errorMessage": message}
        if code is not None:
            body["errorCode"] = code
        return Rendered(status, dumps(body))
