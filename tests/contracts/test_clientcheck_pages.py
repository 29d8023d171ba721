"""check-client's page readers on pages written out by hand as each platform publishes them."""

from __future__ import annotations

import pytest

from contracts.clientcheck.pages import READERS, PageReader, ReaderRegistry, UnknownReader


def test_cursor_pages_give_the_next_query_and_every_cursor_they_issue() -> None:
    apideck = READERS.get("apideck")
    page = {"data": [{"id": "1"}, {"id": "2"}], "meta": {"cursors": {"previous": "P", "current": None, "next": "N=="}},
            "links": {"next": "http://x/apideck/ecommerce/customers?limit=2&cursor=N%3D%3D"}}
    assert apideck.ids(page) == ["1", "2"]
    assert apideck.next_params(page, {}, {"limit": "2"}) == {"limit": "2", "cursor": "N=="}
    assert apideck.issued(page, {}) == {"N==", "P"}
    last = {"data": [{"id": "3"}], "meta": {"cursors": {"previous": "P", "next": None}}}
    assert apideck.next_params(last, {}, {"limit": "2", "cursor": "N=="}) is None
    assert apideck.credentials("tok") == ({"Authorization": "Bearer tok", "x-apideck-consumer-id": "client-check",
                                           "x-apideck-app-id": "client-check"}, {})


def test_truto_and_ecartapi_name_their_cursor_parameters() -> None:
    truto = READERS.get("truto")
    page = {"result": [{"id": "7"}], "next_cursor": "T2", "prev_cursor": None}
    assert truto.next_params(page, None, truto.first_params(500)) == {
        "integrated_account_id": "client-check", "limit": "500", "next_cursor": "T2"}
    assert truto.first_params(5000)["limit"] == "1000"
    ecartapi = READERS.get("ecartapi")
    assert ecartapi.issued({"customers": [], "pagination": {"nextPage": "E3", "prevPage": "E1"}},
                           {"Link": '<http://x/ecartapi/api/v2/customers?limit=2&page=E3>; rel="next"'}) == {"E3", "E1"}
    assert ecartapi.credentials("tok")[0] == {"Authorization": "tok"}
    assert not ecartapi.needs_issuing("4") and ecartapi.needs_issuing("E3")


def test_offset_pages_issue_offset_plus_count_until_the_total() -> None:
    ecwid = READERS.get("ecwid")
    page = {"total": 5, "count": 2, "offset": 2, "limit": 2, "items": [{"id": 3}, {"id": 4}]}
    assert ecwid.ids(page) == ["3", "4"]
    assert ecwid.issued(page, None) == {"4"}
    assert ecwid.next_params(page, None, {"limit": "2", "offset": "2"}) == {"limit": "2", "offset": "4"}
    last = {"total": 5, "count": 1, "offset": 4, "limit": 2, "items": [{"id": 5}]}
    assert ecwid.next_params(last, None, {"limit": "2", "offset": "4"}) is None and ecwid.issued(last, None) == set()
    assert ecwid.position({"offset": "0"}) is None and ecwid.position({"offset": "4"}) == "4"
    myboxx = READERS.get("myboxx")
    wrapped = {"data": {"id": "u", "type": "ecwid", "attributes": page}}
    assert myboxx.ids(wrapped) == ["3", "4"] and myboxx.issued(wrapped, None) == {"4"}


def test_shopify_follows_the_link_header() -> None:
    shopify = READERS.get("shopify")
    headers = {"link": '<http://x/shopify/admin/api/2024-01/customers.json?page_info=abc&limit=250>; rel="previous", '
                       '<http://x/shopify/admin/api/2024-01/customers.json?page_info=def&limit=250>; rel="next"'}
    page = {"customers": [{"id": 11}]}
    assert shopify.next_params(page, headers, {"limit": "250"}) == {"page_info": "def", "limit": "250"}
    assert shopify.issued(page, headers) == {"abc", "def"}
    assert shopify.next_params(page, {}, {"limit": "250"}) is None
    assert shopify.credentials("tok")[0] == {"X-Shopify-Access-Token": "tok"}


def test_a_body_that_is_not_the_flavours_page_has_no_customers() -> None:
    for reader in READERS:
        assert reader.ids({"errors": "nope"}) == [] and reader.ids(None) == [] and reader.ids([1, 2]) == []


def test_the_registry_refuses_a_second_reader_and_names_the_known_ones() -> None:
    registry = ReaderRegistry()
    registry.register(PageReader("a", "/x", "cursor", "cursor", 10, ("data",)))
    with pytest.raises(ValueError, match="already registered"):
        registry.register(PageReader("a", "/y", "cursor", "cursor", 10, ("data",)))
    with pytest.raises(UnknownReader, match="unknown flavour 'b'; check-client knows: a"):
        registry.get("b")
