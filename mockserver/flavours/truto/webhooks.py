"""Truto's webhooks: ``record:created|updated|deleted`` in Truto's event envelope, hex HMAC of the body.

Sources: truto.one "Processing webhook events" (body ``{id, event, payload, environment_id, webhook_id,
created_at}``), "Webhooks Overview" (``x-truto-signature``: HMAC-SHA256 of the body keyed with the
webhook's secret, a UUID; "Truto will retry **3 times** with exponential backoff of maximum 10 seconds"),
``trutohq/truto-skills`` webhooks reference (``X-Truto-Signature: format=sha256,v=<hex_hmac>``,
``User-Agent: truto``) and "List of webhook event types" (``record:created|updated|deleted``).

UNCONFIRMED choices: the ``payload`` of a record event is ``{integrated_account_id, resource:
"ecommerce/customers", method, record}`` with ``record`` the unified customer (``{"id"}`` alone for a
delete); ``environment_id`` is one UUID per server (from its base URL); ``created_at`` is ISO 8601
with milliseconds.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from mockserver.resources import dumps
from mockserver.webhooks import Event, RetrySchedule, Subscription, event_names, hmac_hex, iso_millis

__all__ = ["TrutoWebhooks"]

_METHODS = {"created": "create", "updated": "update", "deleted": "delete"}


class TrutoWebhooks:
    events = event_names("record:created", "record:updated", "record:deleted")
    retries = RetrySchedule(3, "exponential", "3 retries, exponential backoff of at most 10 s (truto.one Webhooks "
                                              "Overview)")

    def __init__(self, native: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.native = native

    def new_secret(self) -> str:
        return str(uuid.uuid4())

    def check_secret(self, secret: str) -> str | None:
        return None

    def render(self, event: Event, subscription: Subscription, attempt: int, secret: str) -> tuple[bytes, dict[str, str]]:
        record = ({"id": event.customer_id} if event.kind == "deleted" or event.record is None
                  else self.native(event.record))
        body = dumps({
            "id": event.id,
            "event": self.events[event.kind],
            "payload": {"integrated_account_id": event.tenant, "resource": "ecommerce/customers",
                        "method": _METHODS[event.kind], "record": record},
            "environment_id": str(uuid.uuid5(uuid.NAMESPACE_URL, event.base_url or "mockserver")),
            "webhook_id": subscription.id,
            "created_at": iso_millis(event.occurred),
        })
        return body, {"X-Truto-Signature": f"format=sha256,v={hmac_hex(secret, body)}", "User-Agent": "truto"}
