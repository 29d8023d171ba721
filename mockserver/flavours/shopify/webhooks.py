"""Shopify's webhooks: topics ``customers/create|update|delete``, the customer as the body, HMAC headers.

Sources: shopify.dev "About webhooks" / HTTPS delivery (``X-Shopify-Topic``, ``X-Shopify-Hmac-Sha256`` =
base64 HMAC-SHA256 of the raw body keyed with the app's client secret, ``X-Shopify-Shop-Domain``,
``X-Shopify-Webhook-Id``, ``X-Shopify-API-Version``, ``X-Shopify-Event-Id``, ``X-Shopify-Triggered-At``
in the Shopify app libraries' webhook context), and the changelog "Updates to webhook retry
mechanism" (2024-09-10): retried **8 times over 4 hours** with exponential backoff, with the original
payload. The mock keeps 8 retries, doubling from ``backoff_ms``.

UNCONFIRMED choices: ``X-Shopify-Webhook-Id`` is the same for every attempt of one event to one
subscription and ``X-Shopify-Event-Id`` the same for every subscription of one event;
``customers/delete`` carries ``{id, phone: null, addresses: [], tax_exemptions: [],
email_marketing_consent: null, admin_graphql_api_id}`` (the shape of Shopify's sample payload);
the shop domain is ``<tenant>.myshopify.com``; the API version is the flavour's ``2024-10``.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from mockserver.flavours.shopify.records import native
from mockserver.resources import dumps
from mockserver.webhooks import Event, RetrySchedule, Subscription, event_names, hmac_base64, iso_millis

__all__ = ["ShopifyWebhooks"]

API_VERSION = "2024-10"


class ShopifyWebhooks:
    events = event_names("customers/create", "customers/update", "customers/delete")
    retries = RetrySchedule(8, "exponential", "8 retries over 4 hours, exponential backoff (shopify.dev changelog "
                                              "2024-09-10)")

    def new_secret(self) -> str:
        return secrets.token_hex(32)

    def check_secret(self, secret: str) -> str | None:
        return None

    def render(self, event: Event, subscription: Subscription, attempt: int, secret: str) -> tuple[bytes, dict[str, str]]:
        body = dumps(_payload(event))
        return body, {
            "X-Shopify-Topic": self.events[event.kind],
            "X-Shopify-Hmac-Sha256": hmac_base64(secret, body),
            "X-Shopify-Shop-Domain": f"{event.tenant}.myshopify.com",
            "X-Shopify-API-Version": API_VERSION,
            "X-Shopify-Webhook-Id": str(uuid.uuid5(uuid.UUID(event.id), subscription.id)),
            "X-Shopify-Event-Id": event.id,
            "X-Shopify-Triggered-At": iso_millis(event.occurred),
        }


def _payload(event: Event) -> dict[str, Any]:
    customer = native(event.record) if event.record is not None else {"id": event.customer_id}
    if event.kind != "deleted":
        return customer
    gid = f"gid://shopify/Customer/{customer['id']}"
    return {"id": customer["id"], "phone": None, "addresses": [], "tax_exemptions": [],
            "email_marketing_consent": None, "admin_graphql_api_id": gid}
