"""myBoxx flavour: Virket's JSON:API-like wrapper of Ecwid customers (dialects.md D7, seed 004).

Composed over the Ecwid dialect, found in the registry (``FLAVOURS.get("ecwid")``, never imported):
its parsing, paging, record and page rendering and body reading serve myBoxx unchanged; this module
adds only the paths, the envelope, its auth and its error body.

Emulated:

* ``GET /api/json/v1/ecwid/customers`` (every Ecwid search parameter: ``offset``, ``limit``,
  ``keyword``, ``email``, ``sortBy``, ``responseFields``...) and
  ``GET /api/json/v1/ecwid/customer/{customer_id}``.
* ``POST /api/json/v1/ecwid/add_customer`` (Ecwid create body), ``POST .../update_customer/{id}``
  (Ecwid update body) and ``POST .../delete_customer/{id}`` (no body); all writes use POST and
  answer 200.
* Envelope ``{"data": {"id": ..., "type": "ecwid", "attributes": <the Ecwid body>}}``: ``data.id`` is
  the customer id (an integer) for a single customer, the new id as a string for ``add_customer``
  (both as in the seed examples), and otherwise a UUID derived (uuid5) from the method, path and
  query, so the same request always gets the same id.
* Errors ``{"errors": {"status", "title", "detail"}}``; body validation answers 412 "Validation
  failed" with ``detail`` mapping each offending field to a message (the partner.md example);
  other errors keep the Ecwid flavour's status with a text ``detail``.

UNCONFIRMED choices:

* Auth: ``Authorization: Bearer <partner token>`` (the token ``POST /api/external/v1/auth/`` returns;
  the docs say only "Headers: Default"). Any non-empty token is accepted, or only ``settings.token``
  when set; otherwise 401 "Unauthorized". The auth endpoint itself is not emulated.
* Errors other than validation (400, 404, 405, 409, 415, 500) are not documented by myBoxx; the
  status follows Ecwid's, the body follows the documented error shape.
* Responses are ``application/json`` (the docs show no media type).
* Tenant: the partner token (no store id travels in a myBoxx request; the token logs in one account).
* Connection states answer as Ecwid would, wrapped: the Ecwid status (403, 402, 404, 500), its
  phrase as ``title``, and ``detail`` "Ecwid answered <status> <errorCode>: <message>".
* Rate limits: Ecwid's model (600 a minute per token, 429 "Too Many Requests" with ``Retry-After``):
  myBoxx documents none, and each of its calls is one Ecwid call.
* Every Ecwid choice listed in :mod:`mockserver.flavours.ecwid` applies.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from functools import cached_property
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import falcon
import orjson

from mockserver.controls import Quota
from mockserver.dialect import (
    Caller,
    Dialect,
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
from mockserver.errors import ConnectionProblem, InvalidBody, MockServerError, Unauthorized
from mockserver.flavours import FLAVOURS
from mockserver.resources import bearer_token, check_token, dumps
from mockserver.webhooks import Event, RetrySchedule, Subscription, event_names

if TYPE_CHECKING:
    from mockserver.catalog import Catalog, Page
    from mockserver.settings import Settings

__all__ = ["MYBOXX_NAMESPACE", "MyBoxx", "envelope", "request_uuid"]

MYBOXX_NAMESPACE = uuid.UUID("6bb19930-6728-4901-bfbc-53456e85d0d0")
"""Namespace of the deterministic ``data.id`` UUIDs (the UUID of the seed's list example)."""
BASE = "/api/json/v1/ecwid"


def envelope(data_id: Any, attributes: bytes) -> bytes:
    """``{"data": {"id": data_id, "type": "ecwid", "attributes": <attributes>}}`` around Ecwid bytes."""
    return b'{"data":{"id":' + dumps(data_id) + b',"type":"ecwid","attributes":' + attributes + b"}}"


def request_uuid(req: falcon.Request, method: str | None = None) -> str:
    """A UUID that is a pure function of the request's method (or ``method``), path and query."""
    return str(uuid.uuid5(MYBOXX_NAMESPACE, f"{method or req.method} {req.path}?{req.query_string}"))


class MyBoxxWebhooks:
    """myBoxx's webhooks (UNCONFIRMED: myBoxx documents none): Ecwid's, since myBoxx wraps Ecwid.

    The same events, headers and signature as the Ecwid flavour (``X-Ecwid-Webhook-Signature`` over
    ``{eventCreated}.{eventId}``, 192 fixed-interval retries), the body wrapped the myBoxx way:
    ``{"data": {"id": <eventId>, "type": "ecwid", "attributes": <Ecwid's body>}}``. The tenant is the
    partner token, so ``storeId`` is 0 unless the token is a store id.
    """

    events = event_names("customer.created", "customer.updated", "customer.deleted")

    @property
    def ecwid(self) -> Any:
        return FLAVOURS.get("ecwid").webhooks  # type: ignore[attr-defined]

    @property
    def retries(self) -> RetrySchedule:
        return self.ecwid.retries  # type: ignore[no-any-return]

    def new_secret(self) -> str:
        return self.ecwid.new_secret()  # type: ignore[no-any-return]

    def check_secret(self, secret: str) -> str | None:
        return self.ecwid.check_secret(secret)  # type: ignore[no-any-return]

    def render(self, event: Event, subscription: Subscription, attempt: int, secret: str) -> tuple[bytes, dict[str, str]]:
        body, headers = self.ecwid.render(event, subscription, attempt, secret)
        return envelope(event.id, body), headers


class MyBoxx(DialectBase):
    """myBoxx: Ecwid bodies inside ``{"data": {id, type: "ecwid", attributes}}``."""

    name = "myboxx"
    title = "myBoxx JSON API (Ecwid customers)"
    spec = "myboxx.yaml"
    operations = (
        Operation("list", "GET", f"{BASE}/customers", "listCustomers"),
        Operation("get", "GET", f"{BASE}/customer/{{customer_id}}", "getCustomer"),
        Operation("create", "POST", f"{BASE}/add_customer", "addCustomer"),
        Operation("update", "POST", f"{BASE}/update_customer/{{customer_id}}", "updateCustomer"),
        Operation("delete", "POST", f"{BASE}/delete_customer/{{customer_id}}", "deleteCustomer"),
    )
    example = Example(f"{BASE}/customers", f"{BASE}/customer/{{id}}")
    rate_quota = Quota("window", 600, 60.0)
    """Ecwid's model (UNCONFIRMED: myBoxx documents none; every call it makes is one Ecwid call)."""
    rate_scope = "token"
    webhooks = MyBoxxWebhooks()

    @cached_property
    def ecwid(self) -> Dialect:
        """The Ecwid dialect myBoxx wraps (looked up on first use: the registry may still be loading)."""
        return FLAVOURS.get("ecwid")

    def authenticate(self, req: falcon.Request, operation: Operation, params: Mapping[str, str],
                     settings: Settings) -> Caller:
        # NOTE: no store id travels in a myBoxx request: the partner token names the account (the tenant)
        token = check_token(bearer_token(req), settings)
        return Caller(token, token)

    def parse_list(self, req: falcon.Request, params: Mapping[str, str], secret: str) -> Listing:
        return self.ecwid.parse_list(req, params, secret)

    def fetch(self, catalog: Catalog, listing: Listing, version: int) -> Page:
        return self.ecwid.fetch(catalog, listing, version)

    def render_page(self, req: falcon.Request, listing: Listing, page: Page, records: RecordCache,
                    secret: str) -> Reply:
        # NOTE: GET's id for HEAD too: the page cache serves both from these bytes.
        search = self.ecwid.render_page(req, listing, page, records, secret).body
        return Reply(envelope(request_uuid(req, "GET"), search))

    def customer_id(self, params: Mapping[str, str]) -> str:
        # Ecwid's rules for an id (a non-number is an unknown customer), under Ecwid's parameter name
        return self.ecwid.customer_id({"customerId": params["customer_id"]})

    def parse_get(self, req: falcon.Request, params: Mapping[str, str]) -> Any:
        return self.ecwid.parse_get(req, params)

    def render_record(self, req: falcon.Request, view: Any, found: Found, records: RecordCache) -> Reply:
        return Reply(envelope(int(found.id), self.ecwid.render_record(req, view, found, records).body))

    def parse_create(self, req: falcon.Request, params: Mapping[str, str]) -> Write:
        return self.ecwid.parse_create(req, params)

    def render_created(self, req: falcon.Request, record: dict[str, Any]) -> Reply:
        return Reply(envelope(str(int(record["id"])), b"{}"))

    def parse_update(self, req: falcon.Request, params: Mapping[str, str], current: dict[str, Any]) -> Write:
        return self.ecwid.parse_update(req, params, current)

    def render_updated(self, req: falcon.Request, record: dict[str, Any]) -> Reply:
        return Reply(envelope(request_uuid(req), self.ecwid.render_updated(req, record).body))

    def render_deleted(self, req: falcon.Request, customer_id: str) -> Reply:
        return Reply(envelope(request_uuid(req), self.ecwid.render_deleted(req, customer_id).body))

    def native(self, record: dict[str, Any]) -> dict[str, Any]:
        return self.ecwid.native(record)

    def unwrap_record(self, body: Any) -> dict[str, Any]:
        return body["data"]["attributes"]  # type: ignore[no-any-return]

    def from_native(self, native: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.ecwid.from_native(native, current)

    def render_error(self, error: MockServerError) -> Rendered:
        detail: Any = error.detail
        if isinstance(error, InvalidBody):
            status, title = 412, "Validation failed"
            detail = {p.name or "body": p.detail for p in error.problems} or {"body": error.detail}
        elif isinstance(error, Unauthorized):
            status, title = 401, "Unauthorized"
        else:
            ecwid = self.ecwid.render_error(error)
            status = ecwid.status
            title = error.title if status == error.status else _title(status)
            if isinstance(error, ConnectionProblem):
                # the store's Ecwid answer, passed on: its errorCode leads the detail
                answer = orjson.loads(ecwid.body)
                detail = f"Ecwid answered {status} {answer.get('errorCode', '')}: {answer['errorMessage']}"
        headers = {"WWW-Authenticate": 'Bearer realm="myboxx"'} if status == 401 else {}
        return Rendered(status, dumps({"errors": {"status": status, "title": title, "detail": detail}}),
                        headers=headers)


def _title(status: int) -> str:
    return HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
