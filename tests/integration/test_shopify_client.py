"""The official ``ShopifyAPI`` client (12.7.0, unchanged) against ``mockserver serve`` (gunicorn, sockets).

The client builds ``https://<shop>.myshopify.com/admin/api/<version>`` from a session; its documented
alternative, ``ShopifyResource.site``, points it at the mock's ``/shopify`` mount instead. Its
paging follows the ``Link`` header's absolute URLs (split on ``", "`` and ``"; "``), so
``next_page()`` reaching the end proves the header's format and URLs.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver import Dataset, ServerProcess, Settings

pytestmark = pytest.mark.integration
SEED, COUNT = 5, 230
TOKEN = "shpat_integration"
VERSION = "2024-10"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    state = str(tmp_path_factory.mktemp("shopify") / "state.sqlite3")
    with ServerProcess(Settings(seed=SEED, count=COUNT, workers=2, token=TOKEN, state=state)) as running:
        yield running


@pytest.fixture
def shopify(server: ServerProcess) -> Iterator[Any]:
    import shopify

    session = shopify.Session("mock-shop.myshopify.com", VERSION, TOKEN)
    shopify.ShopifyResource.activate_session(session)  # the X-Shopify-Access-Token header
    shopify.ShopifyResource.site = f"{server.url}/shopify/admin/api/{VERSION}"
    yield shopify
    shopify.ShopifyResource.clear_session()


def canonical(server: ServerProcess, path: str) -> Any:
    url = path if path.startswith("http") else f"{server.url}{path}"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def canonical_walk(server: ServerProcess) -> list[str]:
    ids: list[str] = []
    body = canonical(server, "/canonical/customers?limit=100")
    while True:
        ids += [c["id"] for c in body["data"]]
        if not body["links"]["next"]:
            return ids
        body = canonical(server, body["links"]["next"])


def test_find_paged_with_next_page_to_the_end_equals_the_canonical_walk(server: ServerProcess,
                                                                        shopify: Any) -> None:
    page = shopify.Customer.find(limit=100)
    ids, pages = [c.id for c in page], 1
    assert not page.has_previous_page()
    while page.has_next_page():
        page = page.next_page()
        ids += [c.id for c in page]
        pages += 1
    assert pages == 3 and page.has_previous_page()
    assert [str(i) for i in ids] == canonical_walk(server) == [Dataset(SEED, COUNT).id_of(i) for i in range(COUNT)]


def test_find_by_id_and_count(server: ServerProcess, shopify: Any) -> None:
    cid = Dataset(SEED, COUNT).id_of(42)
    customer = shopify.Customer.find(int(cid))
    expected = canonical(server, f"/canonical/customers/{cid}")["data"]
    assert customer.id == int(cid) and customer.first_name == expected["first_name"]
    assert customer.email == expected["emails"][0]["email"]
    assert customer.default_address.city == next(a for a in expected["addresses"] if a["type"] == "billing")["city"]
    assert shopify.Customer.count() == COUNT


def test_create_update_delete_and_a_missing_customer(server: ServerProcess, shopify: Any) -> None:
    from pyactiveresource.connection import ResourceNotFound

    customer = shopify.Customer.create({"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com",
                                        "addresses": [{"address1": "1 Navy Way", "city": "Arlington",
                                                       "country_code": "US"}]})
    assert customer.errors.full_messages() == [] and isinstance(customer.id, int)
    stored = canonical(server, f"/canonical/customers/{customer.id}")["data"]
    assert (stored["name"], stored["emails"][0]["email"]) == ("Grace Hopper", "grace@example.com")
    assert shopify.Customer.count() == COUNT + 1

    customer.note = "Compiler pioneer"
    assert customer.save()  # PUT of every field it read: nothing else changes
    after = canonical(server, f"/canonical/customers/{customer.id}")["data"]
    assert after["notes"] == "Compiler pioneer"
    assert {k: v for k, v in after.items() if k not in ("notes", "updated_at")} == \
        {k: v for k, v in stored.items() if k not in ("notes", "updated_at")}
    assert shopify.Customer.find(customer.id).note == "Compiler pioneer"

    invalid = shopify.Customer.create({"first_name": "Bad", "email": "not an email"})
    assert invalid.id is None and invalid.errors.full_messages() == ["email is invalid"]  # the 422 body, read

    customer.destroy()
    with pytest.raises(ResourceNotFound):
        shopify.Customer.find(customer.id)
    assert shopify.Customer.count() == COUNT


def test_the_clients_call_limit_reader_finds_the_header(server: ServerProcess, shopify: Any) -> None:
    """``shopify.Limits`` reads ``X-Shopify-Shop-Api-Call-Limit`` from a case-sensitive dict: Falcon's
    lowercased ``x-shopify-shop-api-call-limit`` made it raise "No valid api call header found"."""
    shopify.Customer.find(limit=1)
    assert shopify.Limits.credit_limit() == 40
    assert shopify.Limits.credit_left() == 39  # rate limits are off: every answer says 1/40
