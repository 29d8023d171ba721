"""How answers leave the server: prepared bytes, and headers named as the platforms name them.

Falcon lowercases every header name; :class:`CasedResponse` sends the ones clients look up by exact
name in the platforms' own case. A pipeline stage's headers (a live rate-limit count) are set
before the operation runs, and the answer's own (the constant a flavour rendered into a cached
page) do not replace them.
"""

from __future__ import annotations

from collections.abc import Mapping

import falcon

__all__ = ["CASED_HEADERS", "CasedResponse", "send_bytes", "set_answer_headers", "set_stage_headers"]


CASED_HEADERS = {name.lower(): name for name in (
    "Retry-After", "Link", "Location", "Allow", "WWW-Authenticate", "X-Total-Count", "X-Shopify-Shop-Api-Call-Limit",
    "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Content-Type", "Content-Length")}
"""Header names sent as the platforms write them over HTTP/1.1 (Falcon lowercases every name)."""


class CasedResponse(falcon.Response):
    """A response whose headers besides the body's own go out with the platforms' case.

    Clients that keep headers in a case-sensitive dict miss ``retry-after`` or
    ``x-shopify-shop-api-call-limit``: ShopifyAPI's ``shopify.Limits`` reads
    ``X-Shopify-Shop-Api-Call-Limit`` from pyactiveresource's plain dict, which keeps names as sent.
    """

    def _wsgi_headers(self, media_type: str | None = None) -> list[tuple[str, str]]:
        items = super()._wsgi_headers(media_type)
        if len(items) <= 2:  # PERF: only Content-Type and -Length (a plain page): nothing to case
            return items
        cased = CASED_HEADERS.get
        return [(cased(name, name), value) for name, value in items]


def send_bytes(resp: falcon.Response, body: bytes, status: int = 200, content_type: str = "application/json",
               headers: dict[str, str] | None = None) -> None:
    # PERF: resp.data with prepared bytes skips Falcon's media handlers.
    resp.status = status
    resp.content_type = content_type
    resp.data = body
    if headers:
        set_answer_headers(resp, headers)


def set_stage_headers(resp: falcon.Response, headers: Mapping[str, str]) -> None:
    """Headers a pipeline stage sets before the operation runs; the answer's own do not replace them."""
    resp.set_headers(headers)
    resp.context.stage_headers = {name.lower() for name in headers}


def set_answer_headers(resp: falcon.Response, headers: Mapping[str, str]) -> None:
    """Set an answer's headers, except those a pipeline stage set (a rate-limit stage's live
    ``X-Shopify-Shop-Api-Call-Limit`` wins over the constant a flavour renders into its cached pages)."""
    kept = getattr(resp.context, "stage_headers", None)
    resp.set_headers(headers if kept is None else {k: v for k, v in headers.items() if k.lower() not in kept})
