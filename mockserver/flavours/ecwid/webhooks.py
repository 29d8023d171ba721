"""Ecwid's webhooks: ``customer.created|updated|deleted``, signed over ``{eventCreated}.{eventId}``.

Sources: Ecwid's "Webhooks structure" and "Authenticate webhooks with signature" (api-docs.ecwid.com;
developers.ecwid.com "Webhooks best practices"): the body is ``{eventId, eventCreated (Unix seconds),
storeId, entityId, eventType, data}``; ``X-Ecwid-Webhook-Signature`` is
``base64(HMAC-SHA256(client_secret, "{eventCreated}.{eventId}"))``: the body itself is not signed.
"Processing webhooks": without a 200 answer the webhook is re-sent **every 15 minutes for 48 hours**
(192 retries); the mock keeps 192 retries at a fixed ``backoff_ms``.

UNCONFIRMED choices: ``data`` of a customer event is ``{"customerEmail": ...}`` (Ecwid documents
``data`` for orders only); ``entityId`` is the customer's Ecwid id; ``storeId`` is the tenant when
it is a store id (digits), else 0.
"""

from __future__ import annotations

import secrets
from typing import Any

from mockserver.flavours.ecwid.mapping import to_ecwid
from mockserver.resources import dumps
from mockserver.webhooks import Event, RetrySchedule, Subscription, event_names, hmac_base64

__all__ = ["EcwidWebhooks", "ecwid_body"]


def ecwid_body(event: Event, name: str) -> dict[str, Any]:
    """The webhook body of ``event`` as Ecwid sends it."""
    customer = to_ecwid(event.record) if event.record is not None else {"id": 0, "email": None}
    return {"eventId": event.id, "eventCreated": int(event.occurred),
            "storeId": int(event.tenant) if event.tenant.isdigit() and len(event.tenant) < 19 else 0,
            "entityId": customer["id"], "eventType": name, "data": {"customerEmail": customer.get("email")}}


class EcwidWebhooks:
    events = event_names("customer.created", "customer.updated", "customer.deleted")
    retries = RetrySchedule(192, "fixed", "re-sent every 15 minutes for 48 hours (Ecwid, Processing webhooks)")

    def new_secret(self) -> str:
        return secrets.token_hex(16)

    def check_secret(self, secret: str) -> str | None:
        return None

    def render(self, event: Event, subscription: Subscription, attempt: int, secret: str) -> tuple[bytes, dict[str, str]]:
        body = ecwid_body(event, self.events[event.kind])
        signature = hmac_base64(secret, f"{body['eventCreated']}.{body['eventId']}")
        return dumps(body), {"X-Ecwid-Webhook-Signature": signature}
