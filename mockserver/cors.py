"""CORS for a local mock: loopback origins on any port, plus the origins the user names.

Falcon's ``CORSMiddleware`` matches exact origins or ``*``. ``*`` (with ``Authorization``
allowed) let any web page a developer visited read, change or reset a token-less mock; a
frontend under development runs on ``localhost`` on some port, so those are what is allowed
by default, and ``--cors-origin`` adds others.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import falcon

__all__ = ["LOOPBACK_ORIGIN", "LocalCORSMiddleware"]

LOOPBACK_ORIGIN = re.compile(r"https?://(?:localhost|127\.0\.0\.1|\[::1\])(?::[0-9]{1,5})?")
"""``http(s)://localhost``, ``127.0.0.1`` or ``[::1]``, on any port."""


class _Origins(frozenset[str]):
    """The allowed origins: these exact ones, and every loopback origin."""

    def __contains__(self, origin: object) -> bool:
        return frozenset.__contains__(self, origin) or (
            isinstance(origin, str) and LOOPBACK_ORIGIN.fullmatch(origin) is not None)


class LocalCORSMiddleware(falcon.CORSMiddleware):  # type: ignore[type-arg]  # generic over ASGI types only
    """Falcon's CORS policy (preflights included) for loopback origins plus ``extra_origins``.

    ``"*"`` among ``extra_origins`` allows every origin, as Falcon's ``allow_origins="*"``.
    """

    def __init__(self, extra_origins: Iterable[str] = (), expose_headers: Iterable[str] | None = None) -> None:
        extra = [origin.rstrip("/") for origin in extra_origins]
        super().__init__(allow_origins="*" if "*" in extra else [], expose_headers=expose_headers)
        if self.allow_origins != "*":
            self.allow_origins = _Origins(extra)

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: object,
                         req_succeeded: bool) -> None:
        if req.get_header("Origin") is None:  # PERF: most requests (SDKs, tests) send none
            return
        super().process_response(req, resp, resource, req_succeeded)
        if self.allow_origins != "*":
            resp.append_header("Vary", "Origin")  # the answer depends on the origin: caches must key on it
