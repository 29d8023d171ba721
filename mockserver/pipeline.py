"""The one request path every flavour's customer operations take.

::

    Falcon routing            the dialect's Operation table, one resource per path (mount)
    Authenticate stage        middleware: the dialect names the caller, its tenant and the tenant's catalog
    ConnectionStates          the tenant's connection state, when not ok (mockserver.stages)
    Faults                    Prefer: code= / delay= / fault=, then the seeded fault profile
    RateLimits                the flavour's quota, counted where every worker sees it
    OperationResource         list / get / create / update / delete over the catalog, or the
                              dialect's own operation; pages and records cached here, once
    dialect renderers         the page, record or write answer as the platform writes it
    app error handlers        any MockServerError in the platform's error body (app.py)
    Notify                    after a write answered 2xx: a webhook event per subscription (an
                              after-hook of the write responders; mockserver.delivery sends it)

A dialect (:mod:`mockserver.dialect`) declares only what differs; nothing here knows a platform.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, cast

import falcon

from mockserver.answers import set_answer_headers
from mockserver.dialect import CORE_OPERATIONS, Dialect, Found, Operation, Reply, Write
from mockserver.errors import MockServerError

if TYPE_CHECKING:
    from mockserver.catalog import Catalog
    from mockserver.resources import ServerContext

__all__ = ["Authenticate", "Notify", "OperationResource", "Records", "Stage", "operation_resources", "send_reply", "stages"]


WRITES = ("create", "update", "delete")
"""The operations whose success :class:`Notify` turns into webhook events."""
log = logging.getLogger("mockserver")

_PLAIN_JSON = Reply(b"")[1:]
"""A reply that is only a JSON body (status 200, no extra headers): the page cache keeps just its bytes."""


def _cacheable(reply: Reply) -> bytes | tuple[Any, ...]:
    # PERF: most pages are plain JSON: bytes are weighed and compacted by the cache in one step.
    return reply.body if reply[1:] == _PLAIN_JSON else tuple(reply)


def send_reply(resp: falcon.Response, reply: bytes | tuple[Any, ...]) -> None:
    """Write a :class:`Reply`, the tuple of one, or a plain JSON body (bytes) to the response."""
    if type(reply) is bytes:
        resp.status = 200
        resp.content_type = "application/json"
        resp.data = reply
        return
    body, status, headers, content_type = cast(Reply, reply)
    resp.status = status
    if status == 204:  # no content: neither a body nor a type
        return
    # PERF: resp.data with prepared bytes skips Falcon's media handlers.
    resp.content_type = content_type
    resp.data = body
    if headers:
        set_answer_headers(resp, headers)


class Records:
    """Serialized customers of one dialect, kept in the worker's record cache.

    Only untouched base customers are kept (:meth:`ServerContext.record_bytes`); a customer written
    by another worker a moment ago (no ordinal yet) is built every time.
    """

    def __init__(self, context: ServerContext, dialect: str, catalog: Catalog) -> None:
        self._context = context
        self._dialect = dialect
        self._catalog = catalog

    def bytes(self, variant: Hashable, ordinal: int | None, build: Callable[[], bytes]) -> bytes:
        if ordinal is None:
            return build()
        return self._context.record_bytes(self._dialect, variant, ordinal, build, self._catalog)


def _bound(write: Write, catalog: Catalog) -> Callable[[], None] | None:
    """The write's check, given the catalog it guards."""
    return None if write.check is None else partial(write.check, catalog)


class OperationResource:
    """The operations a dialect serves at one path, one responder per method.

    Responders are installed per declared operation (``on_get`` for a ``GET``...), so Falcon
    answers 405 with the right ``Allow`` for every other method, and the ``Authenticate`` stage
    finds the operation of a request in :attr:`by_method`.
    """

    def __init__(self, dialect: Dialect, operations: list[Operation], context: ServerContext) -> None:
        self.dialect = dialect
        self.context = context
        self.catalog = context.catalog
        self.records = Records(context, dialect.name, context.catalog)
        self.by_method: dict[str, Operation] = {}
        for operation in operations:
            method = operation.method.upper()
            if method in self.by_method:
                raise ValueError(f"{dialect.name}: two operations for {method} {operation.path}")
            self.by_method[method] = operation
            run = getattr(self, f"_{operation.name}") if operation.name in CORE_OPERATIONS else self._other
            responder: Callable[..., None] = partial(run, operation)
            if operation.name in WRITES:
                responder = Notify(context).after_hook(responder, self)
            setattr(self, f"on_{method.lower()}", responder)
        if "GET" in self.by_method:
            self.by_method["HEAD"] = self.by_method["GET"]

    def _records(self, catalog: Catalog) -> Records:
        return self.records if catalog is self.catalog else Records(self.context, self.dialect.name, catalog)

    def _list(self, operation: Operation, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        dialect = self.dialect
        context = req.context
        catalog, caller = context.catalog, context.caller
        version = catalog.store.refresh()
        # PERF: a page is served from bytes until a write changes the version; only a miss parses and renders.
        # The store's path tells a tenant's shared pages from its isolated ones.
        key = (dialect.name, caller.tenant, catalog.store.path, req.prefix, req.path, req.query_string, version,
               dialect.page_variant(req, caller))
        pages = self.context.pages
        cached = pages.get(key)
        if cached is None:
            secret = catalog.dataset.fingerprint
            listing = dialect.parse_list(req, params, secret)
            page = dialect.fetch(catalog, listing, version)
            cached = pages.put(key, _cacheable(dialect.render_page(req, listing, page, self._records(catalog), secret)))
        send_reply(resp, cached)

    def _get(self, operation: Operation, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        dialect = self.dialect
        catalog = req.context.catalog
        view = dialect.parse_get(req, params)
        found = Found(catalog, dialect.customer_id(params))
        records = self.records if catalog is self.catalog else self._records(catalog)  # PERF: no call when shared
        send_reply(resp, dialect.render_record(req, view, found, records))

    def _create(self, operation: Operation, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        catalog = req.context.catalog
        write = self.dialect.parse_create(req, params)
        record = catalog.create(write.fields or {}, check=_bound(write, catalog))
        req.context.change = ("created", record["id"], record)
        send_reply(resp, self.dialect.render_created(req, record))

    def _update(self, operation: Operation, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        dialect, catalog = self.dialect, req.context.catalog
        customer_id = dialect.customer_id(params)
        current = catalog.get(customer_id)  # 404 before 415/422: the resource is checked first
        write = dialect.parse_update(req, params, current)
        record = current if write.fields is None else catalog.update(customer_id, write.fields,
                                                                        check=_bound(write, catalog))
        if write.fields is not None:
            req.context.change = ("updated", customer_id, record)
        send_reply(resp, dialect.render_updated(req, record))

    def _delete(self, operation: Operation, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        customer_id = self.dialect.customer_id(params)
        catalog = req.context.catalog
        # the record as it was, for the webhooks' payloads: read only while some subscription exists
        before = catalog.get(customer_id) if self.context.webhooks.active() else None
        catalog.delete(customer_id)
        req.context.change = ("deleted", customer_id, before)
        send_reply(resp, self.dialect.render_deleted(req, customer_id))

    def _other(self, operation: Operation, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        send_reply(resp, self.dialect.handle(operation, req, req.context.caller, params, req.context.catalog))


def operation_resources(dialect: Dialect, context: ServerContext) -> list[tuple[str, OperationResource]]:
    """``(path, resource)`` for each path of the dialect's operations, in declaration order."""
    by_path: defaultdict[str, list[Operation]] = defaultdict(list)
    for operation in dialect.operations:
        by_path[operation.path].append(operation)
    return [(path, OperationResource(dialect, operations, context)) for path, operations in by_path.items()]


class Authenticate:
    """Pipeline stage: the dialect authenticates the request and names its caller; the caller's tenant
    names the catalog the operation reads (``req.context``: ``caller``, ``catalog``; and ``operation``
    and ``controls`` for the stages that follow).

    Runs after routing, before the operation; a refusal is raised as the dialect's error. Requests
    for other resources (health, documents, landing) and methods no operation serves pass untouched.

    ``then``: the stages that follow it (connection states, faults, rate limits), run only when the
    current controls give one of them work or the request carries a ``Prefer`` header.
    # PERF: as Falcon middleware of their own they cost every request three calls while idle (a
    # fifth of a cached page's time in-process); here an idle server pays one flag check.
    """

    def __init__(self, context: ServerContext, then: Sequence[Stage] = ()) -> None:
        self.settings = context.settings
        self.shared = context.shared
        self.tenants = context.tenants
        self.main = context.catalog
        self.then = tuple(then)

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: Any,
                         params: dict[str, Any]) -> None:
        if type(resource) is not OperationResource:
            return
        operation = resource.by_method.get(req.method)
        if operation is None:
            return
        context = req.context
        context.caller = caller = resource.dialect.authenticate(req, operation, params, self.settings)
        controls = self.shared.controls()
        context.catalog = self.main if controls.one_dataset else self.tenants.catalog(caller.tenant, controls)
        if not controls.quiet or "HTTP_PREFER" in req.env:
            context.operation = operation
            context.controls = controls
            for stage in self.then:
                stage.process_resource(req, resp, resource, params)


class Notify:
    """Pipeline stage after a write: one that was answered with success (it raised nothing, 2xx) becomes
    a webhook event (:meth:`mockserver.delivery.Webhooks.emit`: queued in the outbox, delivered by a thread).

    An after-hook of the write responders only (``falcon.after`` style), not a middleware:
    # PERF: a middleware's process_response cost every read a call (+5 % on a cached page);
    # a write pays one memory read when nobody subscribes.
    """

    def __init__(self, context: ServerContext) -> None:
        self.webhooks = context.webhooks

    def after_hook(self, responder: Callable[..., None], resource: OperationResource) -> Callable[..., None]:
        """``responder``, then :meth:`after` when it returned."""
        def respond(req: falcon.Request, resp: falcon.Response, **params: str) -> None:
            responder(req, resp, **params)
            self.after(req, resp, resource)

        return respond

    def after(self, req: falcon.Request, resp: falcon.Response, resource: OperationResource) -> None:
        change = req.context.get("change")
        if change is None or not 200 <= int(str(resp.status)[:3]) < 300:
            return
        kind, customer_id, record = change
        try:
            self.webhooks.emit(kind, customer_id, req.context.caller.tenant, record, resource.dialect.name)
        except MockServerError as exc:  # NOTE: the write is done: its answer stands, the event is lost (logged)
            log.warning("webhook event of %s %s %s not queued: %s", resource.dialect.name, kind, customer_id, exc.detail)


class Stage(Protocol):
    """A stage that follows :class:`Authenticate` (``req.context`` holds ``controls`` and ``operation``)."""

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: Any,
                         params: dict[str, Any]) -> None: ...


def stages(context: ServerContext) -> list[Any]:
    """The pipeline's middleware stages, in the order a request passes them."""
    from mockserver.stages import ConnectionStates, Faults, RateLimits

    return [Authenticate(context, then=(ConnectionStates(context), Faults(context), RateLimits(context)))]
