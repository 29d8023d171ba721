"""Reference adapter for myBoxx's JSON API, a wrapper of Ecwid customers.

myBoxx serves Ecwid's own bodies inside ``{"data": {"id", "type": "ecwid", "attributes": ...}}``
at ``/api/json/v1/ecwid/customers`` (every Ecwid search parameter) and
``/api/json/v1/ecwid/customer/{id}``, authenticates with ``Authorization: Bearer <partner
token>`` (401 otherwise) and answers errors as ``{"errors": {status, title, detail}}``.

So this adapter *is* the Ecwid adapter with other paths, an envelope to unwrap and another
error body: same mapping, same declared exclusions, same native filters and sorts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from contracts.adapters import ADAPTERS, AdapterError
from contracts.adapters.ecwid import PARAMETERS, EcwidAdapter
from contracts.adapters.toolkit import error_json

if TYPE_CHECKING:
    import httpx

__all__ = ["MyBoxxAdapter"]

BASE = "/api/json/v1/ecwid"


@ADAPTERS.register
class MyBoxxAdapter(EcwidAdapter):
    """myBoxx JSON API -> canonical customers (Ecwid's mapping, myBoxx's envelope and errors)."""

    name = "myboxx"
    flavour = "myboxx"
    default_token = "myboxx-partner-token"

    def __init__(self, base_url: str, *, client: httpx.Client | None = None, token: Any = ...) -> None:
        super().__init__(base_url, client=client, token=token)

    @staticmethod
    def _attributes(body: Any) -> Mapping[str, Any]:
        data = body.get("data") if isinstance(body, dict) else None
        attributes = data.get("attributes") if isinstance(data, dict) else None
        if not isinstance(attributes, dict):
            raise AdapterError.internal("myBoxx answered without data.attributes")
        return attributes

    def search(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        return self._attributes(self.get(f"{BASE}/customers", params))

    def read_customer(self, customer_id: str) -> Mapping[str, Any]:
        return self._attributes(self.get(f"{BASE}/customer/{quote(customer_id, safe='')}", customer_id=customer_id))

    def raise_for(self, response: httpx.Response, *, customer_id: str | None = None) -> None:
        status = response.status_code
        if status < 400:
            return
        error = error_json(response).get("errors") or {}
        detail = error.get("detail") if isinstance(error, dict) else None
        message = detail if isinstance(detail, str) else str(detail or response.reason_phrase)
        if status in (401, 403):
            raise AdapterError.unauthorized(f"myBoxx rejected the token: {message}")
        if status == 404 and customer_id is not None:
            raise AdapterError.not_found(customer_id)
        if status == 400:
            name = next((canonical for native, canonical in PARAMETERS.items() if f"'{native}'" in message), "query")
            raise AdapterError.invalid_parameter(name, message)
        raise AdapterError.internal(f"myBoxx answered {status}: {message}")
