"""The Falcon application: dataset, overlay, every flavour's routes, CORS and error handlers."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import weakref
from typing import Any

import falcon

from mockserver.admin import ADMIN_PREFIX, add_admin_routes, render_admin_error
from mockserver.answers import send_bytes
from mockserver.catalog import Catalog
from mockserver.config_file import initial_controls
from mockserver.cors import LocalCORSMiddleware
from mockserver.dataset import Dataset
from mockserver.documents import spec_text
from mockserver.errors import (
    BadRequest,
    InternalError,
    MethodNotAllowed,
    MockServerError,
    NotFound,
    Unauthorized,
    UnsupportedMediaType,
)
from mockserver.flavours import FLAVOURS, Flavour
from mockserver.journal import LocalJournal
from mockserver.journaling import Journaling
from mockserver.landing import add_landing_routes
from mockserver.pipeline import operation_resources, stages
from mockserver.resources import PublicRequest, ServerContext
from mockserver.settings import Settings
from mockserver.shared import LocalShared
from mockserver.stages import DroppedConnection
from mockserver.store import Store
from mockserver.tenants import TenantCatalogs

__all__ = ["context_of", "create_app", "APP_CONTEXTS"]

log = logging.getLogger("mockserver")

EXPOSED_HEADERS = ["Location", "Link", "X-Total-Count", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining",
                   "RateLimit-Reset", "X-Shopify-Shop-Api-Call-Limit", "x-downstream-ratelimit-limit",
                   "x-downstream-ratelimit-remaining", "x-downstream-ratelimit-reset"]


_SERVERS_BLOCK = re.compile(rb"^servers:\n(?:[ \t]+\S.*\n)*", re.MULTILINE)
"""The top-level ``servers:`` list of a document (its indented lines; blank lines end it)."""


def with_server(document: bytes, url: str) -> bytes:
    """``document`` with its top-level ``servers`` replaced by the single server ``url``.

    A text edit, not a YAML round trip: the document keeps its comments, anchors and layout.
    The URL is written as a JSON string (valid YAML), so no Host header can inject YAML.

    Raises:
        ValueError: the document has no top-level ``servers`` list.
    """
    block = (b"servers:\n  - url: " + json.dumps(url).encode()
             + b"\n    description: This mock server (its public base URL and this mount)\n")
    replaced, count = _SERVERS_BLOCK.subn(block, document, count=1)
    if not count:
        raise ValueError("the document has no top-level servers list")
    return replaced


class SpecResource:
    """``GET <mount>/openapi.yaml``: the OpenAPI document describing this flavour.

    Its ``servers`` is ``server_url``: the public base URL (``--public-url``, else the bound
    address) plus the mount, never the request's ``Host`` header, so the document names the
    server wherever it runs and no client can make it name another.
    """

    def __init__(self, flavour: Flavour, server_url: str) -> None:
        self.flavour = flavour
        self.server_url = server_url
        self._body: bytes | None = None

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if self._body is None:
            self._body = with_server(spec_text(self.flavour), self.server_url)
        send_bytes(resp, self._body, content_type="application/yaml")


class HealthResource:
    def __init__(self, context: ServerContext) -> None:
        self.context = context

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ds = self.context.catalog.dataset
        resp.media = {"status": "ok", "seed": ds.seed, "count": ds.count,
                      "flavours": FLAVOURS.names(), "root_flavour": self.context.settings.flavour}


class _Mounts:
    """Which flavour answers a path: the longest matching mount prefix wins."""

    def __init__(self, root: Flavour) -> None:
        self.root = root
        self.prefixes: list[tuple[str, Flavour]] = []

    def add(self, prefix: str, flavour: Flavour) -> None:
        self.prefixes.append((prefix, flavour))
        self.prefixes.sort(key=lambda pair: -len(pair[0]))

    def flavour_for(self, path: str) -> Flavour:
        for prefix, flavour in self.prefixes:
            if prefix and (path == prefix or path.startswith(prefix + "/")):
                return flavour
        return self.root


def _as_mock_error(error: falcon.HTTPError) -> MockServerError:
    """Falcon's own errors (no route, wrong method, bad header) in our vocabulary."""
    detail = error.description or error.title or "Request rejected."
    headers = {k: v for k, v in dict(error.headers or {}).items() if k.lower() in ("allow", "retry-after")}
    status = int(str(error.status)[:3])
    if status == 404:
        return NotFound(detail if error.description else "No such path on this server.")
    if status == 405:
        allowed = headers.get("Allow", "")
        return MethodNotAllowed(f"This path accepts: {allowed or 'no other method'}.", headers=headers)
    if status == 401:
        return Unauthorized(detail)
    if status == 415:
        return UnsupportedMediaType(detail)
    if 400 <= status < 500:
        err = BadRequest(detail, headers=headers)
        err.status, err.title = status, error.title or err.title
        return err
    return InternalError(detail)


def _head_like_get(resource: object, suffix: str | None = None) -> object:
    """``resource``, answering HEAD wherever it answers GET (RFC 9110 says every server should).

    Falcon answers HEAD only through an ``on_head`` responder; given the GET one, it sends the
    GET answer's status and headers (Content-Length included) without the body.
    """
    tail = f"_{suffix}" if suffix else ""
    on_get = getattr(resource, f"on_get{tail}", None)
    if callable(on_get) and getattr(resource, f"on_head{tail}", None) is None:
        setattr(resource, f"on_head{tail}", on_get)
    return resource


def create_app(settings: Settings | None = None) -> falcon.App[falcon.Request, falcon.Response]:
    """Build the WSGI app serving every flavour.

    Args:
        settings: seed, count, state file, token, CORS and root flavour; defaults to
            :meth:`Settings.from_env` (``MOCKSERVER_*`` variables).

    Example:
        >>> from falcon.testing import TestClient
        >>> client = TestClient(create_app(Settings(seed=7, count=100)))
        >>> client.simulate_get("/customers", headers={"Authorization": "Bearer x"}).status_code
        200
    """
    settings = settings if settings is not None else Settings.from_env()
    root = FLAVOURS.get(settings.flavour)
    dataset = Dataset(settings.seed, settings.count)
    state, temp_dir = settings.state, None
    if state is None:
        # NOTE: one temp file per app; gunicorn builds the app once (preload) and the
        # forked workers share it, which is what makes writes visible to every worker.
        temp_dir = tempfile.mkdtemp(prefix="mockserver-")
        state = os.path.join(temp_dir, "state.sqlite3")
    store = Store(state, dataset.fingerprint)
    catalog = Catalog(dataset, store)
    context = ServerContext(settings, catalog, LocalShared(state + "-shared", initial_controls(
                                settings, {d.name: [o.name for o in d.operations] for d in FLAVOURS})),
                            TenantCatalogs(catalog, state + "-tenants"))

    mounts = _Mounts(root)
    middleware: list[Any] = []
    journaling = None
    if settings.journal_size:  # off: not installed at all, the hot path pays nothing
        context.journal = LocalJournal(state + "-requests", settings.journal_size)
        journaling = Journaling(context, context.journal, lambda path: mounts.flavour_for(path).name)
        middleware.append(journaling)  # first: its process_response runs last, on the answer as sent
    if settings.cors:
        middleware.append(LocalCORSMiddleware(settings.cors_origins, expose_headers=EXPOSED_HEADERS))
    middleware += stages(context)
    app = falcon.App(middleware=middleware, request_type=PublicRequest.for_base(settings.base_url))
    if temp_dir is not None:
        # Removed when the app (whose resources hold the context) is collected or, at the latest,
        # when the process that made it exits.
        weakref.finalize(context, _remove_temp_state, temp_dir, os.getpid())
    app.req_options.keep_blank_qs_values = True
    app.req_options.strip_url_path_trailing_slash = True
    app.resp_options.secure_cookies_by_default = False

    health = _head_like_get(HealthResource(context))
    for flavour in FLAVOURS:
        prefixes = [f"/{flavour.name}"] + ([""] if flavour is root else [])
        for prefix in prefixes:
            mounts.add(prefix, flavour)
            for path, resource in operation_resources(flavour, context):
                app.add_route(prefix + path, _head_like_get(resource))
            app.add_route(f"{prefix}/openapi.yaml", _head_like_get(SpecResource(flavour, settings.base_url + prefix)))
            # NOTE: under every mount too: a document served at /<mount> (canonical's lists /health)
            # names /<mount> as its server, so its /health must answer there.
            if prefix:
                app.add_route(f"{prefix}/health", health)
    app.add_route("/health", health)
    add_admin_routes(app, context)
    add_landing_routes(app, context)  # GET / and /docs: for people, off the API's request path

    def render(req: falcon.Request, resp: falcon.Response, error: MockServerError) -> None:
        path = req.path
        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            rendered = render_admin_error(error)
        else:
            rendered = mounts.flavour_for(path).render_error(error)
        send_bytes(resp, rendered.body, status=rendered.status, content_type=rendered.content_type,
                   headers={**error.headers, **rendered.headers})

    def on_mock_error(req: falcon.Request, resp: falcon.Response, ex: MockServerError, params: dict[str, Any]) -> None:
        render(req, resp, ex)

    def on_http_error(req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPError, params: dict[str, Any]) -> None:
        render(req, resp, _as_mock_error(ex))

    def on_unexpected(req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict[str, Any]) -> None:
        if isinstance(ex, (falcon.HTTPStatus, DroppedConnection)):
            if journaling is not None and isinstance(ex, DroppedConnection):
                journaling.dropped(req, resp)  # Falcon skips process_response when a handler raises
            raise ex  # a dropped connection reaches gunicorn, which closes it without an answer
        log.exception("unexpected error on %s %s", req.method, req.relative_uri)
        render(req, resp, InternalError("The mock server hit an unexpected error; see its log."))

    # NOTE: handlers are chosen by the exception's MRO, most specific first.
    app.add_error_handler(Exception, on_unexpected)
    app.add_error_handler(falcon.HTTPError, on_http_error)
    app.add_error_handler(MockServerError, on_mock_error)
    APP_CONTEXTS[id(app)] = context
    return app


def _remove_temp_state(path: str, owner_pid: int) -> None:
    # NOTE: forked gunicorn workers inherit this finalizer; only the process that made the
    # directory removes it (a worker restarting must not delete the state the others use).
    if os.getpid() == owner_pid:
        shutil.rmtree(path, ignore_errors=True)


APP_CONTEXTS: weakref.WeakValueDictionary[int, ServerContext] = weakref.WeakValueDictionary()
"""The server context of each app built here (tests and fixtures reach the catalog through it)."""


def context_of(app: falcon.App[falcon.Request, falcon.Response]) -> ServerContext:
    """The :class:`ServerContext` (settings, catalog, caches) behind an app from :func:`create_app`."""
    return APP_CONTEXTS[id(app)]
