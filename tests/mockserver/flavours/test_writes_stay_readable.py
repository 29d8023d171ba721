"""Regressions of issue 11, section 3: a valid write never breaks a read, in any flavour.

Every response is judged by the flavour's own document (tests/fixtures/documents.py); the
expected values come from the written input, not from the flavours' mapping functions.
"""

from __future__ import annotations

from typing import Any

import falcon.testing
import pytest

from mockserver import FLAVOURS, Settings, create_app
from tests.fixtures.documents import document

HEADERS = {"Authorization": "Bearer secret_test-token", "x-apideck-consumer-id": "c", "x-apideck-app-id": "a"}
HUGE = "10000000000000000000000000000.00"  # 29 integer digits: past decimal's default 28-digit context


@pytest.fixture
def client(tmp_path: Any) -> falcon.testing.TestClient:
    app = create_app(Settings(seed=7, count=20, state=str(tmp_path / "state.sqlite3")))
    return falcon.testing.TestClient(app, headers=HEADERS)


def reads(cid: str) -> list[tuple[str, str, str]]:
    """(flavour, path under the mount, query) of every read that holds customer ``cid``.

    Every registered flavour's own get (``example.item_path``) comes first, then the variants and
    the lists large enough to hold the written customer (one per flavour: a guard test checks).
    """
    truto = "integrated_account_id=acct"
    examples = [(name, FLAVOURS.get(name).example.item_path.format(id=cid), FLAVOURS.get(name).example.item_query)
                for name in FLAVOURS.names()]
    return list(dict.fromkeys(examples + [
        ("canonical", f"/customers/{cid}", ""),
        ("canonical", "/customers", "limit=200"),
        ("ecwid", f"/api/v3/1/customers/{cid}", ""),
        ("ecwid", "/api/v3/1/customers", ""),
        ("myboxx", f"/api/json/v1/ecwid/customer/{cid}", ""),
        ("myboxx", "/api/json/v1/ecwid/customers", ""),
        ("ecartapi", f"/api/v2/customers/{cid}", ""),
        ("ecartapi", f"/api/v2/customers/{cid}/orders", ""),
        ("ecartapi", "/api/v2/customers", "limit=250"),
        ("truto", f"/unified/ecommerce/customers/{cid}", truto),
        ("truto", "/unified/ecommerce/customers", f"{truto}&limit=100"),
        ("apideck", f"/ecommerce/customers/{cid}", "raw=true"),
        ("apideck", "/ecommerce/customers", "raw=true&limit=200"),
        ("shopify", f"/admin/api/2024-10/customers/{cid}.json", ""),
        ("shopify", "/admin/api/2024-10/customers.json", "limit=250"),
    ]))


def test_every_flavour_has_a_list_that_holds_the_written_customer() -> None:
    lists = {flavour for flavour, path, _ in reads("123") if "123" not in path}
    assert lists == set(FLAVOURS.names())


def read_all(client: falcon.testing.TestClient, cid: str) -> dict[tuple[str, str], Any]:
    bodies = {}
    for flavour, path, query in reads(cid):
        result = client.simulate_get(f"/{flavour}{path}", query_string=query,
                                     headers=dict(FLAVOURS.get(flavour).example.credentials("test-token")))
        assert result.status_code == 200, (flavour, path, result.text)
        document(flavour).check_response("GET", path, 200, result.json)
        bodies[flavour, path] = result.json
    return bodies


def create(client: falcon.testing.TestClient, body: dict[str, Any]) -> str:
    result = client.simulate_post("/canonical/customers", json=body)
    assert result.status_code == 201, result.text
    return str(result.json["data"]["id"])


def test_an_order_total_past_28_digits_is_readable_everywhere(client: falcon.testing.TestClient) -> None:
    cid = create(client, {"name": "Big Spender", "orders": [{"id": "o1", "total": HUGE}]})
    bodies = read_all(client, cid)
    stats = bodies["ecwid", f"/api/v3/1/customers/{cid}"]["stats"]
    assert stats["salesValue"] == pytest.approx(1e28) and stats["averageOrderValue"] == pytest.approx(1e28)


def test_the_longest_totals_the_document_allows_are_readable(client: falcon.testing.TestClient) -> None:
    longest = "9" * 252 + ".99"  # maxLength 255
    assert len(longest) == 255
    cid = create(client, {"name": "Max", "orders": [{"id": f"o{n}", "total": longest} for n in range(20)]})
    stats = read_all(client, cid)["ecwid", f"/api/v3/1/customers/{cid}"]["stats"]
    assert stats["salesValue"] == pytest.approx(2e253)


def test_negative_totals_never_make_ecwid_stats_negative(client: falcon.testing.TestClient) -> None:
    refunds = create(client, {"name": "Refunded", "orders": [{"id": "o1", "total": "-25.00"},
                                                             {"id": "o2", "total": "10.00"}]})
    mixed = create(client, {"name": "Mixed", "orders": [{"id": "o1", "total": "-5.00"},
                                                        {"id": "o2", "total": "35.00"}]})
    assert read_all(client, refunds)["ecwid", f"/api/v3/1/customers/{refunds}"]["stats"] == {
        "numberOfOrders": 2, "salesValue": 0, "averageOrderValue": 0}
    assert read_all(client, mixed)["myboxx", f"/api/json/v1/ecwid/customer/{mixed}"]["data"]["attributes"][
        "stats"] == {"numberOfOrders": 2, "salesValue": 30, "averageOrderValue": 15}


def test_apideck_maps_what_its_contract_cannot_carry(client: falcon.testing.TestClient) -> None:
    cid = create(client, {"name": "Ünïcode", "addresses": [{"city": "Köln"}, {"type": "billing", "city": "Bonn"}],
                          "emails": [{"email": "ü@b.cd"}, {"email": "a\x01b@c.de", "type": "work"},
                                     {"email": "a..b@c.de"}, {"email": "ok.person+tag@example.co.uk"}]})
    data = read_all(client, cid)["apideck", f"/ecommerce/customers/{cid}"]["data"]
    assert [a["type"] for a in data["addresses"]] == ["other", "billing"]
    assert [a["city"] for a in data["addresses"]] == ["Köln", "Bonn"]
    assert [e["email"] for e in data["emails"]] == [None, None, None, "ok.person+tag@example.co.uk"]
    assert [e["type"] for e in data["emails"]] == [None, "work", None, None]
    # the canonical API still serves what it accepted
    canonical = client.simulate_get(f"/canonical/customers/{cid}").json["data"]
    assert [e["email"] for e in canonical["emails"]][:2] == ["ü@b.cd", "a\x01b@c.de"]


def test_ecwid_accepts_a_blank_name_beside_two_longest_halves(client: falcon.testing.TestClient) -> None:
    cid = create(client, {"name": "x", "first_name": "é" * 255, "last_name": "a" * 255})
    result = client.simulate_put(f"/ecwid/api/v3/1/customers/{cid}", json={"billingPerson": {"name": ""}})
    assert result.status_code == 200, result.text
    name = client.simulate_get(f"/canonical/customers/{cid}").json["data"]["name"]
    assert name == ("é" * 255 + " " + "a" * 255)[:255]
    read_all(client, cid)


def test_ecwid_addresses_fit_a_full_address_book(client: falcon.testing.TestClient) -> None:
    book = [{"type": "other", "city": f"o{n}"} for n in range(19)] + [{"type": "shipping", "city": "s0"}]
    cid = create(client, {"name": "Full Book", "addresses": book})
    billing = client.simulate_put(f"/ecwid/api/v3/1/customers/{cid}", json={"billingPerson": {"city": "Bill"}})
    assert billing.status_code == 200, billing.text
    shipping = client.simulate_post(f"/myboxx/api/json/v1/ecwid/update_customer/{cid}",
                                    json={"shippingAddresses": [{"city": f"n{n}"} for n in range(20)]})
    assert shipping.status_code == 200, shipping.text
    cities = [a["city"] for a in client.simulate_get(f"/canonical/customers/{cid}").json["data"]["addresses"]]
    assert cities == ["Bill"] + [f"n{n}" for n in range(19)]  # hidden ones went first, then the last shipping
    read_all(client, cid)
