#!/usr/bin/env python3
"""The benchmark, one command: ``python bench/run.py`` (full, ~13 min) or ``--quick`` (~3 min).

Starts ``mockserver serve`` as a user would (``python -m mockserver serve``, real gunicorn) and,
in the same run, the constant-bytes ceiling (``bench/ceiling.py``) under the same gunicorn
settings; loads both only on 127.0.0.1 with ``wrk`` (installed from Debian packages when missing,
else a Python load generator); writes ``bench/results/latest.{md,json}``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import deep, report
from bench.loadgen import LoadGenerator, find_load_generator
from bench.machine import MemorySampler, compile_bytecode, cpu_times, loadavg, machine_info, memory_row, versions
from bench.servers import AUTH, Server, ceiling_server, http_json, mock_server
from bench.workloads import (
    Workload,
    build_workloads,
    check_cursor_paths,
    check_workloads,
    mint_cursor_paths,
)

CEILING_EVERY = 4
"""Workloads measured between two ceiling runs (see :meth:`Bench.throughput`)."""
STEAL_LIMIT = 10.0
"""Percent of CPU time the hypervisor may take during a measured run before it is measured again."""
STEAL_RETRIES = 2
"""Extra attempts for a run over :data:`STEAL_LIMIT`; the least disturbed attempt is kept."""

MODES: dict[str, dict[str, Any]] = {
    #            seconds per measured run, warm-up seconds, repetitions, soak requests, warm-up requests
    "full": {"duration": 4, "warmup": 2, "reps": 3, "soak": 200_000, "warm_requests": 1000,
             "sizes": (1_000, 1_000_000, 10_000_000), "count": 1_000_000, "startups": 3, "paths": 20_000,
             "soak_seconds": 300},
    "quick": {"duration": 1, "warmup": 1, "reps": 3, "soak": 20_000, "warm_requests": 200,
              "sizes": (1_000, 1_000_000, 10_000_000), "count": 1_000_000, "startups": 2, "paths": 3_000,
              "soak_seconds": 60},
    "selftest": {"duration": 1, "warmup": 1, "reps": 2, "soak": 2_000, "warm_requests": 100,
                 "sizes": (1_000, 50_000), "count": 50_000, "startups": 1, "paths": 500, "soak_seconds": 30},
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---- the run ---------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace, mode: dict[str, Any], work: Path) -> None:
        self.args, self.mode, self.work = args, mode, work
        self.loadgen: LoadGenerator = find_load_generator(work, prefer=args.loadgen, install=not args.no_install,
                                                          log=log)
        self.deadline = time.monotonic() + args.max_minutes * 60
        self.notes: list[str] = []
        self.skipped: list[str] = []

    def time_left(self) -> float:
        return self.deadline - time.monotonic()

    def load(self, server: Server, workload: Workload, connections: int, seconds: float,
             quota: int = 0) -> dict[str, Any]:
        if self.time_left() < 0:
            raise TimeoutError("the run exceeded --max-minutes")
        return self.loadgen.run(server.base_url, workload.paths, workload.headers, connections, seconds, quota)

    def load_count(self, server: Server, workload: Workload, connections: int, count: int,
                   max_seconds: float) -> int:
        """About ``count`` requests (at most ``max_seconds``); returns how many were served.

        wrk always runs for its whole ``-d`` even when every thread has met its quota, so the
        count is reached in short runs sized from the rate seen so far.
        """
        served, rate, started = 0, 0.0, time.monotonic()
        while served < count:
            elapsed = time.monotonic() - started
            if elapsed >= max_seconds:
                break
            seconds = 1.0 if not rate else min(30.0, max(1.0, (count - served) / rate))
            result = self.load(server, workload, connections, min(seconds, max(1.0, max_seconds - elapsed)),
                               quota=count - served)
            served += result["requests"]
            rate = max(result["rps"], 1.0)
        return served

    def warm_up(self, server: Server, workloads: list[Workload]) -> int:
        """The fixed warm-up: ``warm_requests`` requests of each workload at 32 connections."""
        return sum(self.load_count(server, workload, 32, self.mode["warm_requests"], 30) for workload in workloads)

    def startup_times(self, make: Callable[[], Server], times: int) -> list[float]:
        """``times`` starts to the first 200, each started again (like a measured run, see
        :meth:`_measure`) while the hypervisor took over :data:`STEAL_LIMIT` % of the CPU time."""
        found = []
        for _ in range(times):
            attempts = []
            for attempt in range(1 + STEAL_RETRIES):
                if attempt:
                    log(f"    a start took {attempts[-1]['startup_s']:.3f} s while the hypervisor took "
                        f"{attempts[-1]['steal_pct']:.0f} % of the CPU time: starting again")
                before = cpu_times()
                server = make()
                try:
                    server.start()
                    assert server.startup_s is not None
                    attempts.append({"startup_s": server.startup_s, "steal_pct": report.steal_percent(
                        before, cpu_times())})
                finally:
                    server.stop()
                if not report.disturbed(attempts[-1], STEAL_LIMIT):
                    break
            found.append(report.least_disturbed(attempts)["startup_s"])
        return found

    def run(self) -> dict[str, Any]:
        args, mode = self.args, self.mode
        started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        t0 = time.monotonic()
        from mockserver import FLAVOURS, Settings
        from mockserver.server import gunicorn_options

        workers = args.workers or Settings().workers
        options = gunicorn_options(Settings(workers=workers))
        gunicorn_desc = ", ".join(f"{k}={options[k]}" for k in ("worker_class", "workers", "threads", "keepalive")
                                  if k in options)
        results: dict[str, Any] = {
            "started_at": started_at,
            "machine": machine_info(),
            "versions": versions(self.loadgen),
            "config": {"mode": args.mode, "loadgen": f"{self.loadgen.name} {getattr(self.loadgen, 'version', '')}",
                       "gunicorn": gunicorn_desc, "reps": mode["reps"], "duration_s": mode["duration"],
                       "warmup_s": mode["warmup"], "count": mode["count"], "seed": args.seed,
                       "connections": list(args.connections), "sizes": list(mode["sizes"]),
                       "warm_requests_per_workload": mode["warm_requests"], "soak_requests": mode["soak"],
                       "mock_flags": " ".join(args.mock_flags) or "(none: the defaults, request journal on)"},
            "notes": self.notes, "skipped": self.skipped,
        }
        flavours = FLAVOURS.names()
        log(f"load generator: {results['config']['loadgen']}; gunicorn {gunicorn_desc}; flavours: {flavours}")

        # -- startup -----------------------------------------------------------------------
        compile_bytecode()
        startup: dict[str, Any] = {}
        for size in mode["sizes"]:
            times = self.startup_times(lambda s=size: mock_server(s, args.seed, workers, self.work, args.mock_flags),
                                       mode["startups"])
            startup[str(size)] = _startup_summary(times)
            log(f"startup {size:>11,}: {', '.join(f'{t:.3f}' for t in times)} s")
        times = self.startup_times(lambda: ceiling_server(workers, self.work), mode["startups"])
        startup["ceiling"] = _startup_summary(times)
        for size in mode["sizes"]:
            startup[str(size)]["ratio"] = report.ratio(startup[str(size)]["median_s"],
                                                       startup["ceiling"]["median_s"])
        startup["ceiling"]["ratio"] = 1.0
        results["startup"] = startup

        # -- memory per dataset size (same warm-up for each) ------------------------------------
        memory_rows: list[dict[str, Any]] = []
        warm_rss: dict[int, float] = {}
        main_count = mode["count"]
        main: Server | None = None
        ceiling: Server | None = None
        try:
            ceiling = ceiling_server(workers, self.work).start()
            ceiling_wl = Workload("ceiling", ["/customers"], {}, "constant ~14 KB JSON from a bare Falcon app")
            with MemorySampler(ceiling.pid) as sampler:
                memory_rows.append(memory_row("ceiling", "after start", sampler.sample(), sampler))
                self.warm_up(ceiling, [ceiling_wl] * (len(flavours) + 5))
                ceiling_warm = memory_row("ceiling", "after warm-up", sampler.sample(), sampler)
                memory_rows.append(ceiling_warm)

            for size in sorted(set(mode["sizes"]) | {main_count}):
                server = mock_server(size, args.seed, workers, self.work, args.mock_flags).start()
                keep = size == main_count
                try:
                    health = http_json(server.base_url, "/health", {})[1] or {}
                    workloads = build_workloads(size, args.seed, mode["paths"] if keep else 2000,
                                                list(health.get("flavours") or flavours),
                                                self.skipped if keep else [])
                    check_workloads(server, workloads, self.skipped if keep else [])
                    if keep:
                        check_cursor_paths(server, size, args.seed, [mint_cursor_paths(
                            size, args.seed, 8, random.Random(5))[k] for k in range(8)])
                    sampler = MemorySampler(server.pid).__enter__()
                    start_row = memory_row(f"mock {size:,}", "after start", sampler.sample(), sampler)
                    memory_rows.append(start_row)
                    served = self.warm_up(server, list(workloads.values()))
                    row = memory_row(f"mock {size:,}", f"after warm-up ({served:,} requests)", sampler.sample(), sampler)
                    memory_rows.append(row)
                    warm_rss[size] = row["rss_mib"]
                    log(f"memory {size:>11,}: {row['rss_mib']:.1f} MiB RSS, {row['pss_mib']:.1f} MiB PSS after "
                        f"warm-up")
                    if keep:
                        main, main_workloads, main_sampler, main_warm, main_start = server, workloads, sampler, row, \
                            start_row
                    else:
                        sampler.__exit__()
                finally:
                    if not keep:
                        server.stop()
            assert main is not None

            # -- throughput ------------------------------------------------------------------
            results["scenarios"] = {name: {"description": w.description, "distinct_paths": len(w.paths)}
                                    for name, w in main_workloads.items()}
            results["scenarios"]["ceiling"] = {"description": ceiling_wl.description, "distinct_paths": 1}
            throughput = self.throughput(main, ceiling, main_workloads, ceiling_wl)
            results["throughput"] = throughput
            results["retries"] = report.retry_summary(throughput, STEAL_LIMIT)
            memory_rows.append(memory_row(f"mock {main_count:,}", "after throughput runs", main_sampler.sample(),
                                    main_sampler))
            ceiling_sampler = MemorySampler(ceiling.pid)
            memory_rows.append(memory_row("ceiling", "after throughput runs", ceiling_sampler.sample(), ceiling_sampler))
            ceiling.stop()

            # -- soak --------------------------------------------------------------------------
            soak_mix = Workload("soak", main_workloads["random_pages"].paths + main_workloads["random_gets"].paths
                                + main_workloads["fields_random"].paths, AUTH,
                                "random pages, random gets and random fields pages, mixed")
            served = self.load_count(main, soak_mix, 32, mode["soak"], mode["soak_seconds"])
            soak_row = memory_row(f"mock {main_count:,}", f"after soak ({served:,} random requests)",
                            main_sampler.sample(), main_sampler)
            memory_rows.append(soak_row)
            main_sampler.__exit__()
            log(f"soak: {served:,} requests; RSS {main_warm['rss_mib']:.1f} -> {soak_row['rss_mib']:.1f} MiB")
            if served < mode["soak"]:
                self.notes.append(f"the soak stopped at {served:,} of {mode['soak']:,} requests (time bound)")
            main.stop()
            results["deep"] = self.deep_cases(max(mode["sizes"]), workers)
        finally:
            for running in (main, ceiling):
                if running is not None:
                    running.stop()

        for row in memory_rows:
            row["rss_ratio"] = report.ratio(row["rss_mib"], ceiling_warm["rss_mib"])
        smallest, largest = min(warm_rss), max(warm_rss)
        results["memory"] = {
            "rows": memory_rows,
            "rss_by_size_after_warmup": {str(k): v for k, v in sorted(warm_rss.items())},
            "rss_size_ratio": report.ratio(warm_rss[largest], warm_rss[smallest]),
            "rss_size_pair": [smallest, largest],
            "soak_requests": served,
            "rss_soak_ratio": report.ratio(soak_row["rss_mib"], main_warm["rss_mib"]),
            "rss_soak_vs_start_ratio": report.ratio(soak_row["rss_mib"], main_start["rss_mib"]),
        }
        results["machine"]["loadavg_after"] = loadavg()
        results["machine"]["steal_pct"] = report.steal_percent(results["machine"].pop("cpu_times_before", None),
                                                               cpu_times())
        results["elapsed_s"] = time.monotonic() - t0
        return results

    def deep_cases(self, size: int, workers: int) -> dict[str, Any]:
        """Deep offsets and searches on their own server (they write a customer)."""
        from mockserver import Dataset

        server = mock_server(size, self.args.seed, workers, self.work, self.args.mock_flags).start()
        try:
            found = deep.measure(server.base_url, size, Dataset(self.args.seed, size).id_of(size // 2),
                                 reps=self.mode["reps"])
        finally:
            server.stop()
        for row in found["rows"]:
            log(f"deep {row['case']}: {row['statuses']} {row['median_ms']:,.1f} ms; after a write "
                f"{row['after_write']['statuses']} {row['after_write']['median_ms']:,.1f} ms")
        return found

    def throughput(self, main: Server, ceiling: Server, workloads: dict[str, Workload],
                   ceiling_wl: Workload) -> dict[str, Any]:
        """Every workload at each connection count, ``reps`` times, bracketed by ceiling runs.

        In each repetition the ceiling runs first and then after every ``CEILING_EVERY``
        workloads, so each workload's figures are divided by the mean of the two ceiling runs
        just before and after it (a burst of other load on a shared machine hits both sides of
        a ratio); the reported ratio is the median of those over repetitions.
        """
        mode = self.mode
        raw: dict[str, dict[int, list[dict[str, Any]]]] = {name: {} for name in ["ceiling", *workloads]}
        paired: dict[str, dict[int, list[dict[str, float | None]]]] = {name: {} for name in workloads}
        for conns in self.args.connections:
            log(f"warm-up at {conns} connection(s)")
            self.load(ceiling, ceiling_wl, conns, mode["warmup"])
            for workload in workloads.values():
                self.load(main, workload, conns, mode["warmup"])
            for rep in range(mode["reps"]):
                order = list(workloads.values())
                rotate = rep % len(order)
                order = order[rotate:] + order[:rotate]  # spread drift across scenarios
                ceiling_runs = [self._measure(ceiling, ceiling_wl, conns, rep, raw)]
                pending: list[tuple[str, dict[str, Any]]] = []
                for k, workload in enumerate(order, start=1):
                    pending.append((workload.name, self._measure(main, workload, conns, rep, raw)))
                    if k % CEILING_EVERY == 0 or k == len(order):
                        ceiling_runs.append(self._measure(ceiling, ceiling_wl, conns, rep, raw))
                        before, after = ceiling_runs[-2], ceiling_runs[-1]
                        for name, measurement in pending:
                            paired[name].setdefault(conns, []).append(report.paired_ratios(measurement, before,
                                                                                           after))
                        pending = []
        out: dict[str, Any] = {}
        for name, per_conns in raw.items():
            out[name] = {}
            for conns, measured in per_conns.items():
                cell = report.summarize(measured)
                if name == "ceiling":
                    cell["ratios"] = {metric: 1.0 for metric in report.METRICS}
                else:
                    cell["paired_ratios"] = paired[name][conns]
                    cell["ratios"] = report.median_ratios(paired[name][conns])
                    if cell["errors"]:
                        self.notes.append(f"{name} at {conns} connection(s) had {cell['errors']} errors")
                out[name][str(conns)] = cell
        return out

    def _measure(self, server: Server, workload: Workload, conns: int, rep: int,
                 raw: dict[str, dict[int, list[dict[str, Any]]]]) -> dict[str, Any]:
        """One measured run, ceiling or mock alike, measured again (up to :data:`STEAL_RETRIES`
        times) while the hypervisor takes more than :data:`STEAL_LIMIT` % of the CPU time.

        On a shared 2-vCPU host, a run during which other guests took a third of the CPU time
        served a third of the requests of the runs around it; such a run measures the
        neighbours, not the server, whichever of the two servers it lands on.
        """
        attempts = []
        for attempt in range(1 + STEAL_RETRIES):
            if attempt:
                log(f"    the hypervisor took over {STEAL_LIMIT:.0f} % of the CPU time: measuring again")
            before = cpu_times()
            measurement = self.load(server, workload, conns, self.mode["duration"])
            measurement["steal_pct"] = report.steal_percent(before, cpu_times())
            attempts.append(measurement)
            log(f"  c={conns:<3} rep {rep + 1} {workload.name:<18} {measurement['rps']:>8.0f} req/s  "
                f"p50 {measurement['p50_ms']:6.2f} ms  p99 {measurement['p99_ms']:7.2f} ms"
                + (f"  steal {measurement['steal_pct']:4.1f} %" if measurement["steal_pct"] is not None else "")
                + (f"  errors {measurement['errors']}" if measurement["errors"] else ""))
            if not report.disturbed(measurement, STEAL_LIMIT) or self.time_left() < 60:
                break
        measurement = report.least_disturbed(attempts)
        measurement["attempts"] = len(attempts)
        raw[workload.name].setdefault(conns, []).append(measurement)
        return measurement


def _startup_summary(times: list[float]) -> dict[str, Any]:
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "values_s": times}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="1 s runs, 20,000-request soak (~3 min); writes bench/results/raw/quick.*")
    kind.add_argument("--selftest", dest="mode", action="store_const", const="selftest",
                      help="a tiny run into a temporary directory, then check its output (exit 1 if wrong)")
    parser.set_defaults(mode="full")
    parser.add_argument("--out", type=Path, help="results directory (default bench/results)")
    parser.add_argument("--loadgen", choices=("wrk", "python"), default="wrk",
                        help="wrk (default; installed with apt-get if missing and root) or the Python generator")
    parser.add_argument("--no-install", action="store_true", help="never run apt-get")
    parser.add_argument("--workers", type=int, help="gunicorn workers for both servers (default: serve's default)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--mock-flags", type=str.split, default=[], metavar="FLAGS",
                        help="extra mockserver serve flags for every mock run, e.g. --mock-flags='--journal-size 0' "
                             "(the request journal off: every optional feature off)")
    parser.add_argument("--connections", type=lambda s: [int(x) for x in s.split(",")], default=[1, 32],
                        help="comma-separated connection counts (default 1,32)")
    parser.add_argument("--max-minutes", type=float, default=25.0, help="abort a run that takes longer")
    parser.add_argument("--deep-only", action="store_true",
                        help="only the deep offset and search cases against the largest dataset; print them")
    args = parser.parse_args(argv)
    mode = MODES[args.mode]

    work = Path(tempfile.mkdtemp(prefix="mockserver-bench-"))
    try:
        bench = Bench(args, mode, work)
        if args.deep_only:
            from mockserver import Settings

            found = bench.deep_cases(max(mode["sizes"]), args.workers or Settings().workers)
            print("\n".join(deep.render(found)))
            return 0
        results = bench.run()
        if args.mode == "selftest":
            out_dir, stem = (args.out or work / "results"), "selftest"
        elif args.mode == "quick":
            out_dir, stem = (args.out or REPO / "bench" / "results" / "raw"), "quick"
        else:
            out_dir, stem = (args.out or REPO / "bench" / "results"), "latest"
        json_path, md_path = report.write_results(results, out_dir, stem)
        if args.mode == "full" and args.out is None:  # keep every full run's raw figures (git-ignored)
            raw = REPO / "bench" / "results" / "raw"
            raw.mkdir(parents=True, exist_ok=True)
            shutil.copy(json_path, raw / f"run-{results['started_at'].replace(':', '')}.json")
        print(md_path.read_text())
        log(f"wrote {json_path} and {md_path}")
        if args.mode == "selftest":
            problems = report.check_results(json.loads(json_path.read_text()))
            for problem in problems:
                print(f"selftest: {problem}", file=sys.stderr)
            print("selftest: " + ("FAILED" if problems else "ok"))
            return 1 if problems else 0
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
