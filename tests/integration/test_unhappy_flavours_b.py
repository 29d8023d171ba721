"""The four flavours' (Ecwid, myBoxx, Shopify, ecartAPI) unhappy paths on a real server (gunicorn, two workers).

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


ECARTAPI_TOKEN = "eyJhbGciOiJIUzUxMiJ9.eyJpc3MiOiIxMDAzIiwiaWF0IjoxfQ.c2ln"  # {"iss": "1003", "iat": 1}
TARGETS = {  # the list request of each flavour for tenant 1003
    "shopify": (f"/shopify/admin/api/{VERSION}/customers.json?limit=2",
                {"X-Shopify-Access-Token": "shpat_b", "Host": "1003.myshopify.com"}),
    "ecwid": ("/ecwid/api/v3/1003/customers?limit=2", {"Authorization": "Bearer secret_b"}),
    "myboxx": ("/myboxx/api/json/v1/ecwid/customers?limit=2", {"Authorization": "Bearer 1003"}),
    "ecartapi": ("/ecartapi/api/v2/customers?limit=2", {"Authorization": ECARTAPI_TOKEN}),
}


@pytest.mark.parametrize(("flavour", "quota"), [("shopify", 7), ("ecwid", 5), ("myboxx", 3), ("ecartapi", 9)])
def test_concurrent_clients_get_exactly_the_quota(mock: ServerProcess, flavour: str, quota: int) -> None:
    path, headers = TARGETS[flavour]
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
        assert all(int(h["retry-after"]) == 60 - FROZEN % 60 for h, _ in refused)
        said = {"ecwid": lambda b: b["errorCode"], "myboxx": lambda b: b["errors"]["title"],
                "ecartapi": lambda b: b["error"]["type"]}[flavour]
        assert {said(b) for _, b in refused} == {
            {"ecwid": "RATE_LIMITED", "myboxx": "Too Many Requests", "ecartapi": "rate-limited"}[flavour]}


def test_a_connection_state_reaches_both_workers(mock: ServerProcess) -> None:
    admin(mock, "tenants/1003", {"state": "disabled"})
    answers = at_once(mock, "/ecwid/api/v3/1003/customers", {"Authorization": "Bearer secret_b"})
    assert {(s, json.loads(b)["errorCode"]) for s, _, b in answers} == {(402, "STORE_IS_SUSPENDED")}


STATES = {  # status and what the body says, per flavour and state
    "ecwid": {"unauthorized": (403, "INVALID_API_TOKEN"), "disabled": (402, "STORE_IS_SUSPENDED"),
              "not_found": (404, "STORE_NOT_FOUND"), "downstream_error": (500, "INTERNAL_ERROR")},
    "myboxx": {"unauthorized": (403, "Forbidden"), "disabled": (402, "Payment Required"),
               "not_found": (404, "Not Found"), "downstream_error": (500, "Internal Server Error")},
    "shopify": {"unauthorized": (401, "[API] Invalid API key or access token (unrecognized login or wrong password)"),
                "disabled": (402, "Unavailable Shop"), "not_found": (404, "Not Found"),
                "downstream_error": (503, "Service Unavailable")},
    "ecartapi": {"unauthorized": (401, "connection-unauthorized"), "disabled": (403, "connection-disabled"),
                 "not_found": (404, "connection-not-found"), "downstream_error": (502, "connection-downstream-error")},
}


def test_each_connection_state_in_each_flavours_format(mock: ServerProcess) -> None:
    said = {"ecwid": lambda b: b["errorCode"], "myboxx": lambda b: b["errors"]["title"],
            "shopify": lambda b: b["errors"], "ecartapi": lambda b: b["error"]["type"]}
    for state in ("unauthorized", "disabled", "not_found", "downstream_error"):
        admin(mock, "tenants/1003", {"state": state})
        for flavour, (path, headers) in TARGETS.items():
            status, _, body = call(mock, "GET", path, headers=headers)
            assert (status, said[flavour](json.loads(body))) == STATES[flavour][state], (flavour, state)


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
