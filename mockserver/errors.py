"""Errors that carry meaning; each flavour renders them into its platform's body.

::

    MockServerError
     ├── BadRequest (400)
     │    ├── InvalidParameter        a query, header or path parameter has a bad value
     │    │    ├── InvalidCursor      malformed, foreign or stale cursor
     │    │    └── UnsupportedFilter  a filter or sort key this API does not know
     │    ├── MissingHeader           a required header is absent
     │    ├── SearchTooBroad          a list would examine more customers than a request may
     │    └── MalformedBody           the body is not parseable JSON
     │         └── RequestTimeout (408) the body did not arrive in time
     ├── Unauthorized (401)
     ├── Forbidden (403)
     ├── NotFound (404)
     ├── MethodNotAllowed (405)
     ├── Conflict (409)
     ├── UnsupportedMediaType (415)
     ├── InvalidBody (422)           parseable, but violates the schema
     ├── InternalError (500)         a bug: logged, never a traceback to the client
     ├── ServiceUnavailable (503)    the write log cannot be read now (damaged, locked): retry later
     ├── RateLimited (429)           the caller's quota is used up (``usage`` says how it stands)
     ├── ConnectionProblem           the tenant's connection state is not ``ok`` (``state`` says which)
     ├── ForcedError (any status)    answered because a ``Prefer`` header or a fault profile asked
     ├── UnknownFlavour (LookupError)
     └── InvalidSettings (ValueError)

Nothing here knows HTTP frameworks or platform JSON: a flavour's ``render_error`` reads
``status``, ``title``, ``detail`` and ``problems`` and writes its own body.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

__all__ = [
    "BadRequest",
    "Conflict",
    "ConnectionProblem",
    "ForcedError",
    "Forbidden",
    "InternalError",
    "InvalidBody",
    "InvalidCursor",
    "InvalidParameter",
    "InvalidSettings",
    "MalformedBody",
    "MethodNotAllowed",
    "MissingHeader",
    "MockServerError",
    "NotFound",
    "Problem",
    "RateLimited",
    "RequestTimeout",
    "SearchTooBroad",
    "ServiceUnavailable",
    "Unauthorized",
    "UnusableParameter",
    "UnknownFlavour",
    "UnsupportedFilter",
    "UnsupportedMediaType",
    "describe_problems",
]


@dataclass(frozen=True)
class Problem:
    """One offending input: where it was (``query``, ``header``, ``path``, ``body``) and why."""

    location: str
    name: str
    detail: str


def describe_problems(problems: Sequence[Problem], limit: int = 10) -> str:
    """Every problem as ``name detail``, joined with ``; `` (past ``limit``, how many more there are)."""
    parts = [f"{p.name or 'body'} {p.detail}" for p in problems[:limit]]
    if len(problems) > limit:
        parts.append(f"and {len(problems) - limit} more")
    return "; ".join(parts)


class MockServerError(Exception):
    """Base of every error the mock answers with."""

    status: int = 500
    title: str = "Internal Server Error"
    kind: str = "internal"
    """Stable machine name; the canonical flavour uses it in the problem ``type``."""

    def __init__(self, detail: str, *, problems: tuple[Problem, ...] = (), headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.problems = problems
        self.headers = headers or {}


class BadRequest(MockServerError):
    status, title, kind = 400, "Bad Request", "bad-request"


class InvalidParameter(BadRequest):
    """400: ``name`` (in ``location``) has a value the API rejects."""

    kind = "invalid-parameter"

    def __init__(self, name: str, detail: str, *, location: str = "query") -> None:
        super().__init__(f"Invalid {location} parameter {name!r}: {detail}",
                         problems=(Problem(location, name, detail),))
        self.name = name
        self.location = location


class UnusableParameter(InvalidParameter):
    """422: ``name`` has the documented type but cannot be used (a regular expression that does not compile)."""

    status, title, kind = 422, "Unprocessable Entity", "unusable-parameter"


class InvalidCursor(InvalidParameter):
    """400: the cursor is malformed, from another dataset, or for another query."""

    kind = "invalid-cursor"

    def __init__(self, detail: str, *, name: str = "cursor") -> None:
        super().__init__(name, detail)


class UnsupportedFilter(InvalidParameter):
    """400: a filter or sort key that this API does not support."""

    kind = "unsupported-filter"


class MissingHeader(BadRequest):
    """400: a required request header is absent or empty."""

    kind = "missing-header"

    def __init__(self, name: str) -> None:
        super().__init__(f"Missing Header: {name}", problems=(Problem("header", name, "required"),))
        self.name = name


class SearchTooBroad(BadRequest):
    """400: answering would examine more customers than one request may (a work budget, so that
    one unselective search or deep offset never holds a worker for long)."""

    kind = "search-too-broad"


class MalformedBody(BadRequest):
    kind = "malformed-body"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, problems=(Problem("body", "", detail),))


class RequestTimeout(MalformedBody):
    """408: the request body stopped arriving (the server then closes the connection)."""

    status, title = 408, "Request Timeout"


class Unauthorized(MockServerError):
    status, title, kind = 401, "Unauthorized", "unauthorized"


class Forbidden(MockServerError):
    status, title, kind = 403, "Forbidden", "forbidden"


class NotFound(MockServerError):
    """404: no such resource (``entity`` and ``id`` say which, when known)."""

    status, title, kind = 404, "Not Found", "not-found"

    def __init__(self, detail: str, *, entity: str = "", entity_id: str = "") -> None:
        super().__init__(detail, problems=(Problem("path", "id", detail),) if entity_id else ())
        self.entity = entity
        self.entity_id = entity_id


class MethodNotAllowed(MockServerError):
    status, title, kind = 405, "Method Not Allowed", "method-not-allowed"


class Conflict(MockServerError):
    status, title, kind = 409, "Conflict", "conflict"


class UnsupportedMediaType(MockServerError):
    status, title, kind = 415, "Unsupported Media Type", "unsupported-media-type"


class InvalidBody(MockServerError):
    """422: the body parses but violates the schema; ``problems`` name the fields."""

    status, title, kind = 422, "Unprocessable Entity", "invalid-body"


class InternalError(MockServerError):
    status, title, kind = 500, "Internal Server Error", "internal"


class ServiceUnavailable(MockServerError):
    """503: the server cannot answer right now (its state file is unreadable or locked); logged."""

    status, title, kind = 503, "Service Unavailable", "unavailable"

    def __init__(self, detail: str, *, retry_after: int = 1) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class RateLimited(MockServerError):
    """429: the caller used its quota; ``usage`` (a :class:`mockserver.ratelimit.Usage`) says how it stands.

    Flavours add their platform's headers and body; ``Retry-After`` (whole seconds) is set here.
    """

    status, title, kind = 429, "Too Many Requests", "rate-limited"

    def __init__(self, detail: str, usage: Any) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, math.ceil(usage.retry_after)))})
        self.usage = usage


CONNECTION_STATUS = {"unauthorized": 401, "disabled": 403, "not_found": 404, "downstream_error": 502}
"""The status of each connection state when a flavour says nothing of its own."""


class ConnectionProblem(MockServerError):
    """The tenant's connection is ``unauthorized``, ``disabled``, ``not_found`` or ``downstream_error``.

    Set by the config file or the admin API; each flavour answers with its platform's error for the state.
    """

    title, kind = "Connection Problem", "connection"

    def __init__(self, state: str, tenant: str) -> None:
        details = {
            "unauthorized": "The credentials of this connection expired or were revoked; authorize it again.",
            "disabled": "This connection is disabled; enable it to use it.",
            "not_found": "No connection exists for this account.",
            "downstream_error": "The downstream platform failed to answer; retry later.",
        }
        super().__init__(details[state])
        self.state = state
        self.tenant = tenant
        self.status = CONNECTION_STATUS[state]
        self.title = HTTPStatus(self.status).phrase
        self.kind = f"connection-{state.replace('_', '-')}"


class ForcedError(MockServerError):
    """Any error status, answered because it was asked for (``Prefer: code=``, a fault profile)."""

    kind = "forced"

    def __init__(self, status: int, detail: str, *, retry_after: int | None = None) -> None:
        super().__init__(detail, headers={} if retry_after is None else {"Retry-After": str(retry_after)})
        self.status = status
        self.title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"


class UnknownFlavour(LookupError, MockServerError):
    """A flavour name that is not registered."""

    kind = "unknown-flavour"

    def __init__(self, name: str, known: list[str]) -> None:
        MockServerError.__init__(self, f"unknown flavour {name!r}; known flavours: {', '.join(known)}")


class InvalidSettings(ValueError, MockServerError):
    """A setting (flag, environment variable or argument) with an unusable value."""

    kind = "invalid-settings"

    def __init__(self, detail: str) -> None:
        MockServerError.__init__(self, detail)
