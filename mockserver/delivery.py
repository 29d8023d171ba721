"""Webhook delivery: writes become events, a thread in each worker sends them to the receivers.

::

    OperationResource._create/_update/_delete   req.context.change = (kind, customer id, record)
    Notify (pipeline stage, after a 2xx answer)  Webhooks.emit: one outbox row per matching subscription
    the worker's delivery thread                 claim due rows, render in the subscription's flavour,
                                                 POST, finish (delivered / retry later / give up)

Never on the request path: ``emit`` only writes the outbox. The thread starts in every gunicorn worker
when it starts (``post_worker_init``, after the fork; the workers are gevent, which makes ``threading``
and ``http.client`` cooperative) and in an in-process app on its first event. It wakes at once when
its own worker emits, when a retry is due, and polls every :data:`POLL_SECONDS` otherwise (every
:data:`IDLE_SECONDS`, one memory read, while nobody subscribes), so events another worker queued, or
one that died mid-delivery (its lease runs out), are picked up too.
"""

from __future__ import annotations

import http.client
import logging
import os
import secrets
import threading
import time
import uuid
import weakref
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from mockserver.errors import InvalidSettings
from mockserver.outbox import Attempt, Claim, LocalOutbox, WebhookOutbox
from mockserver.webhooks import Event, Subscription, WebhookFormat, parse_subscription

__all__ = ["IDLE_SECONDS", "LEASE_SECONDS", "POLL_SECONDS", "RECEIVER_TIMEOUT", "Webhooks", "webhook_formats"]

POLL_SECONDS = 0.15
IDLE_SECONDS = 1.0
"""The poll while nobody subscribes (an event this worker queues wakes it at once anyway)."""
RECEIVER_TIMEOUT = 5.0
"""Seconds a receiver has to answer an attempt (Shopify's own limit)."""
LEASE_SECONDS = RECEIVER_TIMEOUT * 3
BATCH = 16

log = logging.getLogger("mockserver")


def webhook_formats(dialects: Sequence[Any]) -> dict[str, WebhookFormat]:
    """Each dialect's webhook format, by flavour name (dialects that declare none are left out)."""
    return {d.name: d.webhooks for d in dialects if getattr(d, "webhooks", None) is not None}


class Webhooks:
    """Subscriptions, the outbox and this process's delivery thread.

    Args:
        outbox: where every worker sees subscriptions and pending events.
        formats: each flavour's :class:`~mockserver.webhooks.WebhookFormat`.
        configured: the config file's ``webhooks`` list (what a reset goes back to).
        base_url: the server's public base URL (links inside payloads).
    """

    def __init__(self, outbox: WebhookOutbox, formats: Mapping[str, WebhookFormat],
                 configured: Sequence[Subscription] = (), base_url: str = "") -> None:
        self.outbox = outbox
        self.formats = dict(formats)
        self.configured = tuple(configured)
        self.base_url = base_url
        self._wake = threading.Event()
        self._pid = -1
        self._lock = threading.Lock()
        self._soonest = float("inf")
        """When this process's next retry is due (the thread wakes then rather than at its next poll)."""

    @classmethod
    def open(cls, path: str, formats: Mapping[str, WebhookFormat], configured: Any, base_url: str) -> Webhooks:
        """A fresh outbox file at ``path`` holding the config file's subscriptions.

        Raises:
            InvalidSettings: an entry of ``configured`` is not a valid subscription (``webhooks[1].url: ...``).
        """
        subs = cls.check(configured, formats)
        return cls(LocalOutbox(path, subs), formats, subs, base_url)

    @staticmethod
    def check(configured: Any, formats: Mapping[str, WebhookFormat]) -> list[Subscription]:
        """The config file's ``webhooks`` list as subscriptions (ids ``wh_config_<n>``).

        Raises:
            InvalidSettings: naming the entry and its key (``webhooks[1].url: ...``).
        """
        if configured is None:
            configured = []
        if not isinstance(configured, list):
            raise InvalidSettings("webhooks: must be a list of subscriptions ({url, flavour, events, ...})")
        subs = [parse_subscription(entry, formats, where=f"webhooks[{i}].", configured=True)
                for i, entry in enumerate(configured)]
        return [s.with_id(f"wh_config_{i}") for i, s in enumerate(subs)]

    # ---- the admin API's side ---------------------------------------------------------------

    def subscribe(self, body: Any) -> Subscription:
        subscription = parse_subscription(body, self.formats)
        self.outbox.subscribe(subscription)
        return subscription

    def reset(self) -> None:
        self.outbox.reset(self.configured)

    # ---- the pipeline's side ---------------------------------------------------------------------

    def active(self) -> bool:
        """Whether any subscription exists (one memory read while none changed)."""
        return bool(self.outbox.subscriptions())

    def emit(self, kind: str, customer_id: str, tenant: str, record: dict[str, Any] | None, source: str) -> int:
        """Queue one event for every subscription that wants it; the rows queued."""
        subscriptions = self.outbox.subscriptions()
        if not subscriptions:
            return 0
        targets = []
        for subscription in subscriptions:
            fmt = self.formats.get(subscription.flavour)
            name = fmt.events.get(kind) if fmt is not None else None
            if name is not None and subscription.wants(name, tenant):
                targets.append((subscription, name))
        if not targets:
            return 0
        event = Event(str(uuid.uuid4()), kind, customer_id, tenant, record, source, time.time(), self.base_url)
        queued = self.outbox.enqueue(event, targets)
        self.start()
        self._wake.set()
        return queued

    # ---- the delivery thread ---------------------------------------------------------------------

    def start(self) -> None:
        """Start this process's delivery thread, once (each gunicorn worker at init, after the fork; an
        in-process app on its first event)."""
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():  # NOTE: a forked worker inherits no thread: start its own
                self._pid = os.getpid()
                self._wake = threading.Event()
                threading.Thread(target=_run, args=(weakref.ref(self),), name="webhook-delivery", daemon=True).start()

    def deliver_due(self) -> int:
        """Make every due attempt now (each in its own thread); how many were made."""
        if not self.outbox.subscriptions():  # PERF: one memory read while nobody subscribes
            return 0
        claims = self.outbox.claim(time.time(), BATCH, LEASE_SECONDS)
        threads = [threading.Thread(target=self._deliver, args=(claim,), daemon=True) for claim in claims]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return len(claims)

    def _deliver(self, claim: Claim) -> None:
        subscription = claim.subscription
        fmt = self.formats[subscription.flavour]
        secret = subscription.secret
        if subscription.failure == "wrong_signature":
            secret = _wrong(secret)
        body, headers = fmt.render(claim.event, subscription, claim.attempt, secret)
        headers = {"Content-Type": "application/json", **headers}
        started = time.time()
        status, error = _post(subscription.url, body, headers)
        latency = (time.time() - started) * 1000
        name = fmt.events[claim.event.kind]
        shown = {k: "***" if k.lower() == "authorization" else v for k, v in headers.items()}  # ecartAPI's token
        now = time.time()
        outcome = self.outbox.finish(claim, Attempt(name, subscription.url, shown, status, error, latency, started),
                                     now)
        if outcome == "retrying":
            self._soonest = min(self._soonest, now + subscription.delay_ms(claim.attempt) / 1000)
        if outcome in ("retrying", "failed"):
            why = f"answered {status}" if status is not None else error
            then = "will retry" if outcome == "retrying" else f"gave up after {claim.attempt} attempts"
            log.warning("webhook %s %s to %s: attempt %d %s; %s", subscription.id, name, subscription.url,
                        claim.attempt, why, then)


def _run(ref: weakref.ref[Webhooks]) -> None:
    """The delivery loop; it ends when its :class:`Webhooks` is gone (an in-process app collected)."""
    while True:
        webhooks = ref()
        if webhooks is None:
            return
        if webhooks._soonest <= time.time():
            webhooks._soonest = float("inf")  # due now: this round claims it
        try:
            webhooks.deliver_due()
        except Exception:
            log.exception("webhook delivery: the outbox failed; trying again")
            time.sleep(1.0)
        wake, pause = webhooks._wake, (POLL_SECONDS if webhooks.active() else IDLE_SECONDS)
        if webhooks._soonest != float("inf"):
            pause = min(pause, max(0.0, webhooks._soonest - time.time()))
        del webhooks
        wake.wait(pause)
        wake.clear()


def _wrong(secret: str) -> str:
    """A secret of the same form that is not the subscription's (for ``failure: wrong_signature``)."""
    if secret.startswith("whsec_"):
        import base64

        return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    return secret + "-not-the-secret"


def _post(url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int | None, str | None]:
    """POST and read the answer: ``(status, None)``, or ``(None, why)`` when none came.

    # NOTE: http.client, not urllib: urllib rewrites header names (``X-shopify-hmac-sha256``), and
    # receivers that compare names exactly (Ecwid's own PHP example does) would miss them. Redirects
    # are not followed: a 3xx is a failed attempt (Standard Webhooks).
    """
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn = kind(parts.hostname or "", parts.port, timeout=RECEIVER_TIMEOUT)
    try:
        conn.request("POST", target, body=body, headers=dict(headers))
        answer = conn.getresponse()
        answer.read(1 << 16)
        return int(answer.status), None
    except Exception as exc:  # noqa: BLE001 - whatever the receiver did: one line, no traceback
        return None, f"{type(exc).__name__}: {exc}"[:300]
    finally:
        conn.close()
