"""The two servers the benchmark loads, as users start them: ``mockserver serve`` and the ceiling.

Each is a gunicorn process tree in its own session, ready when its probe path answers 200, and
stopped with its whole tree.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
AUTH = {"Authorization": "Bearer bench-token"}
PAGE = 20


class Server:
    """A gunicorn process tree started from a command line, ready when ``probe`` answers 200."""

    def __init__(self, name: str, command: list[str], port: int, probe: str, headers: dict[str, str],
                 log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.name, self.command, self.port, self.probe, self.headers = name, command, port, probe, headers
        self.env = env
        self.base_url = f"http://{HOST}:{port}"
        self.log_path = log_dir / f"{name}-{port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_s: float | None = None

    def start(self, timeout: float = 30.0) -> Server:
        with open(self.log_path, "wb") as out:
            started = time.perf_counter()
            self.process = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True, cwd=REPO, env={**os.environ, **(self.env or {})})
        deadline = started + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}): {self.log_tail()}")
            status = http_status(self.base_url, self.probe, self.headers, timeout=1.0)
            if status == 200:
                self.startup_s = time.perf_counter() - started
                return self
            time.sleep(0.005)
        self.stop()
        raise RuntimeError(f"{self.name} not ready within {timeout} s: {self.log_tail()}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-1500:]
        return ""

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # gunicorn's master stops its workers
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # its own session: only this tree
            process.wait(timeout=5)


def http_status(base_url: str, path: str, headers: dict[str, str], timeout: float = 2.0) -> int | None:
    host, port = base_url.rsplit("//", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def http_json(base_url: str, path: str, headers: dict[str, str]) -> tuple[int, Any]:
    host, port = base_url.rsplit("//", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        try:
            return response.status, json.loads(body)
        except ValueError:
            return response.status, None
    finally:
        conn.close()


def free_port() -> int:
    from mockserver.server import free_port as _free

    return _free(HOST)


def mock_server(count: int, seed: int, workers: int, log_dir: Path, flags: Sequence[str] = ()) -> Server:
    """``mockserver serve`` with the benchmark's dataset, plus ``flags`` (``--journal-size 0``...)."""
    port = free_port()
    command = [sys.executable, "-m", "mockserver", "serve", "--host", HOST, "--port", str(port), "--seed", str(seed),
               "--count", str(count), "--workers", str(workers), *flags]
    return Server(f"mock-{count}", command, port, f"/customers?limit={PAGE}", AUTH, log_dir)


def ceiling_server(workers: int, log_dir: Path) -> Server:
    from bench.ceiling import OPTIONS_ENV, encode_options
    from mockserver.server import gunicorn_options
    from mockserver.settings import Settings

    port = free_port()
    command = [sys.executable, str(REPO / "bench" / "ceiling.py"), "--host", HOST, "--port", str(port),
               "--workers", str(workers)]
    env = {OPTIONS_ENV: encode_options(gunicorn_options(Settings(host=HOST, port=port, workers=workers)))}
    return Server("ceiling", command, port, "/customers", {}, log_dir, env=env)

