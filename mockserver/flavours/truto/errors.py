"""Truto's error bodies: ``{statusCode, error, message}`` with the members Truto adds for a missing
parameter, a remote error and a rate limit, and the statuses of an integrated account's states."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from mockserver.errors import ConnectionProblem, InvalidParameter, MockServerError, RateLimited

__all__ = ["CONNECTION_ERRORS", "MissingQueryParameter", "error_body", "error_status"]

INSIGHT = "The following query parameters are required but were not provided in the request."
CONNECTION_ERRORS = {  # state: (status, message); UNCONFIRMED messages
    "unauthorized": (401, "The integrated account needs to be re-authenticated (its status is needs_reauth)."),
    "disabled": (503, "The integrated account is blocked; no requests are made for it until it is unblocked."),
    "not_found": (404, "Integrated account not found."),
    "downstream_error": (502, "The remote API failed to answer."),
}


class MissingQueryParameter(InvalidParameter):
    """400: a query parameter the unified model requires is absent or empty."""

    kind = "missing-parameter"

    def __init__(self, name: str) -> None:
        super().__init__(name, "is required")


def error_status(error: MockServerError) -> int:
    """The status Truto answers ``error`` with (a connection state has its own)."""
    return CONNECTION_ERRORS[error.state][0] if isinstance(error, ConnectionProblem) else error.status


def error_body(error: MockServerError) -> dict[str, Any]:
    """Truto's error object for ``error``."""
    status = error_status(error)
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = error.title
    message = CONNECTION_ERRORS[error.state][1] if isinstance(error, ConnectionProblem) else error.detail
    body: dict[str, Any] = {"statusCode": status, "error": reason, "message": message}
    if isinstance(error, MissingQueryParameter):
        body["message"] = f"{error.name} is required"
        body["truto_error_insight"] = {
            "missing_required_query_parameters": {"description": INSIGHT, "value": [error.name]},
        }
    elif isinstance(error, RateLimited):
        body["truto_error_insight"] = {"rate_limit_error": {"description": "Too many requests for this account.",
                                                            "value": {"limit": error.usage.limit}}}
    elif status == 502:  # the remote API's failure, passed through
        body["truto_is_remote_error"] = True
        body["raw_response"] = {"error": "Bad Gateway", "message": error.detail}
    return body
