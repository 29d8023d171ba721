"""Where each flavour's list page keeps its customers, their ids, and the cursors it issues.

``contracts check-client`` judges a client from the pages the mock sent it (the journal keeps
each answer's headers and body); a :class:`PageReader` reads one flavour's page, as the
reference adapters in :mod:`contracts.adapters` read it:

::

    flavour     items at                     ids     next page                        request parameter
    canonical   data[]                       id      meta.cursors.next (links.next)   cursor
    apideck     data[]                       id      meta.cursors.next (links.next)   cursor
    truto       result[]                     id      next_cursor                      next_cursor
    ecartapi    customers[]                  id      pagination.nextPage, Link next   page
    ecwid       items[]                      id      offset + count while < total     offset
    myboxx      data.attributes.items[]      id      offset + count while < total     offset
    shopify     customers[]                  id      Link rel="next" (page_info)      page_info

Pure: no I/O and no mock code (the page shapes are the platforms' published ones, not the
mock's rendering). :data:`READERS` is the registry; ``READERS.get(name)`` raises
:class:`UnknownReader` listing the flavours it knows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from contracts.adapters.links import link_to, parse_link_header

__all__ = ["READERS", "PageReader", "ReaderRegistry", "UnknownReader", "header"]

Query = dict[str, str]


def header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    """The value of header ``name`` in ``headers`` (any case), or ``None``."""
    wanted = name.lower()
    for key, value in (headers or {}).items():
        if key.lower() == wanted:
            return str(value)
    return None


def _at(body: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(body, Mapping):
            return None
        body = body.get(key)
    return body


def _param(url: Any, name: str) -> str | None:
    if not isinstance(url, str):
        return None
    values = parse_qs(urlsplit(url).query, keep_blank_values=True).get(name)
    return values[0] if values else None


@dataclass(frozen=True)
class PageReader:
    """How one flavour pages its customer list.

    ``style`` is ``cursor`` (an opaque token in the body, sent back in :attr:`cursor_param`),
    ``link`` (the next page's URL in a ``Link`` header) or ``offset`` (the client computes
    ``offset + count`` itself; the page says ``total``).
    """

    flavour: str
    list_path: str
    """The list endpoint under the flavour's mount (``/ecommerce/customers``)."""
    style: str
    cursor_param: str
    """The request parameter that carries the position (``cursor``, ``offset``, ``page_info``...)."""
    max_limit: int
    items_at: tuple[str, ...]
    cursors_at: tuple[tuple[str, ...], ...] = ()
    """Body paths of every cursor the page issues (next and previous); the first is the next one."""
    links_at: tuple[tuple[str, ...], ...] = ()
    """Body paths of page URLs that carry a cursor in :attr:`cursor_param`."""
    auth: str = "bearer"
    """``bearer``, ``plain`` (``Authorization: <token>``) or ``shopify`` (``X-Shopify-Access-Token``)."""
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    extra_params: Mapping[str, str] = field(default_factory=dict)
    numeric_pages: bool = False
    """Page numbers (``page=3``) are part of the platform's paging too (ecartAPI)."""
    writes: bool = True
    """The platform creates and updates customers (Apideck's and Truto's unified APIs here do not)."""

    # ---- requests ------------------------------------------------------------------------------

    def credentials(self, token: str) -> tuple[dict[str, str], Query]:
        """Headers and query parameters a request needs, with ``token`` as the API token."""
        if self.auth == "shopify":
            auth = {"X-Shopify-Access-Token": token}
        elif self.auth == "plain":
            auth = {"Authorization": token}
        else:
            auth = {"Authorization": f"Bearer {token}"}
        return {**auth, **self.extra_headers}, dict(self.extra_params)

    def first_params(self, limit: int) -> Query:
        """Query parameters of the first page (``limit`` capped at :attr:`max_limit`)."""
        return {**self.extra_params, "limit": str(min(limit, self.max_limit))}

    def next_params(self, body: Any, headers: Mapping[str, Any] | None, query: Query) -> Query | None:
        """Query parameters of the page after this one (``query`` asked for it), or ``None`` on the last page."""
        if self.style == "offset":
            following = self._following_offset(body)
            return None if following is None else {**query, self.cursor_param: following}
        if self.style == "link":
            url = link_to(header(headers, "link"), "next")
            if url is None:
                return None
            return {**self.extra_params, **{k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}}
        token = _at(body, self.cursors_at[0]) if self.cursors_at else None
        if not token:
            return None
        return {**query, self.cursor_param: str(token)}

    # ---- pages ---------------------------------------------------------------------------------

    def items(self, body: Any) -> list[Any]:
        """The customers on the page (``[]`` when the body is not this flavour's page)."""
        found = _at(body, self.items_at)
        return found if isinstance(found, list) else []

    def ids(self, body: Any) -> list[str]:
        """The ids of the customers on the page, as strings, in page order."""
        return [str(item.get("id")) for item in self.items(body) if isinstance(item, Mapping) and "id" in item]

    def issued(self, body: Any, headers: Mapping[str, Any] | None) -> set[str]:
        """Every position value this page hands the client (next and previous, body and ``Link``)."""
        found: set[str] = set()
        if self.style == "offset":
            following = self._following_offset(body)
            return {following} if following is not None else set()
        for path in self.cursors_at:
            value = _at(body, path)
            if isinstance(value, str | int) and value != "":
                found.add(str(value))
        for path in self.links_at:
            value = _param(_at(body, path), self.cursor_param)
            if value:
                found.add(value)
        for link in parse_link_header(header(headers, "link")):
            value = _param(link.url, self.cursor_param)
            if value:
                found.add(value)
        return found

    def position(self, query: Query) -> str | None:
        """The position a request asks for (``None``: the first page)."""
        value = query.get(self.cursor_param)
        if value is None or value == "":
            return None
        if self.style == "offset" and value.strip() == "0":
            return None
        return value

    def needs_issuing(self, value: str) -> bool:
        """Whether a position must have been issued by an earlier page (page numbers need not)."""
        return not (self.numeric_pages and value.isascii() and value.isdigit())

    def _following_offset(self, body: Any) -> str | None:
        total, offset, count = _at(body, self.items_at[:-1] + ("total",)), _at(
            body, self.items_at[:-1] + ("offset",)), _at(body, self.items_at[:-1] + ("count",))
        if not all(isinstance(n, int) for n in (total, offset, count)) or not count:
            return None
        following = offset + count
        return str(following) if following < total else None


class UnknownReader(LookupError):
    """No page reader for this flavour."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"unknown flavour {name!r}; check-client knows: {', '.join(known)}")
        self.name = name
        self.known = known


@dataclass
class ReaderRegistry:
    """Flavour name -> :class:`PageReader`; registering a flavour twice is an error."""

    _readers: dict[str, PageReader] = field(default_factory=dict)

    def register(self, reader: PageReader) -> PageReader:
        if reader.flavour in self._readers:
            raise ValueError(f"a page reader for {reader.flavour!r} is already registered")
        self._readers[reader.flavour] = reader
        return reader

    def get(self, name: str) -> PageReader:
        try:
            return self._readers[name]
        except KeyError:
            raise UnknownReader(name, self.names()) from None

    def names(self) -> list[str]:
        return list(self._readers)

    def __iter__(self) -> Iterator[PageReader]:
        return iter(self._readers.values())

    def __contains__(self, name: object) -> bool:
        return name in self._readers


READERS = ReaderRegistry()
"""The page readers of the mock's flavours."""

def _unified(flavour: str, list_path: str, **extra: Any) -> PageReader:
    """A reader of the canonical page shape (``data[]``, ``meta.cursors``, ``links``), which Apideck shares."""
    return PageReader(flavour, list_path, "cursor", "cursor", 200, ("data",),
                      cursors_at=(("meta", "cursors", "next"), ("meta", "cursors", "previous")),
                      links_at=(("links", "next"), ("links", "previous")), **extra)


READERS.register(_unified("canonical", "/customers"))
READERS.register(_unified("apideck", "/ecommerce/customers",
                          extra_headers={"x-apideck-consumer-id": "client-check", "x-apideck-app-id": "client-check"},
                          writes=False))
READERS.register(PageReader("truto", "/unified/ecommerce/customers", "cursor", "next_cursor", 1000, ("result",),
                            cursors_at=(("next_cursor",), ("prev_cursor",)),
                            extra_params={"integrated_account_id": "client-check"}, writes=False))
READERS.register(PageReader("ecartapi", "/api/v2/customers", "cursor", "page", 250, ("customers",),
                            cursors_at=(("pagination", "nextPage"), ("pagination", "prevPage")), auth="plain",
                            numeric_pages=True))
READERS.register(PageReader("ecwid", "/api/v3/1003/customers", "offset", "offset", 100, ("items",)))
READERS.register(PageReader("myboxx", "/api/json/v1/ecwid/customers", "offset", "offset", 100,
                            ("data", "attributes", "items")))
READERS.register(PageReader("shopify", "/admin/api/2024-01/customers.json", "link", "page_info", 250,
                            ("customers",), auth="shopify"))
