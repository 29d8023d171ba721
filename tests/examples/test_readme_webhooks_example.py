"""Webhooks from a test with the pytest plugin (the README's example, copied there verbatim)."""

import httpx

from contracts.webhooks import verify_shopify


def create(server, **customer):
    return httpx.post(server.url_for("/customers"), json=customer,
                      headers={"Authorization": f"Bearer {server.token}"}).json()["data"]


def test_my_app_gets_a_signed_customers_create(mock_server, webhook_receiver):
    """Shopify's topic, headers and HMAC, for a customer created through any flavour (canonical here)."""
    mock_server.subscribe(webhook_receiver.url, "shopify", secret="my-app-secret")
    customer = create(mock_server, first_name="Ada", last_name="Lovelace")
    [hook] = webhook_receiver.wait_for("customers/create", timeout=5)
    assert verify_shopify(hook.body, hook.headers, "my-app-secret")
    assert hook.headers["X-Shopify-Topic"] == "customers/create"
    assert hook.json()["id"] == int(customer["id"])


def test_my_app_survives_retries(mock_server, webhook_receiver):
    """The receiver answers 500 twice: Truto retries (3 times at most), the same event each time."""
    webhook_receiver.fail_first(2, status=500)
    mock_server.subscribe(webhook_receiver.url, "truto", backoff_ms=50)
    create(mock_server, first_name="Grace", last_name="Hopper")
    hooks = webhook_receiver.wait_for("record:created", timeout=5, count=3)
    assert [hook.status for hook in hooks] == [500, 500, 200]
    assert len({hook.json()["id"] for hook in hooks}) == 1
