"""Receive and verify webhooks in a consumer's tests: a real HTTP receiver and one verifier per platform.

Standard library only (the pytest plugin imports this module lazily, from the ``webhook_receiver``
fixture). The verifiers are written from each platform's documentation, independently of the mock's
signing code, so a consumer's own check can be tested against the mock, and the mock against them:

=====================  ==========================================================================
``verify_standard``    Standard Webhooks: ``webhook-signature: v1,<base64>`` of ``{id}.{timestamp}.{body}``
``verify_shopify``     ``X-Shopify-Hmac-Sha256``: base64 HMAC-SHA256 of the raw body
``verify_truto``       ``X-Truto-Signature: format=sha256,v=<hex>``: HMAC-SHA256 of the raw body
``verify_apideck``     ``x-apideck-signature``: HMAC-SHA256 of the body with keys sorted (base64 or hex)
``verify_ecwid``       ``X-Ecwid-Webhook-Signature``: base64 HMAC-SHA256 of ``{eventCreated}.{eventId}``
``verify_myboxx``      Ecwid's, over the event inside ``data.attributes``
``verify_ecartapi``    ``Authorization`` equal to the token (ecartAPI signs nothing)
=====================  ==========================================================================

Each takes ``(body: bytes, headers: Mapping[str, str], secret: str)`` and returns ``True`` or
``False``; :data:`VERIFIERS` maps flavour names to them.

Example::

    def test_my_handler_gets_customer_events(mock_server, webhook_receiver):
        mock_server.subscribe(webhook_receiver.url, flavour="shopify", secret="s3cret")
        ...                                   # create a customer through any flavour
        [hook] = webhook_receiver.wait_for("customers/create")
        assert verify_shopify(hook.body, hook.headers, "s3cret")
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["VERIFIERS", "Delivery", "Headers", "WebhookReceiver", "event_name", "verify_apideck", "verify_ecartapi",
           "verify_ecwid", "verify_myboxx", "verify_shopify", "verify_standard", "verify_truto"]


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _mac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def verify_shopify(body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """Shopify: ``X-Shopify-Hmac-Sha256`` is base64(HMAC-SHA256(client secret, raw body))."""
    expected = base64.b64encode(_mac(secret.encode(), body)).decode()
    return _same(_header(headers, "X-Shopify-Hmac-Sha256"), expected)


def verify_truto(body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """Truto: ``X-Truto-Signature: format=sha256,v=<hex HMAC-SHA256(secret, raw body)>``."""
    given = _header(headers, "X-Truto-Signature") or ""
    parts = dict(part.split("=", 1) for part in given.split(",") if "=" in part)
    return parts.get("format") == "sha256" and _same(parts.get("v"), _mac(secret.encode(), body).hex())


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def verify_apideck(body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """Apideck: ``x-apideck-signature`` is HMAC-SHA256(API key, the body re-serialized with every object's
    keys sorted, as ``JSON.stringify`` writes it). Base64 and hex are both accepted (Apideck's
    documentation does not show the encoding)."""
    try:
        canonical = json.dumps(_sorted(json.loads(body)), separators=(",", ":"), ensure_ascii=False).encode()
    except ValueError:
        return False
    digest = _mac(secret.encode(), canonical)
    given = _header(headers, "x-apideck-signature")
    return _same(given, base64.b64encode(digest).decode()) or _same(given, digest.hex())


def verify_ecwid(body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """Ecwid: ``X-Ecwid-Webhook-Signature`` is base64(HMAC-SHA256(client_secret, "{eventCreated}.{eventId}"))."""
    try:
        event = json.loads(body)
        message = f"{event['eventCreated']}.{event['eventId']}".encode()
    except (ValueError, KeyError, TypeError):
        return False
    expected = base64.b64encode(_mac(secret.encode(), message)).decode()
    return _same(_header(headers, "X-Ecwid-Webhook-Signature"), expected)


def verify_myboxx(body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """myBoxx (UNCONFIRMED, as the mock sends it): Ecwid's signature over the event in ``data.attributes``."""
    try:
        inner = json.dumps(json.loads(body)["data"]["attributes"]).encode()
    except (ValueError, KeyError, TypeError):
        return False
    return verify_ecwid(inner, headers, secret)


def verify_ecartapi(body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """ecartAPI (UNCONFIRMED, as the mock sends it): the ``Authorization`` header is the token itself."""
    return _same(_header(headers, "Authorization"), secret)


def verify_standard(body: bytes, headers: Mapping[str, str], secret: str, *, tolerance: float = 300.0) -> bool:
    """Standard Webhooks: one of ``webhook-signature``'s space-separated ``v1,<base64>`` entries is
    HMAC-SHA256(base64-decoded ``whsec_`` secret, ``{webhook-id}.{webhook-timestamp}.{body}``), and the
    timestamp is within ``tolerance`` seconds of now."""
    msg_id, stamp = _header(headers, "webhook-id"), _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if not (msg_id and stamp and signatures and stamp.isdigit()) or abs(time.time() - int(stamp)) > tolerance:
        return False
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = base64.b64encode(_mac(key, f"{msg_id}.{stamp}.".encode() + body)).decode()
    return any(entry.startswith("v1,") and _same(entry[3:], expected) for entry in signatures.split(" "))


VERIFIERS: dict[str, Callable[[bytes, Mapping[str, str], str], bool]] = {
    "apideck": verify_apideck, "canonical": verify_standard, "ecartapi": verify_ecartapi, "ecwid": verify_ecwid,
    "myboxx": verify_myboxx, "shopify": verify_shopify, "truto": verify_truto,
}
"""The verifier of each flavour's webhooks."""


def event_name(body: bytes, headers: Mapping[str, str]) -> str | None:
    """The event (topic, type) a delivery carries, whatever the platform."""
    topic = _header(headers, "X-Shopify-Topic")
    if topic:
        return topic
    try:
        value = json.loads(body)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("data"), dict) and isinstance(value["data"].get("attributes"), dict):
        value = value["data"]["attributes"]  # myBoxx
    if isinstance(value.get("payload"), dict) and "event_type" in value["payload"]:
        return str(value["payload"]["event_type"])  # Apideck
    for key in ("eventType", "event", "type"):
        if isinstance(value.get(key), str):
            return str(value[key])
    return None


class Headers(dict[str, str]):
    """Header names as sent, looked up whatever their case (``headers["x-shopify-topic"]``)."""

    def _key(self, name: str) -> str:
        wanted = name.lower()
        return next((key for key in dict.keys(self) if key.lower() == wanted), name)

    def __getitem__(self, name: str) -> str:
        return dict.__getitem__(self, self._key(name))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(key.lower() == name.lower() for key in dict.keys(self))

    def get(self, name: str, default: Any = None) -> Any:
        return dict.get(self, self._key(name), default)


@dataclass
class Delivery:
    """One request the receiver got."""

    method: str
    path: str
    headers: Headers
    """Names as sent; lookups ignore case."""
    body: bytes
    time: float
    status: int
    """What the receiver answered."""
    event: str | None = None

    def json(self) -> Any:
        return json.loads(self.body)


class _Server(ThreadingHTTPServer):
    # NOTE: http.server's backlog of 5 refused connections when both workers of a mock sent at once
    request_queue_size = 256
    daemon_threads = True


@dataclass
class WebhookReceiver:
    """A real HTTP server on ``127.0.0.1`` (a free port) recording every request, in a thread.

    ``fail_first(n, status=500)`` answers ``status`` to the next ``n`` requests (retries), then 200.
    """

    host: str = "127.0.0.1"
    deliveries: list[Delivery] = field(default_factory=list)
    _failures: list[int] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                receiver._record(self, body)

            do_PUT = do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = _Server((self.host, 0), Handler)
        threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True).start()
        return self

    def _record(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        with self._cond:
            status = self._failures.pop(0) if self._failures else 200
            headers = Headers(handler.headers.items())
            self.deliveries.append(Delivery(handler.command, handler.path, headers, body, time.time(), status,
                                            event_name(body, headers)))
            self._cond.notify_all()
        handler.send_response(status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>/webhooks``."""
        assert self._server is not None, "start() the receiver first"
        return f"http://{self.host}:{self._server.server_address[1]}/webhooks"

    @property
    def events(self) -> list[str | None]:
        """The event of every delivery so far, in arrival order."""
        with self._cond:
            return [d.event for d in self.deliveries]

    def fail_first(self, count: int, status: int = 500) -> None:
        """Answer ``status`` to the next ``count`` deliveries, 200 after them."""
        with self._cond:
            self._failures = [status] * count

    def wait_for(self, event: str | None = None, timeout: float = 5.0, count: int = 1) -> list[Delivery]:
        """The deliveries of ``event`` (any event when ``None``) once at least ``count`` arrived.

        Raises:
            AssertionError: fewer arrived within ``timeout`` seconds (the message lists what did).
        """
        __tracebackhide__ = True
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [d for d in self.deliveries if event is None or d.event == event]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [d.event for d in self.deliveries]
                    raise AssertionError(f"expected {count} delivery(ies) of {event or 'any event'} within "
                                         f"{timeout:g} s, got {len(found)}; received so far: {seen}")
                self._cond.wait(left)

    def clear(self) -> None:
        with self._cond:
            self.deliveries.clear()
            self._failures.clear()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
