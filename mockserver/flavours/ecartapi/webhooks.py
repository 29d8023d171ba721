"""ecartAPI's webhooks (UNCONFIRMED: no public source describes them; the issue's choice is a token
in ``Authorization`` and no HMAC).

The mock sends ``customer.created|updated|deleted`` as ``{id, event, createdAt, account, data}``,
``data`` the ecartAPI customer (``{"id"}`` alone for a delete), with ``Authorization: <secret>``
(the subscription's token, sent as is, the way ecartAPI's own requests carry their JWT) and 3
retries doubling from ``backoff_ms``. A ``wrong_signature`` subscription sends a wrong token.
"""

from __future__ import annotations

import secrets

from mockserver.flavours.ecartapi.mapping import to_ecart
from mockserver.resources import dumps
from mockserver.webhooks import Event, RetrySchedule, Subscription, event_names, iso_millis

__all__ = ["EcartAPIWebhooks"]


class EcartAPIWebhooks:
    events = event_names("customer.created", "customer.updated", "customer.deleted")
    retries = RetrySchedule(3, "exponential", "UNCONFIRMED: no public source")

    def new_secret(self) -> str:
        return secrets.token_urlsafe(24)

    def check_secret(self, secret: str) -> str | None:
        return None

    def render(self, event: Event, subscription: Subscription, attempt: int, secret: str) -> tuple[bytes, dict[str, str]]:
        data = ({"id": event.customer_id} if event.kind == "deleted" or event.record is None
                else to_ecart(event.record))
        body = dumps({"id": event.id, "event": self.events[event.kind], "createdAt": iso_millis(event.occurred),
                      "account": event.tenant, "data": data})
        return body, {"Authorization": secret}
