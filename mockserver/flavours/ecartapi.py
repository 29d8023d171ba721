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
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import falcon

from mockserver.array_params import array_items
from mockserver.catalog import Filters, ListQuery, Page
from mockserver.errors import (
    BadRequest,
    InvalidBody,
    InvalidCursor,
    InvalidParameter,
    MockServerError,
    NotFound,
    Problem,
    UnsupportedFilter,
    describe_problems,
)
from mockserver.flavours import Rendered, Route
from mockserver.model import EMAIL_RE, NONBLANK_RE, validate_customer_input
from mockserver.pagination import Position, decode_cursor, encode_cursor
from mockserver.resources import (
    ServerContext,
    bearer_token,
    dumps,
    int_param,
    link_with,
    loads_json,
    read_json,
    send_bytes,
    single_param,
)

LIMIT_DEFAULT, LIMIT_MAX = 50, 250
PAGE_MAX = OFFSET_MAX = 1_000_000_000
NOT_AVAILABLE = ("orders", "products", "webhooks")
NOT_AVAILABLE_MESSAGE = "The resource is not available for this ecommerce"
STATUS_OUT = {"active": "enabled", "archived": "disabled"}
STATUS_IN = {v: k for k, v in STATUS_OUT.items()}
ORDER_STATUS = {"active": "pending", "completed": "completed", "cancelled": "cancelled"}
COUNTRIES = {  # ISO 3166-1 alpha-2 -> (alpha-3, English name); other codes get nulls
    "AR": ("ARG", "Argentina"), "BR": ("BRA", "Brazil"), "CA": ("CAN", "Canada"), "CL": ("CHL", "Chile"),
    "CO": ("COL", "Colombia"), "DE": ("DEU", "Germany"), "ES": ("ESP", "Spain"), "FR": ("FRA", "France"),
    "GB": ("GBR", "United Kingdom"), "IT": ("ITA", "Italy"), "MX": ("MEX", "Mexico"), "PE": ("PER", "Peru"),
    "US": ("USA", "United States"),
}
TOP_KEYS = ("id", "dates", "email", "firstName", "lastName", "phone", "note", "currency", "status", "addresses")
ADDRESS_KEYS = ("id", "firstName", "lastName", "address1", "address2", "country", "state", "city", "postalCode",
                "phone", "company", "references", "defaultBilling", "defaultShipping")
PLACE_KEYS = ("code", "name", "codeIso2", "codeIso3")
# NOTE: matched with fullmatch (``$`` would accept a trailing newline the spec's patterns reject)
_CURRENCY_RE = re.compile(r"[A-Z]{3}")
_COUNTRY_RE = re.compile(r"[A-Za-z]{2}")
_PATTERN_WORDS = {
    EMAIL_RE: "must be an email address such as ada@example.com",
    _CURRENCY_RE: "must be a 3-letter ISO 4217 currency code, such as EUR",
    _COUNTRY_RE: "must be a 2-letter ISO 3166-1 country code, such as DE",
}
"""What each pattern asks for, in words (a message shows these, never the regex)."""
_DATE_ONLY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_UNIX_EPOCH = datetime(1970, 1, 1)


class ResourceNotAvailable(BadRequest):
    """400: ecartAPI knows the resource but the connected store (this mock) does not offer it."""

    kind = "resource-not-available"

    def __init__(self) -> None:
        super().__init__(NOT_AVAILABLE_MESSAGE)


# ---- canonical -> ecartAPI ------------------------------------------------------------


def phone_text(phone: dict[str, Any]) -> str | None:
    parts = [f"+{phone['country_code']}" if phone.get("country_code") else None, phone.get("area_code"),
             phone.get("number")]
    text = " ".join(p for p in parts if p)
    if phone.get("extension"):
        text += f" ext. {phone['extension']}"
    return text or None


def _place(code: str | None, name: str | None, country: bool) -> dict[str, Any]:
    if not country:
        return {"code": None, "name": name, "codeIso2": None, "codeIso3": None}
    iso3, known = COUNTRIES.get(code or "", (None, None))
    return {"code": code, "name": known, "codeIso2": code, "codeIso3": iso3}


def to_ecart(record: dict[str, Any]) -> dict[str, Any]:
    """A canonical customer in ecartAPI's shape."""
    first, last, company = record.get("first_name"), record.get("last_name"), record.get("company_name")
    emails, phones = record.get("emails") or [], record.get("phone_numbers") or []
    status = record.get("status")
    return {
        "id": record.get("id"),
        "email": emails[0].get("email") if emails else None,
        "firstName": first,
        "lastName": last,
        "status": {"id": None, "status": STATUS_OUT.get(str(status), status)},
        "note": record.get("notes"),
        "phone": phone_text(phones[0]) if phones else None,
        "currency": record.get("currency"),
        "addresses": [{
            "id": a.get("id"), "firstName": first, "lastName": last, "address1": a.get("line1"),
            "address2": a.get("line2"), "country": _place(a.get("country"), None, True),
            "state": _place(None, a.get("state"), False), "city": a.get("city"), "postalCode": a.get("postal_code"),
            "phone": None, "company": company, "references": None,
            "defaultBilling": a.get("type") == "billing", "defaultShipping": a.get("type") == "shipping",
        } for a in record.get("addresses") or ()],
        "dates": {"createdAt": record.get("created_at"), "updatedAt": record.get("updated_at")},
    }


# ---- query parameters -----------------------------------------------------------------


def parse_date(name: str, raw: str, *, end: bool) -> int:
    """ISO 8601 date or date-time to UNIX seconds (``end``: inclusive upper bound).

    Raises:
        InvalidParameter: not a date.
    """
    text = raw.strip()
    try:
        if _DATE_ONLY.fullmatch(text):
            days = (date.fromisoformat(text) - _UNIX_EPOCH.date()).days
            return days * 86400 + (86399 if end else 0)
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidParameter(name, f"must be an ISO 8601 date or date-time, got {raw!r}") from None
    # NOTE: arithmetic on naive values: datetime.timestamp() overflows near years 1 and 9999.
    offset = value.utcoffset()
    seconds = (value.replace(tzinfo=None) - _UNIX_EPOCH).total_seconds() - (offset.total_seconds() if offset else 0)
    return math.floor(seconds) if end else math.ceil(seconds)


def parse_filters(req: falcon.Request) -> tuple[Filters, bool]:
    """The list filters, and whether the request names any.

    Raises:
        InvalidParameter: a bad date, a ``[from]``/``[to]`` sent alone, a repeated parameter.
        UnsupportedFilter: ``createdAt[...]``/``updatedAt[...]`` with another key.
    """
    values: dict[str, Any] = {}
    for key in req.params:
        base, bracket, rest = key.partition("[")
        if base in ("createdAt", "updatedAt") and (not bracket or rest not in ("from]", "to]")):
            raise UnsupportedFilter(key, f"use {base}[from] and {base}[to] together")
    for field, prefix in (("createdAt", "created"), ("updatedAt", "updated")):
        low, high = single_param(req, f"{field}[from]"), single_param(req, f"{field}[to]")
        if (low is None) != (high is None):
            missing, sent = (f"{field}[to]", f"{field}[from]") if high is None else (f"{field}[from]", f"{field}[to]")
            raise InvalidParameter(missing, f"is required when {sent} is sent; send both or neither")
        if low is not None and high is not None:
            values[f"{prefix}_from"] = parse_date(f"{field}[from]", low, end=False)
            values[f"{prefix}_to"] = parse_date(f"{field}[to]", high, end=True)
    ids = array_items(req.params, "ids")
    if ids:
        values["ids"] = ids
    email = single_param(req, "email")
    if email is not None and email.strip():
        values["email"] = email.strip()
    name, search = single_param(req, "name"), single_param(req, "search")
    needle = name if name is not None and name.strip() else search
    if needle is not None and needle.strip():
        values["name_contains"] = needle
    return Filters(**values), bool(values)


# ---- page tokens ----------------------------------------------------------------------

_FILTER_FIELDS = ("email", "phone", "status", "ids", "created_from", "created_to", "updated_from", "updated_to",
                  "name_contains")


def encode_token(query: ListQuery, position: Position, secret: str, since: tuple[int, int] | None) -> str:
    """Opaque page token: the core signed cursor plus the filters (and sinceId place) it belongs to."""
    f = query.filters
    filters = [list(f.ids) if name == "ids" and f.ids is not None else getattr(f, name) for name in _FILTER_FIELDS]
    payload = [1, filters, list(since) if since else None, encode_cursor(position, secret)]
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _token_filters(values: Any) -> Filters:
    if not isinstance(values, list) or len(values) != len(_FILTER_FIELDS):
        raise ValueError("filters")
    kwargs: dict[str, Any] = {}
    for name, value in zip(_FILTER_FIELDS, values):
        if value is None:
            continue
        if name == "ids":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(name)
            value = tuple(value)
        elif name.endswith(("_from", "_to")) and (not isinstance(value, int) or isinstance(value, bool)) or name in ("email", "phone", "status", "name_contains") and not isinstance(value, str):
            raise ValueError(name)
        kwargs[name] = value
    return Filters(**kwargs)


def decode_token(text: str, secret: str, query: ListQuery | None
                 ) -> tuple[ListQuery, Position, tuple[int, int] | None]:
    """The query, position and sinceId place of a page token (``query``: the request's, if it has filters).

    Raises:
        InvalidCursor: not a token from this server, or for other filters.
    """
    try:
        payload = loads_json(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8"))
        version, filters, since, cursor = payload
        if version != 1 or not isinstance(cursor, str):
            raise ValueError("version")
        token_query = ListQuery(_token_filters(filters))
        if since is not None and not (isinstance(since, list) and len(since) == 2
                                      and all(isinstance(v, int) for v in since)):
            raise ValueError("since")
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidCursor("must be a page number or a page token exactly as returned in pagination.nextPage",
                            name="page") from None
    wanted = query if query is not None else token_query
    position = decode_cursor(cursor, secret, wanted.signature, name="page")
    return wanted, position, tuple(since) if since else None


# ---- request bodies -------------------------------------------------------------------


def _text(problems: list[Problem], path: str, value: Any, *, nullable: bool = True, max_length: int = 255,
          pattern: re.Pattern[str] | None = None, required: bool = False, nonblank: bool = False) -> None:
    if value is None:
        if not nullable:
            problems.append(Problem("body", path, "must not be null"))
    elif not isinstance(value, str):
        problems.append(Problem("body", path, "must be a string"))
    elif len(value) > max_length:
        problems.append(Problem("body", path, f"must be at most {max_length} characters"))
    elif nonblank and not NONBLANK_RE.search(value):
        problems.append(Problem("body", path, "must not be blank"))
    elif pattern is not None and not pattern.fullmatch(value):
        words = _PATTERN_WORDS.get(pattern, f"must match the pattern {pattern.pattern}")
        problems.append(Problem("body", path, words))


def _place_input(problems: list[Problem], path: str, value: Any, country: bool) -> None:
    code_pattern = _COUNTRY_RE if country else None
    if value is None or isinstance(value, str):
        _text(problems, path, value, pattern=code_pattern)
        return
    if not isinstance(value, dict):
        problems.append(Problem("body", path, "must be an object, a string or null"))
        return
    for key, item in value.items():
        if key not in PLACE_KEYS:
            problems.append(Problem("body", f"{path}.{key}", "is not a field of this object"))
        else:
            _text(problems, f"{path}.{key}", item, pattern=code_pattern if key in ("code", "codeIso2") else None)


def _flag(problems: list[Problem], path: str, value: Any) -> None:
    if value is not None and not isinstance(value, bool) and value not in ("true", "false"):
        problems.append(Problem("body", path, "must be a boolean, \"true\", \"false\" or null"))


def validate_input(body: Any, *, creating: bool) -> dict[str, Any]:
    """Check an ecartAPI customer body (bare or ``{"customer": {...}}``) and return the bare fields.

    Raises:
        InvalidBody: with one problem per offending field, named as ecartAPI names it.
    """
    if isinstance(body, dict) and set(body) == {"customer"} and isinstance(body["customer"], dict):
        body = body["customer"]
    if not isinstance(body, dict):
        raise InvalidBody("The request body must be a JSON object.",
                          problems=(Problem("body", "", "must be an object"),))
    problems: list[Problem] = [Problem("body", k, "is not a customer field") for k in body if k not in TOP_KEYS]
    for key in ("firstName", "lastName"):
        if creating and key not in body:
            problems.append(Problem("body", key, "is required"))
        elif key in body:
            _text(problems, key, body[key], nullable=not creating, nonblank=creating)
    if "email" in body:
        _text(problems, "email", body["email"], pattern=EMAIL_RE)
    if "phone" in body:
        _text(problems, "phone", body["phone"], nonblank=True)
    if "note" in body:
        _text(problems, "note", body["note"], max_length=10_000)
    if "currency" in body:
        _text(problems, "currency", body["currency"], pattern=_CURRENCY_RE)
    if "status" in body:
        status = body["status"]
        if isinstance(status, dict):
            extra = [k for k in status if k not in ("id", "status")]
            status = status.get("status") if not extra else None
        if not isinstance(status, str) or status not in STATUS_IN:
            problems.append(Problem("body", "status", "must be \"enabled\", \"disabled\" or {\"status\": ...}"))
    addresses = body.get("addresses", [])
    if not isinstance(addresses, list) or len(addresses) > 20:
        problems.append(Problem("body", "addresses", "must be an array of at most 20 addresses"))
        addresses = []
    for n, address in enumerate(addresses):
        path = f"addresses[{n}]"
        if not isinstance(address, dict):
            problems.append(Problem("body", path, "must be an object"))
            continue
        for key, value in address.items():
            where = f"{path}.{key}"
            if key not in ADDRESS_KEYS:
                problems.append(Problem("body", where, "is not a field of addresses"))
            elif key in ("country", "state"):
                _place_input(problems, where, value, key == "country")
            elif key in ("defaultBilling", "defaultShipping"):
                _flag(problems, where, value)
            else:
                _text(problems, where, value)
    if problems:
        raise InvalidBody(f"The customer is invalid: {describe_problems(problems)}.", problems=tuple(problems))
    return body


def _place_value(value: Any, keys: tuple[str, ...]) -> str | None:
    if isinstance(value, dict):
        value = next((value[k] for k in keys if value.get(k)), None)
    return value or None


def to_canonical(body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    """Canonical writable fields for a validated ecartAPI body (``current``: the record updated)."""
    fields: dict[str, Any] = {}
    for native, canonical in (("firstName", "first_name"), ("lastName", "last_name"), ("note", "notes"),
                              ("currency", "currency")):
        if native in body:
            fields[canonical] = body[native]
    if "status" in body:
        status = body["status"]
        fields["status"] = STATUS_IN[status["status"] if isinstance(status, dict) else status]
    if "email" in body:
        emails = [dict(e) for e in (current or {}).get("emails") or ()]
        if body["email"] is None:
            emails = emails[1:]
        elif emails:
            emails[0]["email"] = body["email"]
        else:
            emails = [{"email": body["email"], "type": "primary"}]
        fields["emails"] = emails
    if "phone" in body:
        phones = [dict(p) for p in (current or {}).get("phone_numbers") or ()]
        new = {"country_code": None, "area_code": None, "number": body["phone"], "extension": None}
        if body["phone"] is None:
            phones = phones[1:]
        elif not phones:
            phones = [{**new, "type": "primary"}]
        elif phone_text(phones[0]) != body["phone"]:  # unchanged text keeps its structure
            phones[0].update(new)
        fields["phone_numbers"] = phones
    if "addresses" in body:
        addresses = []
        for a in body["addresses"]:
            billing, shipping = (a.get(k) in (True, "true") for k in ("defaultBilling", "defaultShipping"))
            country = _place_value(a.get("country"), ("code", "codeIso2"))
            item = {"type": "billing" if billing else "shipping" if shipping else "other",
                    "line1": a.get("address1"), "line2": a.get("address2"), "city": a.get("city"),
                    "state": _place_value(a.get("state"), ("name", "code")), "postal_code": a.get("postalCode"),
                    "country": country.upper() if country else None}
            if a.get("id"):
                item["id"] = a["id"]
            addresses.append(item)
        fields["addresses"] = addresses
        company = next((a["company"] for a in body["addresses"] if a.get("company")), None)
        if company:
            fields["company_name"] = company
    return fields


# ---- resources ------------------------------------------------------------------------


class CustomersResource:
    """``/api/v2/customers`` (+ ``/count``), ``/api/v2/customers/{id}`` (+ ``/orders``)."""

    def __init__(self, context: ServerContext, name: str) -> None:
        self.context = context
        self.catalog = context.catalog
        self.name = name

    def authenticate(self, req: falcon.Request) -> None:
        """Accept ``Authorization: <token>`` and ``Authorization: Bearer <token>``."""
        header = (req.get_header("Authorization") or "").strip()
        token = bearer_token(req) if header.lower().partition(" ")[0] == "bearer" else header
        self.context.check_token(token)

    def _customer_bytes(self, record: dict[str, Any], ordinal: int | None) -> bytes:
        def build() -> bytes:
            return dumps(to_ecart(record))

        return build() if ordinal is None else self.context.record_bytes(self.name, "customer", ordinal, build)

    def _since(self, req: falcon.Request, state: Mapping[int, Any]) -> tuple[int, int] | None:
        """The (created, ordinal) place of the ``sinceId`` customer, live or deleted."""
        raw = single_param(req, "sinceId")
        if raw is None:
            return None
        ordinal = self.catalog.dataset.ordinal_of(raw) if raw.isascii() else None
        if ordinal is None:
            raise InvalidParameter("sinceId", f"must be a customer id (9 digits), got {raw!r}")
        if ordinal >= self.catalog.dataset.count and ordinal not in state:
            raise NotFound(f"sinceId: no customer has ever had id '{raw}'")
        return self.catalog.entry_timestamps(ordinal, state)[0], ordinal

    def _ties(self, query: ListQuery, since: tuple[int, int] | None) -> int:
        """Customers of ``query`` created in the same second as, and up to, the sinceId customer."""
        if since is None or query.filters.created_from != since[0]:
            return 0
        high = query.filters.created_to
        ties = ListQuery(replace(query.filters, created_to=since[0] if high is None else min(high, since[0])))
        count, position = 0, None
        while True:  # a handful at most: customers created within one second
            page = self.catalog.list(ties, 1000, position)
            count += sum(1 for ordinal in page.ordinals if ordinal <= since[1])
            if not page.has_next or page.last_key is None:
                return count
            position = Position(page.last_key, False, page.version, ties.signature)

    @staticmethod
    def _with_since(filters: Filters, since: tuple[int, int] | None) -> ListQuery:
        if since is not None:
            low = since[0] if filters.created_from is None else max(filters.created_from, since[0])
            filters = replace(filters, created_from=low)
        return ListQuery(filters)

    # -- list -----------------------------------------------------------------------------

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.authenticate(req)
        version = self.catalog.store.refresh()
        key = (self.name, "list", req.prefix, req.path, req.query_string, version)
        cached = self.context.pages.get(key)
        if cached is None:
            cached = self.context.pages.put(key, self._list(req, version))
        body, link = cached
        send_bytes(resp, body, headers={"Link": link} if link else None)

    def _list(self, req: falcon.Request, version: int) -> tuple[bytes, str]:
        limit = int_param(req, "limit", LIMIT_DEFAULT, 1, LIMIT_MAX)
        offset = int_param(req, "offset", 0, 0, OFFSET_MAX)
        filters, filtered = parse_filters(req)
        state = self.catalog.store.state_at(version)
        since = self._since(req, state)
        query = self._with_since(filters, since)
        secret = self.catalog.dataset.fingerprint
        raw_page = single_param(req, "page")
        number = position = None
        if raw_page is not None and raw_page.strip().isdigit() and raw_page.isascii():
            number = int_param(req, "page", 1, 1, PAGE_MAX)
        elif raw_page is not None:
            query, position, since = decode_token(raw_page, secret, query if filtered or since else None)
        ties = self._ties(query, since)  # customers the sinceId walk starts after, though they pass the filters
        if position is not None:
            page = self.catalog.list(query, limit, position, latest=version)
        elif number is None and offset == 0:
            start = Position(since, False, version, query.signature) if since else None
            page = self.catalog.list(query, limit, start, latest=version)
        else:
            page = self._at_offset(query, ties + ((number or 1) - 1) * limit + offset, limit)
        total = page.total - ties if page.total is not None else None
        next_token = prev_token = None
        if page.has_next and page.last_key is not None:
            next_token = encode_token(query, Position(page.last_key, False, page.version, query.signature), secret,
                                      since)
        if since is None and page.has_previous and page.first_key is not None:
            prev_token = encode_token(query, Position(page.first_key, True, page.version, query.signature), secret,
                                      None)
        parts = [self._customer_bytes(r, o) for r, o in zip(page.records, page.ordinals)]
        pagination = {"limit": limit, "page": number, "nextPage": next_token, "prevPage": prev_token,
                      "total": total}
        links = [f'<{link_with(req, {"page": t})}>; rel="{rel}"'
                 for t, rel in ((next_token, "next"), (prev_token, "prev")) if t]
        body = b'{"success":true,"customers":[' + b",".join(parts) + b'],"pagination":' + dumps(pagination) + b"}"
        return body, ", ".join(links)

    def _at_offset(self, query: ListQuery, offset: int, limit: int) -> Page:
        version = self.catalog.store.refresh()
        total = self.catalog.total(query, self.catalog.store.state_at(version))
        if total is not None and offset >= total:  # PERF: no walk to find nothing
            return Page([], None, None, False, offset > 0, total, version)
        return self.catalog.list_at_offset(query, offset, limit)

    def get_count(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.authenticate(req)
        filters, _ = parse_filters(req)
        version = self.catalog.store.refresh()
        state = self.catalog.store.state_at(version)
        since = self._since(req, state)
        query = self._with_since(filters, since)
        total = self.catalog.total(query, state)
        count = total - self._ties(query, since) if total is not None else None
        send_bytes(resp, dumps({"success": True, "count": count}))

    # -- writes and items -----------------------------------------------------------------

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.authenticate(req)
        body = validate_input(read_json(req), creating=True)
        record = self.catalog.create(validate_customer_input(to_canonical(body, None), creating=True))
        send_bytes(resp, b'{"success":true,"customer":' + dumps(to_ecart(record)) + b"}",
                   headers={"Location": f"{req.path.rstrip('/')}/{record['id']}"})

    def on_get_item(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self.authenticate(req)
        state = self.catalog.state()
        record = self.catalog.get(id)
        ordinal = self.catalog.ordinal_of(id, state)
        send_bytes(resp, b'{"success":true,"customer":' + self._customer_bytes(record, ordinal) + b"}")

    def on_put_item(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self.authenticate(req)
        current = self.catalog.get(id)  # 404 before 415/422: the resource is checked first
        body = validate_input(read_json(req), creating=False)
        record = self.catalog.update(id, validate_customer_input(to_canonical(body, current), creating=False))
        send_bytes(resp, b'{"success":true,"customer":' + dumps(to_ecart(record)) + b"}")

    def on_delete_item(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self.authenticate(req)
        self.catalog.delete(id)
        send_bytes(resp, dumps({"success": True, "id": id}))

    def get_orders(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self.authenticate(req)
        record = self.catalog.get(id)
        customer = to_ecart(record)
        buyer = {k: customer[k] for k in ("id", "email", "firstName", "lastName", "phone")}
        buyer["ecartapiUrl"] = f"{req.prefix}{req.path.rsplit('/', 1)[0]}"
        orders = [{
            "id": o.get("id"), "number": o.get("id"), "name": None, "email": customer["email"],
            "currency": customer["currency"],
            "totals": {"subtotal": None, "total": o.get("total"), "tax": None, "discount": None},
            "status": {"id": None, "status": o.get("status"), "financial": None,
                       "ecartapi": ORDER_STATUS.get(o.get("status") or "", "other")},
            "customer": buyer, "dates": {"createdAt": None, "updatedAt": None},
        } for o in record.get("orders") or ()]
        send_bytes(resp, dumps({"success": True, "orders": orders}))


class GetOnly:
    """One more ``GET`` responder of :class:`CustomersResource`, mounted as a resource of its own."""

    def __init__(self, responder: Any) -> None:
        self.on_get = responder


class NotAvailableResource:
    """Other ecartAPI resources (``/api/v2/orders``, ...): 400 for every method."""

    def __init__(self, customers: CustomersResource) -> None:
        self.customers = customers

    def _refuse(self, req: falcon.Request, resp: falcon.Response, resource: str, **_: str) -> None:
        self.customers.authenticate(req)
        if resource not in NOT_AVAILABLE:
            raise NotFound("No such path on this server.")
        raise ResourceNotAvailable()

    on_get = on_post = on_put = on_patch = on_delete = _refuse


class EcartAPI:
    """ecartAPI unified API: ``{"success": true, "customers": [...]}`` with page numbers or page tokens."""

    name = "ecartapi"
    title = "ecartAPI v2 Customers"
    spec = "ecartapi.yaml"

    def routes(self, context: ServerContext) -> list[Route]:
        customers = CustomersResource(context, self.name)
        refuse = NotAvailableResource(customers)
        return [
            Route("/api/v2/customers", customers),
            Route("/api/v2/customers/count", GetOnly(customers.get_count)),
            Route("/api/v2/customers/{id}", customers, "item"),
            Route("/api/v2/customers/{id}/orders", GetOnly(customers.get_orders)),
            Route("/api/v2/{resource}", refuse),
            Route("/api/v2/{resource}/{id}", refuse),
        ]

    def render_error(self, error: MockServerError) -> Rendered:
        body = {"success": False, "error": {
            "code": error.status,
            "type": error.kind,
            "message": error.detail,
            "details": [{"location": p.location, "name": p.name, "message": p.detail} for p in error.problems],
        }}
        return Rendered(error.status, dumps(body), "application/json", {})
