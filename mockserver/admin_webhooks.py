"""The admin API's webhook routes: subscriptions and the record of every delivery attempt.

==========================================  =====================================================
``POST /__admin/webhooks``                  subscribe: ``{url, flavour, events?, secret?, tenant?,
                                            failure?, max_attempts?, backoff_ms?}``; 201 with the
                                            secret (shown this once; ``***`` everywhere else)
``GET /__admin/webhooks``                   every subscription (config file's and admin API's)
``GET|DELETE /__admin/webhooks/{id}``       one subscription; DELETE drops its pending events too
``GET /__admin/webhooks/deliveries``        every attempt, oldest first (``?subscription=&event=&status=``)
==========================================  =====================================================

``POST /__admin/reset`` puts back the config file's subscriptions and clears the outbox and the
delivery records.
"""

from __future__ import annotations

from typing import Any

import falcon

from mockserver.admin import _Admin, _authorized, _send
from mockserver.errors import InvalidBody, InvalidSettings, NotFound, Problem
from mockserver.resources import ServerContext, int_param, read_json, single_param

__all__ = ["add_webhook_routes"]

_STATUSES = ("delivered", "retrying", "failed")


class Subscriptions(_Admin):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        subs = self.context.webhooks.outbox.subscriptions()
        _send(resp, {"webhooks": [s.as_json() for s in subs]})

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_json(req, max_bytes=64 << 10)
        try:
            subscription = self.context.webhooks.subscribe(body)
        except InvalidSettings as exc:
            key = exc.detail.split(":", 1)[0]
            raise InvalidBody(exc.detail, problems=(Problem("body", key, exc.detail),)) from None
        resp.set_header("Location", f"/__admin/webhooks/{subscription.id}")
        _send(resp, subscription.as_json(reveal=True), status=201)

    def on_get_one(self, req: falcon.Request, resp: falcon.Response, subscription_id: str) -> None:
        for subscription in self.context.webhooks.outbox.subscriptions():
            if subscription.id == subscription_id:
                _send(resp, subscription.as_json())
                return
        raise NotFound(f"No webhook subscription {subscription_id!r}; GET /__admin/webhooks lists them.")

    def on_delete_one(self, req: falcon.Request, resp: falcon.Response, subscription_id: str) -> None:
        if not self.context.webhooks.outbox.unsubscribe(subscription_id):
            raise NotFound(f"No webhook subscription {subscription_id!r}; GET /__admin/webhooks lists them.")
        resp.status = falcon.HTTP_204


class Deliveries(_Admin):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        filters: dict[str, Any] = {key: single_param(req, key) for key in ("subscription", "event", "status")}
        status = filters["status"]
        if status is not None and status not in _STATUSES and not (status.isdigit() and len(status) == 3):
            raise InvalidBody(f"status must be {', '.join(_STATUSES)} or an HTTP status code, got {status!r}",
                              problems=(Problem("query", "status", "delivered, retrying, failed or a status"),))
        limit = int_param(req, "limit", 1000, 1, 10_000)
        # NOTE: pending first: an attempt's record commits with its row's state, so "pending: 0" read
        # before the records means every attempt made so far is among them
        pending = self.context.webhooks.outbox.pending()
        _send(resp, {"deliveries": self.context.webhooks.outbox.deliveries(limit=limit, **filters), "pending": pending})


def add_webhook_routes(app: falcon.App[falcon.Request, falcon.Response], context: ServerContext, prefix: str) -> None:
    subscriptions = _authorized(Subscriptions(context))
    app.add_route(f"{prefix}/webhooks", subscriptions)
    app.add_route(f"{prefix}/webhooks/deliveries", _authorized(Deliveries(context)))
    app.add_route(f"{prefix}/webhooks/{{subscription_id}}", subscriptions, suffix="one")
