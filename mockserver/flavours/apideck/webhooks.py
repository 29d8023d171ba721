"""Apideck's webhooks: ``ecommerce.customer.created|updated|deleted`` in ``{"payload": {...}}``, signed
over the body with its keys sorted.

Sources: developers.apideck.com "Webhook Signature Verification" and help.apideck.com 4231810
(``x-apideck-signature``: HMAC-SHA256 keyed with the **API key** over the whole body with every
object's keys sorted recursively, arrays in order); help.apideck.com 4231682 ("a maximum of 9 times"
within 24 hours, listed as a 1st to 9th retry: after 3 min, 5 min, 10 min, 30 min, 1 h, 2 h, 4 h,
8 h, 12 h; the mock reads it as 9 retries after the first attempt, UNCONFIRMED which of the two). The payload fields are
the issue's list (``event_type, entity_id, entity_type, entity_url, service_id, consumer_id,
unified_api, event_id, execution_attempt, occurred_at``). The mock keeps 9 retries, doubling from
``backoff_ms``.

UNCONFIRMED choices: the signature is **base64** (the documentation does not show the encoding;
``contracts.webhooks.verify_apideck`` accepts hex too); the body is sent already sorted (so the raw
body is what was signed); ``entity_type`` is ``customer``, ``service_id`` is ``ecwid`` (the flavour's
default connector), ``entity_url`` is this server's Apideck URL of the customer, and
``execution_attempt`` counts attempts from 1.
"""

from __future__ import annotations

import secrets

from mockserver.webhooks import Event, RetrySchedule, Subscription, event_names, hmac_base64, iso_millis, sorted_json

__all__ = ["ApideckWebhooks"]


class ApideckWebhooks:
    events = event_names("ecommerce.customer.created", "ecommerce.customer.updated", "ecommerce.customer.deleted")
    retries = RetrySchedule(9, "exponential", "9 retries within 24 h: 3m, 5m, 10m, 30m, 1h, 2h, 4h, 8h, 12h "
                                              "(help.apideck.com 4231682)")

    def __init__(self, service: str) -> None:
        self.service = service

    def new_secret(self) -> str:
        return "sk_" + secrets.token_urlsafe(32)

    def check_secret(self, secret: str) -> str | None:
        return None

    def render(self, event: Event, subscription: Subscription, attempt: int, secret: str) -> tuple[bytes, dict[str, str]]:
        body = sorted_json({"payload": {
            "event_type": self.events[event.kind],
            "entity_id": event.customer_id,
            "entity_type": "customer",
            "entity_url": f"{event.base_url}/apideck/ecommerce/customers/{event.customer_id}",
            "service_id": self.service,
            "consumer_id": event.tenant,
            "unified_api": "ecommerce",
            "event_id": event.id,
            "execution_attempt": attempt,
            "occurred_at": iso_millis(event.occurred),
        }})
        return body, {"x-apideck-signature": hmac_base64(secret, body)}
