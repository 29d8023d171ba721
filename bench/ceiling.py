"""The ceiling: a bare Falcon app returning constant bytes, under ``mockserver serve``'s gunicorn settings.

It answers every ``GET`` with the same ~14 KB JSON page (20 customer-shaped objects), so
its throughput is what gunicorn + Falcon + the load generator can do on this machine with
no application work at all. ``bench/run.py`` starts it next to the mock in the same run and
reports every mock figure as a ratio to it.

    python bench/ceiling.py --port 8100 --workers 2
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Callable
from typing import Any

import falcon

TARGET_BYTES = 14_000


def page_body(target: int = TARGET_BYTES) -> bytes:
    """A customer-list-shaped JSON document of about ``target`` bytes (deterministic)."""
    items = []
    for n in range(20):
        items.append({
            "id": f"{100000000 + n * 7919}", "name": f"Customer {n}", "first_name": "Customer",
            "last_name": str(n), "company_name": None, "status": "active", "currency": "USD",
            "emails": [{"id": f"{n}-e1", "email": f"customer{n}@example.com", "type": "primary"}],
            "phone_numbers": [{"id": f"{n}-p1", "country_code": "1", "area_code": "212", "number": "555-0100",
                               "extension": None, "type": "mobile"}],
            "addresses": [{"id": f"{n}-a1", "type": "billing", "line1": "1 Main Street", "line2": None,
                           "city": "Springfield", "state": "IL", "postal_code": "62701", "country": "US"}],
            "orders": [], "notes": None, "created_at": "2019-01-01T00:00:00Z", "updated_at": "2019-01-01T00:00:00Z",
        })
    doc: dict[str, Any] = {"data": items, "meta": {"items_on_page": 20, "total_count": 1000000,
                                                   "cursors": {"previous": None, "current": None, "next": None}},
                           "links": {"previous": None, "current": "/customers", "next": None}, "pad": ""}
    body = json.dumps(doc, separators=(",", ":"))
    doc["pad"] = "x" * max(0, target - len(body))
    return json.dumps(doc, separators=(",", ":")).encode()


class Constant:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = "application/json"
        resp.data = self.body


def create_app(body: bytes | None = None) -> falcon.App:
    app = falcon.App()
    resource = Constant(body if body is not None else page_body())
    app.add_route("/customers", resource)
    app.add_route("/health", resource)
    return app


OPTIONS_ENV = "BENCH_GUNICORN_OPTIONS"
"""JSON of ``mockserver.server.gunicorn_options`` (hooks as ``{"hook": "module:name"}``), set by run.py
so that this process does not import mockserver: its start-up time is then a bare Falcon app's."""

HOOKS: dict[str, Callable[..., None]] = {
    # the equivalent of each mockserver.server hook, without importing mockserver
    "mockserver.server:_freeze_gc": lambda server, worker: gc.freeze(),
    # the mock notes each worker's pid in its shared state once, at start (GET /__admin/health): nothing per request
    "mockserver.server:_register_worker": lambda worker: None,
}


def encode_options(options: dict[str, Any]) -> str:
    """Gunicorn options as JSON, hooks by name (see :data:`HOOKS`)."""
    return json.dumps({k: ({"hook": f"{v.__module__}:{v.__qualname__}"} if callable(v) else v)
                       for k, v in options.items() if k != "bind"})


def decode_options(text: str) -> dict[str, Any]:
    options = json.loads(text)
    for key, value in options.items():
        if isinstance(value, dict) and "hook" in value:
            if value["hook"] not in HOOKS:
                raise SystemExit(f"ceiling.py: no equivalent for gunicorn hook {value['hook']}; add one to HOOKS")
            options[key] = HOOKS[value["hook"]]
    return options


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--bytes", type=int, default=TARGET_BYTES, help="size of the constant page")
    args = parser.parse_args(argv)

    from mockserver.server import gunicorn_options, run_gunicorn

    if os.environ.get(OPTIONS_ENV):
        options = decode_options(os.environ[OPTIONS_ENV])
    else:  # run by hand: take them from mockserver itself
        from mockserver.settings import Settings

        options = gunicorn_options(Settings(host=args.host, port=args.port))
    options.update(bind=f"{args.host}:{args.port}", workers=args.workers, proc_name="mockserver-ceiling")
    body = page_body(args.bytes)
    return run_gunicorn(options, lambda: create_app(body))


if __name__ == "__main__":
    sys.exit(main())
