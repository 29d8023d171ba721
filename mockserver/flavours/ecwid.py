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
  ``INTERNAL_ERROR`` 500. ``errorCode`` is omitted where Ecwid documents none (missing customer,
  duplicate email, unknown path, 415).

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
  country; ``stats`` sums every order; ``shippingAddresses`` are the canonical ``shipping`` addresses
  (``other`` ones are not shown) with the customer's name, company and first phone; address and contact
  ids are CRC-32 hashes of the canonical sub-ids; ``street`` joins ``line1`` and ``line2`` with ``\\n``;
  the phone is ``+<country> <area> <number>[ x<extension>]``; ``contacts`` carry the registration date.
* Writes: ``email`` is required on create, ``password`` is accepted and dropped; ``billingPerson`` is
  merged key by key into the current one on update, ``shippingAddresses`` replaces the address book;
  ``customerGroupId``, ``taxId``, ``taxExempt``, ``acceptMarketing``, ``lang`` and the other Ecwid-only
  fields are type-checked but not stored (reads show the derived values); read-only fields (``id``,
  ``registered``, ``stats``, ``contacts``...) are ignored. Body errors answer 400 ``WRONG_PARAMETER``.
* A customer id that is not a number answers 404 (like an unknown one).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, NamedTuple

import falcon

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
from mockserver.flavours import FLAVOURS, Rendered, Route
from mockserver.model import EMAIL_RE, validate_customer_input
from mockserver.pools import COUNTRIES, load_pools
from mockserver.resources import ServerContext, bearer_token, dumps, int_param, read_json, send_bytes, single_param

__all__ = [
    "MAX_LIMIT",
    "EcwidCustomers",
    "InsufficientScope",
    "ecwid_date",
    "from_ecwid",
    "parse_date",
    "parse_response_fields",
    "to_ecwid",
]

MAX_LIMIT = 100
DEFAULT_LIMIT = 100
PERSON_TEXT = ("name", "firstName", "lastName", "companyName", "street", "city", "countryCode", "countryName",
               "postalCode", "stateOrProvinceCode", "stateOrProvinceName", "phone")
_STATE_CODE = re.compile(r"^[A-Z]{2,3}$")
_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
_PHONE = re.compile(r"^\+(\d{1,4}) (\d{1,6}) ([\d-]+)(?: x(\d{1,8}))?$")


# ---- record mapping (pure) ----------------------------------------------------------


def _int_id(text: str) -> int:
    """A stable positive 31-bit integer for a canonical sub-id (Ecwid ids are ints)."""
    return zlib.crc32(text.encode()) & 0x7FFFFFFF or 1


def ecwid_date(rfc3339: str) -> str:
    """``2019-01-01T00:00:00Z`` -> ``2019-01-01 00:00:00 +0000`` (Ecwid's date format)."""
    if len(rfc3339) == 20 and rfc3339.endswith("Z"):
        return f"{rfc3339[:10]} {rfc3339[11:19]} +0000"
    seconds = parse_timestamp(rfc3339)
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S +0000")


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


def _money(value: Decimal) -> float | int:
    value = value.quantize(Decimal("0.01"))
    return int(value) if value == value.to_integral_value() else float(value)


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
    sales = sum((Decimal(o["total"]) for o in orders), Decimal(0))
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
        "stats": {"numberOfOrders": len(orders), "salesValue": _money(sales),
                  "averageOrderValue": _money(sales / len(orders)) if orders else 0},
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


def _canonical_address(person: dict[str, Any], kind: str, address_id: str | None) -> dict[str, Any] | None:
    street = _text(person.get("street"))
    line1, _, line2 = street.partition("\n")
    address = {
        "type": kind,
        "line1": _blank(line1.strip()),
        "line2": _blank(line2.strip()),
        "city": _blank(person.get("city")),
        "state": _blank(person.get("stateOrProvinceName")) or _blank(person.get("stateOrProvinceCode")),
        "postal_code": _blank(person.get("postalCode")),
        "country": _blank(person.get("countryCode")),
    }
    if all(value is None for key, value in address.items() if key != "type"):
        return None
    if address_id:
        address["id"] = address_id
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
    person = body.get("billingPerson") or {}
    if "name" in person or "firstName" in person or "lastName" in person:
        name = (person.get("name") or "").strip()
        if name:
            first, last = _split_name(name)
            first = _blank(person["firstName"]) if "firstName" in person else first
            last = _blank(person["lastName"]) if "lastName" in person else last
        else:
            first = _blank(person.get("firstName", current.get("first_name")))
            last = _blank(person.get("lastName", current.get("last_name")))
            name = " ".join(p for p in (first, last) if p)
        fields.update(name=name or None, first_name=first, last_name=last)
    if "companyName" in person:
        fields["company_name"] = _blank(person["companyName"])
    addresses = [dict(a) for a in current.get("addresses") or []]
    if any(key in person for key in PERSON_TEXT[4:-1]):
        old = next((a for a in addresses if a.get("type") == "billing"), None)
        merged = {**_address_fields(old), **{k: v for k, v in person.items() if v is not None}}
        billing = _canonical_address(merged, "billing", (old or {}).get("id"))
        addresses = [a for a in addresses if a is not old]
        if billing is not None:
            addresses.insert(0, billing)
        fields["addresses"] = addresses
    if "shippingAddresses" in body:
        known = {_int_id(a["id"]): a["id"] for a in addresses if a.get("type") == "shipping" and a.get("id")}
        shipping = [_canonical_address(item, "shipping", known.get(item.get("id")))  # type: ignore[arg-type]
                    for item in body["shippingAddresses"] or []]
        fields["addresses"] = ([a for a in addresses if a.get("type") != "shipping"]
                               + [a for a in shipping if a is not None])
    if "phone" in person:
        phones = [dict(p) for p in current.get("phone_numbers") or []]
        text = _text(person["phone"]).strip()
        first_phone = phones[0] if phones else None
        rest = phones[1:]
        fields["phone_numbers"] = ([_canonical_phone(text, first_phone)] if text else []) + rest
    if "privateAdminNotes" in body:
        fields["notes"] = _blank(body["privateAdminNotes"])
    return fields
