"""How answers leave the server: prepared bytes, and headers named as the platforms name them.

Falcon's ``set_header`` lowercases every name; the headers here go out named as the platforms name
them over HTTP/1.1, because some clients look them up by exact name: ShopifyAPI's ``shopify.Limits``
reads ``X-Shopify-Shop-Api-Call-Limit`` from pyactiveresource's plain dict, which keeps names as sent.
A pipeline stage's headers (a live rate-limit count) are set before the operation runs, and the
answer's own (the constant a flavour rendered into a cached page) do not replace them.
"""

from __future__ import annotations

from collections.abc import Mapping

import falcon

__all__ = ["send_bytes", "set_answer_headers", "set_stage_headers"]


def send_bytes(resp: falcon.Response, body: bytes, status: int = 200, content_type: str = "application/json",
               headers: Mapping[str, str] | None = None) -> None:
    # PERF: resp.data with prepared bytes skips Falcon's media handlers.
    resp.status = status
    resp.content_type = content_type
    resp.data = body
    if headers:
        set_answer_headers(resp, headers)


def set_stage_headers(resp: falcon.Response, headers: Mapping[str, str]) -> None:
    """Headers a pipeline stage sets before the operation runs (named as given)."""
    # NOTE: Falcon's own header dict (``_headers``, stable in falcon<5, which pyproject pins), so the
    # names keep their case; Falcon sends every entry of it as it stands.
    resp._headers.update(headers)


def set_answer_headers(resp: falcon.Response, headers: Mapping[str, str]) -> None:
    """An answer's headers (named as given), except those a pipeline stage set already."""
    known = resp._headers
    if len(known) <= 1:  # PERF: only the Content-Type: no stage set any
        known.update(headers)
        return
    present = {name.lower() for name in known}
    for name, value in headers.items():
        if name.lower() not in present:
            known[name] = value
