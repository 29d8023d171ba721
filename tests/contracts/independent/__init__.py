"""An independent implementation of the canonical Customers API, and a real socket to serve it on.

``IndependentServer`` (app.py) is written from ``openapi.yaml`` alone and imports nothing from
``mockserver``: the kit must pass it as it passes the mock, and every broken-server wrapper in
``tests/contracts/broken`` must be caught in front of it too.

::

    app.py       the WSGI app: UUID ids, snapshot cursors "<version>-<offset>-<mac>", absolute problem types
    data.py      its own customers (random.Random(seed), 2021 timestamps, ties on purpose)
    served()     serve any WSGI app on 127.0.0.1 in a thread (wsgiref), yield its base URL
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from tests.contracts.independent.app import IndependentServer

__all__ = ["SPEC", "IndependentServer", "independent_app", "served"]

SPEC = str(Path(__file__).resolve().parents[3] / "openapi.yaml")
"""The contract the independent server is written from (and validates bodies with)."""


def independent_app(seed: int = 11, count: int = 80) -> IndependentServer:
    return IndependentServer(SPEC, seed=seed, count=count)


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr."""


@contextmanager
def served(app: Callable[..., Iterable[bytes]]) -> Iterator[str]:
    """Serve ``app`` on a free 127.0.0.1 port in a background thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
