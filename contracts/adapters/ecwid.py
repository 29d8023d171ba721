"""Reference adapter for Ecwid REST API v3 customers (``/api/v3/{storeId}/customers``).

Ecwid pages with ``offset``/``limit`` (at most 100) in ``{total, count, offset, limit, items}``,
has integer ids, ``YYYY-MM-DD HH:MM:SS +0000`` dates, one billing person plus a shipping
address book, and keeps every email and phone as a ``contacts`` entry. Errors are
``{errorMessage, errorCode}``; a bad token is a **403** ``INVALID_API_TOKEN``.

Mapping to the canonical customer:

* ``name``, ``first_name``, ``last_name``, ``company_name`` from ``billingPerson`` (``""`` is ``null``);
* ``emails`` and ``phone_numbers`` from ``contacts`` (``EMAIL``/``PHONE``, by ``orderBy``); a phone
  ``+<country> <area> <number>[ x<extension>]`` is split into its parts;
* ``addresses``: the billing person's address (``billing``) then ``shippingAddresses``;
  ``street`` holds ``line1`` and ``line2`` on two lines;
* ``notes`` from ``privateAdminNotes``; ``created_at``/``updated_at`` from ``registered``/``updated``.

Ecwid cannot provide a status, a currency, linked orders, the ids and types of emails and
phones, address ids (its contact and address ids are its own integers), nor the split of a
street into ``line1``/``line2`` when ``line1`` itself spans two lines: those are declared in
``excluded_fields``. Ecwid filters email, phone and both dates itself and sorts
in every canonical order; ``status`` and ``customer_ids`` are filtered here while paging.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from contracts.adapters import ADAPTERS, AdapterError, Sort
from contracts.adapters.toolkit import HttpAdapter, PlatformPage, since_seconds

if TYPE_CHECKING:
    import httpx

__all__ = ["EcwidAdapter", "from_ecwid", "PARAMETERS"]

SORT_BY = {
    Sort("created_at", False): "REGISTERED_DATE_ASC", Sort("created_at", True): "REGISTERED_DATE_DESC",
    Sort("updated_at", False): "UPDATED_DATE_ASC", Sort("updated_at", True): "UPDATED_DATE_DESC",
    Sort("name", False): "NAME_ASC", Sort("name", True): "NAME_DESC",
}
PARAMETERS = {"limit": "limit", "offset": "cursor", "email": "filter[email]", "phone": "filter[phone_number]",
              "createdFrom": "filter[created_since]", "updatedFrom": "filter[updated_since]",
              "sortBy": "sort[by]"}
"""Ecwid query parameter -> the canonical one it came from (to name it in a 400)."""
_PHONE = re.compile(r"^\+(\d+) (\S+) (.+?)(?: x(\d+))?$")
_SHORT_PHONE = re.compile(r"^\+(\d+) (.+?)(?: x(\d+))?$")
_PARAMETER = re.compile(r"parameter '([^']+)'")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def ecwid_timestamp(text: str) -> str:
    """``2019-01-01 00:00:00 +0000`` -> ``2019-01-01T00:00:00Z``."""
    value = datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _phone(text: str) -> dict[str, Any]:
    text = text.strip()
    match = _PHONE.match(text)
    if match:
        country, area, number, extension = match.groups()
    elif (short := _SHORT_PHONE.match(text)) is not None:
        (country, number, extension), area = short.groups(), None
    else:
        country = area = extension = None
        number = text
    return {"id": None, "country_code": country, "area_code": area, "number": number, "extension": extension,
            "type": None}


def _address(person: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
    line1, _, line2 = (person.get("street") or "").partition("\n")
    address = {"id": None, "type": kind, "line1": _text(line1), "line2": _text(line2),
               "city": _text(person.get("city")),
               "state": _text(person.get("stateOrProvinceName")) or _text(person.get("stateOrProvinceCode")),
               "postal_code": _text(person.get("postalCode")), "country": _text(person.get("countryCode"))}
    if all(value is None for key, value in address.items() if key not in ("id", "type")):
        return None
    return address


def from_ecwid(customer: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical customer for an Ecwid ``Customer`` (full record, every canonical key)."""
    person = customer.get("billingPerson") or {}
    contacts = sorted(customer.get("contacts") or [], key=lambda c: c.get("orderBy", 0))
    emails = [{"id": None, "email": c["contact"], "type": "primary" if c.get("default") else None}
              for c in contacts if c.get("type") == "EMAIL"]
    if not emails and customer.get("email"):
        emails = [{"id": None, "email": customer["email"], "type": "primary"}]
    phones = [_phone(c["contact"]) for c in contacts if c.get("type") == "PHONE"]
    addresses = [a for a in [_address(person, "billing")] + [_address(s, "shipping")
                 for s in customer.get("shippingAddresses") or []] if a is not None]
    return {
        "id": str(customer["id"]),
        "name": _text(customer.get("name")) or _text(person.get("name")),
        "first_name": _text(person.get("firstName")),
        "last_name": _text(person.get("lastName")),
        "company_name": _text(person.get("companyName")),
        "status": None,
        "currency": None,
        "emails": emails,
        "phone_numbers": phones,
        "addresses": addresses,
        "orders": [],
        "notes": _text(customer.get("privateAdminNotes")),
        "created_at": ecwid_timestamp(customer["registered"]),
        "updated_at": ecwid_timestamp(customer["updated"]),
    }


@ADAPTERS.register
class EcwidAdapter(HttpAdapter):
    """Ecwid REST API v3 -> canonical customers.

    Args:
        base_url: where Ecwid answers, e.g. ``https://app.ecwid.com`` or ``http://127.0.0.1:8000/ecwid``.
        store_id: the Ecwid store.
    """

    name = "ecwid"
    flavour = "ecwid"
    excluded_fields: ClassVar[frozenset[str]] = frozenset({
        "status", "currency", "orders", "emails.id", "emails.type", "phone_numbers.id", "phone_numbers.type",
        "addresses.id",
        # NOTE: Ecwid keeps one multi-line `street`; a canonical line1 may itself hold a line break
        # (real address data can, though the mock's pools no longer do), so the split is not
        # recoverable in general.
        "addresses.line1", "addresses.line2"})
    native_filters: ClassVar[frozenset[str]] = frozenset({"email", "phone_number", "created_since", "updated_since"})
    native_sorts: ClassVar[frozenset[Sort]] = frozenset(SORT_BY)
    page_size = 100
    default_token = "secret_mockserver-adapter"

    def __init__(self, base_url: str, *, client: httpx.Client | None = None, token: Any = ...,
                 store_id: int = 1003) -> None:
        super().__init__(base_url, client=client, token=token)
        self.store_id = store_id

    @property
    def prefix(self) -> str:
        return f"/api/v3/{self.store_id}"

    def search_params(self, offset: int, size: int, filters: Mapping[str, str], sort: Sort) -> dict[str, Any]:
        params: dict[str, Any] = {"offset": offset, "limit": size, "sortBy": SORT_BY[sort]}
        for key, value in filters.items():
            if key == "email":
                params["email"] = value.strip()
            elif key == "phone_number":
                params["phone"] = value
            elif key == "created_since":
                params["createdFrom"] = since_seconds(value)
            elif key == "updated_since":
                params["updatedFrom"] = since_seconds(value)
        return params

    def search(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        """The ``CustomerSearchResult`` for ``params``."""
        return self.get(f"{self.prefix}/customers", params)  # type: ignore[no-any-return]

    def fetch_page(self, position: Any, size: int, filters: Mapping[str, str], sort: Sort) -> PlatformPage:
        offset = int(position or 0)
        body = self.search(self.search_params(offset, size, filters, sort))
        items = body.get("items") or []
        end = offset + len(items)
        total = int(body.get("total", end))
        return PlatformPage([from_ecwid(item) for item in items], end if items and end < total else None, total)

    def read_customer(self, customer_id: str) -> Mapping[str, Any]:
        """The Ecwid ``Customer`` with this id."""
        return self.get(f"{self.prefix}/customers/{quote(customer_id, safe='')}",  # type: ignore[no-any-return]
                        customer_id=customer_id)

    def get_customer(self, id: str) -> dict[str, Any]:
        if not id.strip() or not id.isascii() or not id.isdigit():
            raise AdapterError.not_found(id)  # NOTE: Ecwid ids are integers; nothing else can exist
        return from_ecwid(self.read_customer(id))

    def raise_for(self, response: httpx.Response, *, customer_id: str | None = None) -> None:
        if response.status_code < 400:
            return
        try:
            body = response.json()
        except ValueError:
            body = {}
        message = str(body.get("errorMessage") or response.reason_phrase) if isinstance(body, dict) else ""
        code = body.get("errorCode") if isinstance(body, dict) else None
        if response.status_code in (401, 403) and code in (None, "INVALID_API_TOKEN", "INSUFFICIENT_APP_SCOPE"):
            raise AdapterError.unauthorized(f"Ecwid rejected the token: {message}")
        if response.status_code == 404 and customer_id is not None and code in (None, "CUSTOMER_NOT_FOUND"):
            raise AdapterError.not_found(customer_id)
        if response.status_code == 400:
            found = _PARAMETER.search(message)
            name = PARAMETERS.get(found.group(1), found.group(1)) if found else "query"
            raise AdapterError.invalid_parameter(name, message)
        raise AdapterError.internal(f"Ecwid answered {response.status_code} {code or ''}: {message}".strip())
