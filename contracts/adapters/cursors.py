"""Opaque, signed, URL-safe cursors for adapters (bound to the filters and sort they page)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from contracts.adapters import AdapterError

__all__ = ["CursorCodec"]


class CursorCodec:
    """Opaque cursors: URL-safe base64 (no padding) of a short HMAC and JSON, bound to a query.

    A cursor another adapter or server issued, an edited one, or one used with other filters
    or sort is rejected with the canonical 400 ``/problems/invalid-cursor``.

    Args:
        secret: what makes this adapter's cursors its own (e.g. its name and base URL).
    """

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:10]

    def encode(self, state: Any, query: str) -> str:
        payload = json.dumps([state, query], separators=(",", ":"), ensure_ascii=False).encode()
        return base64.urlsafe_b64encode(self._mac(payload) + payload).decode().rstrip("=")

    def decode(self, text: str, query: str) -> Any:
        """The state encoded in ``text``.

        Raises:
            AdapterError: 400 invalid-cursor (malformed, foreign, or for another query).
        """
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raise AdapterError.invalid_cursor("the cursor is not URL-safe base64; pass back a cursor exactly "
                                              "as returned") from None
        mac, payload = raw[:10], raw[10:]
        if len(raw) <= 10 or not hmac.compare_digest(mac, self._mac(payload)):
            raise AdapterError.invalid_cursor("the cursor was not issued by this service")
        state, signed = json.loads(payload)
        if signed != query:
            raise AdapterError.invalid_cursor("the cursor belongs to a request with other filters or sort order; "
                                              "keep filters and sort unchanged while paging")
        return state
