"""``Link`` response headers (RFC 8288), for adapters of platforms that page with them.

Shopify, GitHub and others put the next page's URL in a header, not in the body::

    Link: <https://shop.example/admin/api/2024-01/customers.json?page_info=abc&limit=50>; rel="next",
          <https://shop.example/admin/api/2024-01/customers.json?page_info=xyz&limit=50>; rel="previous"

:func:`parse_link_header` reads such a header (pure: no I/O); :class:`JsonResponse` is what
:meth:`~contracts.adapters.toolkit.HttpAdapter.get_with_headers` returns, so an adapter can follow
``response.next_url`` until it is ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

__all__ = ["JsonResponse", "Link", "link_to", "parse_link_header"]


@dataclass(frozen=True)
class Link:
    """One link of a ``Link`` header: its target and parameters (names in lower case)."""

    url: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def rels(self) -> tuple[str, ...]:
        """The relation types (``rel="next last"`` is two), in lower case."""
        return tuple(self.params.get("rel", "").lower().split())


def _skip_spaces(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t":
        at += 1
    return at


def _quoted(text: str, at: int) -> tuple[str, int]:
    """The quoted-string starting at ``text[at] == '"'`` (backslash escapes undone) and the index after it."""
    out, at = [], at + 1
    while at < len(text) and text[at] != '"':
        if text[at] == "\\" and at + 1 < len(text):
            at += 1
        out.append(text[at])
        at += 1
    return "".join(out), at + 1


def _params(text: str, at: int) -> tuple[dict[str, str], int]:
    """The ``; name=value`` parameters from ``at`` up to the comma that ends the link."""
    params: dict[str, str] = {}
    while True:
        at = _skip_spaces(text, at)
        if at >= len(text) or text[at] == ",":
            return params, at + 1
        if text[at] != ";":  # junk between parameters: skip to the next separator
            at += 1
            continue
        at = _skip_spaces(text, at + 1)
        start = at
        while at < len(text) and text[at] not in "=;, \t":
            at += 1
        name = text[start:at].lower()
        at = _skip_spaces(text, at)
        value = ""
        if at < len(text) and text[at] == "=":
            at = _skip_spaces(text, at + 1)
            if at < len(text) and text[at] == '"':
                value, at = _quoted(text, at)
            else:
                start = at
                while at < len(text) and text[at] not in ";,":
                    at += 1
                value = text[start:at].strip()
        # NOTE: RFC 8288 §3: a parameter given twice counts once, the first time.
        if name and name not in params:
            params[name] = value


def parse_link_header(value: str | None, base_url: str | None = None) -> list[Link]:
    """The links of a ``Link`` header value, in order (``[]`` for ``None`` or an empty header).

    Links are ``<url>; name=value; name="quoted"`` joined by commas; a comma inside ``<...>`` or a
    quoted value belongs to it. Relative targets are resolved against ``base_url`` when given.
    Unreadable pieces are skipped, never raised: a header is the server's, not the adapter's.
    """
    links: list[Link] = []
    text, at = value or "", 0
    while at < len(text):
        at = _skip_spaces(text, at)
        if at >= len(text):
            break
        if text[at] != "<":
            comma = text.find(",", at)
            at = len(text) if comma < 0 else comma + 1
            continue
        end = text.find(">", at)
        if end < 0:
            break
        url = text[at + 1:end].strip()
        params, at = _params(text, end + 1)
        links.append(Link(urljoin(base_url, url) if base_url else url, params))
    return links


def link_to(value: str | None, rel: str, base_url: str | None = None) -> str | None:
    """The target of the first link with relation ``rel`` (case-insensitive), or ``None``."""
    wanted = rel.lower()
    return next((link.url for link in parse_link_header(value, base_url) if wanted in link.rels), None)


@dataclass(frozen=True)
class JsonResponse:
    """A successful platform response: its JSON body, its headers and the URL it answered."""

    body: Any
    headers: Mapping[str, str]
    """Case-insensitive (an ``httpx.Headers``); repeated headers are joined by ``", "``."""
    url: str

    @property
    def links(self) -> list[Link]:
        """The ``Link`` header's links, relative targets resolved against :attr:`url`."""
        return parse_link_header(self.headers.get("link"), self.url)

    @property
    def next_url(self) -> str | None:
        """The ``rel="next"`` target (absolute), or ``None`` on the last page."""
        return link_to(self.headers.get("link"), "next", self.url)
