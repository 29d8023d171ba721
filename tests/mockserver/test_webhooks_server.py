"""Signed webhooks against real gunicorn (2 workers), real sockets and a real HTTP receiver.

Every signature is checked by an implementation written here from the platform's documentation
(hmac/hashlib), and canonical's by the ``standardwebhooks`` package, never by the mock's signing code.
Timing is asserted only within generous bounds; everything else polls with deadlines.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from contracts.webhooks import VERIFIERS, Delivery, WebhookReceiver
from mockserver import Settings
from mockserver.server import ServerProcess
from tests.mockserver.unhappy_client import ADMIN, ECWID, call

SHOPIFY = {"X-Shopify-Access-Token": "shpat_x", "Content-Type": "application/json"}
SHOPIFY_BASE = "/shopify/admin/api/2024-10/customers"
SECRETS = {"canonical": "whsec_" + base64.b64encode(b"0123456789abcdef01234567").decode(),
           "apideck": "sk_test_apideck", "truto": "5f0c3a4e-6a43-4c41-9b8e-0b7a4a8a9f11", "ecwid": "client-secret-1",
           "myboxx": "client-secret-2", "shopify": "shpss_abc", "ecartapi": "ecart-token-1"}
NAMES = {"canonical": ("customer.created", "customer.updated", "customer.deleted"),
         "apideck": ("ecommerce.customer.created", "ecommerce.customer.updated", "ecommerce.customer.deleted"),
         "truto": ("record:created", "record:updated", "record:deleted"),
         "ecwid": ("customer.created", "customer.updated", "customer.deleted"),
         "myboxx": ("customer.created", "customer.updated", "customer.deleted"),
         "shopify": ("customers/create", "customers/update", "customers/delete"),
         "ecartapi": ("customer.created", "customer.updated", "customer.deleted")}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(Settings(seed=42, count=30, workers=2)) as running:
        yield running


@pytest.fixture
def receiver(server: ServerProcess) -> Iterator[WebhookReceiver]:
    status, _, data = call(server, "POST", "/__admin/reset", ADMIN)
    assert status == 204, data
    hooks = WebhookReceiver().start()
    yield hooks
    hooks.stop()


def subscribe(server: ServerProcess, **body: Any) -> dict[str, Any]:
    status, _, data = call(server, "POST", "/__admin/webhooks", ADMIN, body)
    assert status == 201, data
    answer: dict[str, Any] = json.loads(data)
    return answer


def deliveries(server: ServerProcess, **query: str) -> dict[str, Any]:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    status, _, data = call(server, "GET", f"/__admin/webhooks/deliveries?{qs}", ADMIN)
    assert status == 200, data
    answer: dict[str, Any] = json.loads(data)
    return answer


def settled(server: ServerProcess, timeout: float = 10.0) -> dict[str, Any]:
    """The delivery records once nothing is pending any more."""
    deadline = time.monotonic() + timeout
    while True:
        answer = deliveries(server)
        if answer["pending"] == 0 or time.monotonic() > deadline:
            assert answer["pending"] == 0, f"still pending after {timeout} s: {answer}"
            return answer
        time.sleep(0.05)


def create(server: ServerProcess, email: str, tenant: str | None = None) -> str:
    headers = {"Authorization": "Bearer t", "Content-Type": "application/json", **({"X-Tenant-Id": tenant} if tenant else {})}
    status, _, data = call(server, "POST", "/customers", headers,
                           {"first_name": "Ada", "last_name": "Lovelace", "emails": [{"email": email}]})
    assert status == 201, data
    return str(json.loads(data)["data"]["id"])


# ---- independent verifiers, from each platform's documentation ----------------------------------


def _mac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _sort(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sort(value[k]) for k in sorted(value)}
    return [_sort(v) for v in value] if isinstance(value, list) else value


def signature_ok(flavour: str, hook: Delivery, secret: str) -> bool:
    body, headers = hook.body, {k.lower(): v for k, v in hook.headers.items()}
    if flavour == "canonical":
        try:
            Webhook(secret).verify(body, headers)
        except WebhookVerificationError:
            return False
        return True
    if flavour == "shopify":  # base64 HMAC-SHA256 of the raw body
        return headers["x-shopify-hmac-sha256"] == base64.b64encode(_mac(secret.encode(), body)).decode()
    if flavour == "truto":  # format=sha256,v=<hex HMAC of the body>
        return headers["x-truto-signature"] == "format=sha256,v=" + _mac(secret.encode(), body).hex()
    if flavour == "apideck":  # HMAC of the body with keys sorted recursively (base64: the mock's choice)
        canonical = json.dumps(_sort(json.loads(body)), separators=(",", ":"), ensure_ascii=False).encode()
        return headers["x-apideck-signature"] == base64.b64encode(_mac(secret.encode(), canonical)).decode()
    if flavour in ("ecwid", "myboxx"):  # base64 HMAC of "{eventCreated}.{eventId}"
        event = json.loads(body)
        event = event["data"]["attributes"] if flavour == "myboxx" else event
        message = f"{event['eventCreated']}.{event['eventId']}".encode()
        return headers["x-ecwid-webhook-signature"] == base64.b64encode(_mac(secret.encode(), message)).decode()
    assert flavour == "ecartapi"
    return headers["authorization"] == secret


def envelope_keys(flavour: str, hook: Delivery) -> set[str]:
    body = hook.json()
    if flavour == "apideck":
        return set(body["payload"])
    if flavour == "myboxx":
        return set(body["data"]["attributes"])
    return set(body) if isinstance(body, dict) else set()


ENVELOPES = {
    "canonical": {"type", "timestamp", "data"},
    "apideck": {"event_type", "entity_id", "entity_type", "entity_url", "service_id", "consumer_id", "unified_api",
                "event_id", "execution_attempt", "occurred_at"},
    "truto": {"id", "event", "payload", "environment_id", "webhook_id", "created_at"},
    "ecwid": {"eventId", "eventCreated", "storeId", "entityId", "eventType", "data"},
    "myboxx": {"eventId", "eventCreated", "storeId", "entityId", "eventType", "data"},
    "ecartapi": {"id", "event", "createdAt", "account", "data"},
}


# ---- one signed event per write, per dialect, whatever flavour wrote -----------------------------


@pytest.mark.parametrize("flavour", list(NAMES))
def test_every_write_through_any_flavour_arrives_once_signed_in_the_subscriptions_format(
        server: ServerProcess, receiver: WebhookReceiver, flavour: str) -> None:
    subscribe(server, url=receiver.url, flavour=flavour, secret=SECRETS[flavour], backoff_ms=50)
    customer = create(server, f"hook-{flavour}@example.com")  # canonical
    status, _, data = call(server, "PUT", f"{SHOPIFY_BASE}/{customer}.json", SHOPIFY,
                           {"customer": {"first_name": "Grace"}})  # shopify
    assert status == 200, data
    status, _, data = call(server, "DELETE", f"/ecwid/api/v3/1003/customers/{customer}", ECWID)  # ecwid
    assert status == 200, data

    created, updated, deleted = NAMES[flavour]
    hooks = receiver.wait_for(None, timeout=10, count=3)
    settled(server)
    # one each; in order when one worker sends them all (the platforms promise no order either)
    assert sorted(h.event or "" for h in receiver.deliveries) == sorted([created, updated, deleted])
    hooks = sorted(receiver.deliveries, key=lambda h: [created, updated, deleted].index(h.event or ""))
    for hook in receiver.deliveries:
        assert hook.method == "POST" and hook.path == "/webhooks"
        assert hook.headers["Content-Type"] == "application/json"
        assert signature_ok(flavour, hook, SECRETS[flavour]), (flavour, hook.headers, hook.body[:200])
        assert flavour == "canonical" or not signature_ok(flavour, hook, SECRETS[flavour] + "x")
        assert VERIFIERS[flavour](hook.body, hook.headers, SECRETS[flavour])  # the kit's verifier agrees
        assert not VERIFIERS[flavour](hook.body, hook.headers, SECRETS[flavour][:-1] + "=")
        if flavour in ENVELOPES:
            assert envelope_keys(flavour, hook) == ENVELOPES[flavour]
    if flavour == "shopify":
        first = hooks[0].headers
        assert first["X-Shopify-Topic"] == created and first["X-Shopify-Shop-Domain"] == "default.myshopify.com"
        assert {"X-Shopify-Webhook-Id", "X-Shopify-Event-Id", "X-Shopify-Triggered-At", "X-Shopify-API-Version",
                "X-Shopify-Hmac-Sha256"} <= set(first)  # names exactly as Shopify spells them
        assert hooks[0].json()["id"] == int(customer) and hooks[1].json()["first_name"] == "Grace"
        assert hooks[2].json()["id"] == int(customer)
    if flavour == "canonical":
        bodies = [h.json() for h in hooks]
        assert bodies[0]["data"]["id"] == customer and bodies[1]["data"]["first_name"] == "Grace"
        assert bodies[2]["data"] == {"id": customer}
    if flavour == "truto":
        assert hooks[0].json()["payload"]["record"]["id"] == customer and hooks[0].headers["User-Agent"] == "truto"
    if flavour == "ecwid":
        assert [h.json()["entityId"] for h in hooks] == [int(customer)] * 3 and hooks[2].json()["storeId"] == 1003


def test_many_concurrent_writes_across_both_workers_are_each_delivered_exactly_once(
        server: ServerProcess, receiver: WebhookReceiver) -> None:
    subscribe(server, url=receiver.url, flavour="canonical", secret=SECRETS["canonical"])
    start = threading.Barrier(4)

    def writer(thread: int) -> list[str]:
        start.wait()
        return [create(server, f"c{thread}-{i}@example.com") for i in range(15)]

    with ThreadPoolExecutor(4) as pool:
        created = {c for ids in pool.map(writer, range(4)) for c in ids}
    assert len(created) == 60
    receiver.wait_for("customer.created", timeout=20, count=60)
    records = settled(server)["deliveries"]
    time.sleep(0.5)  # generous: a late duplicate would arrive within the poll interval
    ids = [h.headers["webhook-id"] for h in receiver.deliveries]
    assert len(ids) == len(set(ids)) == 60
    assert {h.json()["data"]["id"] for h in receiver.deliveries} == created
    assert len(records) == 60, [(r["event_id"], r["attempt"], r["url"], r["time"]) for r in records]
    assert {r["attempt"] for r in records} == {1} and {r["outcome"] for r in records} == {"delivered"}


# ---- retries ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("flavour", "attempts"), [("truto", 4), ("shopify", 9)])
def test_a_failing_receiver_gets_the_documented_number_of_attempts_with_growing_gaps(
        server: ServerProcess, receiver: WebhookReceiver, flavour: str, attempts: int) -> None:
    receiver.fail_first(100, status=500)
    sub = subscribe(server, url=receiver.url, flavour=flavour, secret=SECRETS[flavour], backoff_ms=20)
    assert sub["max_attempts"] == attempts
    create(server, f"retry-{flavour}@example.com")
    receiver.wait_for(None, timeout=20, count=attempts)
    records = settled(server, timeout=20)["deliveries"]
    time.sleep(0.6)
    assert len(receiver.deliveries) == attempts  # and no more once it gave up
    assert [r["attempt"] for r in records] == list(range(1, attempts + 1))
    assert [r["outcome"] for r in records] == ["retrying"] * (attempts - 1) + ["failed"]
    assert {r["status"] for r in records} == {500}
    times = [h.time for h in receiver.deliveries]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[-1] > gaps[0] and gaps[-1] >= 0.02 * 2 ** (attempts - 2) * 0.9, gaps
    assert len({h.json().get("id", h.body) if flavour == "truto" else h.body for h in receiver.deliveries}) == 1


def test_a_receiver_that_recovers_gets_exactly_one_success(server: ServerProcess, receiver: WebhookReceiver) -> None:
    receiver.fail_first(2, status=503)
    sub = subscribe(server, url=receiver.url, flavour="apideck", secret=SECRETS["apideck"], backoff_ms=20)
    create(server, "recover@example.com")
    receiver.wait_for(None, timeout=10, count=3)
    records = settled(server)["deliveries"]
    time.sleep(0.5)
    assert [h.status for h in receiver.deliveries] == [503, 503, 200]
    assert [r["outcome"] for r in records] == ["retrying", "retrying", "delivered"]
    assert [h.json()["payload"]["execution_attempt"] for h in receiver.deliveries] == [1, 2, 3]
    assert deliveries(server, subscription=sub["id"], status="delivered")["deliveries"][0]["attempt"] == 3
    assert [r["attempt"] for r in deliveries(server, status="503")["deliveries"]] == [1, 2]
    event_id = records[0]["event_id"]
    assert len(deliveries(server, event=event_id)["deliveries"]) == 3
    assert len(deliveries(server, event="ecommerce.customer.created")["deliveries"]) == 3
    assert deliveries(server, event="ecommerce.customer.deleted")["deliveries"] == []


# ---- deliberate failures, tenants ------------------------------------------------------------------


def test_wrong_signature_mode_signs_with_another_secret(server: ServerProcess, receiver: WebhookReceiver) -> None:
    subscribe(server, url=receiver.url, flavour="canonical", secret=SECRETS["canonical"], failure="wrong_signature")
    subscribe(server, url=receiver.url, flavour="shopify", secret=SECRETS["shopify"], failure="wrong_signature")
    create(server, "wrong@example.com")
    receiver.wait_for(None, count=2)
    for hook in receiver.deliveries:
        flavour = "shopify" if "X-Shopify-Topic" in hook.headers else "canonical"
        assert not signature_ok(flavour, hook, SECRETS[flavour])


def test_duplicate_mode_delivers_each_event_twice_with_the_same_id(server: ServerProcess,
                                                                   receiver: WebhookReceiver) -> None:
    subscribe(server, url=receiver.url, flavour="shopify", secret=SECRETS["shopify"], failure="duplicate")
    create(server, "dup1@example.com")
    create(server, "dup2@example.com")
    receiver.wait_for("customers/create", count=4)
    settled(server)
    ids = [h.headers["X-Shopify-Webhook-Id"] for h in receiver.deliveries]
    assert len(ids) == 4 and len(set(ids)) == 2 and all(ids.count(i) == 2 for i in ids)
    assert all(signature_ok("shopify", h, SECRETS["shopify"]) for h in receiver.deliveries)


def test_out_of_order_mode_swaps_each_pair_of_events(server: ServerProcess, receiver: WebhookReceiver) -> None:
    subscribe(server, url=receiver.url, flavour="truto", secret=SECRETS["truto"], failure="out_of_order")
    first = create(server, "first@example.com")
    second = create(server, "second@example.com")
    receiver.wait_for(None, count=2)
    assert [h.json()["payload"]["record"]["id"] for h in receiver.deliveries] == [second, first]
    third = create(server, "third@example.com")  # no follower: sent anyway after the hold (1 s)
    started = time.monotonic()
    receiver.wait_for(None, count=3, timeout=5)
    assert receiver.deliveries[2].json()["payload"]["record"]["id"] == third and time.monotonic() - started >= 0.5


def test_a_tenants_subscription_gets_only_that_tenants_writes(server: ServerProcess, receiver: WebhookReceiver) -> None:
    subscribe(server, url=receiver.url, flavour="ecwid", secret=SECRETS["ecwid"], tenant="101")
    for store in ("202", "101"):
        status, _, data = call(server, "POST", f"/ecwid/api/v3/{store}/customers", ECWID,
                               {"email": f"t{store}@example.com", "billingPerson": {"firstName": "T"}})
        assert status == 200, data
    create(server, "other-tenant@example.com", tenant="101")  # canonical's X-Tenant-Id names the same tenant
    receiver.wait_for(None, count=2)
    settled(server)
    time.sleep(0.3)
    assert [h.json()["storeId"] for h in receiver.deliveries] == [101, 101]
    assert len(receiver.deliveries) == 2


def test_failed_writes_and_reads_send_nothing(server: ServerProcess, receiver: WebhookReceiver) -> None:
    subscribe(server, url=receiver.url, flavour="canonical", secret=SECRETS["canonical"])
    headers = {"Authorization": "Bearer t", "Content-Type": "application/json"}
    assert call(server, "POST", "/customers", headers, {"emails": "not a list"})[0] == 422
    assert call(server, "DELETE", "/customers/999999999999", headers)[0] == 404
    assert call(server, "GET", "/customers?limit=5", headers)[0] == 200
    time.sleep(0.5)
    assert receiver.deliveries == [] and deliveries(server) == {"deliveries": [], "pending": 0}


def test_subscriptions_are_masked_listed_deleted_and_reset(server: ServerProcess, receiver: WebhookReceiver) -> None:
    sub = subscribe(server, url=receiver.url, flavour="truto")
    assert len(sub["secret"]) == 36  # a UUID, shown once
    status, _, data = call(server, "GET", "/__admin/webhooks", ADMIN)
    assert status == 200 and [w["secret"] for w in json.loads(data)["webhooks"]] == ["***"]
    status, _, data = call(server, "GET", f"/__admin/webhooks/{sub['id']}", ADMIN)
    assert status == 200 and json.loads(data)["secret"] == "***" and json.loads(data)["max_attempts"] == 4
    assert call(server, "DELETE", f"/__admin/webhooks/{sub['id']}", ADMIN)[0] == 204
    assert call(server, "DELETE", f"/__admin/webhooks/{sub['id']}", ADMIN)[0] == 404
    create(server, "nobody@example.com")
    subscribe(server, url=receiver.url, flavour="truto")
    assert call(server, "POST", "/__admin/reset", ADMIN)[0] == 204
    assert json.loads(call(server, "GET", "/__admin/webhooks", ADMIN)[2]) == {"webhooks": []}
    time.sleep(0.3)
    assert receiver.deliveries == []


def test_a_receiver_that_is_down_is_logged_once_per_attempt_without_a_traceback(tmp_path: Any) -> None:
    with ServerProcess(Settings(seed=1, count=5, workers=2)) as running:
        subscribe(running, url="http://127.0.0.1:9/down", flavour="canonical", max_attempts=2, backoff_ms=10)
        create(running, "down@example.com")
        records = settled(running)["deliveries"]
        output = running.stop()
    assert [r["outcome"] for r in records] == ["retrying", "failed"]
    assert all(r["status"] is None and "Connection" in r["error"] for r in records)
    lines = [line for line in output.splitlines() if "webhook wh_" in line]
    assert len(lines) == 2 and "gave up after 2 attempts" in lines[1], output[-2000:]
    assert "Traceback" not in output


def test_an_attempt_leased_by_a_worker_that_died_is_made_by_another_once_the_lease_runs_out() -> None:
    """The receiver holds the first attempt unanswered; both workers are killed meanwhile (the one
    delivering among them); their replacements take the attempt over when its lease runs out."""
    import os
    import signal
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from mockserver.delivery import LEASE_SECONDS

    arrived: list[tuple[float, str]] = []
    release = threading.Event()

    class Holding(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            arrived.append((time.monotonic(), self.headers["webhook-id"]))
            if len(arrived) == 1:
                release.wait(LEASE_SECONDS * 3)  # never answers while the test runs
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Holding)
    receiver.daemon_threads = True
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        with ServerProcess(Settings(seed=1, count=5, workers=2)) as running:
            subscribe(running, url=f"http://127.0.0.1:{receiver.server_address[1]}/", flavour="canonical",
                      secret=SECRETS["canonical"])
            create(running, "lease@example.com")
            deadline = time.monotonic() + 10
            while not arrived and time.monotonic() < deadline:
                time.sleep(0.02)
            assert len(arrived) == 1
            health = json.loads(call(running, "GET", "/__admin/health", ADMIN)[2])
            for pid in health["workers"]["live"]:
                os.kill(pid, signal.SIGKILL)
            records = settled(running, timeout=LEASE_SECONDS * 2 + 10)["deliveries"]
    finally:
        release.set()
        receiver.shutdown()
    assert len(arrived) == 2 and arrived[0][1] == arrived[1][1]  # the same event, once more
    assert arrived[1][0] - arrived[0][0] >= LEASE_SECONDS * 0.8  # not before the lease ran out
    assert [(r["attempt"], r["outcome"]) for r in records] == [(1, "delivered")]


def test_writes_through_ecartapi_and_myboxx_send_events_too(server: ServerProcess, receiver: WebhookReceiver) -> None:
    subscribe(server, url=receiver.url, flavour="canonical", secret=SECRETS["canonical"])
    status, _, data = call(server, "POST", "/ecartapi/api/v2/customers", {"Authorization": "tok", "Content-Type": "application/json"},
                           {"firstName": "E", "lastName": "Cart", "email": "ecart@example.com"})
    assert status == 200, data
    ecart = json.loads(data)["customer"]["id"]
    status, _, data = call(server, "POST", "/myboxx/api/json/v1/ecwid/add_customer",
                           {"Authorization": "Bearer tok", "Content-Type": "application/json"},
                           {"email": "boxx@example.com", "billingPerson": {"firstName": "M"}})
    assert status == 200, data
    boxx = json.loads(data)["data"]["id"]
    hooks = receiver.wait_for("customer.created", count=2)
    assert {h.json()["data"]["id"] for h in hooks} == {ecart, boxx}
    assert all(signature_ok("canonical", h, SECRETS["canonical"]) for h in hooks)
