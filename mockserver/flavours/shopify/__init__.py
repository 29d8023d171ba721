"""Shopify flavour: the Admin REST API's customers (``/admin/api/{version}/customers.json``).

Emulated (sources: ``reference/dialects.md`` section E; the ``ShopifyAPI`` 12.7.0 client's source):

* ``GET /admin/api/{version}/customers.json`` -> ``{"customers": [...]}``: ``limit`` (1..250,
  default 50), ``since_id``, ``ids``, ``created_at_min``/``created_at_max``,
  ``updated_at_min``/``updated_at_max``, ``fields`` (top-level names), ``page_info``.
* ``POST .../customers.json`` -> 201 ``{"customer": {...}}``; ``GET``/``PUT .../customers/{id}.json``
  -> ``{"customer": {...}}``; ``DELETE`` -> 200 ``{}``; ``GET .../customers/count.json`` ->
  ``{"count": N}`` (the four date bounds); ``GET .../customers/search.json?query=`` (paged like the list).
* ``{version}`` is ``YYYY-MM`` or ``unstable``; any other is 404 ``{"errors":"Not Found"}``.
* ``X-Shopify-Access-Token``: any non-empty token, or only ``settings.token`` when one is set;
  else 401 ``{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}``.
* Cursor paging only through the ``Link`` header: ``<url>; rel="previous", <url>; rel="next"``
  (``", "`` between links, ``"; "`` before a double-quoted rel, as ``ShopifyAPI`` splits it),
  absolute URLs under the public base URL (never the ``Host`` header) carrying only
  ``page_info``, ``limit`` and ``fields``; no header when there is one page.
* ``X-Shopify-Shop-Api-Call-Limit`` on every answer, errors included.
* The customer: int64 ``id`` and ``admin_graphql_api_id`` ``gid://shopify/Customer/<id>``, dates
  in the shop's UTC offset, ``tags`` and ``total_spent`` strings, ``addresses`` with
  ``customer_id`` and ``default``, ``default_address``, marketing consents.
* Errors: ``{"errors": "<text>"}``, ``{"errors": {"<param>": "<text>"}}`` (400) and
  ``{"errors": {"<field>": ["<text>", ...]}}`` (422).

Choices of this mock (UNCONFIRMED: no source settles them):

* **Tenant.** The shop (:func:`shop_of`): ``Host``'s first label when it is ``<shop>.myshopify.com``
  (as Shopify routes), else that of ``X-Shopify-Shop-Domain`` (clients that reach the mock by
  its own address can still name a shop), else the default tenant. ``Host`` only names the tenant:
  links are built from the public base URL, since behind ``--public-url`` it cannot be trusted.
* **Connection states.** ``unauthorized`` 401 (the invalid-token text), ``disabled`` 402
  ``{"errors":"Unavailable Shop"}`` (a frozen shop: shopify.dev response codes, seen in
  Shopify/shopify-cli#1770), ``not_found`` 404 ``{"errors":"Not Found"}``, ``downstream_error``
  503 ``{"errors":"Service Unavailable"}`` (text UNCONFIRMED). 423 (a locked shop) is not used.
* **Order and ids.** The id is the canonical id as a number (``int("608027966")``). Lists and
  searches come in creation order, as the canonical flavour's default walk (Shopify's order is
  by id, and its ids grow with creation; the mock's ids do not). ``since_id=X`` therefore returns the
  customers created after customer X (a deleted one still marks its place); an X below every id
  returns all, one never issued (beyond the last created) returns none.
* **page_info.** Its own filters travel inside it; ``limit`` and ``fields`` may change between
  pages. Any other parameter beside it is 400 ``{"errors": {"<param>": "<param> cannot be passed
  when page_info is present."}}``; a page_info this server did not issue is 400
  ``{"errors": {"page_info": "Invalid value."}}``. The first page after ``since_id`` has a
  previous link like any other page (it pages back past ``since_id``).
* **Parameters.** ``limit`` out of 1..250, a non-integer ``since_id``, non-numeric ``ids`` (more
  than 250) or a date that is not ISO 8601 with an offset are 400 ``{"errors": {"<param>": "..."}}``;
  dates are inclusive bounds; ``ids=`` with no id is no filter; unknown parameters are ignored;
  unknown ``fields`` names select nothing.
* **Search.** ``query`` is split at spaces; ``email:<address>`` (exact, case-insensitive),
  ``phone:<number>`` (its digits), ``state:enabled|disabled`` (other states match nobody) and
  ``id:<id>`` filter; any other term (``field:value`` included) is a word, and the words, joined by
  one space, must be contained in the name (case-insensitive). A field given twice: the last counts.
  Results come in creation order (Shopify's default is ``last_order_date DESC``).
* **Dates.** The shop's offset is fixed at ``-05:00`` (no daylight saving).
* **Call limit.** ``1/40`` while rate limits are off (no bucket is kept). With ``--rate-limits``,
  each shop has a leaky bucket of 40 leaking 2 a second (standard plan), and every counted answer
  says its level (``n/40``); a call into a full bucket answers 429 ``{"errors":"Exceeded 2 calls
  per second for api client. Reduce request rates to resume uninterrupted service."}`` with
  ``Retry-After`` the seconds until a call fits, as a decimal rounded up to a tenth (``0.5``;
  Shopify is seen sending ``2.0``: UNCONFIRMED whether it is ever anything else).
* **Mapping.** ``state`` is ``enabled`` for canonical ``active`` and ``disabled`` for ``archived``;
  ``email`` and ``phone`` are the primary (else first) canonical email and phone (``phone`` in
  E.164, extension dropped); ``verified_email`` is true when there is an email, and the email and
  SMS consents are ``not_subscribed``; ``orders_count`` counts the canonical orders and
  ``total_spent`` sums their totals (never below ``"0.00"``); ``last_order_id``/``_name`` are
  ``null`` (canonical order ids are no Shopify order ids); ``tags`` is ``""``; ``note`` is ``notes``.
  Addresses: the default is the first billing address (else the first); ``first_name``,
  ``last_name``, ``name`` and ``company`` are the customer's, ``phone``/``province_code`` ``null``,
  ``country`` and ``country_name`` the country's name; the id is ``<customer id> * 100 + n`` for
  the canonical ``<id>-a<n>``. A country whose name the mock does not know (it knows its dataset's
  countries) is written as no country unless ``country_code`` is given.
* **Writes.** The body is ``{"customer": {...}}`` (else 400 ``{"errors": {"customer": "Required
  parameter missing or invalid"}}``). Read-only and unknown fields are ignored (``ShopifyAPI``'s
  ``save()`` sends back every field it read); ``tags`` is accepted and not kept. A create needs
  ``first_name`` or ``last_name`` (every platform the mock serves shows a name). ``email`` and
  ``phone`` replace the primary entry (``null`` removes it); ``state`` takes ``enabled`` or
  ``disabled``. ``addresses`` replaces the list: an address with the id of a current one updates it
  (its canonical type kept); a new one is ``billing`` when ``default`` (or first, when none is), else
  ``shipping``. Emails are not checked for uniqueness. ``PUT`` of nothing that changes writes nothing.
* **Precedence.** A bad ``{version}`` (404) comes before the token (401): such a path does not
  exist. Then the token, then the id (404), then the body (400, 415, 422).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import falcon

from mockserver.catalog import Filters, ListQuery, Page
from mockserver.controls import Quota
from mockserver.dialect import (
    DEFAULT_TENANT,
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
    ConnectionProblem,
    InvalidBody,
    InvalidParameter,
    MockServerError,
    NotFound,
    RateLimited,
    SearchTooBroad,
)
from mockserver.flavours.shopify.queries import (
    LIMIT_DEFAULT,
    LIMIT_MAX,
    ShopifyView,
    date_filters,
    encode_page_info,
    fields_param,
    link_header,
    list_filters,
    parse_page_info,
    refuse_with_page_info,
    search_filters,
)
from mockserver.flavours.shopify.records import check_customer, from_native, native
from mockserver.flavours.shopify.webhooks import ShopifyWebhooks
from mockserver.model import validate_customer_input
from mockserver.pagination import Position, page_cursors
from mockserver.resources import check_token, dumps, int_param, read_json, single_param
from mockserver.writer import ID_BASE, ID_SPAN

if TYPE_CHECKING:
    from mockserver.catalog import Catalog
    from mockserver.ratelimit import Usage
    from mockserver.settings import Settings

__all__ = ["CALL_LIMIT", "Shopify", "shop_of"]

CALL_LIMIT = {"X-Shopify-Shop-Api-Call-Limit": "1/40"}
UNAUTHORIZED = "[API] Invalid API key or access token (unrecognized login or wrong password)"
BASE = "/admin/api/{version}/customers"
MYSHOPIFY = ".myshopify.com"
_SHOP = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
ERRORS_BY_STATUS = {
    401: UNAUTHORIZED,
    402: "Unavailable Shop",  # a frozen shop (Shopify/shopify-cli#1770, #2755; shopify.dev response codes)
    404: "Not Found",
    503: "Service Unavailable",  # UNCONFIRMED text
}
CONNECTION_STATUS = {"unauthorized": 401, "disabled": 402, "not_found": 404, "downstream_error": 503}
_READ_ONLY = ("id", "created_at", "updated_at")


def shop_of(req: falcon.Request) -> str:
    """The shop a request is for (the tenant): ``Host``'s first label when it is ``<shop>.myshopify.com``,
    else that of ``X-Shopify-Shop-Domain``, else the default tenant.

    Only the tenant is read from ``Host``: links are built from the public base URL, never from it.
    """
    env = req.env
    for header in ("HTTP_HOST", "HTTP_X_SHOPIFY_SHOP_DOMAIN"):  # PERF: the WSGI environ, not get_header
        value: str | None = env.get(header)
        if not value or "myshopify" not in value.lower():
            continue
        name, _, port = value.lower().partition(":")
        if name.endswith(MYSHOPIFY) and (not port or port.isdigit()):
            shop = name[: -len(MYSHOPIFY)]
            if _SHOP.fullmatch(shop):
                return shop
    return DEFAULT_TENANT


def _retry_after(seconds: float) -> str:
    """Shopify's float ``Retry-After`` (``2.0``), rounded up to a tenth of a second."""
    return f"{max(0.1, math.ceil(seconds * 10 - 1e-9) / 10):.1f}"


def _valid_version(version: str) -> bool:
    return version == "unstable" or (len(version) == 7 and version[4] == "-" and version.isascii()
                                     and version[:4].isdigit() and version[5:].isdigit())


def _shown(customer: dict[str, Any], fields: tuple[str, ...] | None) -> dict[str, Any]:
    return customer if fields is None else {k: v for k, v in customer.items() if k in fields}


def _customer_body(record: dict[str, Any]) -> bytes:
    return b'{"customer":' + dumps(native(record)) + b"}"


def _customer_fields(body: Any, current: dict[str, Any] | None) -> dict[str, Any]:
    """Canonical fields of a write body's ``customer`` (checked, read-only fields dropped)."""
    customer = body.get("customer") if isinstance(body, dict) else None
    if not isinstance(customer, dict):
        raise InvalidParameter("customer", "Required parameter missing or invalid", location="body")
    fields = from_native(check_customer(customer, creating=current is None), current)
    for name in _READ_ONLY:
        fields.pop(name, None)
    return validate_customer_input(fields, creating=current is None)


class Shopify(DialectBase):
    """Shopify Admin REST: customers."""

    name = "shopify"
    title = "Shopify Admin REST API (customers)"
    spec = "shopify.yaml"
    operations = (
        Operation("list", "GET", f"{BASE}.json", "listCustomers"),
        Operation("create", "POST", f"{BASE}.json", "createCustomer"),
        Operation("count", "GET", f"{BASE}/count.json", "countCustomers"),
        Operation("search", "GET", f"{BASE}/search.json", "searchCustomers"),
        Operation("get", "GET", f"{BASE}/{{id}}.json", "getCustomer"),
        Operation("update", "PUT", f"{BASE}/{{id}}.json", "updateCustomer"),
        Operation("delete", "DELETE", f"{BASE}/{{id}}.json", "deleteCustomer"),
    )
    example = Example("/admin/api/2024-10/customers.json", "/admin/api/2024-10/customers/{id}.json",
                      token_header="X-Shopify-Access-Token", token_scheme="")
    rate_quota = Quota("bucket", 40, leak_per_second=2.0)
    """The REST Admin leaky bucket of a standard plan: 40 calls, leaking 2 a second, per shop."""
    rate_scope = "tenant"
    webhooks = ShopifyWebhooks()

    def rate_headers(self, usage: Usage) -> Mapping[str, str]:
        return {"X-Shopify-Shop-Api-Call-Limit": f"{usage.used}/{usage.limit}"}

    def authenticate(self, req: falcon.Request, operation: Operation, params: Mapping[str, str],
                     settings: Settings) -> Caller:
        if not _valid_version(params.get("version", "")):
            raise NotFound("Not Found")
        return Caller(check_token(req.get_header("X-Shopify-Access-Token"), settings), shop_of(req))

    # ---- lists --------------------------------------------------------------------------------

    def _listing(self, req: falcon.Request, secret: str, query: ListQuery | None, since_id: int | None) -> Listing:
        """A list or search request: ``query``/``since_id`` as parsed, unless a ``page_info`` is sent."""
        page_info = single_param(req, "page_info")
        if page_info is not None:
            refuse_with_page_info(req, ("page_info", "limit", "fields"))
        limit = int_param(req, "limit", LIMIT_DEFAULT, 1, LIMIT_MAX)
        fields, raw = fields_param(req)
        if page_info is not None:
            query, position = parse_page_info(page_info, secret)
            return Listing(query, limit, position, view=ShopifyView(fields, raw))
        assert query is not None
        return Listing(query, limit, view=ShopifyView(fields, raw, since_id))

    def parse_list(self, req: falcon.Request, params: Mapping[str, str], secret: str) -> Listing:
        if "page_info" in req.params:
            return self._listing(req, secret, None, None)
        filters, since_id = list_filters(req)
        return self._listing(req, secret, ListQuery(filters), since_id)

    def fetch(self, catalog: Catalog, listing: Listing, version: int) -> Page:
        since_id = listing.view.since_id
        if since_id is None or since_id < ID_BASE:
            return super().fetch(catalog, listing, version)
        state = catalog.store.state_at(version)
        ordinal = catalog.dataset.ordinal_of(str(since_id)) if since_id < ID_BASE + ID_SPAN else None
        if ordinal is None or (ordinal >= catalog.dataset.count and ordinal not in state):
            return Page([], None, None, False, False, 0, version, catalog.dataset)  # never issued: none after it
        key = (catalog.entry_timestamps(ordinal, state)[0], ordinal)
        position = Position(key, False, version, listing.query.signature)
        return catalog.list(listing.query, listing.limit, position, latest=version)

    def render_page(self, req: falcon.Request, listing: Listing, page: Page, records: RecordCache,
                    secret: str) -> Reply:
        view: ShopifyView = listing.view
        previous, following = page_cursors(page, listing.query.signature, secret)
        link = link_header(req, listing.limit, view,
                           encode_page_info(previous, listing.query) if previous else None,
                           encode_page_info(following, listing.query) if following else None)

        def build(n: int) -> bytes:
            return dumps(_shown(native(page.records[n]), view.fields))

        # PERF: cached customers are served as bytes; only a miss builds the page's records.
        parts = [records.bytes(view.fields, ordinal, lambda n=n: build(n))  # type: ignore[misc]
                 for n, ordinal in enumerate(page.ordinals)]
        headers = {**CALL_LIMIT, "Link": link} if link else CALL_LIMIT
        return Reply(b'{"customers":[' + b",".join(parts) + b"]}", headers=headers)

    # ---- one customer -------------------------------------------------------------------------

    def customer_id(self, params: Mapping[str, str]) -> str:
        raw = params["id"]
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 19):
            raise NotFound("Not Found")
        return str(int(raw))

    def parse_get(self, req: falcon.Request, params: Mapping[str, str]) -> ShopifyView:
        fields, raw = fields_param(req)
        return ShopifyView(fields, raw)

    def render_record(self, req: falcon.Request, view: ShopifyView, found: Found, records: RecordCache) -> Reply:
        customer = records.bytes(view.fields, found.ordinal, lambda: dumps(_shown(native(found.record), view.fields)))
        return Reply(b'{"customer":' + customer + b"}", headers=CALL_LIMIT)

    def parse_create(self, req: falcon.Request, params: Mapping[str, str]) -> Write:
        return Write(_customer_fields(read_json(req), None))

    def render_created(self, req: falcon.Request, record: dict[str, Any]) -> Reply:
        return Reply(_customer_body(record), 201, CALL_LIMIT)

    def parse_update(self, req: falcon.Request, params: Mapping[str, str], current: dict[str, Any]) -> Write:
        fields = _customer_fields(read_json(req), current)
        changed = {k: v for k, v in fields.items() if current.get(k) != v}
        return Write(changed or None)

    def render_updated(self, req: falcon.Request, record: dict[str, Any]) -> Reply:
        return Reply(_customer_body(record), headers=CALL_LIMIT)

    def render_deleted(self, req: falcon.Request, customer_id: str) -> Reply:
        return Reply(b"{}", headers=CALL_LIMIT)

    # ---- count and search ---------------------------------------------------------------------

    def handle(self, operation: Operation, req: falcon.Request, caller: Caller, params: Mapping[str, str],
               catalog: Catalog) -> Reply:
        if operation.name == "count":
            total = catalog.total(ListQuery(Filters(**date_filters(req))), catalog.state())
            if total is None:  # pragma: no cover - date bounds are always counted
                raise SearchTooBroad("The count is too costly to compute.")
            return Reply(dumps({"count": total}), headers=CALL_LIMIT)
        secret = catalog.dataset.fingerprint
        if "page_info" in req.params:
            listing = self._listing(req, secret, None, None)
        else:
            listing = self._listing(req, secret, ListQuery(search_filters(single_param(req, "query") or "")),
                                    None)
        version = catalog.store.refresh()
        page = self.fetch(catalog, listing, version)
        return self.render_page(req, listing, page, _Unkept(), secret)

    # ---- the record in both directions, and errors -------------------------------------------

    def native(self, record: dict[str, Any]) -> dict[str, Any]:
        return native(record)

    def unwrap_record(self, body: Any) -> dict[str, Any]:
        return body["customer"]  # type: ignore[no-any-return]

    def from_native(self, native: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
        return from_native(native, current)

    def render_error(self, error: MockServerError) -> Rendered:
        errors: Any
        status, headers = error.status, CALL_LIMIT
        if isinstance(error, ConnectionProblem):
            status = CONNECTION_STATUS[error.state]
        if isinstance(error, RateLimited):
            usage = error.usage
            # NOTE: Shopify's text names its plan's leak rate, whatever a config file set
            errors = (f"Exceeded {self.rate_quota.leak_per_second:g} calls per second for api client. "
                      "Reduce request rates to resume uninterrupted service.")
            headers = {"X-Shopify-Shop-Api-Call-Limit": f"{usage.used}/{usage.limit}",
                       "Retry-After": _retry_after(usage.retry_after)}
        elif status in ERRORS_BY_STATUS:
            errors = ERRORS_BY_STATUS[status]
        elif isinstance(error, InvalidBody):
            grouped: dict[str, list[str]] = {}
            for problem in error.problems:
                grouped.setdefault(problem.name or "customer", []).append(problem.detail)
            errors = grouped
        elif error.problems and all(p.name for p in error.problems):
            errors = {p.name: p.detail for p in error.problems}
        else:
            errors = error.detail
        return Rendered(status, dumps({"errors": errors}), headers=headers)


class _Unkept:
    """A record cache that keeps nothing (search pages are built every time)."""

    def bytes(self, variant: Any, ordinal: int | None, build: Any) -> bytes:
        return build()  # type: ignore[no-any-return]
