"""contracts.adapters.links and HttpAdapter.get_with_headers: Link-header paging (RFC 8288)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from contracts.adapters import AdapterError, Sort
from contracts.adapters.links import Link, link_to, parse_link_header
from contracts.adapters.toolkit import HttpAdapter, PlatformPage
from mockserver import Dataset

SHOPIFY = ('<https://shop.example/admin/api/2024-01/customers.json?limit=2&page_info=b>; rel="next", '
           '<https://shop.example/admin/api/2024-01/customers.json?limit=2&page_info=a>; rel="previous"')


def test_links_joined_by_commas_are_read_in_order_with_their_relations() -> None:
    links = parse_link_header(SHOPIFY)
    assert [link.rels for link in links] == [("next",), ("previous",)]
    assert links[0].url.endswith("page_info=b") and links[1].url.endswith("page_info=a")
    assert link_to(SHOPIFY, "next") == "https://shop.example/admin/api/2024-01/customers.json?limit=2&page_info=b"
    assert link_to(SHOPIFY, "PREVIOUS", ) is not None and link_to(SHOPIFY, "last") is None


@pytest.mark.parametrize("header, expected", [
    (None, []),
    ("", []),
    ("  ,  ", []),
    ('<a?x=1,2>; rel=next', [Link("a?x=1,2", {"rel": "next"})]),  # a comma inside <...> is the URL's
    ('<a>; title="one, two"; rel="next"', [Link("a", {"title": "one, two", "rel": "next"})]),
    ('<a>; REL="Next Last"', [Link("a", {"rel": "Next Last"})]),
    ('<a>; rel="next"; rel="prev"', [Link("a", {"rel": "next"})]),  # RFC 8288 §3: the first one counts
    ('<a>; title="say \\"hi\\""', [Link("a", {"title": 'say "hi"'})]),
    ('junk, <b>; rel=next', [Link("b", {"rel": "next"})]),  # an unreadable piece is skipped
    ('<a>;rel=next,<b>;rel=prev', [Link("a", {"rel": "next"}), Link("b", {"rel": "prev"})]),
    ('<a; rel=next', []),  # unterminated target
])
def test_the_parser_follows_rfc_8288(header: str | None, expected: list[Link]) -> None:
    assert parse_link_header(header) == expected


def test_several_relations_and_relative_targets() -> None:
    assert parse_link_header('<a>; REL="Next Last"')[0].rels == ("next", "last")
    assert link_to('</customers.json?page_info=z>; rel="next"', "next", "http://mock/shopify/x.json?q=1") == \
        "http://mock/customers.json?page_info=z"


# ---- an adapter following Link paging -----------------------------------------------------------------


def _linked_app(customers: list[dict[str, Any]]) -> Any:
    """A platform that pages ``/customers.json`` only through ``Link`` headers (no cursor in the body)."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        limit, start = int(query.get("limit", ["2"])[0]), int(query.get("page_info", ["0"])[0])
        headers = [("Content-Type", "application/json")]
        if start + limit < len(customers):
            root = f"http://{environ['HTTP_HOST']}{environ['PATH_INFO']}"
            links = [f'<{root}?limit={limit}&page_info={start + limit}>; rel="next"']
            if start:
                links.insert(0, f'<{root}?limit={limit}&page_info={max(0, start - limit)}>; rel="previous"')
            headers.append(("Link", ", ".join(links)))
        start_response("200 OK", headers)
        return [json.dumps({"customers": customers[start:start + limit]}).encode()]

    return app


class LinkPagedAdapter(HttpAdapter):
    name = "linked"
    flavour = "linked"
    page_size = 2

    def fetch_page(self, position: Any, size: int, filters: Mapping[str, str], sort: Sort) -> PlatformPage:
        response = self.get_with_headers(position or "/customers.json", None if position else {"limit": size})
        return PlatformPage(list(response.body["customers"]), response.next_url)

    def raise_for(self, response: httpx.Response, *, customer_id: str | None = None) -> None:
        if response.status_code >= 400:
            raise AdapterError.internal(f"{response.status_code}")


def test_an_adapter_walks_a_platform_that_pages_with_link_headers() -> None:
    dataset = Dataset(5, 7)
    everyone = [dataset.customer(i) for i in range(dataset.count)]
    client = httpx.Client(transport=httpx.WSGITransport(app=_linked_app(everyone)))
    with LinkPagedAdapter("http://platform", client=client) as adapter:
        seen, cursor = [], None
        for _ in range(10):
            page = adapter.list_customers(cursor, 3, None, {}, Sort())
            seen.extend(c["id"] for c in page.customers)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == [c["id"] for c in everyone]
        response = adapter.get_with_headers("/customers.json", {"limit": 7})
        assert response.next_url is None and response.links == [] and len(response.body["customers"]) == 7
        second = adapter.get_with_headers("/customers.json", {"limit": 2, "page_info": 2})
        assert [link.rels for link in second.links] == [("previous",), ("next",)]
        assert second.url == "http://platform/customers.json?limit=2&page_info=2"
