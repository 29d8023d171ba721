"""Webhook subscriptions through the admin API and the config file, and the outbox's guarantees, in-process.

Validation names the key at fault (422 problem+json), fuzzed bodies never get a 5xx, a reset keeps
the config file's subscriptions only, and two outboxes on one file (two workers) never lease the same
attempt twice, while a lease that runs out lets another worker make the attempt.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from falcon.testing import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver import Settings, create_app
from mockserver.errors import InvalidSettings
from mockserver.outbox import MAX_ROWS, Attempt, LocalOutbox
from mockserver.webhooks import Event, Subscription

ADMIN = {"Authorization": "Bearer admin"}
URL = "http://127.0.0.1:9/hooks"  # nothing writes a customer here: no delivery is ever attempted


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    state = tmp_path_factory.mktemp("webhooks") / "state.sqlite3"
    return TestClient(create_app(Settings(seed=3, count=10, state=str(state))), headers=ADMIN)


def _post(client: TestClient, body: Any) -> Any:
    return client.simulate_post("/__admin/webhooks", json=body)


@pytest.mark.parametrize(("body", "key"), [
    ({"flavour": "shopify"}, "url"),
    ({"url": "ftp://127.0.0.1/x", "flavour": "shopify"}, "url"),
    ({"url": "http:///nohost", "flavour": "shopify"}, "url"),
    ({"url": "http://127.0.0.1:99999/x", "flavour": "shopify"}, "url"),
    ({"url": URL, "flavour": "woo"}, "flavour"),
    ({"url": URL}, "flavour"),
    ({"url": URL, "flavour": "shopify", "events": ["customer.created"]}, "events"),
    ({"url": URL, "flavour": "shopify", "events": []}, "events"),
    ({"url": URL, "flavour": "truto", "failure": "explode"}, "failure"),
    ({"url": URL, "flavour": "truto", "max_attempts": 0}, "max_attempts"),
    ({"url": URL, "flavour": "truto", "max_attempts": True}, "max_attempts"),
    ({"url": URL, "flavour": "truto", "backoff_ms": 10**9}, "backoff_ms"),
    ({"url": URL, "flavour": "truto", "tenant": ""}, "tenant"),
    ({"url": URL, "flavour": "canonical", "secret": "not-whsec"}, "secret"),
    ({"url": URL, "flavour": "canonical", "secret": "whsec_c2hvcnQ="}, "secret"),
    ({"url": URL, "flavour": "ecwid", "secret": ""}, "secret"),
    ({"url": URL, "flavour": "ecwid", "colour": "red"}, "colour"),
    (["not", "an", "object"], "body"),
])
def test_a_bad_subscription_is_a_422_naming_its_key(client: TestClient, body: Any, key: str) -> None:
    answer = _post(client, body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json["errors"][0]["name"] == key and answer.json["detail"].startswith(f"{key}:")


def test_defaults_follow_the_platform_and_the_secret_is_shown_once(client: TestClient) -> None:
    client.simulate_post("/__admin/reset")
    made = {flavour: _post(client, {"url": URL, "flavour": flavour}).json
            for flavour in ("canonical", "apideck", "truto", "ecwid", "myboxx", "shopify", "ecartapi")}
    assert {f: s["max_attempts"] for f, s in made.items()} == {
        "canonical": 10, "apideck": 10, "truto": 4, "ecwid": 193, "myboxx": 193, "shopify": 9, "ecartapi": 4}
    assert made["ecwid"]["schedule"] == "fixed" and made["shopify"]["schedule"] == "exponential"
    assert made["canonical"]["secret"].startswith("whsec_") and made["shopify"]["events"] == [
        "customers/create", "customers/update", "customers/delete"]
    listed = client.simulate_get("/__admin/webhooks").json["webhooks"]
    assert {s["secret"] for s in listed} == {"***"} and len(listed) == 7
    assert not any(s["secret"] in client.simulate_get("/__admin/webhooks").text for s in made.values())
    assert client.simulate_get(f"/__admin/webhooks/{made['truto']['id']}").json["secret"] == "***"
    client.simulate_post("/__admin/reset")
    assert client.simulate_get("/__admin/webhooks").json == {"webhooks": []}


def test_unknown_ids_and_bad_filters_are_4xx(client: TestClient) -> None:
    assert client.simulate_get("/__admin/webhooks/wh_nope").status_code == 404
    assert client.simulate_delete("/__admin/webhooks/wh_nope").status_code == 404
    bad = client.simulate_get("/__admin/webhooks/deliveries", params={"status": "lost"})
    assert bad.status_code == 422 and bad.json["errors"][0]["name"] == "status"
    assert client.simulate_get("/__admin/webhooks/deliveries", params={"limit": "0"}).status_code == 400
    assert client.simulate_get("/__admin/webhooks", headers={"Authorization": ""}).status_code == 401


_values = st.one_of(st.none(), st.booleans(), st.integers(-2, 10**6), st.text(max_size=30),
                    st.lists(st.text(max_size=20), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))
_bodies = st.one_of(
    st.fixed_dictionaries({}, optional={
        "url": st.one_of(_values, st.sampled_from(["http://127.0.0.1:9/h", "https://[::1]:9/h", "http://a b/", "http://:0"])),
        "flavour": st.one_of(_values, st.sampled_from(["shopify", "canonical", "ecwid", "truto"])),
        "events": st.one_of(_values, st.lists(st.sampled_from(["customers/create", "customer.created", "record:updated"]))),
        "secret": _values, "tenant": _values, "max_attempts": _values, "backoff_ms": _values,
        "failure": st.one_of(_values, st.sampled_from(["duplicate", "out_of_order"])),
    }),
    _values,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_bodies)
def test_fuzzed_subscription_bodies_never_get_a_5xx(client: TestClient, body: Any) -> None:
    answer = client.simulate_post("/__admin/webhooks", body=json.dumps(body), headers={"Content-Type": "application/json"})
    assert answer.status_code in (201, 400, 422), answer.text
    if answer.status_code != 201:
        assert answer.headers["content-type"] == "application/problem+json" and answer.json["errors"]


def test_the_config_files_subscriptions_survive_a_reset(tmp_path: Path) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text("webhooks:\n  - url: http://127.0.0.1:9/hooks\n    flavour: shopify\n    secret: s3cret\n"
                      "    tenant: shop-1\n", encoding="utf-8")
    client = TestClient(create_app(Settings(seed=3, count=5, config=str(config), state=str(tmp_path / "s"))),
                        headers=ADMIN)
    [configured] = client.simulate_get("/__admin/webhooks").json["webhooks"]
    assert configured["configured"] is True and configured["tenant"] == "shop-1" and configured["secret"] == "***"
    assert _post(client, {"url": URL, "flavour": "truto"}).status_code == 201
    client.simulate_post("/__admin/reset")
    assert [s["id"] for s in client.simulate_get("/__admin/webhooks").json["webhooks"]] == [configured["id"]]


@pytest.mark.parametrize(("text", "where"), [
    ("webhooks:\n  - url: ftp://x\n    flavour: shopify\n", "webhooks[0].url"),
    ("webhooks:\n  - url: http://127.0.0.1/x\n    flavour: nope\n", "webhooks[0].flavour"),
    ("webhooks: {url: http://127.0.0.1/x}\n", "webhooks"),
])
def test_a_bad_config_file_entry_stops_the_server_naming_the_key(tmp_path: Path, text: str, where: str) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidSettings, match=rf"{where.replace('[', '.').replace(']', '.')}: "):
        create_app(Settings(seed=3, count=5, config=str(config), state=str(tmp_path / "s")))


# ---- the outbox ------------------------------------------------------------------------------------


def _subscription(**changes: Any) -> Subscription:
    values: dict[str, Any] = {"id": "wh_1", "url": URL, "flavour": "truto", "events": ("record:created",),
                              "secret": "s", "max_attempts": 3, "backoff_ms": 10}
    return Subscription(**{**values, **changes})


def _event(n: int) -> Event:
    return Event(f"00000000-0000-0000-0000-{n:012d}", "created", str(n), "default", {"id": str(n)}, "canonical",
                 time.time())


def _attempt(status: int | None) -> Attempt:
    return Attempt("record:created", URL, {}, status, None if status else "down", 1.0, time.time())


def test_two_workers_never_lease_the_same_attempt_and_a_lost_lease_passes_it_on(tmp_path: Path) -> None:
    sub = _subscription()
    first = LocalOutbox(str(tmp_path / "w"), [sub])
    second = _attach(str(tmp_path / "w"))  # a second worker's view of the same file
    assert first.enqueue(_event(1), [(sub, "record:created")]) == 1
    now = time.time()
    claims = first.claim(now, 10, lease=0.2)
    assert len(claims) == 1 and second.claim(now, 10, lease=0.2) == []
    later = now + 0.3  # the first worker died mid-delivery: its lease ran out
    [again] = second.claim(later, 10, lease=5)
    assert again.attempt == 1 and first.finish(claims[0], _attempt(200), later) == "delivered"
    assert second.finish(again, _attempt(200), later) is None  # the row moved on: recorded once
    assert [d["attempt"] for d in first.deliveries()] == [1] and first.pending() == 0


def test_retries_then_give_up_after_max_attempts(tmp_path: Path) -> None:
    sub = _subscription(max_attempts=3, backoff_ms=10)
    box = LocalOutbox(str(tmp_path / "w"), [sub])
    box.enqueue(_event(1), [(sub, "record:created")])
    now, outcomes, dues = time.time(), [], []
    for _ in range(3):
        [claim] = box.claim(now, 10, 5)
        outcomes.append(box.finish(claim, _attempt(500), now))
        dues.append(box.deliveries()[-1]["next_attempt"])
        now += 1
    assert outcomes == ["retrying", "retrying", "failed"] and dues[-1] is None and box.claim(now, 10, 5) == []
    assert box.pending() == 0


def test_the_outbox_and_its_records_stay_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mockserver import outbox

    monkeypatch.setattr(outbox, "MAX_ROWS", 20)
    sub = _subscription()
    box = LocalOutbox(str(tmp_path / "w"), [sub])
    for n in range(50):
        box.enqueue(_event(n), [(sub, "record:created")])
    assert box.pending() == 20
    for claim in box.claim(time.time(), 100, 5):
        box.finish(claim, _attempt(200), time.time())
    for n in range(50, 80):
        box.enqueue(_event(n), [(sub, "record:created")])
        for claim in box.claim(time.time(), 100, 5):
            box.finish(claim, _attempt(200), time.time())
    assert len(box.deliveries(limit=10_000)) == 20 and outbox.MAX_ROWS == 20 < MAX_ROWS


def _attach(path: str) -> LocalOutbox:
    """Another process's handle on an existing outbox file (the constructor would reset it)."""
    import threading

    from mockserver.store import ChangeCounter

    box = LocalOutbox.__new__(LocalOutbox)
    box.path, box._lock, box._conn, box._pid = path, threading.Lock(), None, -1
    box._changes, box._seen, box._subs = ChangeCounter(path + "-changes"), -1, ()
    return box


def test_serve_stops_before_starting_on_a_bad_webhook_entry_naming_file_line_and_key(tmp_path: Path) -> None:
    import subprocess
    import sys

    config = tmp_path / "mock.yaml"
    config.write_text("seed: 3\nwebhooks:\n  - url: http://127.0.0.1:9/x\n    flavour: shopify\n"
                      "  - url: gopher://x\n    flavour: shopify\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "mockserver", "serve", "--config", str(config), "--port", "0"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert f"{config}:5: webhooks[1].url: must be an absolute http:// or https:// URL" in run.stderr


def test_an_in_process_apps_delivery_thread_delivers_and_ends_with_the_app(tmp_path: Path) -> None:
    import gc
    import threading

    from contracts.webhooks import WebhookReceiver

    def threads() -> int:
        return sum(1 for t in threading.enumerate() if t.name == "webhook-delivery")

    before = threads()
    receiver = WebhookReceiver().start()
    try:
        client = TestClient(create_app(Settings(seed=3, count=5, state=str(tmp_path / "s"))), headers=ADMIN)
        assert _post(client, {"url": receiver.url, "flavour": "ecartapi", "secret": "tok"}).status_code == 201
        assert client.simulate_post("/customers", json={"first_name": "A", "last_name": "B"}).status_code == 201
        [hook] = receiver.wait_for("customer.created")
        assert hook.headers["Authorization"] == "tok" and threads() == before + 1
        records: list[Any] = []
        deadline = time.monotonic() + 5
        while not records and time.monotonic() < deadline:
            records = client.simulate_get("/__admin/webhooks/deliveries").json["deliveries"]
        assert records[0]["request_headers"]["Authorization"] == "***"  # the token is no record's business
        del client, hook
        deadline = time.monotonic() + 5
        while threads() > before and time.monotonic() < deadline:
            gc.collect()
            time.sleep(0.05)
        assert threads() == before
    finally:
        receiver.stop()


def test_a_write_whose_event_cannot_be_queued_still_answers_its_success(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    from mockserver.app import context_of
    from mockserver.errors import ServiceUnavailable

    app = create_app(Settings(seed=3, count=5, state=str(tmp_path / "s")))
    client = TestClient(app, headers=ADMIN)
    assert _post(client, {"url": URL, "flavour": "truto"}).status_code == 201

    def unavailable(*_: Any) -> int:
        raise ServiceUnavailable("the outbox is locked")

    monkeypatch.setattr(context_of(app).webhooks.outbox, "enqueue", unavailable)
    answer = client.simulate_post("/customers", json={"first_name": "A", "last_name": "B"})
    assert answer.status_code == 201  # the customer exists: its answer must say so
    assert "not queued: the outbox is locked" in caplog.text
