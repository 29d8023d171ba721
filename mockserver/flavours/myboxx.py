"""myBoxx flavour: Virket's JSON:API-like wrapper of Ecwid customers (dialects.md D7, seed 004).

Composed over :mod:`mockserver.flavours.ecwid`: request parsing, the record mapping, the search
and the writes are Ecwid's own functions; this module only adds the paths, the envelope, its
auth and its error body.

Emulated:

* ``GET /api/json/v1/ecwid/customers`` (every Ecwid search parameter: ``offset``, ``limit``,
  ``keyword``, ``email``, ``sortBy``, ``responseFields``...) and
  ``GET /api/json/v1/ecwid/customer/{customer_id}``.
* ``POST /api/json/v1/ecwid/add_customer`` (Ecwid create body), ``POST .../update_customer/{id}``
  (Ecwid update body) and ``POST .../delete_customer/{id}`` (no body); all writes use POST and
  answer 200.
* Envelope ``{"data": {"id": ..., "type": "ecwid", "attributes": <the Ecwid body>}}``: ``data.id`` is
  the customer id (an integer) for a single customer, the new id as a string for ``add_customer``
  (both as in the seed examples), and otherwise a UUID derived (uuid5) from the method, path and
  query, so the same request always gets the same id.
* Errors ``{"errors": {"status", "title", "detail"}}``; body validation answers 412 "Validation
  failed" with ``detail`` mapping each offending field to a message (the partner.md example);
  other errors keep the Ecwid flavour's status with a text ``detail``.

UNCONFIRMED choices:

* Auth: ``Authorization: Bearer <partner token>`` (the token ``POST /api/external/v1/auth/`` returns;
  the docs say only "Headers: Default"). Any non-empty token is accepted, or only ``settings.token``
  when set; otherwise 401 "Unauthorized". The auth endpoint itself is not emulated.
* Errors other than validation (400, 404, 405, 409, 415, 500) are not documented by myBoxx; the
  status follows Ecwid's, the body follows the documented error shape.
* Responses are ``application/json`` (the docs show no media type).
* Every Ecwid choice listed in :mod:`mockserver.flavours.ecwid` applies (one store, the default dataset).
"""

from __future__ import annotations

import uuid
from typing import Any

import falcon

from mockserver.errors import InvalidBody, MockServerError, Unauthorized
from mockserver.flavours import Rendered, Route
from mockserver.flavours.ecwid import EcwidCustomers, ecwid_error
from mockserver.resources import ServerContext, bearer_token, dumps, send_bytes

__all__ = ["envelope", "MyBoxx", "MYBOXX_NAMESPACE", "request_uuid"]

MYBOXX_NAMESPACE = uuid.UUID("6bb19930-6728-4901-bfbc-53456e85d0d0")
"""Namespace of the deterministic ``data.id`` UUIDs (the UUID of the seed's list example)."""
BASE = "/api/json/v1/ecwid"


def envelope(data_id: Any, attributes: bytes) -> bytes:
    """``{"data": {"id": data_id, "type": "ecwid", "attributes": <attributes>}}`` around Ecwid bytes."""
    return b'{"data":{"id":' + dumps(data_id) + b',"type":"ecwid","attributes":' + attributes + b"}}"


def request_uuid(req: falcon.Request) -> str:
    """A UUID that is a pure function of the request's method, path and query."""
    return str(uuid.uuid5(MYBOXX_NAMESPACE, f"{req.method} {req.path}?{req.query_string}"))


class CustomersResource:
    """Every myBoxx customer route, one responder each (Falcon suffixes)."""

    def __init__(self, context: ServerContext, service: EcwidCustomers) -> None:
        self.context = context
        self.service = service

    def _auth(self, req: falcon.Request) -> None:
        self.context.check_token(bearer_token(req))

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._auth(req)
        send_bytes(resp, envelope(request_uuid(req), self.service.search(req)))

    def on_get_item(self, req: falcon.Request, resp: falcon.Response, customer_id: str) -> None:
        self._auth(req)
        body = self.service.customer(customer_id, req)
        send_bytes(resp, envelope(int(customer_id.strip()), body))

    def on_post_add(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._auth(req)
        send_bytes(resp, envelope(str(self.service.create(req)), b"{}"))

    def on_post_update(self, req: falcon.Request, resp: falcon.Response, customer_id: str) -> None:
        self._auth(req)
        count = self.service.update(customer_id, req)
        send_bytes(resp, envelope(request_uuid(req), dumps({"updateCount": count})))

    def on_post_delete(self, req: falcon.Request, resp: falcon.Response, customer_id: str) -> None:
        self._auth(req)
        count = self.service.delete(customer_id)
        send_bytes(resp, envelope(request_uuid(req), dumps({"deleteCount": count})))


class MyBoxx:
    """myBoxx: Ecwid bodies inside ``{"data": {id, type: "ecwid", attributes}}``."""

    name = "myboxx"
    title = "myBoxx JSON API (Ecwid customers)"
    spec = "myboxx.yaml"

    def routes(self, context: ServerContext) -> list[Route]:
        resource = CustomersResource(context, EcwidCustomers(context, self.name))
        return [
            Route(f"{BASE}/customers", resource),
            Route(f"{BASE}/customer/{{customer_id}}", resource, "item"),
            Route(f"{BASE}/add_customer", resource, "add"),
            Route(f"{BASE}/update_customer/{{customer_id}}", resource, "update"),
            Route(f"{BASE}/delete_customer/{{customer_id}}", resource, "delete"),
        ]

    def render_error(self, error: MockServerError) -> Rendered:
        detail: Any = error.detail
        if isinstance(error, InvalidBody):
            status, title = 412, "Validation failed"
            detail = {p.name or "body": p.detail for p in error.problems} or {"body": error.detail}
        elif isinstance(error, Unauthorized):
            status, title = 401, "Unauthorized"
        else:
            status = ecwid_error(error)[0]
            title = error.title if status == error.status else _TITLES.get(status, error.title)
        headers = {"WWW-Authenticate": 'Bearer realm="myboxx"'} if status == 401 else {}
        return Rendered(status, dumps({"errors": {"status": status, "title": title, "detail": detail}}),
                        headers=headers)


_TITLES = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error"}
