"""The gunicorn worker ``mockserver serve`` runs (gevent, with deadlines for slow clients) and its logger.

gunicorn's ``gthread`` worker reads a started request on a blocking socket in one of its
threads; with one thread per worker, two clients that sent half a request stopped the whole
server. Here every connection is a greenlet, so a client that is slow to send (or to read)
holds only its own greenlet, and deadlines close what never completes:

- a request head (and the idle time before it on a kept-alive connection) must arrive
  within ``keepalive`` seconds (gunicorn's own gevent deadline), else the connection closes;
- a request body must arrive within :data:`BODY_TIMEOUT` of its head: reading it then raises
  :class:`BodyTimeout` (a ``TimeoutError``) in the app, which answers 408, and the connection closes;
- one socket send or receive that makes no progress for :data:`SOCKET_TIMEOUT` ends the connection.

Why the app's per-process caches stay consistent: greenlets switch only where they wait for
I/O, and the app waits for I/O only while it reads a request body (SQLite and file reads are
blocking C calls that do not switch). Every cache update runs between two switches, so one
request's work is never interleaved with another's halfway through.
"""

from __future__ import annotations

import contextlib
import re
import signal
import time
from collections.abc import Iterator
from typing import Any

import gevent
from gunicorn.glogging import Logger
from gunicorn.workers.base_async import AsyncWorker
from gunicorn.workers.ggevent import GeventWorker

from mockserver.transport_errors import FlavouredRefusals

__all__ = ["BODY_TIMEOUT", "SOCKET_TIMEOUT", "BodyTimeout", "MockLogger", "MockWorker"]

BODY_TIMEOUT = 5.0
"""Seconds a request body may take to arrive, counted from the end of its head."""
SOCKET_TIMEOUT = 10.0
"""Seconds one send or receive may wait without progress (a client that stopped reading)."""


class BodyTimeout(TimeoutError):
    """The request body did not arrive within :data:`BODY_TIMEOUT`."""


class _DeadlineReader:
    """A gunicorn body reader (length, chunked or EOF) that gives up at a deadline."""

    def __init__(self, reader: Any, deadline: float) -> None:
        self.reader = reader
        self.deadline = deadline

    def read(self, size: int) -> bytes:
        remaining = self.deadline - time.monotonic()
        error = BodyTimeout(f"the request body did not arrive within {BODY_TIMEOUT:g} s")
        if remaining <= 0:
            raise error
        with gevent.Timeout(remaining, error):
            data: bytes = self.reader.read(size)
        return data


class MockWorker(FlavouredRefusals, GeventWorker):  # type: ignore[misc]
    """gunicorn's gevent worker with a body deadline and socket timeouts (see the module doc), and
    gunicorn's own refusals (request line too long, ...) in the flavour's format."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting: dict[Any, gevent.Timeout] = {}
        """Greenlets waiting for a request head, and the deadline each waits under."""

    @contextlib.contextmanager
    def timeout_ctx(self) -> Iterator[None]:
        """gunicorn's deadline for the next request head (``keepalive``), ended early at shutdown."""
        timeout = gevent.Timeout(self.cfg.keepalive, False)
        current = gevent.getcurrent()
        self._waiting[current] = timeout
        try:
            with timeout:
                yield
        finally:
            self._waiting.pop(current, None)

    def init_process(self) -> None:
        # NOTE: until gunicorn installs the worker's handlers (after gevent patches the process,
        # a fraction of a second), SIGTERM would reach the master's inherited handler and be
        # lost: the worker would then run until the master kills it, graceful_timeout later.
        signal.signal(signal.SIGTERM, self._stop_before_running)
        super().init_process()

    def _stop_before_running(self, sig: Any, frame: Any) -> None:
        self.alive = False

    def handle_exit(self, sig: Any, frame: Any) -> None:
        super().handle_exit(sig, frame)
        # NOTE: a kept-alive connection would otherwise hold a stopping worker for its whole idle
        # time; its deadline fires now instead (silently, as when it expires).
        gevent.spawn(self._end_waits)

    def _end_waits(self) -> None:
        loop = gevent.get_hub().loop
        for greenlet, timeout in list(self._waiting.items()):
            loop.run_callback(self._end_wait, greenlet, timeout)

    def _end_wait(self, greenlet: Any, timeout: gevent.Timeout) -> None:
        # Runs in the hub, so ``greenlet`` is suspended: if it still waits under ``timeout``, it
        # waits inside that block, which swallows the timeout; if it has moved on, leave it be.
        if self._waiting.get(greenlet) is timeout:
            greenlet.throw(timeout)

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        # NOTE: GeventWorker.handle makes the socket blocking (no timeout); a timeout instead
        # ends a connection whose peer neither sends nor reads.
        client.settimeout(SOCKET_TIMEOUT)
        AsyncWorker.handle(self, listener, client, addr)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> bool:
        body = getattr(req, "body", None)
        if body is not None and hasattr(body, "reader"):
            # A body that timed out marks itself failed (gunicorn's Body), so the connection
            # closes after the answer instead of parsing the rest of the body as a request.
            body.reader = _DeadlineReader(body.reader, time.monotonic() + BODY_TIMEOUT)
        try:
            return bool(super().handle_request(listener_name, req, sock, addr))
        except TimeoutError:
            # A client that stopped reading its response: nothing more can be said to it.
            self.log.warning("closed a connection from %s: it stopped reading for %g s", addr, SOCKET_TIMEOUT)
            raise StopIteration() from None


_SECRET_PARAM = re.compile(r"(?i)((?:^|[?&;])(?:token|access_token|api_key|apikey)=)[^&;\s\"]*")
_SECRET_HEADERS = ("{authorization}i", "{http_authorization}e", "{x-api-key}i", "{http_x_api_key}e")


class MockLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger with credentials masked in access log lines.

    Ecwid clients send their token as ``?token=``; the request line would otherwise write it
    to the log (and to CI output), where ``Authorization`` headers never appear.
    """

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for key in ("r", "q", "{raw_uri}e", "{query_string}e"):
            if isinstance(atoms.get(key), str):
                atoms[key] = _SECRET_PARAM.sub(r"\1***", atoms[key])
        for key in _SECRET_HEADERS:
            if atoms.get(key):
                atoms[key] = "***"
        return atoms
