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

The record mapping is two pure functions, :func:`to_ecwid` and :func:`from_ecwid`; request parsing
and rendering live in :class:`EcwidCustomers`, which the myBoxx flavour reuses.

UNCONFIRMED choices (no primary source settles them):

* Every ``storeId`` (any positive integer) sees the same default dataset; per-store datasets are not
  emulated yet.
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
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Context, Decimal, localcontext
from functools import lru_cache
from typing import Any, NamedTuple

import falcon

from mockserver.array_params import array_text
from mockserver.catalog import Filters, ListQuery, Page
from mockserver.dataset import parse_timestamp
from mockserver.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidBody,
    InvalidParameter,
    MethodNotAllowed,
    MockServerError,
    NotFound,
    Problem,
    Unauthorized,
    UnsupportedFilter,
    UnsupportedMediaType,
)
from mockserver.fields import FieldSet, parse_fields, paths_of, project
from mockserver.flavours import Rendered, Route
from mockserver.model import EMAIL_RE, NAME_MAX, validate_customer_input
from mockserver.pools import COUNTRIES, load_pools
from mockserver.resources import ServerContext, bearer_token, dumps, int_param, read_json, send_bytes, single_param

__all__ = [
    "CUSTOMER_FIELDS",
    "MAX_LIMIT",
    "SEARCH_FIELDS",
    "Ecwid",
    "EcwidCustomers",
    "InsufficientScope",
    "Search",
    "customer_id",
    "ecwid_date",
    "ecwid_error",
    "ecwid_token",
    "from_ecwid",
    "parse_date",
    "parse_response_fields",
    "parse_search",
    "store_id",
    "to_ecwid",
    "validate_ecwid_body",
]

MAX_LIMIT = 100
DEFAULT_LIMIT = 100
MAX_OFFSET = 10**18 - 1
PERSON_TEXT = ("name", "firstName", "lastName", "companyName", "street", "city", "countryCode", "countryName",
               "postalCode", "stateOrProvinceCode", "stateOrProvinceName", "phone")
_STATE_CODE = re.compile(r"^[A-Z]{2,3}$")
_COUNTRY_CODE = re.compile(r"[A-Z]{2}")  # fullmatch: "US\n" is not a code
_PHONE = re.compile(r"^\+(\d{1,4}) (\d{1,6}) ([\d-]+)(?: x(\d{1,8}))?$", re.ASCII)


# ---- record mapping (pure) ----------------------------------------------------------


def _int_id(text: str) -> int:
    """A stable positive 31-bit integer for a canonical sub-id (Ecwid ids are ints)."""
    return zlib.crc32(text.encode()) & 0x7FFFFFFF or 1


def ecwid_date(rfc3339: str) -> str:
    """``2019-01-01T00:00:00Z`` -> ``2019-01-01 00:00:00 +0000`` (Ecwid's date format)."""
    if len(rfc3339) == 20 and rfc3339.endswith("Z"):
        return f"{rfc3339[:10]} {rfc3339[11:19]} +0000"
    seconds = parse_timestamp(rfc3339)
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M:%S +0000")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _phone_text(phone: dict[str, Any] | None) -> str:
    if not phone:
        return ""
    parts = [f"+{phone['country_code']}" if phone.get("country_code") else "", phone.get("area_code") or "",
             phone.get("number") or ""]
    text = " ".join(p for p in parts if p)
    return f"{text} x{phone['extension']}" if phone.get("extension") else text


def _primary(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    for item in items:
        if item.get("type") == "primary":
            return item
    return items[0] if items else None


def _address_fields(address: dict[str, Any] | None) -> dict[str, str]:
    address = address or {}
    line1, line2 = _text(address.get("line1")), _text(address.get("line2"))
    country, state = _text(address.get("country")), _text(address.get("state"))
    country_name = load_pools()["countries"].get(country, {}).get("name", "") if country else ""
    return {
        "street": f"{line1}\n{line2}" if line2 else line1,
        "city": _text(address.get("city")),
        "countryCode": country,
        "countryName": country_name,
        "postalCode": _text(address.get("postal_code")),
        "stateOrProvinceCode": state if _STATE_CODE.match(state) else "",
        "stateOrProvinceName": state,
    }


# NOTE: exact for every sum the documents allow (20 orders of at most 255 characters each); the
# default 28-digit context raised InvalidOperation on a 29-digit total and broke every read of it.
_MONEY = Context(prec=400)


def _money(value: Decimal) -> float | int:
    value = value.quantize(Decimal("0.01"))
    # NOTE: orjson writes integers up to 64 bits only; beyond 2**53 a float is as exact as JSON readers get.
    return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)


def _stats(orders: list[dict[str, Any]]) -> dict[str, Any]:
    # NOTE: Ecwid's stats are never negative (its documents say minimum 0) while canonical order
    # totals may be (refunds): negative totals lower the sales value, which stops at zero.
    with localcontext(_MONEY):
        sales = max(sum((Decimal(o["total"]) for o in orders), Decimal(0)), Decimal(0))
        average = sales / len(orders) if orders else Decimal(0)
        return {"numberOfOrders": len(orders), "salesValue": _money(sales), "averageOrderValue": _money(average)}


def to_ecwid(record: dict[str, Any]) -> dict[str, Any]:
    """The Ecwid ``Customer`` for a canonical customer record (pure; the same record, the same dict).

    Example:
        >>> from mockserver.dataset import Dataset
        >>> customer = to_ecwid(Dataset(seed=7, count=10).customer(0))
        >>> customer["registered"]
        '2019-01-01 00:00:00 +0000'
    """
    cid = record["id"]
    emails = record.get("emails") or []
    phones = record.get("phone_numbers") or []
    addresses = record.get("addresses") or []
    orders = record.get("orders") or []
    name, company = _text(record.get("name")), _text(record.get("company_name"))
    email = _primary(emails)
    phone = _phone_text(phones[0] if phones else None)
    billing = next((a for a in addresses if a.get("type") == "billing"), None)
    registered = ecwid_date(record["created_at"])
    contacts = [{"id": _int_id(e["id"]), "contact": e["email"], "type": "EMAIL", "default": e is email,
                 "orderBy": n, "timestamp": registered} for n, e in enumerate(emails)]
    contacts += [{"id": _int_id(p["id"]), "contact": _phone_text(p), "type": "PHONE", "default": n == 0,
                  "orderBy": len(emails) + n, "timestamp": registered} for n, p in enumerate(phones)]
    country = (billing or {}).get("country") or ""
    locale = COUNTRIES.get(country, {}).get("locale") or "en_US"
    return {
        "id": int(cid),
        "name": name,
        "email": email["email"] if email else "",
        "registered": registered,
        "updated": ecwid_date(record["updated_at"]),
        "totalOrderCount": len(orders),
        "customerGroupId": 0,
        "customerGroupName": "General",
        "billingPerson": {"name": name, "firstName": _text(record.get("first_name")),
                          "lastName": _text(record.get("last_name")), "companyName": company,
                          **_address_fields(billing), "phone": phone},
        "shippingAddresses": [{"id": _int_id(a["id"]), "name": name, "companyName": company,
                               **_address_fields(a), "phone": phone}
                              for a in addresses if a.get("type") == "shipping"],
        "contacts": contacts,
        "taxId": "",
        "taxIdValid": True,
        "taxExempt": False,
        "b2b_b2c": "b2b" if company else "b2c",
        "acceptMarketing": zlib.crc32(f"acceptMarketing:{cid}".encode()) % 100 < 60,
        "lang": locale.split("_")[0],
        "stats": _stats(orders),
        "privateAdminNotes": _text(record.get("notes")),
        "favorites": [],
    }


def _blank(value: Any) -> Any:
    return None if value == "" else value


def _split_name(name: str) -> tuple[str | None, str | None]:
    # NOTE: Ecwid splits "[DEMO] Actualización para desbloquear" into "[DEMO]" and "desbloquear"
    # (seeds/myboxx-ecwid-customers.md): first and last word.
    words = name.split()
    if not words:
        return None, None
    return words[0], (words[-1] if len(words) > 1 else None)


def _canonical_address(person: dict[str, Any], kind: str, old: dict[str, Any] | None) -> dict[str, Any] | None:
    street = _text(person.get("street"))
    if old is not None and street == _address_fields(old)["street"]:
        # NOTE: canonical lines may hold newlines themselves; an unchanged street keeps its lines.
        line1, line2 = old.get("line1") or "", old.get("line2") or ""
    else:
        line1, _, line2 = (part.strip() for part in street.partition("\n"))
    address = {
        "type": kind,
        "line1": _blank(line1),
        "line2": _blank(line2),
        "city": _blank(person.get("city")),
        "state": _blank(person.get("stateOrProvinceName")) or _blank(person.get("stateOrProvinceCode")),
        "postal_code": _blank(person.get("postalCode")),
        "country": _blank(person.get("countryCode")),
    }
    if all(value is None for key, value in address.items() if key != "type"):
        return None
    if old is not None and old.get("id"):
        address["id"] = old["id"]
    return address


def _canonical_phone(text: str, keep: dict[str, Any] | None) -> dict[str, Any]:
    match = _PHONE.match(text.strip())
    if match:
        phone = {"country_code": match[1], "area_code": match[2], "number": match[3], "extension": match[4]}
    else:
        phone = {"country_code": None, "area_code": None, "number": text.strip(), "extension": None}
    phone["type"] = (keep or {}).get("type") or "primary"
    if keep and keep.get("id"):
        phone["id"] = keep["id"]
    return phone


def _fit(addresses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most ``ITEMS_MAX`` addresses: first drop those Ecwid does not show (neither billing nor
    shipping) from the end, then the last shipping ones."""
    excess = len(addresses) - ITEMS_MAX
    hidden = [n for n, a in enumerate(addresses) if a.get("type") not in ("billing", "shipping")]
    drop = set(hidden[len(hidden) - excess:] if excess <= len(hidden) else hidden)
    kept = [a for n, a in enumerate(addresses) if n not in drop]
    return kept[:ITEMS_MAX]


def from_ecwid(body: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
    """Canonical writable fields for an Ecwid create or update body (validated beforehand).

    Args:
        body: the Ecwid ``Customer`` body; only the keys it holds are mapped.
        current: the canonical record being updated (``None`` on create). Canonical data Ecwid cannot
            express (secondary emails, other phones, ``other`` addresses, orders) is carried over from
            it, and ``billingPerson`` is merged key by key into the current billing person.

    Example:
        >>> from_ecwid({"email": "a@b.co", "billingPerson": {"name": "Ada Lovelace"}})["last_name"]
        'Lovelace'
    """
    current = current or {}
    fields: dict[str, Any] = {}
    if "email" in body:
        emails = [dict(e) for e in current.get("emails") or []]
        primary = _primary(emails)
        if primary is not None:
            primary["email"] = body["email"]
        else:
            emails.insert(0, {"email": body["email"], "type": "primary"})
        fields["emails"] = emails
    # NOTE: null means "not given" (Ecwid's optional fields); "" clears a value.
    person = {k: v for k, v in (body.get("billingPerson") or {}).items() if v is not None}
    if "name" in person or "firstName" in person or "lastName" in person:
        name = (person.get("name") or "").strip()
        if name:
            first, last = _split_name(name)
            first = _blank(person["firstName"]) if "firstName" in person else first
            last = _blank(person["lastName"]) if "lastName" in person else last
        else:
            first = _blank(person.get("firstName", current.get("first_name")))
            last = _blank(person.get("lastName", current.get("last_name")))
            # NOTE: two 255-character halves make a name longer than the canonical record's limit
            name = " ".join(p for p in (first, last) if p)[:NAME_MAX]
        fields.update(name=name or None, first_name=first, last_name=last)
    if "companyName" in person:
        fields["company_name"] = _blank(person["companyName"])
    addresses = [dict(a) for a in current.get("addresses") or []]
    if any(key in person for key in PERSON_TEXT[4:-1]):
        old = next((a for a in addresses if a.get("type") == "billing"), None)
        merged = {**_address_fields(old), **person}
        if "stateOrProvinceCode" in person and "stateOrProvinceName" not in person:
            merged["stateOrProvinceName"] = ""  # a new code replaces the old state
        billing = _canonical_address(merged, "billing", old)
        addresses = [a for a in addresses if a is not old]
        if billing is not None:
            addresses.insert(0, billing)
        fields["addresses"] = addresses
    if body.get("shippingAddresses") is not None:
        known = {_int_id(a["id"]): a for a in addresses if a.get("type") == "shipping" and a.get("id")}
        shipping = [_canonical_address(item, "shipping", known.get(item.get("id")))
                    for item in body["shippingAddresses"]]
        fields["addresses"] = ([a for a in addresses if a.get("type") != "shipping"]
                               + [a for a in shipping if a is not None])
    if len(fields.get("addresses") or ()) > ITEMS_MAX:
        fields["addresses"] = _fit(fields["addresses"])
    if "phone" in person:
        phones = [dict(p) for p in current.get("phone_numbers") or []]
        text = _text(person["phone"]).strip()
        first_phone = phones[0] if phones else None
        rest = phones[1:]
        fields["phone_numbers"] = ([_canonical_phone(text, first_phone)] if text else []) + rest
    if body.get("privateAdminNotes") is not None:
        fields["notes"] = _blank(body["privateAdminNotes"])
    return fields


# ---- request parsing ------------------------------------------------------------------


class InsufficientScope(Forbidden):
    """403: the token lacks the access scope (``public_`` tokens reach only the store profile)."""

    kind = "insufficient-scope"


UNSUPPORTED_FILTERS = ("customerGroup", "customerGroupIds", "minOrderCount", "maxOrderCount", "acceptMarketing",
                       "city", "postalCode", "stateOrProvinceCode", "countryCodes", "companyName", "lang",
                       "minSalesValue", "maxSalesValue", "purchasedProductIds", "taxExempt", "b2b_b2c", "fiscalCode",
                       "electronicInvoicePecEmail", "electronicInvoiceSdiCode")
SORTS = {
    "NAME_ASC": ("name", False), "NAME_DESC": ("name", True),
    "REGISTERED_DATE_ASC": ("created_at", False), "REGISTERED_DATE_DESC": ("created_at", True),
    "UPDATED_DATE_ASC": ("updated_at", False), "UPDATED_DATE_DESC": ("updated_at", True),
}
UNSUPPORTED_SORTS = ("EMAIL_ASC", "EMAIL_DESC", "ORDER_COUNT_ASC", "ORDER_COUNT_DESC", "SALES_VALUE_ASC",
                     "SALES_VALUE_DESC", "FIRST_ORDER_DATE_ASC", "FIRST_ORDER_DATE_DESC", "LAST_ORDER_DATE_ASC",
                     "LAST_ORDER_DATE_DESC")
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")
_FIELD_TOKEN = re.compile(r"([A-Za-z0-9_]+)|([(),])")


def parse_date(name: str, raw: str) -> int:
    """UNIX seconds from one of Ecwid's date formats (a naive date-time is UTC).

    Raises:
        InvalidParameter: none of UNIX seconds, ``yyyy-MM-dd HH:mm:ss Z``, ``yyyy-MM-dd HH:mm:ss``,
            ``yyyy-MM-dd`` matches.
    """
    text = raw.strip()
    if text.isascii() and text.isdigit() and len(text) <= 12:
        return int(text)
    if not text.isascii():  # strptime's %Y also reads the digits of other scripts
        raise InvalidParameter(name, f"must be UNIX seconds or a date in ASCII digits, got {raw!r}")
    for fmt in _DATE_FORMATS:
        try:
            value = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return int(value.replace(tzinfo=value.tzinfo or UTC).timestamp())
    raise InvalidParameter(name, f"must be UNIX seconds, 'yyyy-MM-dd HH:mm:ss Z', 'yyyy-MM-dd HH:mm:ss' or "
                                 f"'yyyy-MM-dd', got {raw!r}")


def _field_paths(text: str) -> list[str]:
    """``items(id,billingPerson(name))`` -> ``["items.id", "items.billingPerson.name"]``."""
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        match = _FIELD_TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise InvalidParameter("responseFields", f"unexpected character at position {pos} of {text!r}")
        tokens.append(match[1] or match[2])
        pos = match.end()
    paths: list[str] = []
    stack: list[str] = []
    previous = ","
    for token in tokens:
        if token == "(":
            if previous in "(),":
                raise InvalidParameter("responseFields", f"'(' must follow a field name in {text!r}")
            stack.append(paths.pop())
        elif token == ")":
            if not stack or previous in "(,":
                raise InvalidParameter("responseFields", f"unbalanced or empty parentheses in {text!r}")
            stack.pop()
        elif token == ",":
            if previous in "(,":
                raise InvalidParameter("responseFields", f"empty field name in {text!r}")
        else:
            if previous not in "(,":
                raise InvalidParameter("responseFields", f"missing ',' before {token!r} in {text!r}")
            paths.append(f"{stack[-1]}.{token}" if stack else token)
        previous = token if token in "()," else "x"
    if stack:
        raise InvalidParameter("responseFields", f"unbalanced parentheses in {text!r}")
    if previous == ",":
        raise InvalidParameter("responseFields", f"trailing ',' in {text!r}")
    return paths


def parse_response_fields(text: str, allowed: frozenset[str]) -> FieldSet | None:
    """Compile Ecwid's ``responseFields`` (``id,billingPerson(name)``) into a :data:`FieldSet`.

    Raises:
        InvalidParameter: the syntax is broken or a field is unknown.
    """
    if not text.strip():
        return None
    return parse_fields(",".join(_field_paths(text)), allowed, parameter="responseFields")


_SAMPLE = {
    "id": "100000000", "name": "A B", "first_name": "A", "last_name": "B", "company_name": "C",
    "emails": [{"id": "100000000-e1", "email": "a@b.co", "type": "primary"}],
    "phone_numbers": [{"id": "100000000-p1", "country_code": "1", "area_code": "2", "number": "3", "extension": None,
                       "type": "mobile"}],
    "addresses": [{"id": "100000000-a1", "type": "shipping", "line1": "x", "line2": None, "city": "y", "state": "z",
                   "postal_code": "1", "country": "US"}],
    "orders": [], "notes": None, "created_at": "2019-01-01T00:00:00Z", "updated_at": "2019-01-01T00:00:00Z",
}
CUSTOMER_FIELDS = frozenset(paths_of(to_ecwid(_SAMPLE)))
"""Every ``responseFields`` path of a customer (``billingPerson.name`` written ``billingPerson(name)``)."""
SEARCH_FIELDS = frozenset(("total", "count", "offset", "limit", "items", *(f"items.{p}" for p in CUSTOMER_FIELDS)))


class Search(NamedTuple):
    """A parsed ``GET .../customers``: what to list, which slice, which fields."""

    query: ListQuery
    offset: int
    limit: int
    fields: FieldSet | None


def _filter_text(req: falcon.Request, name: str) -> str | None:
    value = single_param(req, name)
    return value if value is not None and value.strip() else None


def parse_search(req: falcon.Request) -> Search:
    """Ecwid search parameters as a catalog query.

    Raises:
        InvalidParameter: a bad ``offset``, ``limit``, date, ``sortBy`` or ``responseFields``.
        UnsupportedFilter: a documented Ecwid filter or sort order the mock cannot evaluate.
    """
    for unsupported in UNSUPPORTED_FILTERS:
        if unsupported in req.params:
            raise UnsupportedFilter(unsupported, "this Ecwid filter is not supported by the mock server")
    offset = int_param(req, "offset", 0, 0, MAX_OFFSET)
    limit = int_param(req, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    fields = parse_response_fields(array_text(req.params, "responseFields") or "", SEARCH_FIELDS)
    keyword, name = _filter_text(req, "keyword"), _filter_text(req, "name")
    if keyword and name and name.lower() not in keyword.lower() and keyword.lower() not in name.lower():
        raise UnsupportedFilter("name", "the mock matches keyword and name against the name only and cannot "
                                        "combine two unrelated terms; send one of them")
    values: dict[str, Any] = {}
    if keyword or name:
        values["name_contains"] = max(keyword or "", name or "", key=len)
    if (email := _filter_text(req, "email")) is not None:
        values["email"] = email
    if (phone := _filter_text(req, "phone")) is not None:
        values["phone"] = phone
    for param, key in (("createdFrom", "created_from"), ("createdTo", "created_to"),
                       ("updatedFrom", "updated_from"), ("updatedTo", "updated_to")):
        raw = single_param(req, param)
        if raw is not None:
            values[key] = parse_date(param, raw)
    sort_by = single_param(req, "sortBy")
    sort_by = "NAME_ASC" if sort_by is None else sort_by
    if sort_by in UNSUPPORTED_SORTS:
        raise UnsupportedFilter("sortBy", f"{sort_by} is not supported by the mock server; use one of: "
                                          f"{', '.join(SORTS)}")
    if sort_by not in SORTS:
        raise InvalidParameter("sortBy", f"must be one of: {', '.join(SORTS)}")
    sort, descending = SORTS[sort_by]
    return Search(ListQuery(Filters(**values), sort, descending), offset, limit, fields)


def customer_id(raw: str) -> str:
    """The canonical id of an Ecwid customer id (``253092533`` -> ``"253092533"``).

    Raises:
        NotFound: not a number (no customer can have it).
    """
    text = raw.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise NotFound(f"Customer #{raw} is not found", entity="customer", entity_id=raw)
    return str(int(text))


def ecwid_token(req: falcon.Request) -> str | None:
    """The token of ``Authorization: Bearer`` or else of ``?token=``."""
    return bearer_token(req) or single_param(req, "token") or None


# ---- body validation -----------------------------------------------------------------------

_BOOLEANS = ("taxIdValid", "taxExempt", "acceptMarketing")
_STRINGS = ("password", "taxId", "fiscalCode", "electronicInvoicePecEmail", "electronicInvoiceSdiCode", "lang",
            "b2b_b2c", "privateAdminNotes")
ITEMS_MAX = 20


def _check_person(problems: list[Problem], path: str, person: Any, *, shipping: bool = False) -> None:
    if person is None:
        return
    if not isinstance(person, dict):
        problems.append(Problem("body", path, "must be an object"))
        return
    for key in PERSON_TEXT:
        value = person.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            problems.append(Problem("body", f"{path}.{key}", "must be a string"))
        elif len(value) > 255:
            problems.append(Problem("body", f"{path}.{key}", "is too long"))
        elif key == "countryCode" and value and not _COUNTRY_CODE.fullmatch(value):
            problems.append(Problem("body", f"{path}.{key}", "must be a 2-letter ISO country code"))
    if shipping and person.get("id") is not None and type(person["id"]) is not int:
        problems.append(Problem("body", f"{path}.id", "must be an integer"))


def validate_ecwid_body(body: Any, *, creating: bool) -> dict[str, Any]:
    """Check an Ecwid customer body (create or update) and return it.

    Raises:
        InvalidBody: one :class:`~mockserver.errors.Problem` per offending field (Ecwid answers 400).
    """
    if not isinstance(body, dict):
        raise InvalidBody("The request body must be a JSON object.", problems=(Problem("body", "", "not an object"),))
    problems: list[Problem] = []
    email = body.get("email")
    if email is None and (creating or "email" in body):
        problems.append(Problem("body", "email", "is required" if creating else "must not be null"))
    elif email is not None and (not isinstance(email, str) or len(email) > 255 or not EMAIL_RE.fullmatch(email)):
        problems.append(Problem("body", "email", "must be a valid email address"))
    _check_person(problems, "billingPerson", body.get("billingPerson"))
    shipping = body.get("shippingAddresses")
    if shipping is not None:
        if not isinstance(shipping, list):
            problems.append(Problem("body", "shippingAddresses", "must be an array"))
        elif len(shipping) > ITEMS_MAX:
            problems.append(Problem("body", "shippingAddresses", f"must have at most {ITEMS_MAX} items"))
        else:
            for n, item in enumerate(shipping):
                if not isinstance(item, dict):
                    problems.append(Problem("body", f"shippingAddresses[{n}]", "must be an object"))
                _check_person(problems, f"shippingAddresses[{n}]", item, shipping=True)
    for key in _BOOLEANS:
        if body.get(key) is not None and not isinstance(body[key], bool):
            problems.append(Problem("body", key, "must be a boolean"))
    for key in _STRINGS:
        value = body.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 10_000):
            problems.append(Problem("body", key, "must be a string of at most 10000 characters"))
    if body.get("b2b_b2c") not in (None, "b2b", "b2c"):
        problems.append(Problem("body", "b2b_b2c", "must be b2b or b2c"))
    if body.get("customerGroupId") is not None and type(body["customerGroupId"]) is not int:
        problems.append(Problem("body", "customerGroupId", "must be an integer"))
    if problems:
        message = "; ".join(f"Wrong value of field '{p.name or 'body'}': {p.detail}" for p in problems[:10])
        more = f"; and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise InvalidBody(message + more, problems=tuple(problems))
    return body


# ---- the customers service (shared with myBoxx) -------------------------------------------


class EcwidCustomers:
    """Ecwid's customer operations over the catalog, answering Ecwid JSON bytes.

    Resources (Ecwid's and myBoxx's) authenticate, then call these methods and send or wrap
    the bytes.

    Args:
        context: the shared server context.
        name: the flavour name used in cache keys.
    """

    def __init__(self, context: ServerContext, name: str = "ecwid") -> None:
        self.context = context
        self.catalog = context.catalog
        self.name = name

    def check_token(self, req: falcon.Request, *, profile_only: bool = False) -> None:
        """Ecwid authentication (``secret_``/``public_`` tokens, header or query).

        Raises:
            Unauthorized: missing or invalid token (rendered as Ecwid's 403 ``INVALID_API_TOKEN``).
            InsufficientScope: a ``public_`` token on a customers endpoint.
        """
        token = ecwid_token(req)
        expected = self.context.settings.token
        if not token:
            raise Unauthorized("API token is missing: send 'Authorization: Bearer secret_...' or '?token='.")
        if expected is not None and token != expected:
            raise Unauthorized("API token is invalid for this store.")
        if expected is None and not token.startswith(("secret_", "public_")):
            raise Unauthorized("API token is invalid: Ecwid tokens start with 'secret_' or 'public_'.")
        if token.startswith("public_") and not profile_only:
            raise InsufficientScope("Public tokens cannot access customers: use a secret token with the "
                                    "read_customers and update_customers scopes.")

    def _item_bytes(self, record: dict[str, Any], ordinal: int | None, variant: str,
                    fields: FieldSet | None) -> bytes:
        build: Callable[[], bytes] = lambda: dumps(project(to_ecwid(record), fields))
        if ordinal is None:
            return build()
        return self.context.record_bytes(self.name, variant, ordinal, build)

    def search(self, req: falcon.Request) -> bytes:
        """The ``CustomerSearchResult`` bytes for a search request (cached per query and version)."""
        version = self.catalog.store.refresh()
        key = (self.name, req.prefix, req.path, req.query_string, version)
        cached = self.context.pages.get(key)
        if cached is None:
            cached = self.context.pages.put(key, self._search(req))
        return cached  # type: ignore[no-any-return]

    def _page(self, search: Search) -> tuple[Page | None, int]:
        catalog = self.catalog
        state = catalog.state()
        if search.offset >= catalog.dataset.count + len(state):  # past any possible end: nothing to walk
            return None, catalog.total(search.query, state) or 0
        page = catalog.list_at_offset(search.query, search.offset, search.limit)
        total = page.total
        if total is None:  # NOTE: a name search over a huge dataset: a lower bound, see the docstring
            total = search.offset + len(page.records) + (1 if page.has_next else 0)
        return page, total

    def _search(self, req: falcon.Request) -> bytes:
        search = parse_search(req)
        page, total = self._page(search)
        records = page.records if page is not None else []
        ordinals = page.ordinals if page is not None else []
        fields = search.fields
        raw = array_text(req.params, "responseFields") or ""
        head = {"total": total, "count": len(records), "offset": search.offset, "limit": search.limit}
        if fields is not None:
            head = {k: v for k, v in head.items() if k in fields}
        parts = [dumps(head)[:-1]]
        if fields is None or "items" in fields:
            item_fields = None if fields is None else fields["items"]
            items = b",".join(self._item_bytes(r, o, f"items:{raw}", item_fields) for r, o in zip(records, ordinals))
            parts.append((b"," if head else b"") + b'"items":[' + items + b"]")
        return b"".join(parts) + b"}"

    def customer(self, raw_id: str, req: falcon.Request) -> bytes:
        """The ``Customer`` bytes for ``GET .../customers/{customerId}``.

        Raises:
            NotFound: no such customer.
        """
        raw = array_text(req.params, "responseFields") or ""
        fields = parse_response_fields(raw, CUSTOMER_FIELDS)
        cid = customer_id(raw_id)
        record = self.catalog.get(cid)
        ordinal = self.catalog.ordinal_of(cid, self.catalog.state())
        return self._item_bytes(record, ordinal, f"item:{raw}", fields)

    def _check_email_free(self, email: str, own_id: str | None) -> None:
        page = self.catalog.list(ListQuery(Filters(email=email)), 2)
        if any(r["id"] != own_id for r in page.records):
            raise Conflict(f"The customer with email '{email}' already exists")

    def _canonical(self, body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        return validate_customer_input(from_ecwid(body, current), creating=False)

    def create(self, req: falcon.Request) -> int:
        """Create a customer from an Ecwid body; returns its id.

        Raises:
            InvalidBody: the body is not a valid Ecwid customer.
            Conflict: another customer has the email.
        """
        body = validate_ecwid_body(read_json(req), creating=True)
        email = body["email"]
        # NOTE: checked inside the write transaction, so two workers cannot both take one email
        record = self.catalog.create(self._canonical(body, None), check=lambda: self._check_email_free(email, None))
        return int(record["id"])

    def update(self, raw_id: str, req: falcon.Request) -> int:
        """Update a customer from an Ecwid body; returns ``updateCount`` (1).

        Raises:
            NotFound: no such customer (checked before the body).
            InvalidBody: the body is not a valid Ecwid customer.
            Conflict: another customer has the new email.
        """
        cid = customer_id(raw_id)
        current = self.catalog.get(cid)
        body = validate_ecwid_body(read_json(req), creating=False)
        email = body.get("email")
        own = _primary(current.get("emails") or [])
        # resending the customer's own email changes nothing, even if another flavour gave it to others too
        check = None
        if isinstance(email, str) and email.casefold() != (own["email"] if own else "").casefold():
            new_email = email
            check = lambda: self._check_email_free(new_email, cid)
        fields = self._canonical(body, current)
        if fields:
            self.catalog.update(cid, fields, check=check)
        return 1

    def delete(self, raw_id: str) -> int:
        """Delete a customer; returns ``deleteCount`` (1).

        Raises:
            NotFound: no such customer.
        """
        self.catalog.delete(customer_id(raw_id))
        return 1


# ---- Ecwid resources and flavour -------------------------------------------------------------


def store_id(raw: str) -> int:
    """Any positive integer is a store (all see the default dataset).

    Raises:
        NotFound: not a number (rendered ``STORE_NOT_FOUND``).
    """
    text = raw.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 18) or int(text) == 0:
        raise NotFound(f"Store with id '{raw}' is not found", entity="store", entity_id=raw)
    return int(text)


class CustomersResource:
    """``/api/v3/{storeId}/customers`` (search, create) and ``.../customers/{customerId}``."""

    def __init__(self, service: EcwidCustomers) -> None:
        self.service = service

    def _enter(self, req: falcon.Request, store: str) -> None:
        self.service.check_token(req)
        store_id(store)

    def on_get(self, req: falcon.Request, resp: falcon.Response, storeId: str) -> None:
        self._enter(req, storeId)
        send_bytes(resp, self.service.search(req))

    def on_post(self, req: falcon.Request, resp: falcon.Response, storeId: str) -> None:
        self._enter(req, storeId)
        # NOTE: 200, not 201: Ecwid answers 200 and pyecwid's add() raises on anything else.
        send_bytes(resp, dumps({"id": self.service.create(req)}))

    def on_get_item(self, req: falcon.Request, resp: falcon.Response, storeId: str,
                    customerId: str) -> None:
        self._enter(req, storeId)
        send_bytes(resp, self.service.customer(customerId, req))

    def on_put_item(self, req: falcon.Request, resp: falcon.Response, storeId: str,
                    customerId: str) -> None:
        self._enter(req, storeId)
        send_bytes(resp, dumps({"updateCount": self.service.update(customerId, req)}))

    def on_delete_item(self, req: falcon.Request, resp: falcon.Response, storeId: str,
                       customerId: str) -> None:
        self._enter(req, storeId)
        send_bytes(resp, dumps({"deleteCount": self.service.delete(customerId)}))


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


class ProfileResource:
    """``/api/v3/{storeId}/profile``: readable with secret and public tokens."""

    def __init__(self, service: EcwidCustomers) -> None:
        self.service = service

    def on_get(self, req: falcon.Request, resp: falcon.Response, storeId: str) -> None:
        self.service.check_token(req, profile_only=True)
        send_bytes(resp, profile(store_id(storeId)))


def ecwid_error(error: MockServerError) -> tuple[int, str | None, str]:
    """Ecwid's status, ``errorCode`` (``None`` where Ecwid documents none) and message for an error."""
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


class Ecwid:
    """Ecwid REST API v3: offset paging, ``responseFields``, ``{errorMessage, errorCode}`` errors."""

    name = "ecwid"
    title = "Ecwid REST API v3"
    spec = "ecwid.yaml"

    def native(self, record: dict[str, Any]) -> dict[str, Any]:
        """Ecwid's customer for a canonical record (Apideck's ``_raw``, Truto's ``remote_data``)."""
        # MIGRATION: the Ecwid dialect (wip/ecwid) declares this itself; on merge keep its version.
        return to_ecwid(record)

    def routes(self, context: ServerContext) -> list[Route]:
        service = EcwidCustomers(context, self.name)
        customers = CustomersResource(service)
        return [
            Route("/api/v3/{storeId}/customers", customers),
            Route("/api/v3/{storeId}/customers/{customerId}", customers, "item"),
            Route("/api/v3/{storeId}/profile", ProfileResource(service)),
        ]

    def render_error(self, error: MockServerError) -> Rendered:
        status, code, message = ecwid_error(error)
        body: dict[str, Any] = {"errorMessage": message}
        if code is not None:
            body["errorCode"] = code
        return Rendered(status, dumps(body))
