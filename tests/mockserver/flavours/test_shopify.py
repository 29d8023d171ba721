"""The Shopify flavour's reads: paths, Link paging, filters, search, count, the customer and errors.

Expected values come from the dataset (canonical records, creation times) and from Shopify's
documented formats, not from the flavour's own mapping.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import falcon.testing
import pytest

from mockserver import Dataset, Settings, create_app
from mockserver.dataset import parse_timestamp

SEED, COUNT = 7, 200
PUBLIC = "http://shop.mock.example:8123"
BASE = "/shopify/admin/api/2024-10/customers"
TOKEN = {"X-Shopify-Access-Token": "shpat_test"}
UNAUTHORIZED = "[API] Invalid API key or access token (unrecognized login or wrong password)"
DS = Dataset(SEED, COUNT)
SHOP_ZONE = timezone(timedelta(hours=-5))


@pytest.fixture
def shop(tmp_path: Any) -> falcon.testing.TestClient:
    app = create_app(Settings(seed=SEED, count=COUNT, state=str(tmp_path / "s.sqlite3"), public_url=PUBLIC))
    return falcon.testing.TestClient(app, headers=TOKEN)


def links(response: Any) -> dict[str, str]:
    """The Link header read exactly as ShopifyAPI 12.7.0 reads it (``shopify/collection.py``)."""
    value = response.headers.get("link")
    if value is None:
        return {}
    result = {}
    for part in value.split(", "):
        link, rel = part.split("; ")
        result[rel.split('"')[1]] = link[1:-1]
    return result


def follow(client: falcon.testing.TestClient, url: str) -> Any:
    assert url.startswith(PUBLIC + "/shopify/admin/api/2024-10/customers"), url
    parts = urlsplit(url)
    return client.simulate_get(parts.path, query_string=parts.query)


def walk(client: falcon.testing.TestClient, path: str, **params: str) -> tuple[list[int], int]:
    """Every id of a list, paged with rel="next" to the end; and the number of pages."""
    response = client.simulate_get(path, params=params)
    ids, pages = [], 0
    while True:
        assert response.status_code == 200, response.text
        ids += [c["id"] for c in response.json["customers"]]
        pages += 1
        following = links(response).get("next")
        if following is None:
            return ids, pages
        response = follow(client, following)


def created_order(indexes: range | list[int]) -> list[int]:
    return [int(DS.id_of(i)) for i in indexes]


def shop_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=SHOP_ZONE).isoformat()


# ---- lists and Link paging ---------------------------------------------------------------------


def test_the_first_page_holds_fifty_customers_in_creation_order(shop: falcon.testing.TestClient) -> None:
    response = shop.simulate_get(f"{BASE}.json")
    assert response.status_code == 200
    assert [c["id"] for c in response.json["customers"]] == created_order(range(50))
    assert response.headers["x-shopify-shop-api-call-limit"] == "1/40"
    assert set(links(response)) == {"next"}


def test_link_pages_walk_every_customer_once_with_only_page_info_limit_and_fields(
        shop: falcon.testing.TestClient) -> None:
    ids, pages = walk(shop, f"{BASE}.json", limit="37", fields="id,email")
    assert ids == created_order(range(COUNT)) and pages == 6
    middle = shop.simulate_get(f"{BASE}.json", params={"limit": "37"})
    middle = follow(shop, links(middle)["next"])
    found = links(middle)
    assert set(found) == {"previous", "next"}
    assert middle.headers["link"] == f'<{found["previous"]}>; rel="previous", <{found["next"]}>; rel="next"'
    for url in found.values():
        assert set(parse_qs(urlsplit(url).query)) == {"page_info", "limit"}
    back = follow(shop, found["previous"])
    assert [c["id"] for c in back.json["customers"]] == created_order(range(37))
    assert "previous" not in links(back)


def test_one_page_has_no_link_header(shop: falcon.testing.TestClient) -> None:
    response = shop.simulate_get(f"{BASE}.json", params={"limit": "250"})
    assert len(response.json["customers"]) == COUNT
    assert "link" not in response.headers


def test_links_name_the_public_base_url_never_the_host_header(shop: falcon.testing.TestClient) -> None:
    response = shop.simulate_get(f"{BASE}.json", params={"limit": "5"}, headers={"Host": "evil.example"})
    assert links(response)["next"].startswith(f"{PUBLIC}{BASE}.json?page_info=")


def test_filters_travel_inside_page_info(shop: falcon.testing.TestClient) -> None:
    low, high = DS.created_of(20), DS.created_of(120)
    ids, pages = walk(shop, f"{BASE}.json", limit="30", created_at_min=shop_time(low),
                      created_at_max=shop_time(high))
    assert ids == created_order(range(20, 121)) and pages == 4


def test_ids_and_updated_bounds_filter(shop: falcon.testing.TestClient) -> None:
    wanted = [DS.id_of(i) for i in (150, 3, 77)]
    response = shop.simulate_get(f"{BASE}.json", params={"ids": ",".join(wanted)})
    assert [c["id"] for c in response.json["customers"]] == created_order([3, 77, 150])
    since = DS.updated_of(100)
    updated, _ = walk(shop, f"{BASE}.json", updated_at_min=shop_time(since), limit="250")
    assert sorted(updated) == sorted(int(DS.id_of(i)) for i in range(COUNT) if DS.updated_of(i) >= since)


def test_since_id_starts_after_that_customer(shop: falcon.testing.TestClient) -> None:
    after = shop.simulate_get(f"{BASE}.json", params={"since_id": DS.id_of(9), "limit": "3"})
    assert [c["id"] for c in after.json["customers"]] == created_order(range(10, 13))
    ids, _ = walk(shop, f"{BASE}.json", since_id="0", limit="100")
    assert ids == created_order(range(COUNT))
    never = str(int(DS.id_of(COUNT + 5)))  # an id the next creates have not reached
    assert shop.simulate_get(f"{BASE}.json", params={"since_id": never}).json == {"customers": []}


@pytest.mark.parametrize("param", ["since_id", "ids", "created_at_min", "updated_at_max"])
def test_a_filter_beside_page_info_is_refused(shop: falcon.testing.TestClient, param: str) -> None:
    first = shop.simulate_get(f"{BASE}.json", params={"limit": "5"})
    page_info = parse_qs(urlsplit(links(first)["next"]).query)["page_info"][0]
    response = shop.simulate_get(f"{BASE}.json", params={"page_info": page_info, param: "1"})
    assert response.status_code == 400
    assert response.json == {"errors": {param: f"{param} cannot be passed when page_info is present."}}


def test_a_page_info_the_server_did_not_issue_is_refused(shop: falcon.testing.TestClient) -> None:
    first = shop.simulate_get(f"{BASE}.json", params={"limit": "5", "created_at_min": shop_time(DS.created_of(3))})
    page_info = parse_qs(urlsplit(links(first)["next"]).query)["page_info"][0]
    cursor, _, filters = page_info.partition(".")
    for forged in ("nope", cursor, cursor[:-2] + "AA", f"{cursor}.{filters[:-3]}"):
        response = shop.simulate_get(f"{BASE}.json", params={"page_info": forged})
        assert response.status_code == 400 and response.json == {"errors": {"page_info": "Invalid value."}}, forged


@pytest.mark.parametrize(("params", "name"), [
    ({"limit": "0"}, "limit"), ({"limit": "251"}, "limit"), ({"since_id": "x"}, "since_id"),
    ({"ids": "1,a"}, "ids"), ({"created_at_min": "yesterday"}, "created_at_min"),
])
def test_bad_parameters_are_400_naming_the_parameter(shop: falcon.testing.TestClient, params: dict[str, str],
                                                     name: str) -> None:
    response = shop.simulate_get(f"{BASE}.json", params=params)
    assert response.status_code == 400 and list(response.json["errors"]) == [name]


def test_fields_selects_top_level_fields(shop: falcon.testing.TestClient) -> None:
    response = shop.simulate_get(f"{BASE}.json", params={"fields": "id,email,nope", "limit": "2"})
    assert response.json["customers"] == [{"id": int(DS.id_of(i)), "email": DS.customer(i)["emails"][0]["email"]}
                                          for i in range(2)]
    assert parse_qs(urlsplit(links(response)["next"]).query)["fields"] == ["id,email,nope"]


# ---- one customer ------------------------------------------------------------------------------


@pytest.mark.parametrize("i", [0, 3, 57, 199])
def test_the_customer_is_the_canonical_customer_in_shopify_shape(shop: falcon.testing.TestClient, i: int) -> None:
    record = DS.customer(i)
    body = shop.simulate_get(f"{BASE}/{record['id']}.json").json
    customer = body["customer"]
    cid = int(record["id"])
    assert customer["id"] == cid and customer["admin_graphql_api_id"] == f"gid://shopify/Customer/{cid}"
    assert (customer["first_name"], customer["last_name"]) == (record["first_name"], record["last_name"])
    assert customer["email"] == record["emails"][0]["email"] and customer["verified_email"] is True
    phone = record["phone_numbers"][0]
    digits = "".join(ch for ch in phone["country_code"] + phone["area_code"] + phone["number"] if ch.isdigit())
    assert customer["phone"] == f"+{digits}"
    assert customer["state"] == {"active": "enabled", "archived": "disabled"}[record["status"]]
    assert customer["created_at"].endswith("-05:00") and customer["updated_at"].endswith("-05:00")
    assert parse_timestamp(customer["created_at"]) == parse_timestamp(record["created_at"])
    assert parse_timestamp(customer["updated_at"]) == parse_timestamp(record["updated_at"])
    assert customer["orders_count"] == len(record["orders"])
    assert customer["total_spent"] == f"{max(sum(Decimal(o['total']) for o in record['orders']), Decimal(0)):.2f}"
    assert customer["tags"] == "" and customer["note"] == record["notes"] and customer["currency"] == record["currency"]
    billing = next(a for a in record["addresses"] if a["type"] == "billing")
    default = customer["default_address"]
    assert default["default"] is True and default["customer_id"] == cid
    assert (default["address1"], default["city"], default["zip"], default["country_code"]) == (
        billing["line1"], billing["city"], billing["postal_code"], billing["country"])
    assert [a["default"] for a in customer["addresses"]] == [a is billing for a in record["addresses"]]
    assert len({a["id"] for a in customer["addresses"]}) == len(record["addresses"])


def test_get_with_fields_and_unknown_ids(shop: falcon.testing.TestClient) -> None:
    cid = DS.id_of(8)
    assert shop.simulate_get(f"{BASE}/{cid}.json", params={"fields": "id,state"}).json == {
        "customer": {"id": int(cid), "state": "enabled" if DS.status_of(8) == "active" else "disabled"}}
    for unknown in ("123", "abc", DS.id_of(COUNT), "9" * 30):
        response = shop.simulate_get(f"{BASE}/{unknown}.json")
        assert response.status_code == 404 and response.json == {"errors": "Not Found"}, unknown
        assert response.headers["x-shopify-shop-api-call-limit"] == "1/40"


# ---- count and search --------------------------------------------------------------------------


def test_count_counts_what_the_bounds_select(shop: falcon.testing.TestClient) -> None:
    assert shop.simulate_get(f"{BASE}/count.json").json == {"count": COUNT}
    high = DS.created_of(41)
    response = shop.simulate_get(f"{BASE}/count.json", params={"created_at_max": shop_time(high)})
    assert response.json == {"count": 42}


def test_search_by_email_state_and_name_words(shop: falcon.testing.TestClient) -> None:
    record = DS.customer(12)
    email = record["emails"][0]["email"]
    found = shop.simulate_get(f"{BASE}/search.json", params={"query": f"email:{email.upper()}"}).json
    assert [c["id"] for c in found["customers"]] == [int(record["id"])]
    archived, _ = walk(shop, f"{BASE}/search.json", query="state:disabled", limit="7")
    assert archived == created_order([i for i in range(COUNT) if DS.status_of(i) == "archived"])
    assert shop.simulate_get(f"{BASE}/search.json", params={"query": "state:invited"}).json == {"customers": []}
    word = record["last_name"].lower()
    named, _ = walk(shop, f"{BASE}/search.json", query=word, limit="2")
    assert named == created_order([i for i in range(COUNT) if word in DS.customer(i)["name"].lower()])
    assert int(record["id"]) in named


def test_search_pages_refuse_a_query_beside_page_info(shop: falcon.testing.TestClient) -> None:
    first = shop.simulate_get(f"{BASE}/search.json", params={"query": "state:enabled", "limit": "3"})
    page_info = parse_qs(urlsplit(links(first)["next"]).query)["page_info"][0]
    response = shop.simulate_get(f"{BASE}/search.json", params={"page_info": page_info, "query": "x"})
    assert response.json == {"errors": {"query": "query cannot be passed when page_info is present."}}


# ---- versions, auth and errors -----------------------------------------------------------------


@pytest.mark.parametrize("version", ["2024-1", "v1", "2024-10x", "latest"])
def test_a_bad_version_is_not_found_before_the_token_is_checked(tmp_path: Any, version: str) -> None:
    client = falcon.testing.TestClient(create_app(Settings(seed=SEED, count=20, state=str(tmp_path / "s"))))
    response = client.simulate_get(f"/shopify/admin/api/{version}/customers.json")
    assert response.status_code == 404 and response.json == {"errors": "Not Found"}


def test_unstable_is_a_version(shop: falcon.testing.TestClient) -> None:
    assert shop.simulate_get("/shopify/admin/api/unstable/customers/count.json").json == {"count": COUNT}


def test_the_token_header_is_required_and_checked(tmp_path: Any) -> None:
    app = create_app(Settings(seed=SEED, count=20, state=str(tmp_path / "s"), token="shpat_right"))
    client = falcon.testing.TestClient(app)
    for headers in ({}, {"X-Shopify-Access-Token": ""}, {"X-Shopify-Access-Token": "shpat_wrong"},
                    {"Authorization": "Bearer shpat_right"}):
        response = client.simulate_get(f"{BASE}.json", headers=headers)
        assert response.status_code == 401 and response.json == {"errors": UNAUTHORIZED}, headers
        assert response.headers["x-shopify-shop-api-call-limit"] == "1/40"
    ok = client.simulate_get(f"{BASE}/count.json", headers={"X-Shopify-Access-Token": "shpat_right"})
    assert ok.json == {"count": 20}


def test_a_method_no_operation_serves_is_405_in_shopify_shape(shop: falcon.testing.TestClient) -> None:
    response = shop.simulate_patch(f"{BASE}/{DS.id_of(1)}.json", json={})
    assert response.status_code == 405 and isinstance(response.json["errors"], str)
    assert {m.strip() for m in response.headers["allow"].split(",")} >= {"GET", "PUT", "DELETE"}
