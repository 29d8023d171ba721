"""Signed webhooks: the events, the subscriptions and what a platform's format declares.

Pure core (no web framework, no flavour). A write through any flavour becomes one :class:`Event`
(canonical record, tenant, kind); each subscription that wants it gets it in its own flavour's
format: a dialect's ``webhooks`` attribute is a :class:`WebhookFormat` (event names per kind, the
body and the signed headers of one attempt, the platform's retry schedule). The outbox that
holds events until they are delivered is :mod:`mockserver.outbox`; the delivery thread is
:mod:`mockserver.delivery`.

The HMAC helpers here are the only signing code the formats share; the contract kit verifies with
its own implementation (``contracts.webhooks``), written from the platforms' documentation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlsplit

from mockserver.errors import InvalidSettings

__all__ = [
    "DEFAULT_BACKOFF_MS",
    "FAILURES",
    "KINDS",
    "Event",
    "RetrySchedule",
    "Subscription",
    "WebhookFormat",
    "event_names",
    "hmac_base64",
    "hmac_hex",
    "iso_millis",
    "parse_subscription",
    "sorted_json",
]

KINDS = ("created", "updated", "deleted")
"""What a write did to a customer."""
FAILURES = ("none", "wrong_signature", "duplicate", "out_of_order")
"""Deliberate misbehaviour a subscription can ask for (see the README's "Webhooks" section)."""
DEFAULT_BACKOFF_MS = 200
"""The first retry's delay in a mock: real schedules (minutes to hours) scaled down, same shape."""
MAX_BACKOFF_MS = 60_000
MAX_ATTEMPTS = 500
MAX_URL = 2048
MAX_SECRET = 256


class Event(NamedTuple):
    """One write, as every subscription's format starts from it."""

    id: str
    """A UUID, the same in every attempt (a format may decorate it: ``msg_<hex>``)."""
    kind: str
    """``created``, ``updated`` or ``deleted``."""
    customer_id: str
    tenant: str
    record: dict[str, Any] | None
    """The canonical customer after the write (before it, for a delete)."""
    source: str
    """The flavour the write came through."""
    occurred: float
    """Unix time of the write."""
    base_url: str = ""
    """The server's public base URL (for links such as Apideck's ``entity_url``)."""

    def as_json(self) -> dict[str, Any]:
        return self._asdict()

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Event:
        return cls(**value)


class RetrySchedule(NamedTuple):
    """A platform's retry policy: how many retries after the first attempt and how delays grow.

    The mock keeps the count and the shape and scales the delays: retry ``n`` (1-based) waits
    ``backoff_ms * 2 ** (n - 1)`` (``exponential``) or ``backoff_ms`` (``fixed``).
    """

    retries: int
    kind: str = "exponential"
    real: str = ""
    """The platform's own schedule, in words, with its source."""

    def delay_ms(self, backoff_ms: int, retry: int) -> float:
        if self.kind == "fixed":
            return float(backoff_ms)
        return float(min(backoff_ms * 2 ** min(retry - 1, 30), MAX_BACKOFF_MS * 64))


class WebhookFormat(Protocol):
    """What a dialect declares to send webhooks as its platform does (its ``webhooks`` attribute)."""

    @property
    def events(self) -> Mapping[str, str]:
        """Event name (topic, type) per kind: ``{"created": "customers/create", ...}``."""
        ...

    @property
    def retries(self) -> RetrySchedule:
        """The platform's retry policy."""
        ...

    def new_secret(self) -> str:
        """A secret the way the platform issues them (``whsec_...``, a UUID, a client secret)."""
        ...

    def check_secret(self, secret: str) -> str | None:
        """Why ``secret`` cannot sign this platform's webhooks, or ``None`` when it can."""
        ...

    def render(self, event: Event, subscription: Subscription, attempt: int, secret: str) -> tuple[bytes, dict[str, str]]:
        """The body and headers of one attempt, signed with ``secret`` (the subscription's, or a wrong one)."""
        ...


@dataclass(frozen=True)
class Subscription:
    """Where, in which flavour and for which events a tenant's (or every tenant's) writes are sent."""

    id: str
    url: str
    flavour: str
    events: tuple[str, ...]
    secret: str
    tenant: str | None = None
    """``None``: every tenant."""
    failure: str = "none"
    max_attempts: int = 1
    backoff_ms: int = DEFAULT_BACKOFF_MS
    schedule: str = "exponential"
    configured: bool = False
    """From the ``--config`` file (kept by ``POST /__admin/reset``), not the admin API."""
    created: float = field(default_factory=time.time)

    def wants(self, event_name: str, tenant: str) -> bool:
        return event_name in self.events and (self.tenant is None or self.tenant == tenant)

    def delay_ms(self, retry: int) -> float:
        return RetrySchedule(0, self.schedule).delay_ms(self.backoff_ms, retry)

    def as_json(self, *, reveal: bool = False) -> dict[str, Any]:
        shown = asdict(self)
        shown["events"] = list(self.events)
        if not reveal:
            shown["secret"] = "***"
        return shown

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Subscription:
        return cls(**{**value, "events": tuple(value["events"])})

    def with_id(self, new_id: str) -> Subscription:
        return replace(self, id=new_id)


_KEYS = ("url", "flavour", "events", "secret", "tenant", "failure", "max_attempts", "backoff_ms")


def parse_subscription(body: Any, formats: Mapping[str, WebhookFormat], *, where: str = "",
                       configured: bool = False) -> Subscription:
    """A subscription from its JSON (the admin API's body, an entry of the config file's ``webhooks``).

    Raises:
        InvalidSettings: the message starts with the key at fault (``url: ...``), prefixed by ``where``.
    """
    def bad(key: str, why: str) -> InvalidSettings:
        return InvalidSettings(f"{where}{key}: {why}")

    if not isinstance(body, Mapping):
        raise bad("body", "must be an object such as {\"url\": \"http://127.0.0.1:9000/hooks\", \"flavour\": \"shopify\"}")
    unknown = sorted(str(k) for k in body if k not in _KEYS)
    if unknown:
        raise bad(unknown[0], f"unknown key; keys: {', '.join(_KEYS)}")
    url = body.get("url")
    if not isinstance(url, str) or not url:
        raise bad("url", "required: the receiver's http(s) URL")
    parts = urlsplit(url) if len(url) <= MAX_URL and url.isprintable() and " " not in url else None
    try:
        port_ok = parts is not None and (parts.port is None or parts.port > 0)
    except ValueError:
        port_ok = False
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise bad("url", f"must be an absolute http:// or https:// URL of at most {MAX_URL} characters")
    flavour = body.get("flavour")
    if not isinstance(flavour, str) or flavour not in formats:
        raise bad("flavour", f"must be one of: {', '.join(sorted(formats))}")
    fmt = formats[flavour]
    names = list(fmt.events.values())
    events = body.get("events", names)
    if events is None:
        events = names
    if (not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events)
            or any(e not in names for e in events)):
        raise bad("events", f"must be a non-empty list of {flavour}'s customer events: {', '.join(names)}")
    tenant = body.get("tenant")
    if tenant is not None and (not isinstance(tenant, str) or not tenant or len(tenant) > 200
                               or not tenant.isprintable()):
        raise bad("tenant", "must be a tenant id (1 to 200 printable characters) or null for every tenant")
    failure = body.get("failure", "none")
    if failure is None:
        failure = "none"
    if failure not in FAILURES:
        raise bad("failure", f"must be one of: {', '.join(FAILURES)}")
    secret = body.get("secret")
    if secret is None:
        secret = fmt.new_secret()
    elif not isinstance(secret, str) or not secret or len(secret) > MAX_SECRET or not secret.isprintable():
        raise bad("secret", f"must be 1 to {MAX_SECRET} printable characters")
    else:
        why = fmt.check_secret(secret)
        if why is not None:
            raise bad("secret", why)
    max_attempts = _int(body, "max_attempts", 1 + fmt.retries.retries, 1, MAX_ATTEMPTS, bad)
    backoff_ms = _int(body, "backoff_ms", DEFAULT_BACKOFF_MS, 1, MAX_BACKOFF_MS, bad)
    return Subscription("wh_" + secrets.token_hex(8), url, flavour, tuple(dict.fromkeys(events)), secret, tenant,
                        failure, max_attempts, backoff_ms, fmt.retries.kind, configured)


def _int(body: Mapping[str, Any], key: str, default: int, low: int, high: int, bad: Any) -> int:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise bad(key, f"must be an integer from {low} to {high}")
    return value


# ---- what the formats share --------------------------------------------------------------------


def event_names(created: str, updated: str, deleted: str) -> Mapping[str, str]:
    """A format's :attr:`WebhookFormat.events` (read-only)."""
    return MappingProxyType({"created": created, "updated": updated, "deleted": deleted})


def hmac_base64(key: bytes | str, message: bytes | str) -> str:
    """``base64(HMAC-SHA256(key, message))``."""
    return base64.b64encode(_hmac(key, message)).decode()


def hmac_hex(key: bytes | str, message: bytes | str) -> str:
    """Lowercase hex of ``HMAC-SHA256(key, message)``."""
    return _hmac(key, message).hex()


def _hmac(key: bytes | str, message: bytes | str) -> bytes:
    k = key.encode() if isinstance(key, str) else key
    m = message.encode() if isinstance(message, str) else message
    return hmac.new(k, m, hashlib.sha256).digest()


def sorted_json(value: Any) -> bytes:
    """Compact JSON with every object's keys sorted recursively (arrays keep their order), UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def iso_millis(epoch: float) -> str:
    """``2026-12-03T18:00:00.123Z``."""
    seconds = math.floor(epoch)
    millis = min(999, round((epoch - seconds) * 1000))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"
