"""The journaling stage of the request pipeline: every request not under ``/__admin`` written to the journal.

First of the app's middleware, so that its ``process_response`` runs last and sees the answer as
the client gets it (status, CORS and rate-limit headers). It records 404s, 405s, refused
credentials, faults and 429s alike: Falcon calls ``process_response`` after every error handler.
The one exception is a connection a fault drops (the app's handler re-raises it to gunicorn and
Falcon skips ``process_response``): the app calls :meth:`Journaling.dropped` before re-raising.

What the other stages leave on ``req.context`` completes the entry: ``caller`` (its tenant),
``operation``, ``fault`` (the Faults stage: ``prefer:code=503``, ``profile:reset``),
``rate_limited`` (the RateLimits stage) and ``raw_body`` (the bytes :func:`~mockserver.resources.read_json`
read, so no second read). A body nobody read (a request refused before its operation ran) is read
here only when all of it has already arrived (:func:`_arrived_body`): the journal never waits for a
slow client.

Off (``--journal-size 0``) the stage is not installed: the hot path does not pay a flag check.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import falcon

from mockserver.journal import (
    Record,
    capped,
    environ_headers,
    mask_headers,
    mask_query,
    secret_values,
    tenant_name,
    without_secrets,
)
from mockserver.resources import dumps

if TYPE_CHECKING:
    from mockserver.journal import RequestJournal
    from mockserver.resources import ServerContext

__all__ = ["Journaling"]

_ADMIN = "/__admin"


class Journaling:
    """Pipeline stage: one journal entry per request (see the module docstring).

    Args:
        context: the server's context (its ``journal``, settings and shared controls).
        flavour_of: the name of the flavour a path is served by (for requests no route took).
    """

    def __init__(self, context: ServerContext, journal: RequestJournal, flavour_of: Callable[[str], str]) -> None:
        self.journal = journal
        self.shared = context.shared
        self.body_bytes = context.settings.journal_body_bytes
        self.flavour_of = flavour_of

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not req.path.startswith(_ADMIN):
            req.context.journal_start = time.perf_counter()

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any,
                         req_succeeded: bool) -> None:
        start = req.context.get("journal_start")
        if start is not None:
            self._write(req, resp, resource, start, resp.status_code)

    def dropped(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Journal a request whose connection a fault drops (no answer: status ``null``)."""
        start = req.context.get("journal_start")
        if start is not None:
            self._write(req, resp, None, start, None)

    def _write(self, req: falcon.Request, resp: falcon.Response, resource: Any, start: float,
               status: int | None) -> None:
        context = req.context
        latency = (time.perf_counter() - start) * 1000
        caller = context.get("caller")
        operation = context.get("operation")
        dialect = getattr(resource, "dialect", None)
        if operation is None and dialect is not None:
            operation = resource.by_method.get(req.method)
        raw = context.get("raw_body")
        if raw is None and status is not None and req.env.get("CONTENT_LENGTH"):
            raw = _arrived_body(req.env, self.body_bytes)
        body, cut = capped(raw, self.body_bytes)
        data: dict[str, Any] = {
            "headers": environ_headers(req.env), "body": body, "body_truncated": cut,
            "latency_ms": round(latency, 3), "fault": context.get("fault"),
            "rate_limited": context.get("rate_limited", False), "worker": os.getpid(),
        }
        if status is not None:
            controls = self.shared.controls()
            if controls.journal_responses:
                secrets = secret_values(req.env, req.query_string)
                data["response"] = _response(resp, controls.journal_response_bytes, secrets)
        self.journal.append(Record(
            round(time.time() - latency / 1000, 6), req.method, req.path, mask_query(req.query_string),
            dialect.name if dialect is not None else self.flavour_of(req.path),
            None if caller is None else tenant_name(caller.token, caller.tenant), status,
            None if operation is None else operation.name, dumps(data)))


def _arrived_body(env: dict[str, Any], limit: int) -> bytes | None:
    """The request body nobody read, when it is at most ``limit`` bytes and has wholly arrived; else ``None``.

    In-process (a ``BytesIO``) it is there; under gunicorn, when the bytes gunicorn already received
    hold all of it (a small body travels with its head). Never a read that would wait for the client.
    """
    try:
        length = int(env["CONTENT_LENGTH"])
        if not 0 < length <= limit:
            return None
        stream = env.get("wsgi.input")
        if type(stream).__name__ == "InputWrapper":  # wsgiref's validator (Falcon's test client) around it
            stream = getattr(stream, "input", None)
        if type(stream) is io.BytesIO:
            data = stream.read(length)
        else:
            # NOTE: gunicorn's Body > (the worker's deadline reader >) LengthReader > Unreader;
            # anything else is left alone
            reader = getattr(stream, "reader", None)
            if not hasattr(reader, "unreader"):
                reader = getattr(reader, "reader", None)
            buffered = getattr(getattr(reader, "unreader", None), "buf", None)
            if type(buffered) is not io.BytesIO or getattr(reader, "length", None) != length \
                    or buffered.getbuffer().nbytes < length:
                return None
            data = stream.read(length)  # type: ignore[union-attr]
        return data if isinstance(data, bytes) else None
    except Exception:  # noqa: BLE001 - a journal entry without a body, never a failed request
        return None


def _response(resp: falcon.Response, limit: int, secrets: list[str]) -> dict[str, Any]:
    """The answer's headers and body, capped, with any credential of the request it echoes masked
    (Ecwid's links repeat a ``?token=``)."""
    raw = resp.data
    if raw is None and resp.text is not None:
        raw = resp.text.encode()
    elif raw is None and resp.media is not None:
        raw = dumps(resp.media)
    body, cut = capped(raw, limit)
    headers = mask_headers((_title(k), without_secrets(v, secrets)) for k, v in resp.headers.items())
    return {"headers": headers, "body": None if body is None else without_secrets(body, secrets),
            "body_truncated": cut}


def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))
