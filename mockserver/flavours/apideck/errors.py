"""Apideck's error bodies: ``{status_code, error, type_name, message, detail, ref}`` for every error,
the connection states of a consumer and the connector rate limit (see the package's notes)."""

from __future__ import annotations

import math
from http import HTTPStatus
from typing import Any

from mockserver.errors import (
    ConnectionProblem,
    InvalidCursor,
    MissingHeader,
    MockServerError,
    NotFound,
    RateLimited,
    UnsupportedFilter,
)

__all__ = ["CONNECTION_ERRORS", "error_body", "error_status"]


_ERROR_TYPES = {  # Apideck's type_name and message by status, for errors without a type of their own
    400: ("RequestValidationError", "Invalid Params"), 401: ("UnauthorizedError", "Unauthorized Request"),
    402: ("RequestLimitError", "Request Limit Reached"), 403: ("ForbiddenError", "Forbidden"),
    405: ("MethodNotAllowedError", "Method Not Allowed"), 415: ("RequestValidationError", "Invalid Params"),
    422: ("InvalidStateError", "Invalid State"), 429: ("ConnectorRateLimitError", "Connector Rate Limit Error"),
    502: ("ConnectorExecutionError", "Connector Execution Error"),
}
CONNECTION_ERRORS = {  # state: (status, type_name, message); UNCONFIRMED statuses, see the module notes
    "unauthorized": (401, "ConnectorCredentialsError", "Connector Credentials Error"),
    "disabled": (403, "ConnectorDisabledError", "Connector Disabled Error"),
    "not_found": (404, "ConnectionNotFoundError", "Connection Not Found"),
    "downstream_error": (502, "ConnectorExecutionError", "Connector Execution Error"),
}


def _type_and_message(error: MockServerError) -> tuple[str, str]:
    if isinstance(error, ConnectionProblem):
        return CONNECTION_ERRORS[error.state][1:]
    if isinstance(error, MissingHeader):
        return "RequestHeadersValidationError", "Invalid Params"
    if isinstance(error, InvalidCursor):
        return "InvalidCursorError", "Invalid Cursor"
    if isinstance(error, UnsupportedFilter):
        return "UnsupportedFiltersError", "Unsupported Filters"
    if isinstance(error, NotFound):
        return "EntityNotFoundError", "Unknown Customer" if error.entity else "Unknown Resource"
    return _ERROR_TYPES.get(error.status, ("UnknownError", "Unknown Error"))


def error_status(error: MockServerError) -> int:
    """The status Apideck answers ``error`` with (a connection state has its own)."""
    return CONNECTION_ERRORS[error.state][0] if isinstance(error, ConnectionProblem) else error.status


def error_body(error: MockServerError) -> dict[str, Any]:
    """Apideck's error object for ``error``."""
    type_name, message = _type_and_message(error)
    status = error_status(error)
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = error.title
    detail: Any = error.detail
    if isinstance(error, RateLimited):
        detail = {"context": error.detail, "error": {"limit": error.usage.limit, "remaining": error.usage.remaining,
                                                     "retry_after": math.ceil(error.usage.retry_after)}}
    body = {"status_code": status, "error": reason, "type_name": type_name, "message": message,
            "detail": detail, "ref": f"https://developers.apideck.com/errors#{type_name.lower()}"}
    if type_name == "ConnectorExecutionError":
        body["downstream_errors"] = [{"message": "The downstream platform failed to answer.",
                                      "detail": error.detail, "code": str(status)}]
    return body
