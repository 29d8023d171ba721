"""Ecwid's and Shopify's unhappy paths on a real server (gunicorn, two workers, sockets).

Quotas are counted in the store both workers share: twenty clients at once get exactly the
configured number of answers, never one more. The official ``ShopifyAPI`` client (pinned in the
test dependencies) raises its own error classes for the mock's 429, 401 and 402.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver import ServerProcess, Settings

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": "Bearer admin", "Content-Type": "application/json"}
VERSION = "2024-10"
FROZEN = 1_800_000_000
CLIENTS = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    state = str(tmp_path_factory.mktemp("unhappy-b") / "state.sqlite3")
    with ServerProcess(Settings(seed=14, count=20, workers=2, state=state)) as running:
        yield running


@pytest.fixture
def mock(server: ServerProcess) -> Iterator[ServerProcess]:
    yield server
    assert call(server, "POST", "/__admin/reset", headers=ADMIN)[0] == 204  # controls as at start


def call(server: ServerProcess, method: str, path: str, body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{server.url}{path}", data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def admin(server: ServerProcess, path: str, body: Any) -> None:
    status, _, text = call(server, "PUT", f"/__admin/{path}", body, ADMIN)
    assert status == 200, text


def at_once(server: ServerProcess, path: str, headers: dict[str, str]) -> list[tuple[int, dict[str, str], bytes]]:
    """``CLIENTS`` requests released together, each from its own thread and connection (header names in
    lower case)."""
    start = threading.Barrier(CLIENTS)
    answers: list[tuple[int, dict[str, str], bytes]] = []

    def one() -> None:
        start.wait()
        answers.append(call(server, "GET", path, headers=headers))

    threads = [threading.Thread(target=one) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == CLIENTS
    return answers


@pytest.mark.parametrize(("flavour", "path", "headers", "quota"), [
    ("shopify", f"/shopify/admin/api/{VERSION}/customers.json?limit=2",
     {"X-Shopify-Access-Token": "shpat_b", "Host": "acme.myshopify.com"}, 7),
    ("ecwid", "/ecwid/api/v3/1003/customers?limit=2", {"Authorization": "Bearer secret_b"}, 5),
])
def test_concurrent_clients_get_exactly_the_quota(mock: ServerProcess, flavour: str, path: str,
                                                   headers: dict[str, str], quota: int) -> None:
    admin(mock, "clock", {"frozen_at": FROZEN})  # no bucket leaks and no window ends during the burst
    admin(mock, "rate-limits", {"enabled": True, "flavours": {flavour: {"limit": quota}}})
    answers = at_once(mock, path, headers)
    assert Counter(status for status, _, _ in answers) == {200: quota, 429: CLIENTS - quota}
    refused = [(h, json.loads(b)) for s, h, b in answers if s == 429]
    if flavour == "shopify":
        assert all(h["x-shopify-shop-api-call-limit"] == f"{quota}/{quota}" and h["retry-after"] == "0.5"
                   for h, _ in refused)
        used = sorted(int(h["x-shopify-shop-api-call-limit"].split("/")[0]) for s, h, _ in answers if s == 200)
        assert used == list(range(1, quota + 1))  # every level of the bucket given out once
    else:
        assert all(b["errorCode"] == "RATE_LIMITED" and int(h["retry-after"]) == 60 - FROZEN % 60
                   for h, b in refused)


def test_a_connection_state_reaches_both_workers(mock: ServerProcess) -> None:
    admin(mock, "tenants/1003", {"state": "disabled"})
    answers = at_once(mock, "/ecwid/api/v3/1003/customers", {"Authorization": "Bearer secret_b"})
    assert {(s, json.loads(b)["errorCode"]) for s, _, b in answers} == {(402, "STORE_IS_SUSPENDED")}


@pytest.fixture
def shopify(mock: ServerProcess) -> Iterator[Any]:
    import shopify

    session = shopify.Session("mock-shop.myshopify.com", VERSION, "shpat_b")
    shopify.ShopifyResource.activate_session(session)
    shopify.ShopifyResource.site = f"{mock.url}/shopify/admin/api/{VERSION}"
    yield shopify
    shopify.ShopifyResource.clear_session()


def test_shopify_api_raises_its_client_error_on_the_mocks_429(mock: ServerProcess, shopify: Any) -> None:
    from pyactiveresource.connection import ClientError

    admin(mock, "clock", {"frozen_at": FROZEN})
    admin(mock, "rate-limits", {"enabled": True, "flavours": {"shopify": {"limit": 2}}})
    assert len(shopify.Customer.find(limit=3)) == 3
    assert shopify.Customer.count() == 20
    with pytest.raises(ClientError) as raised:
        shopify.Customer.find(limit=3)
    assert raised.value.response.code == 429
    # NOTE: pyactiveresource keeps header names as sent; Falcon sends them in lower case
    assert {k.lower(): v for k, v in raised.value.response.headers.items()}["retry-after"] == "0.5"
    assert json.loads(raised.value.response.body)["errors"].startswith("Exceeded 2 calls per second")


@pytest.mark.parametrize(("state", "error", "status"), [
    ("unauthorized", "UnauthorizedAccess", 401), ("disabled", "ClientError", 402), ("not_found", "ResourceNotFound", 404),
    ("downstream_error", "ServerError", 503),
])
def test_shopify_api_raises_its_own_error_for_each_connection_state(mock: ServerProcess, shopify: Any, state: str,
                                                                    error: str, status: int) -> None:
    from pyactiveresource import connection

    admin(mock, "tenants/default", {"state": state})  # the client reaches the mock by address: the default shop
    with pytest.raises(getattr(connection, error)) as raised:
        shopify.Customer.find()
    assert raised.value.code == status
