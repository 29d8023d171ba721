"""Run the app under gunicorn (or granian), in this process (``serve``) or as a child process.

``serve`` is what ``mockserver serve`` runs. :class:`ServerProcess` starts that same
command on a free port and waits until it answers; the pytest plugin, the integration
tests and the benchmark use it, so they all exercise the server exactly as users run it.
"""

from __future__ import annotations

import errno
import gc
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Self

from mockserver.errors import InvalidSettings
from mockserver.settings import Settings

__all__ = ["PortInUse", "ServerProcess", "check_exposure", "free_port", "gunicorn_options", "is_loopback",
           "run_gunicorn", "serve"]


class PortInUse(InvalidSettings):
    """The address to bind is already taken by another process."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            f"{host}:{port} is already in use by another process. Stop that process, or pick another port "
            f"with --port (for example --port {port + 1}, or --port 0 for any free port)."
        )


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise PortInUse(host, port) from None
            raise InvalidSettings(f"cannot bind {host}:{port}: {exc.strerror}") from None


def is_loopback(host: str) -> bool:
    """``host`` is reachable from this machine only (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False


def check_exposure(settings: Settings) -> str | None:
    """A warning when the mock is open to the network, or ``None`` when it is not.

    Raises:
        InvalidSettings: a non-loopback host without a token and without ``allow_anyone``, or without
            an admin token (``admin_token``, else ``token``): nobody may drive a networked mock's admin API.
    """
    if is_loopback(settings.host) or settings.token is not None:
        return None
    if not settings.allow_anyone:
        raise InvalidSettings(
            f"--host {settings.host} serves the mock to your network without a token: anyone who reaches "
            "it could read, change and reset its data. Set a token (MOCKSERVER_TOKEN=... or --token-file "
            "PATH), or pass --allow-anyone to serve it open on purpose.")
    if settings.admin_token is None:
        raise InvalidSettings(
            f"--allow-anyone opens the API on {settings.host}, but not the admin API (/__admin/: faults, tenants, "
            "resets): set an admin token too (MOCKSERVER_ADMIN_TOKEN=... or --admin-token-file PATH).")
    return (f"WARNING: serving on {settings.host} WITHOUT A TOKEN (--allow-anyone): anyone who can reach this "
            "machine can read and change the mock's data (the admin API still needs the admin token).")


def _freeze_gc(server: Any, worker: Any) -> None:
    gc.freeze()


def _unhappy_summary(settings: Settings) -> str:
    """One line on the unhappy-path controls the server starts with."""
    from mockserver.config_file import initial_controls

    controls = initial_controls(settings)
    parts = [f"tenants {controls.tenants_mode}" + (f" ({len(controls.tenants)} configured)" if controls.tenants else ""),
             "rate limits " + ("on" if controls.rate_limits else "off (--rate-limits)"),
             "fault profile " + ("on" if controls.faults is not None else "off"),
             "Prefer " + ("honoured" + (" with the admin token" if settings.token else "") if controls.prefer
                          else "ignored")]
    return "; ".join(parts) + (f" (from {settings.config})" if settings.config else "")


def _register_worker(worker: Any) -> None:
    """Note the worker in the shared state (``GET /__admin/health`` lists the live ones) and start its
    webhook delivery thread."""
    from mockserver.app import APP_CONTEXTS

    for context in list(APP_CONTEXTS.values()):
        context.shared.register_worker(os.getpid())
        context.webhooks.start()  # every worker delivers (and takes over what a dead one leased)


WORKER_CONNECTIONS = 1000
"""Connections one worker holds at once (gunicorn's default); each needs a file descriptor."""


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """The gunicorn settings ``serve`` runs with (the benchmark's ceiling app reuses them)."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return {
        "bind": f"{host}:{settings.port}",
        "workers": settings.workers,
        # NOTE: gevent, so that clients slow to send or to read hold only their own greenlet,
        # with deadlines for what never completes (see mockserver.worker). gthread with one
        # thread per worker was stopped by two half-sent requests (8 threads: by 50). PERF: in
        # A/B runs with bench/'s load generator, hot and random pages served more req/s than
        # under gthread at 1 and 32 connections (the bare ceiling app gained more at 32).
        "worker_class": "mockserver.worker.MockWorker",
        "worker_connections": WORKER_CONNECTIONS,
        # NOTE: also the deadline for a request head to arrive (gunicorn's gevent worker).
        "keepalive": 5,
        # PERF: objects built before the fork move to GC's permanent generation, so collections
        # in the workers neither walk them nor write to (and so copy) their pages.
        "pre_fork": _freeze_gc,
        "post_worker_init": _register_worker,
        # NOTE: preload builds the app (and its temp state file) once in the master;
        # the forked workers then share the dataset tables and the state file.
        "preload_app": True,
        # NOTE: gunicorn 25.1+ otherwise opens a control socket shared by every server of the
        # user (~/.gunicorn/gunicorn.ctl): a mock must not write outside its own files.
        "control_socket_disable": True,
        "accesslog": "-" if settings.access_log else None,
        "logger_class": "mockserver.worker.MockLogger",  # masks ?token= in the access log
        "errorlog": "-",
        "loglevel": "warning",
        "timeout": 60,
        "graceful_timeout": 5,
    }


def serve(settings: Settings, announce: Callable[[str], None] = print) -> int:
    """Serve until interrupted under ``settings.server``; returns the server's exit status.

    Raises:
        PortInUse: the port is taken (checked before the server starts, for a clear message).
        InvalidSettings: ``--server granian`` without granian installed.
    """
    from mockserver.app import create_app
    from mockserver.dataset import writer
    from mockserver.landing import DOCS_PATH, first_requests

    warning = check_exposure(settings)
    _check_server(settings)
    if settings.port == 0:
        settings = replace(settings, port=free_port(settings.host))
    _check_port(settings.host, settings.port)
    if warning:
        print(f"mockserver: {warning}", file=sys.stderr, flush=True)
    temp_dir = None
    if settings.state is None:
        temp_dir = tempfile.mkdtemp(prefix="mockserver-")
        settings = replace(settings, state=os.path.join(temp_dir, "state.sqlite3"))
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    url = f"http://{host}:{settings.port}"

    def banner() -> None:
        (_, root_url, root_note), *mounted = first_requests(settings, url)
        flavours = "\n            ".join(f"{label:<9} {link} {note}".rstrip() for label, link, note in mounted)
        announce(
            f"mockserver: serving {settings.flavour} at {root_url} {root_note}".rstrip() +
            f" (seed {settings.seed}, {settings.count:,} customers, {_workers_note(settings)})\n"
            f"  browser:  {url}/ (what runs and how to call it; API docs at {url}{DOCS_PATH})\n"
            f"  flavours: {flavours}\n"
            f"  writes:   {settings.state}{' (temporary)' if temp_dir else ''}\n"
            f"  auth:     {'token required' if settings.token else 'any bearer token'}; "
            f"CORS {'on' if settings.cors else 'off'}; Ctrl+C stops\n"
            f"  admin:    {url}/__admin/openapi.yaml (tenants, faults, rate limits, clock; "
            f"{'admin token required' if settings.admin_token or settings.token else 'any bearer token'})\n"
            f"  unhappy:  {_unhappy_summary(settings)}"
            + ("" if writer.COMPILED else "\n  note:     the JSON writer runs as plain Python (not compiled at install): "
               "cold pages are about half as fast")
        )
        sys.stdout.flush()

    try:
        if settings.server == "granian":
            from mockserver.granian_server import run_granian

            return run_granian(settings, create_app(settings), banner, lambda: _register_worker(None))
        options = {**gunicorn_options(settings), "when_ready": lambda server: banner(), "proc_name": "mockserver"}
        return run_gunicorn(options, lambda: create_app(settings))
    finally:
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)


def _workers_note(settings: Settings) -> str:
    if settings.server == "granian":
        from mockserver.granian_server import BLOCKING_THREADS

        return f"{settings.workers} granian workers of {BLOCKING_THREADS} threads"
    return f"{settings.workers} gunicorn workers"


def _check_server(settings: Settings) -> None:
    """Raises InvalidSettings: the server asked for is not installed."""
    if settings.server != "granian":
        return
    try:
        import granian  # noqa: F401
    except ImportError:
        raise InvalidSettings("--server granian needs the granian package, which is not installed: "
                              "pip install 'unified-customers-mock[granian]' (or run without --server granian)") from None


def run_gunicorn(options: dict[str, Any], load: Callable[[], Any]) -> int:
    """Run the WSGI app ``load()`` builds under gunicorn with ``options`` until it stops; its exit status.

    ``bench/ceiling.py`` runs its constant-bytes app through this too, so the two servers the
    benchmark compares differ only in the app.
    """
    from gunicorn.app.base import BaseApplication

    class _Application(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                if value is not None:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return load()

    try:
        _Application().run()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


class ServerProcess:
    """``mockserver serve`` as a child process on a free port.

    Example:
        >>> with ServerProcess(Settings(count=100)) as server:  # doctest: +SKIP
        ...     urllib.request.urlopen(server.url + "/health").status
        200
    """

    def __init__(self, settings: Settings | None = None, *, port: int | None = None, startup_timeout: float = 20.0,
                 env: dict[str, str] | None = None) -> None:
        """Args:
            settings: what to serve; ``settings.port`` is ignored in favour of ``port``.
            port: the port to bind; ``None`` picks a free one (retried if taken meanwhile).
            startup_timeout: seconds to wait for ``/health`` to answer 200.
            env: extra environment variables for the child (``MOCKSERVER_*``).
        """
        self.settings = settings or Settings()
        self.port = port
        self.startup_timeout = startup_timeout
        self.env = env
        self.process: subprocess.Popen[str] | None = None
        self._log: Any = None
        self.url = ""
        self.startup_seconds = 0.0
        self.output = ""

    def start(self) -> Self:
        last_error = ""
        for _attempt in range(3):  # another process may grab the free port first
            settings = replace(self.settings, port=self.port or free_port(self.settings.host))
            args = [sys.executable, "-m", "mockserver", "serve"] + _flags(settings)
            started = time.perf_counter()
            # NOTE: output goes to a file, not a pipe: nobody reads a pipe while the
            # server runs, and a full pipe would block its logging.
            # The file outlives this method: stop() reads and closes it.
            self._log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
            # NOTE: the token goes through the environment: a command line is visible to every user.
            token = {"MOCKSERVER_TOKEN": settings.token} if settings.token else {}
            if settings.admin_token:
                token["MOCKSERVER_ADMIN_TOKEN"] = settings.admin_token
            try:
                self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, text=True,
                                                env={**os.environ, **token, **(self.env or {})})
            except BaseException:
                self._log.close()
                self._log = None
                raise
            self.url = f"http://{settings.host}:{settings.port}"
            if self._wait_ready(started):
                self.settings = settings
                return self
            last_error = self.stop()
        raise RuntimeError(f"mockserver did not start: {last_error[-2000:]}")

    def _wait_ready(self, started: float) -> bool:
        assert self.process is not None
        deadline = started + self.startup_timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:  # exited: port taken, bad settings...
                return False
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as response:
                    health = json.loads(response.read())
                # NOTE: another process may own the port; only our own dataset counts as ready.
                if (health.get("seed"), health.get("count")) == (self.settings.seed, self.settings.count) \
                        and self.process.poll() is None:
                    self.startup_seconds = time.perf_counter() - started
                    return True
                return False
            except (OSError, ValueError):
                time.sleep(0.01)
        return False

    def stop(self) -> str:
        """SIGTERM, then SIGKILL if it hangs; returns what the server printed."""
        process, self.process = self.process, None
        if process is None:
            return self.output
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.seek(0)
            self.output = self._log.read()
            self._log.close()
            self._log = None
        return self.output

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _flags(settings: Settings) -> list[str]:
    flags = ["--host", settings.host, "--port", str(settings.port), "--seed", str(settings.seed),
             "--count", str(settings.count), "--workers", str(settings.workers), "--flavour", settings.flavour,
             "--server", settings.server]
    if settings.state:
        flags += ["--state", settings.state]
    if not settings.cors:
        flags.append("--no-cors")
    for origin in settings.cors_origins:
        flags += ["--cors-origin", origin]
    if settings.public_url:
        flags += ["--public-url", settings.public_url]
    if settings.allow_anyone:
        flags.append("--allow-anyone")
    if settings.access_log:
        flags.append("--access-log")
    if settings.config:
        flags += ["--config", settings.config]
    if settings.tenants:
        flags += ["--tenants", settings.tenants]
    if settings.rate_limits is not None:
        flags.append("--rate-limits" if settings.rate_limits else "--no-rate-limits")
    if settings.prefer is not None:
        flags.append("--prefer" if settings.prefer else "--no-prefer")
    if settings.faults is not None:
        flags += ["--faults", settings.faults]
    defaults = Settings()
    if settings.journal_size != defaults.journal_size:
        flags += ["--journal-size", str(settings.journal_size)]
    if settings.journal_body_bytes != defaults.journal_body_bytes:
        flags += ["--journal-body-bytes", str(settings.journal_body_bytes)]
    return flags
