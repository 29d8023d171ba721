"""The Shopify customer: built from a canonical record, and read back into canonical fields.

Pure mapping and body checks (no HTTP): :func:`native` is what every read answers,
:func:`from_native` what a write stores (and what a reader of any flavour gets back), and
:func:`check_customer` the 422 problems of a write body, named as Shopify names them
(``email``, ``addresses.zip``). The choices this mapping makes are listed in the package docstring.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from typing import Any

from mockserver.errors import InvalidBody, Problem, describe_problems
from mockserver.formats import format_timestamp, local_timestamp, money_sum, money_text, rfc3339_seconds
from mockserver.model import EMAIL_RE, ITEMS_MAX, NAME_MAX, NOTES_MAX
from mockserver.pools import load_pools

__all__ = [
    "PHONE_PATTERN",
    "SHOP_UTC_OFFSET_MINUTES",
    "address_id",
    "check_customer",
    "from_native",
    "native",
    "shop_time",
]

SHOP_UTC_OFFSET_MINUTES = -300
"""The mock shop's fixed UTC offset (``-05:00``, no daylight saving): every date is written in it."""
PHONE_PATTERN = r"^\+[1-9][0-9]{6,14}$"
"""E.164, as Shopify stores phones (the exact ``pattern`` text of the document)."""
PHONE_RE = re.compile(PHONE_PATTERN)
CURRENCY_RE = re.compile(r"[A-Z]{3}")
COUNTRY_CODE_RE = re.compile(r"[A-Z]{2}")
STATES = {"active": "enabled", "archived": "disabled"}
"""Canonical ``status`` -> Shopify ``state``; ``invited`` and ``declined`` never occur."""
CANONICAL_STATUS = {state: status for status, state in STATES.items()}
_DIGITS = re.compile(r"\D+", re.ASCII)
_ADDRESS_SUFFIX = re.compile(r"-a([0-9]{1,2})")
_STRING_FIELDS = ("address1", "address2", "city", "province", "zip", "company")
_NO_CONSENT = {"state": "not_subscribed", "opt_in_level": "single_opt_in", "consent_updated_at": None}


def shop_time(rfc3339: str) -> str:
    """A canonical ``...Z`` timestamp in the shop's offset (``2019-01-02T04:15:19-05:00``)."""
    return local_timestamp(rfc3339, SHOP_UTC_OFFSET_MINUTES)


@lru_cache(maxsize=1)
def _countries() -> tuple[dict[str, str], dict[str, str]]:
    """ISO code -> name, and lower-case name -> code, of the dataset's countries."""
    names = {code: country["name"] for code, country in load_pools()["countries"].items()}
    return names, {name.lower(): code for code, name in names.items()}


def address_id(customer_id: int, canonical_id: str | None, position: int) -> int:
    """The int64 id of an address: ``<customer id> * 100 + n`` for canonical ``<id>-a<n>`` (n < 50),
    else ``+ 50 + position`` (ids written through another flavour), so ids never repeat in a customer."""
    match = _ADDRESS_SUFFIX.fullmatch(canonical_id or "", len(str(customer_id)))
    if match is not None and (canonical_id or "").startswith(str(customer_id)) and int(match.group(1)) < 50:
        return customer_id * 100 + int(match.group(1))
    return customer_id * 100 + 50 + position


def _primary(items: list[dict[str, Any]]) -> int | None:
    """Index of the entry typed ``primary``, else the first; ``None`` when there is none."""
    for n, item in enumerate(items):
        if item.get("type") == "primary":
            return n
    return 0 if items else None


def _e164(phone: dict[str, Any]) -> str:
    digits = _DIGITS.sub("", "".join(phone.get(k) or "" for k in ("country_code", "area_code", "number")))
    return f"+{digits}" if digits else ""


def _default_index(addresses: list[dict[str, Any]]) -> int | None:
    """The default address: the first billing one, else the first."""
    for n, address in enumerate(addresses):
        if address.get("type") == "billing":
            return n
    return 0 if addresses else None


def native(record: dict[str, Any]) -> dict[str, Any]:
    """The Shopify customer for a canonical record."""
    cid = int(record["id"])
    emails, phones = record.get("emails") or [], record.get("phone_numbers") or []
    at_email, at_phone = _primary(emails), _primary(phones)
    email = emails[at_email]["email"] if at_email is not None else None
    phone = (_e164(phones[at_phone]) or None) if at_phone is not None else None
    first, last = record.get("first_name"), record.get("last_name")
    created, updated = shop_time(record["created_at"]), shop_time(record["updated_at"])
    orders = record.get("orders") or []
    spent = max(money_sum([o["total"] for o in orders if o.get("total")]), Decimal(0))
    names = _countries()[0]
    canonical_addresses = record.get("addresses") or []
    default_at = _default_index(canonical_addresses)
    addresses = []
    for n, a in enumerate(canonical_addresses):
        code = a.get("country")
        addresses.append({
            "id": address_id(cid, a.get("id"), n + 1), "customer_id": cid, "first_name": first, "last_name": last,
            "company": record.get("company_name"), "address1": a.get("line1"), "address2": a.get("line2"),
            "city": a.get("city"), "province": a.get("state"), "country": names.get(code) if code else None,
            "zip": a.get("postal_code"), "phone": None, "name": " ".join(p for p in (first, last) if p),
            "province_code": None, "country_code": code, "country_name": names.get(code) if code else None,
            "default": n == default_at,
        })
    return {
        "id": cid, "email": email, "accepts_marketing": False, "created_at": created, "updated_at": updated,
        "first_name": first, "last_name": last, "orders_count": len(orders), "state": STATES[record["status"]],
        "total_spent": money_text(spent), "last_order_id": None, "note": record.get("notes"),
        "verified_email": email is not None, "multipass_identifier": None, "tax_exempt": False, "tags": "",
        "last_order_name": None, "currency": record.get("currency"), "phone": phone, "addresses": addresses,
        "accepts_marketing_updated_at": created, "marketing_opt_in_level": None, "tax_exemptions": [],
        "email_marketing_consent": dict(_NO_CONSENT) if email is not None else None,
        "sms_marketing_consent": {**_NO_CONSENT, "consent_collected_from": "OTHER"} if phone else None,
        "admin_graphql_api_id": f"gid://shopify/Customer/{cid}",
        "default_address": addresses[default_at] if default_at is not None else None,
    }


# ---- writes -------------------------------------------------------------------------------


def _text(problems: list[Problem], name: str, value: Any, max_length: int = NAME_MAX,
          pattern: re.Pattern[str] | None = None) -> None:
    if value is None:
        return
    if not isinstance(value, str) or (pattern is not None and not pattern.fullmatch(value)):
        problems.append(Problem("body", name, "is invalid"))
    elif len(value) > max_length:
        problems.append(Problem("body", name, f"is too long (maximum is {max_length} characters)"))


def check_customer(body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """The ``customer`` object of a write body, checked.

    Raises:
        InvalidBody: 422, one problem per offending field (Shopify's names: ``addresses.zip``).
    """
    problems: list[Problem] = []
    for name in ("first_name", "last_name"):
        _text(problems, name, body.get(name))
    _text(problems, "email", body.get("email"), pattern=EMAIL_RE)
    _text(problems, "phone", body.get("phone"), pattern=PHONE_RE)
    _text(problems, "note", body.get("note"), max_length=NOTES_MAX)
    _text(problems, "currency", body.get("currency"), pattern=CURRENCY_RE)
    if "state" in body and (not isinstance(body["state"], str) or body["state"] not in CANONICAL_STATUS):
        problems.append(Problem("body", "state", "is not included in the list"))
    addresses = body.get("addresses")
    if addresses is not None:
        if not isinstance(addresses, list) or len(addresses) > ITEMS_MAX:
            problems.append(Problem("body", "addresses", f"must be a list of at most {ITEMS_MAX} addresses"))
        else:
            for address in addresses:
                _check_address(problems, address)
    if creating and not any(isinstance(body.get(k), str) and body[k].strip() for k in ("first_name", "last_name")):
        problems.append(Problem("body", "first_name", "can't be blank"))
    if problems:
        raise InvalidBody(f"The customer is invalid: {describe_problems(problems)}.", problems=tuple(problems))
    return body


def _check_address(problems: list[Problem], address: Any) -> None:
    if not isinstance(address, dict):
        problems.append(Problem("body", "addresses", "is invalid"))
        return
    for key in _STRING_FIELDS:
        _text(problems, f"addresses.{key}", address.get(key))
    _text(problems, "addresses.country_code", address.get("country_code"), pattern=COUNTRY_CODE_RE)
    _text(problems, "addresses.country", address.get("country"))
    if "default" in address and not isinstance(address["default"], bool):
        problems.append(Problem("body", "addresses.default", "is invalid"))


def _country_code(country: Any) -> str | None:
    if not isinstance(country, str):
        return None
    if COUNTRY_CODE_RE.fullmatch(country):
        return country
    return _countries()[1].get(country.strip().lower())


def _address(given: dict[str, Any], start: dict[str, Any]) -> dict[str, Any]:
    """A canonical address: ``start`` (the matched current one, or a type) with the given fields."""
    address = dict(start)
    for key, target in (("address1", "line1"), ("address2", "line2"), ("city", "city"), ("province", "state"),
                        ("zip", "postal_code")):
        if key in given:
            address[target] = given[key]
    if given.get("country_code") is not None or "country" in given:
        code = given.get("country_code") or given.get("country")
        address["country"] = _country_code(code) if code is not None else None
    return address


def _addresses(given: list[dict[str, Any]], current: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Canonical addresses: one given with the id of a current address updates that one (its type and
    id kept); any other is new, ``billing`` when ``default`` (or the first, when none is), else ``shipping``."""
    cid = int(current["id"]) if current is not None else None
    known = {}
    if cid is not None:
        for n, a in enumerate(current.get("addresses") or []):  # type: ignore[union-attr]
            known[address_id(cid, a.get("id"), n + 1)] = a
    matched = [known.get(g["id"]) if isinstance(g.get("id"), int) else None for g in given]
    flagged = any(g.get("default") is True for g in given)
    has_billing = any(m is not None and m.get("type") == "billing" for m in matched)
    used = {a.get("id") for a in matched if a is not None}
    out = []
    for n, (g, m) in enumerate(zip(given, matched)):
        if m is not None:
            out.append(_address(g, m))
            continue
        billing = g.get("default") is True or (n == 0 and not flagged and not has_billing)
        start: dict[str, Any] = {"type": "billing" if billing else "shipping", "line1": None, "line2": None,
                                 "city": None, "state": None, "postal_code": None, "country": None}
        if cid is not None:  # an id no kept address has (the catalog would number it by position)
            k = next(k for k in range(1, 100) if f"{cid}-a{k}" not in used)
            used.add(f"{cid}-a{k}")
            start = {"id": f"{cid}-a{k}", **start}
        out.append(_address(g, start))
    return out


def _replace_first(items: list[dict[str, Any]], value: str | None, entry: dict[str, Any]) -> list[dict[str, Any]]:
    """``items`` with the primary entry replaced by ``entry`` (or removed when ``value`` is empty)."""
    items = [dict(i) for i in items]
    at = _primary(items)
    if not value:
        return [i for n, i in enumerate(items) if n != at]
    if at is None:
        return [entry]
    items[at] = {**entry, "id": items[at].get("id"), "type": items[at].get("type")}
    return items


def from_native(customer: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
    """Canonical fields for the Shopify fields given (others are left as ``current`` has them).

    ``id``, ``created_at`` and ``updated_at`` come back too when given (readers want them; writes drop them).
    """
    fields: dict[str, Any] = {}
    if "id" in customer and customer["id"] is not None:
        fields["id"] = str(customer["id"])
    for name in ("created_at", "updated_at"):
        if isinstance(customer.get(name), str):
            fields[name] = format_timestamp(int(rfc3339_seconds(customer[name])))
    for name in ("first_name", "last_name"):
        if name in customer:
            fields[name] = customer[name]
    if "note" in customer:
        fields["notes"] = customer["note"]
    if "currency" in customer:
        fields["currency"] = customer["currency"]
    state = customer.get("state")
    if isinstance(state, str) and state in CANONICAL_STATUS:
        fields["status"] = CANONICAL_STATUS[state]
    emails = (current or {}).get("emails") or []
    if "email" in customer:
        email = customer["email"]
        at = _primary(emails)
        if at is None or emails[at].get("email") != email:
            fields["emails"] = _replace_first(emails, email, {"email": email, "type": "primary"})
    phones = (current or {}).get("phone_numbers") or []
    if "phone" in customer:
        phone = customer["phone"]
        at = _primary(phones)
        if at is None or _e164(phones[at]) != (phone or ""):
            fields["phone_numbers"] = _replace_first(phones, phone, {"country_code": None, "area_code": None,
                                                                     "number": phone, "extension": None,
                                                                     "type": "primary"})
    if isinstance(customer.get("addresses"), list):
        given = [a for a in customer["addresses"] if isinstance(a, dict)]
        fields["addresses"] = _addresses(given, current)
        default = next((a for a in given if a.get("default") is True), given[0] if given else None)
        if default is not None and "company" in default:
            fields["company_name"] = default["company"]
    return fields
