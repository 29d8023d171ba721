"""Reference adapter for Truto's Unified E-Commerce customers (``/unified/ecommerce/customers``).

Truto pages with ``limit`` and ``next_cursor`` in ``{result, next_cursor, prev_cursor,
result_count}`` (``next_cursor: null`` on the last page), needs the ``integrated_account_id``
query parameter, answers a get with the bare record and errors as ``{statusCode, error,
message}``.

Mapping: ``status`` ``inactive`` is canonical ``archived``; ``phones[].number`` is
``+<country> <area> <number>``, split into the canonical parts; ``addresses[].street_1``/
``street_2`` are ``line1``/``line2``; dates lose their milliseconds. Truto's unified customer has
no ``notes`` and no ids for emails and phones: those are declared excluded. Truto filters
``email`` and both dates itself and sorts in every canonical order; ``phone_number``,
``status`` and ``customer_ids`` are filtered here while paging.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from contracts.adapters import ADAPTERS, AdapterError, Sort
from contracts.adapters.toolkit import SORT_FIELDS, HttpAdapter, PlatformPage, error_json, since_seconds
from mockserver import format_timestamp, parse_timestamp

if TYPE_CHECKING:
    import httpx

__all__ = ["TrutoAdapter", "from_truto"]

_PHONE = re.compile(r"^\+(\d+) (\S+) (.+)$")
_SHORT_PHONE = re.compile(r"^\+(\d+) (.+)$")
_PARAMETER = re.compile(r"parameter '([^']+)'")
PARAMETERS = {"limit": "limit", "next_cursor": "cursor", "email": "filter[email]",
              "created_at[gte]": "filter[created_since]", "updated_at[gte]": "filter[updated_since]"}


def _timestamp(value: Any) -> Any:
    return format_timestamp(parse_timestamp(value)) if isinstance(value, str) else value


def _phone(phone: Mapping[str, Any]) -> dict[str, Any]:
    text = (phone.get("number") or "").strip()
    country = area = None
    if (match := _PHONE.match(text)) is not None:
        country, area, text = match.groups()
    elif (short := _SHORT_PHONE.match(text)) is not None:
        country, text = short.groups()
    return {"id": None, "country_code": country, "area_code": area, "number": text,
            "extension": phone.get("extension"), "type": phone.get("type")}


def from_truto(customer: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical customer for a Truto unified customer."""
    status = customer.get("status")
    return {
        "id": str(customer["id"]),
        "name": customer.get("name"),
        "first_name": customer.get("first_name"),
        "last_name": customer.get("last_name"),
        "company_name": customer.get("company_name"),
        "status": "archived" if status == "inactive" else status,
        "currency": customer.get("currency"),
        "emails": [{"id": None, "email": e.get("email"), "type": e.get("type")} for e in customer.get("emails") or []],
        "phone_numbers": [_phone(p) for p in customer.get("phones") or []],
        "addresses": [{"id": a.get("id"), "type": a.get("type"), "line1": a.get("street_1"),
                       "line2": a.get("street_2"), "city": a.get("city"), "state": a.get("state"),
                       "postal_code": a.get("postal_code"), "country": a.get("country")}
                      for a in customer.get("addresses") or []],
        "orders": [{"id": o.get("id"), "total": o.get("total"), "status": o.get("status")}
                   for o in customer.get("orders") or []],
        "notes": None,
        "created_at": _timestamp(customer.get("created_at")),
        "updated_at": _timestamp(customer.get("updated_at")),
    }


@ADAPTERS.register
class TrutoAdapter(HttpAdapter):
    """Truto Unified E-Commerce API -> canonical customers.

    Args:
        integrated_account_id: the Truto integrated account to read.
    """

    name = "truto"
    flavour = "truto"
    excluded_fields: ClassVar[frozenset[str]] = frozenset({"notes", "emails.id", "phone_numbers.id"})
    native_filters: ClassVar[frozenset[str]] = frozenset({"email", "created_since", "updated_since"})
    native_sorts: ClassVar[frozenset[Sort]] = frozenset(Sort(by, d) for by in SORT_FIELDS for d in (False, True))
    page_size = 200

    def __init__(self, base_url: str, *, client: httpx.Client | None = None, token: Any = ...,
                 integrated_account_id: str = "mockserver-account") -> None:
        super().__init__(base_url, client=client, token=token)
        self.integrated_account_id = integrated_account_id

    def fetch_page(self, position: Any, size: int, filters: Mapping[str, str], sort: Sort) -> PlatformPage:
        params: dict[str, Any] = {"integrated_account_id": self.integrated_account_id, "limit": size,
                                  "truto_ignore_remote_data": "true",
                                  f"sort_by[{sort.by}]": "desc" if sort.descending else "asc"}
        if position is not None:
            params["next_cursor"] = position
        for key, value in filters.items():
            if key == "email":
                params["email"] = value.strip()
            elif key in ("created_since", "updated_since"):
                params[f"{key[:-6]}_at[gte]"] = format_timestamp(since_seconds(value))
        body = self.get("/unified/ecommerce/customers", params)
        return PlatformPage([from_truto(c) for c in body.get("result") or []], body.get("next_cursor"))

    def get_customer(self, id: str) -> dict[str, Any]:
        if not id.strip():
            raise AdapterError.not_found(id)
        body = self.get(f"/unified/ecommerce/customers/{quote(id, safe='')}",
                        {"integrated_account_id": self.integrated_account_id, "truto_ignore_remote_data": "true"},
                        customer_id=id)
        return from_truto(body)

    def raise_for(self, response: httpx.Response, *, customer_id: str | None = None) -> None:
        status = response.status_code
        if status < 400:
            return
        message = str(error_json(response).get("message") or response.reason_phrase)
        if status in (401, 403):
            raise AdapterError.unauthorized(f"Truto rejected the token: {message}")
        if status == 404 and customer_id is not None:
            raise AdapterError.not_found(customer_id)
        if status == 400:
            found = _PARAMETER.search(message)
            name = PARAMETERS.get(found.group(1), found.group(1)) if found else "query"
            if name == "cursor":
                raise AdapterError.invalid_cursor(message)
            raise AdapterError.invalid_parameter(name, message)
        raise AdapterError.internal(f"Truto answered {status}: {message}")
