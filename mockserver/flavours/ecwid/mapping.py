"""Ecwid's ``Customer`` and the canonical record, both ways: :func:`to_ecwid` and :func:`from_ecwid` (pure).

The UNCONFIRMED choices of the mapping (derived values, address and phone texts, what a write
keeps) are listed in the package docstring (:mod:`mockserver.flavours.ecwid`).
"""

from __future__ import annotations

import re
import zlib
from decimal import Decimal, localcontext
from typing import Any

from mockserver.formats import MONEY_CONTEXT, money_number, money_sum, phone_parts, phone_text, utc_text
from mockserver.model import ITEMS_MAX, NAME_MAX
from mockserver.pools import COUNTRIES, load_pools

__all__ = ["PERSON_TEXT", "from_ecwid", "primary", "to_ecwid"]

PERSON_TEXT = ("name", "firstName", "lastName", "companyName", "street", "city", "countryCode", "countryName",
               "postalCode", "stateOrProvinceCode", "stateOrProvinceName", "phone")
"""The text fields of a billing person or shipping address (``street`` to ``stateOrProvinceName``: the address)."""
PHONE_EXTENSION = " x{}"
"""How Ecwid writes a phone's extension: ``+1 212 555-0100 x12``."""
_STATE_CODE = re.compile(r"^[A-Z]{2,3}$")


def _int_id(text: str) -> int:
    """A stable positive 31-bit integer for a canonical sub-id (Ecwid ids are ints)."""
    return zlib.crc32(text.encode()) & 0x7FFFFFFF or 1


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def primary(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The ``primary`` item of a canonical list (emails...), else its first."""
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


def _stats(orders: list[dict[str, Any]]) -> dict[str, Any]:
    # NOTE: Ecwid's stats are never negative (its documents say minimum 0) while canonical order
    # totals may be (refunds): negative totals lower the sales value, which stops at zero.
    sales = max(money_sum([o["total"] for o in orders]), Decimal(0))
    with localcontext(MONEY_CONTEXT):
        average = sales / len(orders) if orders else Decimal(0)
    return {"numberOfOrders": len(orders), "salesValue": money_number(sales),
            "averageOrderValue": money_number(average)}


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
    email = primary(emails)
    phone = phone_text(phones[0] if phones else None, PHONE_EXTENSION)
    billing = next((a for a in addresses if a.get("type") == "billing"), None)
    registered = utc_text(record["created_at"])
    contacts = [{"id": _int_id(e["id"]), "contact": e["email"], "type": "EMAIL", "default": e is email,
                 "orderBy": n, "timestamp": registered} for n, e in enumerate(emails)]
    contacts += [{"id": _int_id(p["id"]), "contact": phone_text(p, PHONE_EXTENSION), "type": "PHONE",
                  "default": n == 0, "orderBy": len(emails) + n, "timestamp": registered} for n, p in enumerate(phones)]
    country = (billing or {}).get("country") or ""
    locale = COUNTRIES.get(country, {}).get("locale") or "en_US"
    return {
        "id": int(cid),
        "name": name,
        "email": email["email"] if email else "",
        "registered": registered,
        "updated": utc_text(record["updated_at"]),
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
    phone: dict[str, Any] = phone_parts(text)
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
        main = primary(emails)
        if main is not None:
            main["email"] = body["email"]
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


