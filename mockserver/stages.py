"""The unhappy-path stages of the request pipeline: connection states, forced and seeded faults, rate limits.

Each has a Falcon middleware's ``process_resource``; :class:`~mockserver.pipeline.Authenticate`
runs them after naming the caller, its tenant and its catalog, before the operation, in this order::

    ConnectionStates   the tenant's connection is unauthorized, disabled, ...: the platform's error
    Faults             Prefer: code= / delay= / fault=, then the seeded fault profile
    RateLimits         the flavour's quota, counted in the shared store; its headers on the answer

Authenticate reads the current :class:`~mockserver.controls.Controls` (one memory read while
nothing changed) and calls them only when one has work to do (a feature on, or a ``Prefer``
header): an idle server pays one flag check. What differs by platform (error bodies, quota model,
headers) comes from the dialect; nothing here knows a platform.
"""
from __future__ import annotations

import errno
import hashlib
import socket
import struct
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import falcon

from mockserver.answers import set_stage_headers
from mockserver.documents import documented_statuses
from mockserver.errors import ConnectionProblem, RateLimited
from mockserver.faults import NOTHING, Decision, draw, error_for, parse_prefer
from mockserver.ratelimit import Usage
from mockserver.resources import same_secret

if TYPE_CHECKING:
    from mockserver.dialect import Dialect
    from mockserver.resources import ServerContext

__all__ = ["ADMIN_TOKEN_HEADER", "PAUSE_ENV", "ConnectionStates", "DroppedConnection", "Faults", "RateLimits",
           "admin_token"]

ADMIN_TOKEN_HEADER = "X-Mock-Admin-Token"
"""Where a request carries the admin token, so that a server with ``--token`` honours its ``Prefer``."""
PAUSE_ENV = "mockserver.pause"
"""WSGI environ key of the sleep a delay uses, when the server gives one (``time.sleep`` otherwise): granian's
threads hold their worker's app lock while they run and must let it go while they wait (mockserver.granian_server)."""


def admin_token(context: ServerContext) -> str | None:
    """The token the admin API (and ``Prefer`` on a server with ``--token``) requires."""
    settings = context.settings
    return settings.admin_token or settings.token


class DroppedConnection(ConnectionResetError):
    """Raised to end a connection without an answer; gunicorn then closes it quietly.

    The app's error handlers let it through; in-process (no socket), the client sees it raised.
    """

    def __init__(self, message: str, fault: str = "reset") -> None:
        # NOTE: with errno ECONNRESET gunicorn closes quietly; without one it logged a traceback
        # ("Socket error processing request") for every fault asked for.
        super().__init__(errno.ECONNRESET, message)
        self.fault = fault
        """``reset``, ``empty`` or ``truncated``: what the server is to do with the connection."""


class ConnectionStates:
    """The tenant's connection state, when it is not ``ok``, answered as the platform's error."""

    def __init__(self, context: ServerContext) -> None:
        self.context = context

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: Any,
                         params: dict[str, Any]) -> None:
        controls = req.context.controls
        if controls.quiet:  # only a Prefer header to act on
            return
        tenant = req.context.caller.tenant
        own = controls.tenant(tenant)
        if own is not None and own.state != "ok":
            raise ConnectionProblem(own.state, tenant)


class Faults:
    """``Prefer`` (a status, a delay or a connection fault, asked for per request), then the seeded profile."""

    def __init__(self, context: ServerContext) -> None:
        self.context = context
        self.token = admin_token(context)

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: Any,
                         params: dict[str, Any]) -> None:
        controls = req.context.controls
        prefer = req.env.get("HTTP_PREFER")
        dialect: Dialect = resource.dialect
        operation = req.context.operation
        decision = NOTHING
        if prefer is not None and controls.prefer and self._may_prefer(req):
            decision = parse_prefer(prefer, documented_statuses(dialect, operation))
        if decision.idle:
            tenant = req.context.caller.tenant
            profile = controls.faults_for(tenant)
            if profile is not None:
                request = f"{req.method} {req.relative_uri}"
                n = self.context.shared.occurrence(f"fault\0{tenant}\0{request}")
                seed = self.context.settings.seed if profile.seed is None else profile.seed
                decision = draw(profile, seed, tenant, dialect.name, operation.name, request, n)
        if not decision.idle:
            req.context.fault = _described(decision)  # for the request journal
            self._act(req, resp, dialect, decision)

    def _may_prefer(self, req: falcon.Request) -> bool:
        # A shared mock (one with --token) is forced only by whoever holds its admin token.
        if self.context.settings.token is None or self.token is None:
            return True
        return same_secret(req.get_header(ADMIN_TOKEN_HEADER), self.token)

    def _act(self, req: falcon.Request, resp: falcon.Response, dialect: Dialect, decision: Decision) -> None:
        if decision.delay_ms:
            # gevent's sleep under gunicorn, one that lets the app lock go under granian: others go on
            req.env.get(PAUSE_ENV, time.sleep)(decision.delay_ms / 1000)
        if decision.fault in ("reset", "empty"):
            sock = req.env.get("gunicorn.socket")
            if decision.fault == "reset" and sock is not None:
                # NOTE: a zero linger makes gunicorn's close send RST instead of FIN.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raise DroppedConnection(f"fault={decision.fault} asked by {decision.source}", decision.fault)
        if decision.fault is not None:  # malformed / truncated: the answer is cut as Falcon renders it
            resp.__class__ = _MalformedResponse if decision.fault == "malformed" else _TruncatedResponse
        elif decision.status == 429:
            quota = req.context.controls.quota(dialect.name, dialect.rate_quota)
            wait = float(decision.retry_after or (quota.seconds if quota.kind == "window" else
                                                  1 / quota.leak_per_second))
            usage = Usage(False, quota.limit, quota.limit, 0, wait, wait)
            set_stage_headers(resp, dialect.rate_headers(usage))
            why = "the request's Prefer header asked" if decision.source == "prefer" else "the fault profile drew it"
            raise RateLimited(f"Answered with 429 because {why}.", usage)
        elif decision.status is not None:
            raise error_for(decision.status, decision.source, decision.retry_after)


def _described(decision: Decision) -> str:
    """``prefer:code=503``, ``profile:reset``, ``prefer:delay=200,code=429``: what a fault did, for the journal."""
    parts = [f"delay={decision.delay_ms:g}"] if decision.delay_ms else []
    if decision.status is not None:
        parts.append(f"code={decision.status}")
    if decision.fault is not None:
        parts.append(decision.fault)
    return f"{decision.source}:{','.join(parts)}"


class _MalformedResponse(falcon.Response):
    """The answer with its body cut in half: valid HTTP, broken JSON (``fault=malformed``)."""

    __slots__ = ()

    def render_body(self) -> bytes | None:
        body = super().render_body()
        return None if body is None else body[: len(body) // 2]


class _TruncatedResponse(falcon.Response):
    """The answer's ``Content-Length`` for the whole body, half of it, then the connection dropped."""

    __slots__ = ()

    def render_body(self) -> bytes | None:
        body = super().render_body()
        if not body:
            return body
        self._headers["content-length"] = str(len(body))  # Falcon keeps a length set before it renders
        self.stream = _cut(body[: len(body) // 2])
        return None


def _cut(half: bytes) -> Iterator[bytes]:
    yield half
    raise DroppedConnection("fault=truncated", "truncated")


class RateLimits:
    """The flavour's quota per tenant (or token), counted in the shared store; its headers on every answer."""

    def __init__(self, context: ServerContext) -> None:
        self.context = context

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: Any,
                         params: dict[str, Any]) -> None:
        controls = req.context.controls
        if not controls.rate_limits:
            return
        dialect: Dialect = resource.dialect
        caller = req.context.caller
        who = caller.tenant if dialect.rate_scope == "tenant" else hashlib.blake2b(
            caller.token.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
        quota = controls.quota(dialect.name, dialect.rate_quota)
        usage = self.context.shared.take(f"quota\0{dialect.name}\0{dialect.rate_scope}\0{who}", quota,
                                         controls.now(time.time()))
        # NOTE: set now, they stay on whatever answers: the page, an error, the 429 below
        set_stage_headers(resp, dialect.rate_headers(usage))
        if not usage.allowed:
            req.context.rate_limited = True  # for the request journal
            raise RateLimited(f"Rate limit of {quota.limit} requests exceeded; retry after "
                              f"{usage.retry_after:.3g} s.", usage)
