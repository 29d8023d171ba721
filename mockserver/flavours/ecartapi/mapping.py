"""ecartAPI's customer and the canonical one, both ways, and the orders of a customer.

The choices (which canonical email and phone, ``status``, addresses, ``company``) are listed in
the package docstring (:mod:`mockserver.flavours.ecartapi`).
"""

from __future__ import annotations

from typing import Any

from mockserver.formats import phone_text

__all__ = ["STATUS_IN", "orders_of", "to_canonical", "to_ecart"]

STATUS_OUT = {"active": "enabled", "archived": "disabled"}
STATUS_IN = {v: k for k, v in STATUS_OUT.items()}
ORDER_STATUS = {"active": "pending", "completed": "completed", "cancelled": "cancelled"}
COUNTRIES = {  # ISO 3166-1 alpha-2 -> (alpha-3, English name); other codes get nulls
    "AR": ("ARG", "Argentina"), "BR": ("BRA", "Brazil"), "CA": ("CAN", "Canada"), "CL": ("CHL", "Chile"),
    "CO": ("COL", "Colombia"), "DE": ("DEU", "Germany"), "ES": ("ESP", "Spain"), "FR": ("FRA", "France"),
    "GB": ("GBR", "United Kingdom"), "IT": ("ITA", "Italy"), "MX": ("MEX", "Mexico"), "PE": ("PER", "Peru"),
    "US": ("USA", "United States"),
}


def _phone(phone: dict[str, Any]) -> str | None:
    """``+<country> <area> <number>[ ext. <ext>]``, or ``None`` for a phone without digits."""
    return phone_text(phone, " ext. {}") or None


# ---- canonical -> ecartAPI ------------------------------------------------------------


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
        "phone": _phone(phones[0]) if phones else None,
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


def orders_of(record: dict[str, Any], customer_url: str) -> list[dict[str, Any]]:
    """The canonical customer's orders in the shape of ecartAPI's order examples (``null`` where the
    canonical order has nothing); ``customer_url``: the customer's own URL (``ecartapiUrl``)."""
    customer = to_ecart(record)
    buyer = {k: customer[k] for k in ("id", "email", "firstName", "lastName", "phone")}
    buyer["ecartapiUrl"] = customer_url
    return [{
        "id": o.get("id"), "number": o.get("id"), "name": None, "email": customer["email"],
        "currency": customer["currency"],
        "totals": {"subtotal": None, "total": o.get("total"), "tax": None, "discount": None},
        "status": {"id": None, "status": o.get("status"), "financial": None,
                   "ecartapi": ORDER_STATUS.get(o.get("status") or "", "other")},
        "customer": buyer, "dates": {"createdAt": None, "updatedAt": None},
    } for o in record.get("orders") or ()]


# ---- ecartAPI -> canonical ------------------------------------------------------------


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
        elif _phone(phones[0]) != body["phone"]:  # unchanged text keeps its structure
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
