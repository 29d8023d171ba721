"""Requests gunicorn refuses before the app sees them, answered in the flavour's error format.

gunicorn answers a request line over its limit, too many or too large headers, a bad chunk
size and the like with an HTML page of its own; a client of the mock expects the platform's
JSON error body there as everywhere. The worker class here renders those refusals through the
root flavour (the one mounted at ``/``): gunicorn refuses them while parsing, before any path is
known, so the mount prefix cannot choose the flavour.

:class:`FlavouredRefusals` is a worker mixin: :class:`mockserver.worker.MockWorker` (the worker
``mockserver serve`` runs) takes it on before gunicorn's gevent worker.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from gunicorn import util
from gunicorn.http import errors as http

from mockserver.errors import MockServerError

__all__ = ["FlavouredRefusals", "refusal_parts", "refusal_response", "refusal_status"]

_STATUS: list[tuple[type[Exception], int]] = [
    (http.LimitRequestLine, 414),
    (http.LimitRequestHeaders, 431),
    (http.UnsupportedTransferCoding, 501),
    (http.ExpectationFailed, 417),
    (http.ForbiddenProxyRequest, 403),
]
_NOT_REFUSALS = (http.InvalidResponseHeader, http.InvalidResponseHeaderName, http.ConfigurationProblem)
"""Parse errors that are the server's fault, not the request's: gunicorn's own 500 handling stays."""

_ADVICE = {
    414: "The request line (method, path and query) is too long; send fewer or shorter query parameters.",
    431: "The request has too many headers, or one too large; send fewer or shorter headers.",
    501: "This Transfer-Encoding is not supported; send the body with a Content-Length or chunked.",
}


def refusal_status(exc: BaseException) -> int | None:
    """The status for a request gunicorn refused while parsing it, or ``None`` if ``exc`` is no such refusal."""
    if not isinstance(exc, http.ParseException) or isinstance(exc, _NOT_REFUSALS):
        return None
    return next((status for kind, status in _STATUS if isinstance(exc, kind)), 400)


def refusal_parts(app: Any, status: int, exc: BaseException | None) -> tuple[int, dict[str, str], bytes] | None:
    """The status, headers (connection closed) and root flavour's body of a refusal.

    ``None`` when ``app`` is not a mock built by ``create_app`` (e.g. the benchmark's ceiling app).
    """
    from mockserver.app import APP_CONTEXTS
    from mockserver.flavours import FLAVOURS

    context = APP_CONTEXTS.get(id(app))
    if context is None:
        return None
    reason = HTTPStatus(status).phrase
    error = MockServerError(_ADVICE.get(status, f"The request is malformed: {_describe(exc)}."))
    error.status, error.title, error.kind = status, reason, "bad-request"
    rendered = FLAVOURS.get(context.settings.flavour).render_error(error)
    headers = {**rendered.headers, "Content-Type": rendered.content_type,
               "Content-Length": str(len(rendered.body)), "Connection": "close"}
    return rendered.status, headers, rendered.body


def refusal_response(app: Any, status: int, exc: BaseException) -> bytes | None:
    """A complete HTTP/1.1 response (connection closed) with the root flavour's body for a refusal.

    ``None`` when ``app`` is not a mock built by ``create_app`` (e.g. the benchmark's ceiling app).
    """
    parts = refusal_parts(app, status, exc)
    if parts is None:
        return None
    status, headers, body = parts
    status_line = f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
    head = status_line + "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    return head.encode("latin-1") + body


def _describe(exc: BaseException | None) -> str:
    # NOTE: gunicorn's messages may quote the request; keep them short and printable in a JSON body
    text = f"{type(exc).__name__}: {exc}"
    return "".join(c if c.isprintable() else "?" for c in text[:200])


class FlavouredRefusals:
    """Worker mixin: gunicorn's parse refusals answered in the flavour's format, not HTML."""

    wsgi: Any
    log: Any

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        status = refusal_status(exc)
        response = refusal_response(self.wsgi, status, exc) if status is not None else None
        if status is None or response is None:
            super().handle_error(req, client, addr, exc)  # type: ignore[misc]
            return
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        try:
            util.write_nonblock(client, response)
        except OSError:
            self.log.debug("Failed to send error message.")

