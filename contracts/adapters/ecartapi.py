"""Reference adapter for ecartAPI customers (``/api/v2/customers``).

ecartAPI answers ``{"success": true, "customers": [...], "pagination": {nextPage, total, ...}}``
(a page token in ``nextPage``, ``null`` on the last page; ``limit`` up to 250), a get as
``{"success": true, "customer": {...}}``, and errors as ``{"success": false, "error": {code,
type, message, details[]}}``. The token goes in ``Authorization`` (``Bearer`` optional).

The record is flatter than the canonical one: one ``email``, one ``phone``
(``+<country> <area> <number>[ ext. <extension>]``), ``firstName``/``lastName`` (the canonical
``name`` is the two joined), ``status`` ``enabled``/``disabled``, ``note``, and addresses whose
``company`` is the customer's company and whose ``defaultBilling``/``defaultShipping`` flags
give the type (neither: ``other``).

Declared excluded: every email and phone after the first (``emails[1:]``, ``phone_numbers[1:]``),
email and phone ids and types, and ``orders`` (ecartAPI lists them on another endpoint, per
customer). ecartAPI filters ``ids``, ``email`` and date ranges itself and has no sort:
``status`` and ``phone_number`` are filtered here, other orders sorted here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from contracts.adapters import ADAPTERS, AdapterError, Sort
from contracts.adapters.toolkit import HttpAdapter, PlatformPage, error_json, since_seconds
from mockserver import format_timestamp, parse_timestamp

if TYPE_CHECKING:
    import httpx

__all__ = ["EcartApiAdapter", "from_ecartapi"]

FAR_FUTURE = "2999-12-31T23:59:59Z"
"""Upper bound sent with a ``[from]`` date: ecartAPI wants both ends of a range."""
_PHONE = re.compile(r"^(?:\+(\d+) )?(?:(\S+) )?(.+?)(?: ext\. (\S+))?$")
PARAMETERS = {"limit": "limit", "page": "cursor", "ids": "filter[customer_ids]", "email": "filter[email]",
              "createdAt[from]": "filter[created_since]", "updatedAt[from]": "filter[updated_since]"}


def _timestamp(value: Any) -> Any:
    return format_timestamp(parse_timestamp(value)) if isinstance(value, str) else value


def _phone(text: str) -> dict[str, Any]:
    match = _PHONE.match(text.strip())
    country, area, number, extension = match.groups() if match else (None, None, text, None)
    if area is not None and country is None:  # "<area> <number>" cannot be told from a number with a space
        area, number = None, f"{area} {number}"
    return {"id": None, "country_code": country, "area_code": area, "number": number, "extension": extension,
            "type": None}


def _address(address: Mapping[str, Any]) -> dict[str, Any]:
    kind = "billing" if address.get("defaultBilling") else "shipping" if address.get("defaultShipping") else "other"
    country, state = address.get("country") or {}, address.get("state") or {}
    return {"id": address.get("id"), "type": kind, "line1": address.get("address1"),
            "line2": address.get("address2"), "city": address.get("city"),
            "state": state.get("name") or state.get("code"), "postal_code": address.get("postalCode"),
            "country": country.get("codeIso2") or country.get("code")}


def from_ecartapi(customer: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical customer for an ecartAPI customer."""
    first, last = customer.get("firstName"), customer.get("lastName")
    addresses = customer.get("addresses") or []
    company = next((a.get("company") for a in addresses if a.get("company")), None)
    status = (customer.get("status") or {}).get("status")
    dates = customer.get("dates") or {}
    return {
        "id": str(customer["id"]),
        "name": " ".join(p for p in (first, last) if p) or None,
        "first_name": first,
        "last_name": last,
        "company_name": company,
        "status": {"enabled": "active", "disabled": "archived"}.get(status or ""),
        "currency": customer.get("currency"),
        "emails": [{"id": None, "email": customer["email"], "type": None}] if customer.get("email") else [],
        "phone_numbers": [_phone(customer["phone"])] if customer.get("phone") else [],
        "addresses": [_address(a) for a in addresses],
        "orders": [],
        "notes": customer.get("note"),
        "created_at": _timestamp(dates.get("createdAt")),
        "updated_at": _timestamp(dates.get("updatedAt")),
    }


@ADAPTERS.register
class EcartApiAdapter(HttpAdapter):
    """ecartAPI v2 -> canonical customers."""

    name = "ecartapi"
    flavour = "ecartapi"
    excluded_fields: ClassVar[frozenset[str]] = frozenset({
        "emails[1:]", "phone_numbers[1:]", "emails.id", "emails.type", "phone_numbers.id", "phone_numbers.type",
        "orders"})
    native_filters: ClassVar[frozenset[str]] = frozenset({"customer_ids", "email", "created_since", "updated_since"})
    page_size = 250

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": self.token} if self.token else {}

    def fetch_page(self, position: Any, size: int, filters: Mapping[str, str], sort: Sort) -> PlatformPage:
        params: dict[str, Any] = {"limit": size}
        if position is not None:
            params["page"] = position
        for key, value in filters.items():
            if key == "customer_ids":
                params["ids"] = ",".join(p.strip() for p in value.split(",") if p.strip())
            elif key == "email":
                params["email"] = value.strip()
            elif key in ("created_since", "updated_since"):
                prefix = "createdAt" if key == "created_since" else "updatedAt"
                params[f"{prefix}[from]"] = format_timestamp(since_seconds(value))
                params[f"{prefix}[to]"] = FAR_FUTURE
        body = self.get("/api/v2/customers", params)
        pagination = body.get("pagination") or {}
        return PlatformPage([from_ecartapi(c) for c in body.get("customers") or []], pagination.get("nextPage"),
                            pagination.get("total"))

    def get_customer(self, id: str) -> dict[str, Any]:
        if not id.strip():
            raise AdapterError.not_found(id)
        body = self.get(f"/api/v2/customers/{quote(id, safe='')}", customer_id=id)
        if not isinstance(body.get("customer"), dict):  # NOTE: /customers/count is another resource
            raise AdapterError.not_found(id)
        return from_ecartapi(body["customer"])

    def raise_for(self, response: httpx.Response, *, customer_id: str | None = None) -> None:
        status = response.status_code
        if status < 400:
            return
        error = error_json(response).get("error") or {}
        message = str(error.get("message") or response.reason_phrase)
        if status in (401, 403):
            raise AdapterError.unauthorized(f"ecartAPI rejected the token: {message}")
        if status == 404 and customer_id is not None:
            raise AdapterError.not_found(customer_id)
        if status == 400:
            details = error.get("details") or [{}]
            name = PARAMETERS.get(details[0].get("name", ""), "query")
            if name == "cursor":
                raise AdapterError.invalid_cursor(message)
            raise AdapterError.invalid_parameter(name, message)
        raise AdapterError.internal(f"ecartAPI answered {status} {error.get('type') or ''}: {message}")
