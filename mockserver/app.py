"""The Falcon application: dataset, overlay, every flavour's routes, CORS and error handlers."""

from __future__ import annotations

import logging
import os
import tempfile
from importlib import resources

import falcon

from mockserver.admin import RESET_PATH, ResetResource
from mockserver.catalog import Catalog
from mockserver.dataset import Dataset
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
from mockserver.landing import add_landing_routes
from mockserver.resources import ServerContext, send_bytes
from mockserver.settings import Settings
from mockserver.store import Store

__all__ = ["context_of", "create_app"]

log = logging.getLogger("mockserver")

EXPOSED_HEADERS = ["Location", "Link", "X-Total-Count", "Retry-After"]


def _spec_text(flavour: Flavour) -> bytes:
    return resources.files("mockserver").joinpath(f"specs/{flavour.spec}").read_bytes()


class SpecResource:
    """``GET <mount>/openapi.yaml``: the OpenAPI document describing this flavour."""

    def __init__(self, flavour: Flavour) -> None:
        self.flavour = flavour
        self._body: bytes | None = None

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if self._body is None:
            self._body = _spec_text(self.flavour)
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
    headers = {k: v for k, v in (error.headers or {}).items() if k.lower() in ("allow", "retry-after")}
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


def create_app(settings: Settings | None = None) -> falcon.App:
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
    state = settings.state
    if state is None:
        # NOTE: one temp file per app; gunicorn builds the app once (preload) and the
        # forked workers share it, which is what makes writes visible to every worker.
        state = os.path.join(tempfile.mkdtemp(prefix="mockserver-"), "state.sqlite3")
    store = Store(state, dataset.fingerprint)
    context = ServerContext(settings, Catalog(dataset, store))

    middleware = []
    if settings.cors:
        middleware.append(falcon.CORSMiddleware(allow_origins="*", expose_headers=EXPOSED_HEADERS))
    app = falcon.App(middleware=middleware)
    app.req_options.keep_blank_qs_values = True
    app.req_options.strip_url_path_trailing_slash = True
    app.resp_options.secure_cookies_by_default = False

    mounts = _Mounts(root)
    for flavour in FLAVOURS:
        prefixes = [f"/{flavour.name}"] + ([""] if flavour is root else [])
        for prefix in prefixes:
            mounts.add(prefix, flavour)
            for route in flavour.routes(context):
                app.add_route(prefix + route.path, route.resource, suffix=route.suffix)
            app.add_route(f"{prefix}/openapi.yaml", SpecResource(flavour))
    app.add_route("/health", HealthResource(context))
    app.add_route(RESET_PATH, ResetResource(context))
    add_landing_routes(app, context)  # GET / and /docs: for people, off the API's request path

    def render(req: falcon.Request, resp: falcon.Response, error: MockServerError) -> None:
        flavour = mounts.flavour_for(req.path)
        rendered = flavour.render_error(error)
        send_bytes(resp, rendered.body, status=rendered.status, content_type=rendered.content_type,
                   headers={**error.headers, **rendered.headers})

    def on_mock_error(req: falcon.Request, resp: falcon.Response, ex: MockServerError, params: dict) -> None:
        render(req, resp, ex)

    def on_http_error(req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPError, params: dict) -> None:
        render(req, resp, _as_mock_error(ex))

    def on_unexpected(req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict) -> None:
        if isinstance(ex, falcon.HTTPStatus):
            raise ex
        log.exception("unexpected error on %s %s", req.method, req.relative_uri)
        render(req, resp, InternalError("The mock server hit an unexpected error; see its log."))

    # NOTE: handlers are chosen by the exception's MRO, most specific first.
    app.add_error_handler(Exception, on_unexpected)
    app.add_error_handler(falcon.HTTPError, on_http_error)
    app.add_error_handler(MockServerError, on_mock_error)
    APP_CONTEXTS[id(app)] = context
    return app


APP_CONTEXTS: dict[int, ServerContext] = {}
"""The server context of each app built here (tests and fixtures reach the catalog through it)."""


def context_of(app: falcon.App) -> ServerContext:
    """The :class:`ServerContext` (settings, catalog, caches) behind an app from :func:`create_app`."""
    return APP_CONTEXTS[id(app)]
