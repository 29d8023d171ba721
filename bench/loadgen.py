"""Load generators: ``wrk`` (found, or installed from Debian packages) and a Python fallback.

Both take the same job: a base URL on 127.0.0.1, a list of request paths picked uniformly at
random per request (one path = the same request every time), headers, a connection count,
a duration and an optional request quota; both return one measurement
``{"rps", "p50_ms", "p99_ms", "requests", "errors", "seconds"}``.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["LoadGenerator", "PythonLoad", "Wrk", "find_load_generator"]


class LoadGenerator:
    name = "?"

    def run(self, base_url: str, paths: list[str], headers: dict[str, str], connections: int, duration: float,
            quota: int = 0) -> dict[str, Any]:
        raise NotImplementedError


def _check_local(base_url: str) -> None:
    host = urlsplit(base_url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"the benchmark only loads 127.0.0.1, not {host}")


_LUA = r"""
local paths_file = %(paths)s
local headers = %(headers)s
local quota = %(quota)d
local reqs, n, count = {}, 0, 0
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end

function init(args)
  for k, v in pairs(headers) do wrk.headers[k] = v end
  for line in io.lines(paths_file) do
    if #line > 0 then n = n + 1; reqs[n] = wrk.format("GET", line) end
  end
  math.randomseed(7919 * (tid + 1))
end

function request()
  if n == 1 then return reqs[1] end
  return reqs[math.random(n)]
end

if quota > 0 then
  function response(status, hdrs, body)
    count = count + 1
    if count >= quota then wrk.thread:stop() end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%%d,"duration_us":%%d,"connect":%%d,"read":%%d,"write":%%d,"status":%%d,' ..
    '"timeout":%%d,"p50_us":%%.1f,"p99_us":%%.1f,"max_us":%%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50.0), latency:percentile(99.0), latency.max))
end
"""


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Wrk(LoadGenerator):
    """``wrk`` with a generated Lua script (pre-formatted requests, random pick, JSON summary)."""

    name = "wrk"

    def __init__(self, executable: str, work_dir: Path) -> None:
        self.executable = executable
        self.work_dir = work_dir
        self.version = _wrk_version(executable)
        self._files = 0

    def _write(self, paths: list[str], headers: dict[str, str], quota: int) -> Path:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._files += 1
        paths_file = self.work_dir / f"paths-{os.getpid()}-{self._files}.txt"
        paths_file.write_text("\n".join(paths) + "\n", encoding="utf-8")
        lua_headers = "{" + ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()) + "}"
        script = self.work_dir / f"script-{os.getpid()}-{self._files}.lua"
        script.write_text(_LUA % {"paths": _lua_string(str(paths_file)), "headers": lua_headers, "quota": quota},
                          encoding="utf-8")
        return script

    def run(self, base_url: str, paths: list[str], headers: dict[str, str], connections: int, duration: float,
            quota: int = 0) -> dict[str, Any]:
        _check_local(base_url)
        threads = max(1, min(connections, os.cpu_count() or 1))
        per_thread = -(-quota // threads) if quota else 0
        script = self._write(paths, headers, per_thread)
        seconds = max(1, round(duration))
        args = [self.executable, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                "-s", str(script), base_url]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60, check=False)
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCHJSON ")), None)
        if line is None:
            raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout[-800:]} {proc.stderr[-800:]}")
        data = json.loads(line[len("BENCHJSON "):])
        elapsed = data["duration_us"] / 1e6
        errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
        return {"rps": data["requests"] / elapsed if elapsed else 0.0, "p50_ms": data["p50_us"] / 1000,
                "p99_ms": data["p99_us"] / 1000, "max_ms": data["max_us"] / 1000, "requests": data["requests"],
                "errors": errors, "error_kinds": {k: data[k] for k in ("connect", "read", "write", "status",
                                                                       "timeout") if data[k]},
                "seconds": elapsed}


def _wrk_version(executable: str) -> str:
    try:
        out = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return "?"
    first = (out.stdout or out.stderr).strip().splitlines()
    return first[0].split(" [")[0].replace("wrk ", "") if first else "?"


class PythonLoad(LoadGenerator):
    """A keep-alive HTTP/1.1 load generator in asyncio (one process; slower than wrk, same figures).

    It reconnects when the server closes the connection (gunicorn's sync workers do after
    every response), as wrk does.
    """

    name = "python"
    version = "asyncio"

    def run(self, base_url: str, paths: list[str], headers: dict[str, str], connections: int, duration: float,
            quota: int = 0) -> dict[str, Any]:
        _check_local(base_url)
        return asyncio.run(self._run(base_url, paths, headers, connections, duration, quota))

    async def _run(self, base_url: str, paths: list[str], headers: dict[str, str], connections: int,
                   duration: float, quota: int) -> dict[str, Any]:
        parts = urlsplit(base_url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        requests = [f"GET {p} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode() for p in paths]
        latencies: list[float] = []
        errors = 0
        started = time.perf_counter()
        deadline = started + duration
        rng = random.Random(7919)

        async def worker() -> None:
            nonlocal errors
            reader = writer = None
            while time.perf_counter() < deadline and (not quota or len(latencies) < quota):
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection(host, port)
                    assert reader is not None
                    t0 = time.perf_counter()
                    writer.write(requests[rng.randrange(len(requests))])
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                    status = int(head.split(b" ", 2)[1])
                    length, close = 0, False
                    for line in head.split(b"\r\n")[1:]:
                        name, _, value = line.partition(b":")
                        name = name.strip().lower()
                        if name == b"content-length":
                            length = int(value)
                        elif name == b"connection" and value.strip().lower() == b"close":
                            close = True
                    if length:
                        await asyncio.wait_for(reader.readexactly(length), 10)
                    latencies.append(time.perf_counter() - t0)
                    if status >= 400:
                        errors += 1
                    if close:
                        writer.close()
                        reader = writer = None
                except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError, IndexError):
                    errors += 1
                    if writer is not None:
                        writer.close()
                    reader = writer = None
                    await asyncio.sleep(0.001)
            if writer is not None:
                writer.close()

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
        latencies.sort()

        def pct(q: float) -> float:
            return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0.0

        return {"rps": len(latencies) / elapsed if elapsed else 0.0, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
                "max_ms": latencies[-1] * 1000 if latencies else 0.0, "requests": len(latencies), "errors": errors,
                "seconds": elapsed}


def find_load_generator(work_dir: Path, prefer: str = "wrk", install: bool = True,
                        log: Any = print) -> LoadGenerator:
    """``wrk`` if on PATH; else try ``apt-get install wrk`` (as root); else the Python generator."""
    if prefer == "python":
        return PythonLoad()
    found = shutil.which("wrk")
    if found is None and install and shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        log("bench: wrk not found; installing it with apt-get (Debian package 'wrk')")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        try:
            subprocess.run(["apt-get", "update"], capture_output=True, timeout=300, env=env, check=False)
            subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True, timeout=300, env=env,
                           check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            log(f"bench: apt-get failed: {exc}")
        found = shutil.which("wrk")
    if found is None:
        log("bench: wrk unavailable; using the Python load generator (absolute figures are lower, ratios hold)")
        return PythonLoad()
    return Wrk(found, work_dir)
