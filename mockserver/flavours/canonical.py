"""Canonical flavour: the contract in ``openapi.yaml``.

``/customers`` with cursor pagination (``limit`` 1..200, default 20), ``fields`` with dot
notation, ``filter[...]`` and ``sort[...]``, reads and writes, and RFC 9457
``application/problem+json`` errors whose ``errors[]`` name the offending input.

The tenant is the ``X-Tenant-Id`` header (``default`` without it; 1 to 200 printable characters, else
a 400). Connection states answer problems of their own ``type``: ``unauthorized`` 401
``/problems/connection-unauthorized``, ``disabled`` 403 ``/problems/connection-disabled``,
``not_found`` 404 ``/problems/connection-not-found``, ``downstream_error`` 502
``/problems/connection-downstream-error``; a forced 403 or 502 (``Prefer``) answers the same type.
Rate limit (a choice: this API is ours): 100 requests per 60 s window per tenant, with
``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset`` (seconds until the window
restarts) on every counted answer; a refused request is a 429 ``/problems/rate-limited`` with
``Retry-After``.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import falcon

from mockserver.array_params import array_items, array_key, array_text
from mockserver.catalog import SORT_FIELDS, Filters, ListQuery
from mockserver.controls import MAX_TENANT_ID
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
from mockserver.errors import InvalidParameter, MockServerError, UnsupportedFilter
from mockserver.fields import FieldSet, parse_fields
from mockserver.formats import parse_timestamp, ratelimit_headers
from mockserver.model import CUSTOMER_PATHS, STATUSES, validate_customer_input
from mockserver.pagination import decode_cursor, page_cursors
from mockserver.resources import bearer_token, check_token, cursor_links, dumps, int_param, read_json, single_param
from mockserver.webhooks import Event, RetrySchedule, Subscription, event_names, hmac_base64, iso_millis

if TYPE_CHECKING:
    from mockserver.catalog import Page
    from mockserver.ratelimit import Usage
    from mockserver.settings import Settings

FILTER_KEYS = ("email", "phone_number", "status", "customer_ids", "created_since", "updated_since")
ARRAY_PARAMS = ("filter[customer_ids]", "fields")
"""Parameters taking a list, in any form of :mod:`mockserver.array_params`."""
PROBLEM_JSON = "application/problem+json"
TENANT_HEADER = "X-Tenant-Id"
FORCED_KINDS = {403: "connection-disabled", 502: "connection-downstream-error"}
"""The one kind this API has for a status, answered when it is forced (``Prefer``, a fault profile)."""


def _problem_type(error: MockServerError) -> str:
    if error.status == 400 and error.kind not in ("invalid-cursor", "malformed-body"):
        return "/problems/invalid-parameter"
    if error.kind in ("forced", "forbidden"):
        return f"/problems/{FORCED_KINDS.get(error.status, 'forced')}"
    return f"/problems/{error.kind}"


def tenant_of(req: falcon.Request) -> str:
    """The ``X-Tenant-Id`` header (:data:`DEFAULT_TENANT` when absent).

    Raises:
        InvalidParameter: empty, longer than 200 characters, starting with a space, or not printable.
    """
    raw: str | None = req.env.get("HTTP_X_TENANT_ID")  # PERF: the WSGI environ, not get_header
    if raw is None:
        return DEFAULT_TENANT
    tenant = raw.rstrip(" \t")  # HTTP's optional whitespace after a value (clients refuse it before one)
    if not tenant or tenant[0] == " " or len(raw) > MAX_TENANT_ID or not tenant.isprintable():
        raise InvalidParameter(TENANT_HEADER, f"must be 1 to {MAX_TENANT_ID} printable characters",
                               location="header")
    return tenant


def parse_list_query(req: falcon.Request) -> ListQuery:
    """Filters and sort of a canonical list request.

    Raises:
        UnsupportedFilter: an unknown ``filter[...]`` or ``sort[...]`` key.
        InvalidParameter: a filter or sort value that cannot be used.
    """
    values: dict[str, Any] = {}
    sort, direction = "created_at", "asc"
    for key in dict.fromkeys(array_key(k, ARRAY_PARAMS) for k in req.params):
        if key.startswith("filter[") and key.endswith("]"):
            name = key[7:-1]
            if name not in FILTER_KEYS:
                raise UnsupportedFilter(key, f"unknown filter; supported filters: "
                                             f"{', '.join(f'filter[{k}]' for k in FILTER_KEYS)}")
            raw = "" if name == "customer_ids" else single_param(req, key) or ""
            if name == "status":
                if raw not in STATUSES:
                    raise InvalidParameter(key, f"must be one of: {', '.join(STATUSES)}")
                values["status"] = raw
            elif name in ("created_since", "updated_since"):
                try:
                    values[name.replace("_since", "_from")] = parse_timestamp(raw)
                except ValueError:
                    raise InvalidParameter(key, f"must be an RFC 3339 date-time with offset, got {raw!r}") from None
            elif name == "customer_ids":
                ids = array_items(req.params, key) or ()
                if not ids:
                    raise InvalidParameter(key, "must list at least one id")
                values["ids"] = ids
            elif not raw.strip():
                raise InvalidParameter(key, "must not be empty")
            else:
                values["email" if name == "email" else "phone"] = raw
        elif key.startswith(("filter", "sort")):
            if key == "sort[by]":
                sort = single_param(req, key) or ""
                if sort not in SORT_FIELDS:
                    raise InvalidParameter(key, f"must be one of: {', '.join(SORT_FIELDS)}")
            elif key == "sort[direction]":
                direction = single_param(req, key) or ""
                if direction not in ("asc", "desc"):
                    raise InvalidParameter(key, "must be asc or desc")
            else:
                raise UnsupportedFilter(key, "unknown parameter; use filter[<name>], sort[by] or sort[direction]")
    return ListQuery(Filters(**values), sort, direction == "desc")


def fields_param(req: falcon.Request) -> tuple[str, FieldSet | None]:
    raw = array_text(req.params, "fields") or ""
    return raw, parse_fields(raw, CUSTOMER_PATHS)


class CanonicalView(NamedTuple):
    fields_raw: str
    fields: FieldSet | None


def _data(record_json: bytes) -> bytes:
    return b'{"data":' + record_json + b"}"


class StandardWebhooks:
    """Canonical webhooks: the Standard Webhooks specification 1.0.0 (standard-webhooks/standard-webhooks,
    ``spec/standard-webhooks.md``).

    ``customer.created|updated|deleted`` as ``{type, timestamp, data}`` (``data``: the customer; ``{"id"}``
    for a delete), headers ``webhook-id`` (``msg_<hex>``, the same for every attempt),
    ``webhook-timestamp`` (Unix seconds of the attempt) and ``webhook-signature: v1,<base64>`` =
    HMAC-SHA256 of ``{webhook-id}.{webhook-timestamp}.{body}`` keyed with the secret's bytes (the secret
    is ``whsec_<base64>``, 24 to 64 bytes). Retries: the specification's example schedule (immediately,
    then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h: 9 retries), doubling from ``backoff_ms``.
    """

    events = event_names("customer.created", "customer.updated", "customer.deleted")
    retries = RetrySchedule(9, "exponential", "9 retries over 3 days (Standard Webhooks example schedule)")

    def new_secret(self) -> str:
        return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()

    def check_secret(self, secret: str) -> str | None:
        try:
            key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if not secret.startswith("whsec_") or not 24 <= len(key) <= 64:
            return "must be whsec_ followed by the base64 of 24 to 64 random bytes (Standard Webhooks)"
        return None

    def render(self, event: Event, subscription: Subscription, attempt: int, secret: str) -> tuple[bytes, dict[str, str]]:
        data = {"id": event.customer_id} if event.kind == "deleted" or event.record is None else event.record
        body = dumps({"type": self.events[event.kind], "timestamp": iso_millis(event.occurred), "data": data})
        msg_id, stamp = "msg_" + event.id.replace("-", ""), str(int(time.time()))
        key = base64.b64decode(secret.removeprefix("whsec_"))
        signature = hmac_base64(key, f"{msg_id}.{stamp}.".encode() + body)
        return body, {"webhook-id": msg_id, "webhook-timestamp": stamp, "webhook-signature": f"v1,{signature}"}


class Canonical(DialectBase):
    """The project's own contract (``openapi.yaml``)."""

    name = "canonical"
    title = "Canonical unified Customers API"
    spec = "canonical.yaml"
    operations = (
        Operation("list", "GET", "/customers", "listCustomers"),
        Operation("create", "POST", "/customers", "createCustomer"),
        Operation("get", "GET", "/customers/{id}", "getCustomer"),
        Operation("update", "PATCH", "/customers/{id}", "updateCustomer"),
        Operation("delete", "DELETE", "/customers/{id}", "deleteCustomer"),
    )
    example = Example("/customers", "/customers/{id}")
    webhooks = StandardWebhooks()
    # its quota: DialectBase's 100 requests a minute per tenant

    def rate_headers(self, usage: Usage) -> Mapping[str, str]:
        return ratelimit_headers(usage)

    def authenticate(self, req: falcon.Request, operation: Operation, params: Mapping[str, str],
                     settings: Settings) -> Caller:
        token = check_token(bearer_token(req), settings)  # 401 before the tenant is checked
        # PERF: most requests name no tenant: no call for them
        return Caller(token) if "HTTP_X_TENANT_ID" not in req.env else Caller(token, tenant_of(req))

    def parse_list(self, req: falcon.Request, params: Mapping[str, str], secret: str) -> Listing:
        limit = int_param(req, "limit", 20, 1, 200)
        view = CanonicalView(*fields_param(req))
        query = parse_list_query(req)
        cursor = single_param(req, "cursor")
        position = decode_cursor(cursor, secret, query.signature) if cursor is not None else None
        return Listing(query, limit, position, view=view)

    def render_page(self, req: falcon.Request, listing: Listing, page: Page, records: RecordCache,
                    secret: str) -> Reply:
        prev_cursor, next_cursor = page_cursors(page, listing.query.signature, secret)
        meta = {
            "items_on_page": len(page.items),
            "total_count": page.total,
            "cursors": {"previous": prev_cursor, "current": single_param(req, "cursor"), "next": next_cursor},
        }
        # PERF: records are written straight to JSON, without dicts; one join copies the ~18 KB page
        # once (chained + would copy it five times).
        return Reply(b"".join((b'{"data":[', b",".join(page.records_json(listing.view.fields)), b'],"meta":',
                               dumps(meta), b',"links":', dumps(cursor_links(req, prev_cursor, next_cursor)), b"}")))

    def parse_get(self, req: falcon.Request, params: Mapping[str, str]) -> CanonicalView:
        return CanonicalView(*fields_param(req))

    def render_record(self, req: falcon.Request, view: CanonicalView, found: Found, records: RecordCache) -> Reply:
        # PERF: the dict is built only when the bytes are not cached.
        return Reply(_data(records.bytes(view.fields_raw, found.ordinal, lambda: found.record_json(view.fields))))

    def parse_create(self, req: falcon.Request, params: Mapping[str, str]) -> Write:
        return Write(validate_customer_input(read_json(req), creating=True))

    def render_created(self, req: falcon.Request, record: dict[str, Any]) -> Reply:
        return Reply(_data(dumps(record)), 201, {"Location": f"{req.path.rstrip('/')}/{record['id']}"})

    def parse_update(self, req: falcon.Request, params: Mapping[str, str], current: dict[str, Any]) -> Write:
        return Write(validate_customer_input(read_json(req), creating=False))

    def render_updated(self, req: falcon.Request, record: dict[str, Any]) -> Reply:
        return Reply(_data(dumps(record)))

    def render_deleted(self, req: falcon.Request, customer_id: str) -> Reply:
        return Reply(b"", 204)

    def unwrap_record(self, body: Any) -> dict[str, Any]:
        return body["data"]  # type: ignore[no-any-return]

    def from_native(self, native: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
        return native

    def render_error(self, error: MockServerError) -> Rendered:
        body = {
            "type": _problem_type(error),
            "title": error.title,
            "status": error.status,
            "detail": error.detail,
            "errors": [{"in": p.location, "name": p.name, "detail": p.detail} for p in error.problems],
        }
        headers = dict(error.headers)
        if error.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="mockserver"'
        return Rendered(error.status, dumps(body), PROBLEM_JSON, headers)
