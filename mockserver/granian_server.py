"""``mockserver serve --server granian``: the same app under granian, a Rust HTTP server (WSGI).

Processes: the serving process builds the app once (its temporary state and the shared SQLite files
included), binds the socket, then forks ``--workers`` processes that inherit that app, as gunicorn's
``preload_app`` does; a worker that dies is forked again from the same app. SIGTERM or SIGINT stops
the workers (each is killed if it has not stopped :data:`STOP_TIMEOUT` seconds later).

Threading model: in each worker a Rust (tokio) runtime owns every socket, parses HTTP and holds idle,
silent and half-sent connections without any Python thread; :data:`BLOCKING_THREADS` Python threads
run the WSGI app. They are real threads, switched preemptively, but they take turns: the app runs
under one lock per worker (:class:`MockGranianApp`), which a thread lets go only while it waits for a
request body or sleeps a ``Prefer: delay=``. That is the guarantee the app's per-process caches rely
on under gunicorn's gevent worker (one request's work is never interleaved with another's, see
:mod:`mockserver.worker`), so the overlay's sorted sides and the list walks stay consistent; the
stores lock their own SQLite connections as well (one per process, shared by its threads).

Slow clients: a request head (and the idle time of a kept-alive connection) must arrive within
:data:`HEAD_TIMEOUT_MS` (granian closes the connection); a request body within :data:`~mockserver.worker.
BODY_TIMEOUT` of the app's first read (the app answers 408 and the connection closes). A client that
stops reading its answer holds no thread: granian has the whole answer in memory.

What differs from gunicorn (the README's "Choosing the HTTP server" says it to users):

- ``fault=reset`` and ``fault=empty`` cannot close a connection unanswered (granian gives the app no
  socket, and always sends an answer's head): the client gets a head that promises one byte of body,
  with ``X-Mock-Fault`` saying so, and then the connection closes. ``truncated`` and ``malformed``
  are exact.
- A request line over gunicorn's limit (4094 bytes) is refused with 414 in the flavour's format, as
  under gunicorn (the percent-decoded path is counted). More than 100 headers, or a head over 400 KiB,
  granian refuses itself before the app runs: 431 with an empty body. One header over gunicorn's
  8190 bytes is let through.
- Header names go out in lower case (hyper's way): a client that looks one up case-sensitively misses it.
- The access log (``--access-log``) is granian's: the path without its query string.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from mockserver.stages import PAUSE_ENV, DroppedConnection
from mockserver.transport_errors import refusal_parts
from mockserver.worker import BODY_TIMEOUT, BodyTimeout

__all__ = ["BLOCKING_THREADS", "BODY_READERS", "HEAD_TIMEOUT_MS", "LIMIT_REQUEST_LINE", "MockGranianApp",
           "STOP_TIMEOUT", "run_granian"]

log = logging.getLogger("mockserver")

BLOCKING_THREADS = 8
"""Python threads per worker that run the app: requests waiting for a body or a delay hold one each."""
BODY_READERS = 256
"""Helper threads per worker that read request bodies; one that timed out stays taken until its client leaves."""
HEAD_TIMEOUT_MS = 5000
"""Milliseconds a request head (and the idle time before it on a kept-alive connection) may take."""
LIMIT_REQUEST_LINE = 4094
"""gunicorn's default limit on the request line, applied here too (414 in the flavour's format)."""
STOP_TIMEOUT = 3
"""Seconds a stopping worker may take before it is killed. (gunicorn's ``graceful_timeout`` is 5 s, but its
worker ends idle keep-alive connections at once; a granian worker sometimes waits for them to time out.)"""
HEAD_FLUSH = 0.05
"""Seconds a ``fault=reset/empty`` answer waits between its head and the close (see :func:`_ended_after`)."""

StartResponse = Callable[..., Any]


class _DeadlineInput:
    """``wsgi.input`` read by a helper thread, given up at a deadline, with the app lock let go meanwhile.

    granian's own reads block until the client sends or leaves; a client that stops halfway would
    hold the thread (and, with the lock, the worker) for as long as it stays connected.
    """

    def __init__(self, raw: Any, deadline: float, owner: MockGranianApp) -> None:
        self.raw = raw
        self.deadline = deadline
        self.owner = owner
        self.timed_out = False

    def _wait(self, call: Callable[..., bytes], *args: Any) -> bytes:
        remaining = self.deadline - time.monotonic()
        error = BodyTimeout(f"the request body did not arrive within {BODY_TIMEOUT:g} s")
        if self.timed_out or remaining <= 0:
            self.timed_out = True
            raise error
        future: Future[bytes] = self.owner.pool().submit(call, *args)  # under the app lock: one pool
        self.owner.lock.release()
        try:
            return future.result(timeout=remaining)
        except FutureTimeout:
            # NOTE: the helper thread stays blocked until the connection closes, which the answer
            # (Connection: close) makes it do at once.
            self.timed_out = True
            raise error from None
        finally:
            self.owner.lock.acquire()

    def read(self, size: int | None = None) -> bytes:
        return self._wait(self.raw.read, size if size is not None and size >= 0 else None)

    def readline(self, size: int | None = None) -> bytes:
        return self._wait(self.raw.readline)

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line


class MockGranianApp:
    """The WSGI app as granian runs it: one request at a time in app code (see the module doc), body
    deadlines, the request-line limit, and connection faults ended as granian allows."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = -1
        self._warned = False

    def pool(self) -> ThreadPoolExecutor:
        """This process's body readers (made after the fork: threads do not cross it)."""
        if self._pool is None or self._pool_pid != os.getpid():
            self._pool = ThreadPoolExecutor(BODY_READERS, thread_name_prefix="mockserver-body")
            self._pool_pid = os.getpid()
        return self._pool

    def pause(self, seconds: float) -> None:
        """A ``Prefer: delay=``: sleep with the app lock let go, so other requests go on."""
        self.lock.release()
        try:
            time.sleep(seconds)
        finally:
            self.lock.acquire()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if (len(environ["PATH_INFO"]) + len(environ["QUERY_STRING"]) + len(environ["REQUEST_METHOD"]) + 11
                > LIMIT_REQUEST_LINE):
            return self._refuse(414, start_response)
        body: _DeadlineInput | None = None
        if "CONTENT_LENGTH" in environ or "HTTP_TRANSFER_ENCODING" in environ:
            body = _DeadlineInput(environ["wsgi.input"], time.monotonic() + BODY_TIMEOUT, self)
            environ["wsgi.input"] = body
            start_response = _closing_after_timeout(start_response, body)
        environ[PAUSE_ENV] = self.pause
        with self.lock:
            try:
                result = self.app(environ, start_response)
            except DroppedConnection as exc:
                return self._dropped(exc, start_response)
        if type(result) is list:  # PERF: every answer but a fault=truncated one
            return result
        return _until_dropped(result)

    def _refuse(self, status: int, start_response: StartResponse) -> list[bytes]:
        parts = refusal_parts(self.app, status, None)
        if parts is None:
            start_response(f"{status} Refused", [("Content-Length", "0"), ("Connection", "close")])
            return []
        status, headers, body = parts
        from http import HTTPStatus

        start_response(f"{status} {HTTPStatus(status).phrase}", list(headers.items()))
        return [body]

    def _dropped(self, exc: DroppedConnection, start_response: StartResponse) -> Iterator[bytes]:
        if not self._warned:
            self._warned = True
            log.warning("fault=%s under granian: the answer's head is sent, then the connection closes (granian "
                        "cannot close a connection unanswered; see the README)", exc.fault)
        start_response("200 OK", [("Content-Length", "1"), ("Connection", "close"),
                                  ("X-Mock-Fault", f"{exc.fault}: granian sends a head, then closes the connection")])
        return _ended_after(HEAD_FLUSH)  # shorter than its Content-Length: granian closes the connection


def _ended_after(seconds: float) -> Iterator[bytes]:
    """No body, ended ``seconds`` from now: the head goes out first (ended at once, granian sometimes sends
    nothing and sometimes the head, which would make the fault a coin toss)."""
    time.sleep(seconds)
    yield from ()


def _closing_after_timeout(start_response: StartResponse, body: _DeadlineInput) -> StartResponse:
    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if body.timed_out:
            headers = [*headers, ("Connection", "close")]
        return start_response(status, headers, exc_info)

    return start


def _until_dropped(result: Iterable[bytes]) -> Iterator[bytes]:
    """A streamed answer, ended where the app drops the connection (``fault=truncated``): the body
    is then shorter than its Content-Length, and granian closes the connection."""
    try:
        yield from result
    except DroppedConnection:
        return
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


def run_granian(settings: Any, app: Any, on_ready: Callable[[], None],
                on_worker: Callable[[], None] | None = None) -> int:
    """Serve ``app`` (built in this process) under granian with ``settings`` until stopped; the exit status.

    ``on_ready`` runs once the socket is bound, before the workers start; ``on_worker`` in each worker.
    """
    import multiprocessing

    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    # NOTE: the workers must inherit the app (and its state files) from this process: forked, not spawned
    # (Python 3.14 defaults to forkserver on Linux, for which granian spawns and reloads the target).
    multiprocessing.set_start_method("fork", force=True)
    wrapped = MockGranianApp(app)

    def load() -> MockGranianApp:
        # NOTE: granian copies os.environ into every request's environ: drop what is no business of
        # a request there (HTTP_* variables would read as headers, MOCKSERVER_* hold the tokens).
        for name in [n for n in os.environ if n.startswith(("HTTP_", "MOCKSERVER_"))]:
            del os.environ[name]
        if on_worker is not None:
            on_worker()
        return wrapped

    server = Server(
        "mockserver", address=settings.host, port=settings.port, interface=Interfaces.WSGI,
        workers=settings.workers, blocking_threads=BLOCKING_THREADS, http=HTTPModes.http1,
        http1_settings=HTTP1Settings(header_read_timeout=HEAD_TIMEOUT_MS), websockets=False,
        log_level=LogLevels.warning, log_access=settings.access_log, respawn_failed_workers=True,
        workers_kill_timeout=STOP_TIMEOUT)
    # NOTE: granian warns when its threads outnumber the cores; ours take turns under the app lock
    logging.getLogger("_granian").addFilter(lambda record: not record.getMessage().startswith(
        "Configuration allows spawning up to"))
    server.on_startup(on_ready)
    gc.freeze()  # PERF: as gunicorn's pre_fork hook does (mockserver.server)
    try:
        server.serve(target_loader=load, wrap_loader=False)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
