"""What the benchmark measures besides requests: memory of process trees, CPU time the hypervisor
took (steal), and the machine and versions a run was made on."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Self

from bench.loadgen import LoadGenerator
from bench.servers import REPO


def tree_pids(pid: int) -> list[int]:
    """``pid`` and all its descendants (gunicorn master + workers)."""
    found: list[int] = []
    todo = [pid]
    while todo and len(found) < 256:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo.extend(int(p) for p in f.read().split())
    return found


def _kib_fields(path: str, names: tuple[str, ...]) -> dict[str, int]:
    values: dict[str, int] = {}
    with contextlib.suppress(OSError), open(path) as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in names:
                values[key] = int(rest.split()[0])
    return values


def tree_memory(pid: int) -> dict[str, Any]:
    """RSS, PSS (``smaps_rollup``) and peak RSS (``VmHWM``) summed over the tree, MiB."""
    rss = pss = hwm = 0
    pids = tree_pids(pid)
    for p in pids:
        rollup = _kib_fields(f"/proc/{p}/smaps_rollup", ("Rss", "Pss"))
        status = _kib_fields(f"/proc/{p}/status", ("VmHWM",))
        rss += rollup.get("Rss", 0)
        pss += rollup.get("Pss", 0)
        hwm += status.get("VmHWM", 0)
    return {"processes": len(pids), "rss_mib": rss / 1024, "pss_mib": pss / 1024, "peak_rss_mib": hwm / 1024}


class MemorySampler:
    """Samples a process tree every ``interval`` seconds to catch peaks between checkpoints."""

    def __init__(self, pid: int, interval: float = 1.0) -> None:
        self.pid, self.interval = pid, interval
        self.peak_rss = self.peak_pss = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def sample(self) -> dict[str, Any]:
        memory = tree_memory(self.pid)
        self.peak_rss = max(self.peak_rss, memory["rss_mib"])
        self.peak_pss = max(self.peak_pss, memory["pss_mib"])
        return memory

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def compile_bytecode() -> None:
    """Write mockserver's ``.pyc`` files, as ``pip install`` does, so start-up is not a first run.

    (With ``PYTHONDONTWRITEBYTECODE`` set, every start would otherwise compile the sources.)
    """
    import mockserver

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(mockserver.__file__).parent)],
                   capture_output=True, timeout=120, check=False, env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""})


def memory_row(server: str, point: str, memory: dict[str, Any], sampler: MemorySampler) -> dict[str, Any]:
    return {"server": server, "point": point, **memory, "peak_pss_mib": sampler.peak_pss}


def loadavg() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


def cpu_times() -> list[int] | None:
    """The aggregate ``cpu`` line of ``/proc/stat`` (clock ticks), or ``None`` off Linux."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        return [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return None


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {"nproc": os.cpu_count(), "platform": platform.platform(),
                            "loadavg_before": loadavg(), "cpu_times_before": cpu_times()}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["mem_total_mib"] = int(line.split()[1]) / 1024
    return info


def versions(loadgen: LoadGenerator) -> dict[str, str]:
    import falcon
    import gunicorn
    import orjson

    import mockserver
    from mockserver.dataset import writer

    commit = "?"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10, check=False).stdout.strip() or "?"
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "mockserver"],
                               capture_output=True, text=True, timeout=10, check=False).stdout.strip()
        if dirty:
            commit += " (mockserver/ has uncommitted changes)"
    return {"python": platform.python_version(), "falcon": falcon.__version__, "gunicorn": gunicorn.__version__,
            "orjson": orjson.__version__, "mockserver": mockserver.__version__, "commit": commit,
            "writer": "compiled (Cython)" if writer.COMPILED else "pure Python",
            "load generator": f"{loadgen.name} {getattr(loadgen, 'version', '')}".strip()}

