"""Shopify writes: create, update, delete, their 4xx answers, and the mapping in both directions.

Each write is checked through the canonical flavour (the same customers), so the Shopify body is
compared with what the mock stored, not with its own rendering.
"""

from __future__ import annotations

from typing import Any

import falcon.testing
import pytest

from mockserver import FLAVOURS, Dataset, Settings, create_app
from mockserver.dataset import parse_timestamp

SEED, COUNT = 7, 120
BASE = "/shopify/admin/api/2024-10/customers"
TOKEN = {"X-Shopify-Access-Token": "shpat_test"}
BEARER = {"Authorization": "Bearer t"}
DS = Dataset(SEED, COUNT)


@pytest.fixture
def shop(tmp_path: Any) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(Settings(seed=SEED, count=COUNT, state=str(tmp_path / "s"))),
                                     headers=TOKEN)


def canonical(client: falcon.testing.TestClient, cid: int | str) -> Any:
    response = client.simulate_get(f"/canonical/customers/{cid}", headers=BEARER)
    return response.json["data"] if response.status_code == 200 else response.status_code


NEW = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+442071234567",
       "note": "Analytical", "currency": "GBP", "tags": "vip", "state": "disabled",
       "addresses": [{"address1": "12 St James's Square", "city": "London", "zip": "SW1Y 4LG", "country": "GB"},
                     {"address1": "1 Dock Rd", "city": "Leith", "zip": "EH6 6RE", "country_code": "GB",
                      "default": False}]}


def test_create_answers_201_and_stores_the_customer(shop: falcon.testing.TestClient) -> None:
    response = shop.simulate_post(f"{BASE}.json", json={"customer": NEW})
    assert response.status_code == 201 and response.headers["x-shopify-shop-api-call-limit"] == "1/40"
    created = response.json["customer"]
    assert isinstance(created["id"], int) and created["email"] == "ada@example.com" and created["state"] == "disabled"
    assert created["tags"] == ""  # accepted, not kept
    stored = canonical(shop, created["id"])
    assert (stored["name"], stored["status"], stored["notes"], stored["currency"]) == (
        "Ada Lovelace", "archived", "Analytical", "GBP")
    assert [e["email"] for e in stored["emails"]] == ["ada@example.com"]
    assert [(a["type"], a["city"], a["postal_code"], a["country"]) for a in stored["addresses"]] == [
        ("billing", "London", "SW1Y 4LG", "GB"), ("shipping", "Leith", "EH6 6RE", "GB")]
    assert shop.simulate_get(f"{BASE}/{created['id']}.json").json == {"customer": created}


def test_a_customer_read_and_sent_back_changes_nothing(shop: falcon.testing.TestClient) -> None:
    cid = DS.id_of(5)
    before = canonical(shop, cid)
    customer = shop.simulate_get(f"{BASE}/{cid}.json").json["customer"]
    response = shop.simulate_put(f"{BASE}/{cid}.json", json={"customer": customer})
    assert response.status_code == 200 and response.json == {"customer": customer}
    assert canonical(shop, cid) == before


def test_update_changes_only_what_is_sent(shop: falcon.testing.TestClient) -> None:
    cid = DS.id_of(9)
    before = canonical(shop, cid)
    response = shop.simulate_put(f"{BASE}/{cid}.json", json={"customer": {"id": int(cid), "last_name": "Byron"}})
    assert response.status_code == 200 and response.json["customer"]["last_name"] == "Byron"
    after = canonical(shop, cid)
    assert after["name"] == f"{before['first_name']} Byron"
    assert parse_timestamp(after["updated_at"]) >= parse_timestamp(before["updated_at"])
    assert {k: v for k, v in after.items() if k not in ("last_name", "name", "updated_at")} == \
        {k: v for k, v in before.items() if k not in ("last_name", "name", "updated_at")}


def test_email_and_phone_replace_the_primary_entry_and_null_removes_it(shop: falcon.testing.TestClient) -> None:
    cid = DS.id_of(11)
    before = canonical(shop, cid)
    shop.simulate_put(f"{BASE}/{cid}.json", json={"customer": {"email": "new@example.org", "phone": None}})
    after = canonical(shop, cid)
    assert after["emails"][0] == {**before["emails"][0], "email": "new@example.org"}
    assert after["emails"][1:] == before["emails"][1:]
    assert after["phone_numbers"] == before["phone_numbers"][1:]
    assert shop.simulate_get(f"{BASE}/{cid}.json").json["customer"]["phone"] is None


def test_addresses_with_a_current_id_update_it_and_others_are_new(shop: falcon.testing.TestClient) -> None:
    i = next(i for i in range(COUNT) if len(DS.customer(i)["addresses"]) == 2)
    cid = DS.id_of(i)
    before = canonical(shop, cid)
    shown = shop.simulate_get(f"{BASE}/{cid}.json").json["customer"]["addresses"]
    moved = {"id": shown[1]["id"], "city": "Moved"}
    response = shop.simulate_put(f"{BASE}/{cid}.json", json={"customer": {"addresses": [
        moved, {"address1": "New St 1", "city": "Newtown", "default": True}]}})
    assert response.status_code == 200
    after = canonical(shop, cid)["addresses"]
    assert after[0] == {**before["addresses"][1], "city": "Moved"}
    assert after[1]["type"] == "billing" and after[1]["city"] == "Newtown"
    assert len({a["id"] for a in after}) == 2
    default = response.json["customer"]["default_address"]
    assert default["city"] == "Newtown" and default["default"] is True


def test_delete_answers_an_empty_object_then_the_customer_is_gone(shop: falcon.testing.TestClient) -> None:
    cid = DS.id_of(3)
    response = shop.simulate_delete(f"{BASE}/{cid}.json")
    assert response.status_code == 200 and response.json == {}
    assert canonical(shop, cid) == 404
    again = shop.simulate_delete(f"{BASE}/{cid}.json")
    assert again.status_code == 404 and again.json == {"errors": "Not Found"}


@pytest.mark.parametrize(("customer", "errors"), [
    ({"first_name": "A", "email": "not-an-email"}, {"email": ["is invalid"]}),
    ({"first_name": "A", "phone": "555-1234"}, {"phone": ["is invalid"]}),
    ({"first_name": "A", "state": "invited"}, {"state": ["is not included in the list"]}),
    ({"first_name": "A", "state": {}}, {"state": ["is not included in the list"]}),  # was a 500 (unhashable)
    ({"first_name": "A" * 256}, {"first_name": ["is too long (maximum is 255 characters)"]}),
    ({"email": "a@b.co"}, {"first_name": ["can't be blank"]}),
    ({"last_name": "B", "addresses": [{"country_code": "gb"}, "x"]},
     {"addresses.country_code": ["is invalid"], "addresses": ["is invalid"]}),
])
def test_an_invalid_customer_is_422_naming_each_field(shop: falcon.testing.TestClient, customer: dict[str, Any],
                                                      errors: dict[str, list[str]]) -> None:
    response = shop.simulate_post(f"{BASE}.json", json={"customer": customer})
    assert response.status_code == 422 and response.json == {"errors": errors}


def test_bodies_that_are_no_customer(shop: falcon.testing.TestClient) -> None:
    missing = {"errors": {"customer": "Required parameter missing or invalid"}}
    for body in ({"first_name": "Flat"}, {"customer": "Ada"}, []):
        response = shop.simulate_post(f"{BASE}.json", json=body)
        assert response.status_code == 400 and response.json == missing, body
    broken = shop.simulate_post(f"{BASE}.json", body="{nope", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and isinstance(broken.json["errors"], str)
    form = shop.simulate_post(f"{BASE}.json", body="a=b", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415 and isinstance(form.json["errors"], str)


def test_an_unknown_customer_is_404_before_its_body_is_read(shop: falcon.testing.TestClient) -> None:
    response = shop.simulate_put(f"{BASE}/123456.json", body="{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 404 and response.json == {"errors": "Not Found"}


# ---- the mapping, through the registry ----------------------------------------------------------


@pytest.mark.parametrize("i", range(0, COUNT, 7))
def test_from_native_reads_back_the_canonical_facts(i: int) -> None:
    shopify = FLAVOURS.get("shopify")
    record = DS.customer(i)
    fields = shopify.from_native(shopify.unwrap_record({"customer": shopify.native(record)}))
    for key in ("id", "first_name", "last_name", "notes", "currency", "status", "created_at", "updated_at",
                "company_name"):
        assert fields[key] == record[key], key
    assert [e["email"] for e in fields["emails"]] == [record["emails"][0]["email"]]
    phone = record["phone_numbers"][0]
    assert fields["phone_numbers"][0]["number"] == "+" + "".join(
        ch for ch in phone["country_code"] + phone["area_code"] + phone["number"] if ch.isdigit())
    assert [{k: a[k] for k in ("type", "line1", "line2", "city", "state", "postal_code", "country")}
            for a in fields["addresses"]] == [{k: v for k, v in a.items() if k != "id"} for a in record["addresses"]]
