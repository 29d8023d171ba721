"""Deliberately broken servers: each one a small, realistic bug the contract kit must catch.

::

    Middleware           WSGI wrapper that may rewrite the request and/or the response
    OffsetServer         (offset.py) an independent, *correct* implementation with offset cursors;
                         its subclasses carry the pagination bugs
    BUGS                 name -> Bug(flags=<the property check_server must name>, build(inner_app))
    offset.py, responses.py, errors.py, writes.py, filters.py    the bugs, by what they break

Every bug is one change around a *correct* server, given as a WSGI app: the mock
(``mockserver.create_app(Settings(...))``) or the independent implementation
(``tests.contracts.independent``). The wrappers use only what the contract states, so each
planted bug must be caught in front of either.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

WSGIApp = Callable[..., Iterable[bytes]]


@dataclass(frozen=True)
class Bug:
    """A broken server and the property the kit must name when it checks it."""

    name: str
    summary: str
    flags: str
    """The property that must be in ``report.failed_properties``."""
    build: Callable[[WSGIApp], WSGIApp]
    """Wraps a correct server (a WSGI app) into the broken one."""


BUGS: dict[str, Bug] = {}


def bug(name: str, *, flags: str) -> Callable[[Callable[[WSGIApp], WSGIApp]], Callable[[WSGIApp], WSGIApp]]:
    """Register a broken-server factory; its docstring is the bug's one-line summary."""

    def register(build: Callable[[WSGIApp], WSGIApp]) -> Callable[[WSGIApp], WSGIApp]:
        if name in BUGS:
            raise ValueError(f"bug {name!r} registered twice")
        BUGS[name] = Bug(name, (build.__doc__ or "").strip(), flags, build)
        return build

    return register


def query(environ: dict[str, Any]) -> list[tuple[str, str]]:
    return parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)


def with_query(environ: dict[str, Any], params: list[tuple[str, str]]) -> dict[str, Any]:
    return {**environ, "QUERY_STRING": urlencode(params)}


def call(app: WSGIApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run a WSGI app to completion: status line, headers, body."""
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., None]:
        captured["status"], captured["headers"] = status, headers
        return lambda data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return captured["status"], list(captured["headers"]), body


def respond(start_response: Callable[..., Any], status: str, headers: list[tuple[str, str]],
            body: bytes) -> list[bytes]:
    headers = [(k, v) for k, v in headers if k.lower() != "content-length"] + [("Content-Length", str(len(body)))]
    start_response(status, headers)
    return [body]


def problem(status: int, kind: str, detail: str, name: str = "") -> tuple[str, list[tuple[str, str]], bytes]:
    titles = {400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}
    body = {"type": f"/problems/{kind}", "title": titles.get(status, "Error"), "status": status, "detail": detail,
            "errors": [{"in": "query", "name": name, "detail": detail}] if name else []}
    return f"{status} {titles.get(status, 'Error')}", [("Content-Type", "application/problem+json")], \
        json.dumps(body).encode()


class Middleware:
    """Wraps an app; override :meth:`request` and/or :meth:`response` to plant one bug."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def request(self, environ: dict[str, Any]) -> dict[str, Any]:
        return environ

    def response(self, environ: dict[str, Any], status: str, headers: list[tuple[str, str]],
                 body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
        return status, headers, body

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        environ = self.request(dict(environ))
        status, headers, body = call(self.app, environ)
        return respond(start_response, *self.response(environ, status, headers, body))


class JSONRewrite(Middleware):
    """Rewrites JSON bodies of successful responses with ``rewrite(environ, body) -> body``."""

    def __init__(self, app: WSGIApp, rewrite: Callable[[dict[str, Any], Any], Any]) -> None:
        super().__init__(app)
        self.rewrite = rewrite

    def response(self, environ: dict[str, Any], status: str, headers: list[tuple[str, str]],
                 body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
        if status.startswith("2") and body and {k.lower(): v for k, v in headers}.get(
                "content-type", "").startswith("application/json"):
            body = json.dumps(self.rewrite(environ, json.loads(body))).encode()
        return status, headers, body


def records(body: Any) -> list[dict[str, Any]]:
    """The customer records in a list or single-customer body."""
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, list):
        return [r for r in data if isinstance(r, dict)]
    return [data] if isinstance(data, dict) else []


from tests.contracts.broken import errors, filters, offset, responses, writes  # noqa: F401

__all__ = ["BUGS", "Bug", "JSONRewrite", "Middleware", "bug", "call", "problem", "query", "records", "respond",
           "with_query"]
