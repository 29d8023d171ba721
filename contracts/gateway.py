"""The canonical Customers API served on top of an adapter: ``contracts gateway``.

``create_gateway(adapter)`` is a WSGI app answering the read side of ``openapi.yaml`` -
``GET /customers`` (``limit``, ``cursor``, ``fields``, ``filter[...]``, ``sort[...]``) and
``GET /customers/{id}`` - with every answer computed by the adapter, and RFC 9457 problems for
errors. So ``contracts check`` runs end to end through an adapter: the platform-flavoured mock
behind it, the adapter's mapping in the middle, the canonical contract in front::

    mockserver serve --port 8000 &
    contracts gateway --adapter ecwid --upstream http://127.0.0.1:8000/ecwid --port 8001 &
    contracts check --base-url http://127.0.0.1:8001 --spec http://127.0.0.1:8001/openapi.yaml

Writes are not part of an adapter: ``POST``, ``PATCH`` and ``DELETE`` answer 405, and the
gateway's ``/openapi.yaml`` is the canonical document without them.
"""

from __future__ import annotations

import argparse
import copy
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import falcon

from contracts.adapters import ADAPTERS, Adapter, AdapterError, Sort, UnknownAdapter
from contracts.adapters.toolkit import validate_request

__all__ = ["add_gateway_command", "create_gateway", "read_only_spec"]

log = logging.getLogger("contracts.gateway")

PROBLEM_JSON = "application/problem+json"
WWW_AUTHENTICATE = 'Bearer realm="mockserver"'
"""The contract fixes this header value (``components.headers.WWWAuthenticate``)."""
DEFAULT_LIMIT = 20
READ_PATHS = {"/customers": ("get",), "/customers/{id}": ("get", "parameters"), "/openapi.yaml": ("get",)}


def read_only_spec(document: dict[str, Any] | None = None) -> dict[str, Any]:
    """The canonical document reduced to what a gateway serves: the two reads and the document itself."""
    from contracts.schema import load_spec

    doc = copy.deepcopy(document if document is not None else load_spec())
    doc["paths"] = {path: {k: v for k, v in doc["paths"][path].items() if k in keep}
                    for path, keep in READ_PATHS.items() if path in doc["paths"]}
    doc["info"]["description"] = ("The read operations of the canonical Customers API, answered by an adapter "
                                  "(`contracts gateway`).\n\n" + doc["info"].get("description", ""))
    return doc


def _problem(resp: falcon.Response, error: AdapterError, headers: dict[str, str] | None = None) -> None:
    import json

    resp.status = error.status
    resp.content_type = PROBLEM_JSON
    resp.data = json.dumps(error.problem, ensure_ascii=False).encode()
    for name, value in (headers or {}).items():
        resp.set_header(name, value)


def _send(resp: falcon.Response, body: Any) -> None:
    import json

    resp.content_type = "application/json"
    resp.data = json.dumps(body, ensure_ascii=False).encode()


def _one(req: falcon.Request, name: str) -> str | None:
    value = req.params.get(name)
    if isinstance(value, list):
        raise AdapterError.invalid_parameter(name, "must be given at most once")
    return value


def _limit(req: falcon.Request) -> int:
    raw = _one(req, "limit")
    if raw is None:
        return DEFAULT_LIMIT
    text = raw.strip()
    if not text.lstrip("-").isdigit() or not text.isascii() or len(text) > 18:
        raise AdapterError.invalid_parameter("limit", f"must be an integer, got {raw!r}")
    return int(text)


def _fields(req: falcon.Request) -> list[str] | None:
    raw = _one(req, "fields")
    return raw.split(",") if raw else None


class _Customers:
    """``GET /customers`` and ``GET /customers/{id}`` answered by the adapter."""

    def __init__(self, adapter: Adapter, token: str | None) -> None:
        self.adapter = adapter
        self.token = token

    def _auth(self, req: falcon.Request) -> None:
        scheme, _, value = (req.get_header("Authorization") or "").strip().partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value or (self.token is not None and value != self.token):
            raise AdapterError.unauthorized("Missing or rejected bearer token: send Authorization: Bearer <token>.")

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._auth(req)
        limit, fields = _limit(req), _fields(req)
        validate_request(limit, fields, {})  # limit and fields are checked before filters and sort
        filters: dict[str, str] = {}
        by, direction = "created_at", "asc"
        for name in req.params:
            if name.startswith("filter[") and name.endswith("]"):
                filters[name[7:-1]] = _one(req, name) or ""
            elif name == "sort[by]":
                by = _one(req, name) or ""
            elif name == "sort[direction]":
                direction = _one(req, name) or ""
                if direction not in ("asc", "desc"):
                    raise AdapterError.invalid_parameter(name, "must be asc or desc")
            elif name.startswith(("filter", "sort")):
                raise AdapterError.invalid_parameter(
                    name, "unknown parameter; use filter[<name>], sort[by] or sort[direction]")
        sort = Sort(by, direction == "desc")
        validate_request(limit, fields, filters, sort)
        cursor = _one(req, "cursor")
        page = self.adapter.list_customers(cursor, limit, fields, filters, sort)
        total = page.total if page.total is not None else self._count(filters, sort)
        _send(resp, {
            "data": page.customers,
            "meta": {"items_on_page": len(page.customers), "total_count": total,
                     "cursors": {"previous": None, "current": cursor, "next": page.next_cursor}},
            "links": {"previous": None, "current": _link(req, cursor),
                      "next": _link(req, page.next_cursor) if page.next_cursor else None},
        })

    def _count(self, filters: dict[str, str], sort: Sort) -> int:
        """Walk the whole list to count it (the adapter cannot tell the total cheaply)."""
        count, cursor = 0, None
        while True:
            page = self.adapter.list_customers(cursor, 200, ["id"], filters, sort)
            count += len(page.customers)
            if page.next_cursor is None or not page.customers:
                return count
            cursor = page.next_cursor

    def on_get_item(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self._auth(req)
        request = validate_request(1, _fields(req), {})
        _send(resp, {"data": request.project(self.adapter.get_customer(id))})


def _link(req: falcon.Request, cursor: str | None) -> str:
    params = [(k, v) for k, values in req.params.items() if k != "cursor"
              for v in (values if isinstance(values, list) else [values])]
    if cursor is not None:
        params.append(("cursor", cursor))
    query = urlencode(params)
    return f"{req.prefix}{req.path}" + (f"?{query}" if query else "")


class _Document:
    def __init__(self) -> None:
        self._body: bytes | None = None

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        import yaml

        if self._body is None:
            dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # PERF: libyaml when available
            self._body = yaml.dump(read_only_spec(), Dumper=dumper, sort_keys=False, allow_unicode=True).encode()
        resp.content_type = "application/yaml"
        resp.data = self._body


class _Health:
    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        _send(resp, {"status": "ok", "adapter": getattr(self.adapter, "name", type(self.adapter).__name__)})


def create_gateway(adapter: Adapter, *, token: str | None = None) -> falcon.App[falcon.Request, falcon.Response]:
    """A WSGI app serving the canonical read API through ``adapter``.

    Args:
        adapter: any :class:`~contracts.adapters.Adapter`.
        token: the only bearer token accepted; ``None`` accepts any non-empty token.

    Example:
        >>> from contracts.adapters.ecwid import EcwidAdapter
        >>> app = create_gateway(EcwidAdapter("http://127.0.0.1:8000/ecwid"))  # doctest: +SKIP
    """
    app = falcon.App(middleware=[])
    app.req_options.keep_blank_qs_values = True
    app.req_options.strip_url_path_trailing_slash = True
    customers = _Customers(adapter, token)
    app.add_route("/customers", customers)
    app.add_route("/customers/{id}", customers, suffix="item")
    app.add_route("/openapi.yaml", _Document())
    app.add_route("/health", _Health(adapter))

    def on_adapter_error(req: falcon.Request, resp: falcon.Response, ex: AdapterError, params: dict[str, Any]) -> None:
        _problem(resp, ex, {"WWW-Authenticate": WWW_AUTHENTICATE} if ex.status == 401 else None)

    def on_http_error(req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPError, params: dict[str, Any]) -> None:
        status = int(str(ex.status)[:3])
        if status == 405:
            allow = dict(ex.headers or {}).get("Allow", "GET")
            _problem(resp, AdapterError.build(405, "method-not-allowed", "Method Not Allowed",
                                              f"This path accepts: {allow}. The gateway serves reads only."),
                     {"Allow": allow})
        elif status == 404:
            _problem(resp, AdapterError.build(404, "not-found", "Not Found", "No such path on this server."))
        else:
            _problem(resp, AdapterError.build(status, "invalid-parameter" if status == 400 else "internal",
                                              ex.title or "Error", ex.description or ex.title or "Request rejected."))

    def on_unexpected(req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict[str, Any]) -> None:
        if isinstance(ex, falcon.HTTPStatus):
            raise ex
        log.exception("the adapter failed on %s %s", req.method, req.relative_uri)
        _problem(resp, AdapterError.internal(f"The adapter failed: {type(ex).__name__}: {ex}"))

    app.add_error_handler(Exception, on_unexpected)
    app.add_error_handler(falcon.HTTPError, on_http_error)
    app.add_error_handler(AdapterError, on_adapter_error)
    return app


# ---- `contracts gateway` ------------------------------------------------------------------------


def add_gateway_command(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The ``contracts gateway`` sub-command (called by :mod:`contracts.cli`)."""
    parser = subparsers.add_parser(
        "gateway", help="serve the canonical API through an adapter",
        description="Serve GET /customers and GET /customers/{id} of the canonical contract, answered by an "
                    "adapter reading a platform API (for example the mock's /ecwid flavour), so that "
                    "`contracts check` runs end to end through the adapter.")
    parser.add_argument("--adapter", required=True,
                        help=f"registered adapter name ({', '.join(ADAPTERS.names())}) or module:Class")
    parser.add_argument("--upstream", required=True,
                        help="the platform's base URL, e.g. http://127.0.0.1:8000/ecwid")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8001, help="port to listen on (default 8001; 0: any free port)")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (default 1)")
    parser.add_argument("--token", default=None, help="the only bearer token the gateway accepts (default: any)")
    parser.add_argument("--upstream-token", default=None,
                        help="credentials for the platform (default: the adapter's own default)")
    parser.set_defaults(handler=_run_gateway)


def load_adapter_class(name: str) -> Any:
    """A registered adapter (``ecwid``) or ``package.module:ClassName``.

    Raises:
        UsageError: neither resolves.
    """
    import importlib

    from contracts.failures import UsageError

    if ":" in name:
        module, _, attribute = name.partition(":")
        try:
            return getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError) as exc:
            raise UsageError(f"cannot load adapter {name!r}: {exc}") from None
    try:
        return ADAPTERS.get(name)
    except UnknownAdapter as exc:
        raise UsageError(str(exc)) from None


def _run_gateway(args: argparse.Namespace) -> int:
    from contracts.failures import UsageError

    factory = load_adapter_class(args.adapter)
    if not args.upstream.startswith(("http://", "https://")):
        raise UsageError(f"--upstream must start with http:// or https://, got {args.upstream!r}")
    if not 0 <= args.port <= 65535 or args.workers < 1:
        raise UsageError("--port must be 0-65535 and --workers at least 1")
    kwargs = {} if args.upstream_token is None else {"token": args.upstream_token}
    return serve_gateway(lambda: factory(args.upstream, **kwargs), host=args.host, port=args.port,
                         workers=args.workers, token=args.token, upstream=args.upstream)


def serve_gateway(build: Callable[[], Adapter], *, host: str = "127.0.0.1", port: int = 8001, workers: int = 1,
                  token: str | None = None, upstream: str = "", announce: Callable[[str], None] = print) -> int:
    """Serve the gateway under gunicorn until interrupted; each worker builds its own adapter."""
    import socket
    import sys

    from gunicorn.app.base import BaseApplication

    from contracts.failures import UsageError

    if port == 0:
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = int(probe.getsockname()[1])
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}; pick another --port") from None

    def when_ready(server: Any) -> None:
        announce(f"contracts gateway: serving the canonical API at http://{host}:{port}/customers through the "
                 f"adapter, reading {upstream}\n  check it: contracts check --base-url http://{host}:{port} "
                 f"--spec http://{host}:{port}/openapi.yaml")
        sys.stdout.flush()

    options = {"bind": f"{host}:{port}", "workers": workers, "worker_class": "sync", "errorlog": "-",
               "loglevel": "warning", "timeout": 120, "graceful_timeout": 5, "when_ready": when_ready,
               "proc_name": "contracts-gateway",
               # NOTE: else gunicorn 25.1+ opens ~/.gunicorn/gunicorn.ctl, shared by every server of the user.
               "control_socket_disable": True}

    class _Application(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return create_gateway(build(), token=token)

    try:
        _Application().run()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
