"""Bugs in how the server refuses requests: authentication, bad parameters, error bodies."""

from __future__ import annotations

from typing import Any

from tests.contracts.broken import Middleware, WSGIApp, bug, query, with_query


class _DefaultToken(Middleware):
    def request(self, environ: dict[str, Any]) -> dict[str, Any]:
        header = environ.get("HTTP_AUTHORIZATION", "")
        if not header.lower().startswith("bearer ") or not header[7:].strip():
            environ["HTTP_AUTHORIZATION"] = "Bearer anonymous"
        return environ


@bug("missing_auth_accepted", flags="errors.missing_auth")
def missing_auth_accepted(inner: WSGIApp) -> WSGIApp:
    """Requests without a usable bearer token are served as an anonymous user instead of a 401."""
    return _DefaultToken(inner)


class _ClampLimit(Middleware):
    def request(self, environ: dict[str, Any]) -> dict[str, Any]:
        params = []
        for key, value in query(environ):
            if key == "limit":
                try:
                    value = str(min(200, max(1, int(float(value)))))
                except ValueError:
                    value = "20"
            params.append((key, value))
        return with_query(environ, params)


@bug("bad_limit_clamped", flags="errors.bad_limit")
def bad_limit_clamped(inner: WSGIApp) -> WSGIApp:
    """An out-of-range or non-integer limit is silently coerced into 1-200 instead of a 400."""
    return _ClampLimit(inner)


class _PlainJSONErrors(Middleware):
    def response(self, environ: dict[str, Any], status: str, headers: list[tuple[str, str]],
                 body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
        if status[:1] in ("4", "5"):
            headers = [(k, "application/json" if k.lower() == "content-type" else v) for k, v in headers]
        return status, headers, body


@bug("errors_not_problem_json", flags="errors.bad_limit")
def errors_not_problem_json(inner: WSGIApp) -> WSGIApp:
    """Error bodies are sent as application/json instead of application/problem+json."""
    return _PlainJSONErrors(inner)
