"""Bugs in writes: what POST, PATCH and DELETE do to what the server lists afterwards."""

from __future__ import annotations

import json
from typing import Any

from tests.contracts.broken import Middleware, WSGIApp, bug


class _NoopDelete(Middleware):
    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get("REQUEST_METHOD") == "DELETE":
            start_response("204 No Content", [])
            return [b""]
        return super().__call__(environ, start_response)


@bug("delete_is_noop", flags="writes.delete")
def delete_is_noop(inner: WSGIApp) -> WSGIApp:
    """DELETE answers 204 but the customer stays (a soft delete nobody filters out)."""
    return _NoopDelete(inner)


class _BodyFilter(Middleware):
    def __init__(self, app: WSGIApp, method: str, drop: str) -> None:
        super().__init__(app)
        self.method, self.drop = method, drop

    def request(self, environ: dict[str, Any]) -> dict[str, Any]:
        if environ.get("REQUEST_METHOD") != self.method:
            return environ
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if isinstance(body, dict):
            body.pop(self.drop, None)
            raw = json.dumps(body).encode()
        import io

        environ["wsgi.input"] = io.BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        return environ


@bug("patch_drops_status", flags="writes.update")
def patch_drops_status(inner: WSGIApp) -> WSGIApp:
    """PATCH silently ignores the status property (not mapped in the update handler)."""
    return _BodyFilter(inner, "PATCH", "status")


@bug("create_drops_emails", flags="writes.create")
def create_drops_emails(inner: WSGIApp) -> WSGIApp:
    """POST stores the customer without the emails it was sent."""
    return _BodyFilter(inner, "POST", "emails")
