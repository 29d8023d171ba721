"""Reference adapter for Apideck Unify's Ecommerce Customers (``/ecommerce/customers``).

Apideck already speaks a unified dialect close to the canonical one: ``EcommerceCustomer``
records (``.000Z`` timestamps, ``custom_mappings``), cursor pages ``{data, meta: {cursors,
total_count}, links}`` that end when ``meta.cursors.next`` is ``null``, ``limit`` up to 200,
``Authorization: Bearer`` plus the required ``x-apideck-app-id`` and ``x-apideck-consumer-id``
headers, and errors ``{status_code, error, type_name, message, detail, ref}``.

``EcommerceCustomer`` has no ``notes``, so ``notes`` is declared excluded. Apideck filters
email, phone, ids and both dates itself; it has no ``status`` filter (filtered here while
paging) and no sort for customers: orders other than creation order are sorted here over the
whole filtered list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from contracts.adapters import ADAPTERS, AdapterError, Sort
from contracts.adapters.toolkit import HttpAdapter, PlatformPage, error_json, since_seconds
from mockserver import format_timestamp, parse_timestamp

if TYPE_CHECKING:
    import httpx

__all__ = ["ApideckAdapter", "from_apideck"]

CANONICAL_KEYS = ("id", "name", "first_name", "last_name", "company_name", "status", "currency", "emails",
                  "phone_numbers", "addresses", "orders")


def _timestamp(value: Any) -> Any:
    return format_timestamp(parse_timestamp(value)) if isinstance(value, str) else value


def from_apideck(customer: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical customer for an ``EcommerceCustomer``."""
    record = {key: customer.get(key) for key in CANONICAL_KEYS}
    for key in ("emails", "phone_numbers", "addresses", "orders"):
        record[key] = record[key] or []
    record["notes"] = None
    record["created_at"] = _timestamp(customer.get("created_at"))
    record["updated_at"] = _timestamp(customer.get("updated_at"))
    return record


@ADAPTERS.register
class ApideckAdapter(HttpAdapter):
    """Apideck Unify Ecommerce -> canonical customers.

    Args:
        app_id, consumer_id: the ``x-apideck-app-id`` and ``x-apideck-consumer-id`` headers.
        service_id: the connector (``x-apideck-service-id``), if the consumer has several.
    """

    name = "apideck"
    flavour = "apideck"
    excluded_fields: ClassVar[frozenset[str]] = frozenset({"notes"})
    native_filters: ClassVar[frozenset[str]] = frozenset(
        {"email", "phone_number", "customer_ids", "created_since", "updated_since"})
    page_size = 200

    def __init__(self, base_url: str, *, client: httpx.Client | None = None, token: Any = ...,
                 app_id: str = "mockserver-app", consumer_id: str = "test-consumer",
                 service_id: str | None = None) -> None:
        super().__init__(base_url, client=client, token=token)
        self.app_id, self.consumer_id, self.service_id = app_id, consumer_id, service_id

    def auth_headers(self) -> dict[str, str]:
        headers = {**super().auth_headers(), "x-apideck-app-id": self.app_id,
                   "x-apideck-consumer-id": self.consumer_id}
        if self.service_id:
            headers["x-apideck-service-id"] = self.service_id
        return headers

    def fetch_page(self, position: Any, size: int, filters: Mapping[str, str], sort: Sort) -> PlatformPage:
        params: dict[str, Any] = {"limit": size}
        if position is not None:
            params["cursor"] = position
        for key, value in filters.items():
            if key in ("created_since", "updated_since"):
                value = format_timestamp(since_seconds(value))
            elif key == "customer_ids":
                value = ",".join(p.strip() for p in value.split(",") if p.strip())
            params[f"filter[{key}]"] = value
        body = self.get("/ecommerce/customers", params)
        meta = body.get("meta") or {}
        return PlatformPage([from_apideck(c) for c in body.get("data") or []],
                            (meta.get("cursors") or {}).get("next"), meta.get("total_count"))

    def get_customer(self, id: str) -> dict[str, Any]:
        if not id.strip():
            raise AdapterError.not_found(id)
        body = self.get(f"/ecommerce/customers/{quote(id, safe='')}", customer_id=id)
        return from_apideck(body.get("data") or {})

    def raise_for(self, response: httpx.Response, *, customer_id: str | None = None) -> None:
        status = response.status_code
        if status < 400:
            return
        body = error_json(response)
        type_name, detail = body.get("type_name"), body.get("detail") or body.get("message") or ""
        if status == 401:
            raise AdapterError.unauthorized(f"Apideck rejected the credentials: {detail}")
        if status == 404 and customer_id is not None:
            raise AdapterError.not_found(customer_id)
        if type_name == "InvalidCursorError":
            raise AdapterError.invalid_cursor(str(detail))
        if status == 400 and type_name in ("RequestValidationError", "UnsupportedFiltersError"):
            text = str(detail)
            name = text.split("'")[1] if text.count("'") >= 2 else "query"
            raise AdapterError.invalid_parameter(name, text)
        raise AdapterError.internal(f"Apideck answered {status} {type_name or ''}: {detail}")
