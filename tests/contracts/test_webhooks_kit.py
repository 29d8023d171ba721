"""The kit's webhook side: the verifiers on hand-made deliveries, the receiver, and the AdminClient calls.

The verifiers are checked against signatures computed here from each platform's documented recipe
(and canonical's against the ``standardwebhooks`` package), and must refuse a tampered body, a wrong
secret and a missing header.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from contracts.admin_client import AdminClient, AdminError
from contracts.webhooks import (
    VERIFIERS,
    WebhookReceiver,
    event_name,
    verify_apideck,
    verify_ecartapi,
    verify_ecwid,
    verify_myboxx,
    verify_shopify,
    verify_standard,
    verify_truto,
)

BODY = b'{"id":1,"email":"a@example.com","addresses":[{"zip":"1","city":"x"}]}'


def _b64mac(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def test_shopify_and_truto_sign_the_raw_body() -> None:
    assert verify_shopify(BODY, {"x-shopify-hmac-sha256": _b64mac(b"k", BODY)}, "k")
    assert not verify_shopify(BODY + b" ", {"X-Shopify-Hmac-Sha256": _b64mac(b"k", BODY)}, "k")
    assert not verify_shopify(BODY, {}, "k")
    hexmac = hmac.new(b"k", BODY, hashlib.sha256).hexdigest()
    assert verify_truto(BODY, {"X-Truto-Signature": f"format=sha256,v={hexmac}"}, "k")
    assert not verify_truto(BODY, {"X-Truto-Signature": f"format=sha1,v={hexmac}"}, "k")
    assert not verify_truto(BODY, {"X-Truto-Signature": f"format=sha256,v={hexmac}"}, "other")


def test_apideck_signs_the_body_with_keys_sorted_in_either_encoding() -> None:
    unsorted = json.dumps({"payload": {"z": 1, "a": {"y": [{"b": 2, "a": 1}]}}}).encode()
    canonical = b'{"payload":{"a":{"y":[{"a":1,"b":2}]},"z":1}}'
    digest = hmac.new(b"api-key", canonical, hashlib.sha256).digest()
    assert verify_apideck(unsorted, {"x-apideck-signature": base64.b64encode(digest).decode()}, "api-key")
    assert verify_apideck(unsorted, {"x-apideck-signature": digest.hex()}, "api-key")
    assert not verify_apideck(unsorted.replace(b"1", b"3"), {"x-apideck-signature": digest.hex()}, "api-key")
    assert not verify_apideck(b"not json", {"x-apideck-signature": digest.hex()}, "api-key")


def test_ecwid_and_myboxx_sign_created_dot_id_not_the_body() -> None:
    event = {"eventId": "e-1", "eventCreated": 1700000000, "storeId": 1, "entityId": 2, "eventType": "customer.created"}
    signature = {"X-Ecwid-Webhook-Signature": _b64mac(b"cs", b"1700000000.e-1")}
    assert verify_ecwid(json.dumps(event).encode(), signature, "cs")
    assert verify_ecwid(json.dumps({**event, "data": {"x": 1}}).encode(), signature, "cs")  # body not signed
    assert not verify_ecwid(json.dumps({**event, "eventId": "e-2"}).encode(), signature, "cs")
    wrapped = json.dumps({"data": {"id": "e-1", "type": "ecwid", "attributes": event}}).encode()
    assert verify_myboxx(wrapped, signature, "cs") and not verify_myboxx(b"[]", signature, "cs")
    assert verify_ecartapi(b"{}", {"Authorization": "tok"}, "tok") and not verify_ecartapi(b"{}", {}, "tok")


def test_standard_webhooks_agree_with_the_reference_package() -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    now = datetime.now(tz=UTC)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": "v1,bm90IGl0 " + Webhook(secret).sign("msg_1", now, BODY.decode())}
    assert verify_standard(BODY, headers, secret)
    assert not verify_standard(BODY, {**headers, "webhook-id": "msg_2"}, secret)
    stale = {**headers, "webhook-timestamp": str(int(time.time()) - 3600)}
    assert not verify_standard(BODY, stale, secret)
    assert set(VERIFIERS) == {"apideck", "canonical", "ecartapi", "ecwid", "myboxx", "shopify", "truto"}


def test_event_names_are_read_from_each_envelope() -> None:
    assert event_name(b"{}", {"X-Shopify-Topic": "customers/create"}) == "customers/create"
    assert event_name(b'{"payload":{"event_type":"ecommerce.customer.created"}}', {}) == "ecommerce.customer.created"
    assert event_name(b'{"eventType":"customer.updated"}', {}) == "customer.updated"
    assert event_name(b'{"data":{"attributes":{"eventType":"customer.deleted"}}}', {}) == "customer.deleted"
    assert event_name(b'{"event":"record:created"}', {}) == "record:created"
    assert event_name(b"[1]", {}) is None and event_name(b"nope", {}) is None


def test_the_receiver_records_answers_chosen_statuses_and_times_out_readably() -> None:
    receiver = WebhookReceiver().start()
    try:
        receiver.fail_first(1, status=503)
        statuses = []
        for _ in range(2):
            request = urllib.request.Request(receiver.url, data=b'{"type":"customer.created"}', method="POST",
                                             headers={"Content-Type": "application/json", "X-Case": "Kept"})
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    statuses.append(answer.status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
        hooks = receiver.wait_for("customer.created", count=2)
        assert statuses == [503, 200] and [h.status for h in hooks] == [503, 200]
        assert hooks[0].headers["x-case"] == "Kept" and "X-CASE" in hooks[0].headers and hooks[0].path == "/webhooks"
        with pytest.raises(AssertionError, match=r"expected 1 delivery\(ies\) of customers/create within 0.1 s"):
            receiver.wait_for("customers/create", timeout=0.1)
        receiver.clear()
        assert receiver.events == []
    finally:
        receiver.stop()


def test_admin_client_subscribes_lists_and_unsubscribes(mock_admin: AdminClient) -> None:
    made = mock_admin.subscribe("http://127.0.0.1:9/hooks", "truto", tenant="acct-1", backoff_ms=10)
    assert made["flavour"] == "truto" and made["tenant"] == "acct-1" and len(made["secret"]) == 36
    assert [w["id"] for w in mock_admin.webhooks()] == [made["id"]]
    assert mock_admin.deliveries(subscription=made["id"]) == []
    mock_admin.unsubscribe(made["id"])
    assert mock_admin.webhooks() == []
    with pytest.raises(AdminError) as refused:
        mock_admin.subscribe("ftp://x", "truto")
    assert refused.value.status == 422 and refused.value.problem["errors"][0]["name"] == "url"


