"""Figures -> medians, ranges, ratios to the ceiling, target verdicts, markdown and JSON.

Pure functions over plain dicts, so the arithmetic is tested on synthetic numbers
(``tests/bench/test_report.py``) without starting a server.

A *measurement* is one load-generator run: ``{"rps", "p50_ms", "p99_ms", "requests", "errors"}``.
A *cell* is the repetitions of one (scenario, connections) pair.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench import deep

__all__ = ["TARGETS", "disturbed", "evaluate_targets", "least_disturbed", "median_ratios", "paired_ratios", "ratio",
           "render_markdown", "retry_summary", "steal_percent", "summarize", "write_results"]

METRICS = ("rps", "p50_ms", "p99_ms")

# (key, what, figure, comparison, bound)
#   figure "rps:<scenario>"   -> mock req/s / ceiling req/s at each connection count, must be >= bound
#   figure "p99:<scenario>"   -> mock p99 / ceiling p99, must be <= bound
#   figure "startup"          -> seconds to first 200, every dataset size, must be <= bound (absolute)
#   figure "rss_size"         -> RSS at the largest dataset / RSS at the smallest, must be <= bound
#   figure "rss_soak"         -> RSS after the soak / RSS after warm-up, must be <= bound
TARGETS: list[dict[str, Any]] = [
    {"key": "hot_rps", "what": "hot list page req/s", "figure": "rps:hot", "op": ">=", "bound": 0.90},
    {"key": "hot_p99", "what": "hot list page p99", "figure": "p99:hot", "op": "<=", "bound": 2.0},
    {"key": "random_pages_rps", "what": "random pages over 1M req/s", "figure": "rps:random_pages", "op": ">=",
     "bound": 0.40},
    {"key": "random_gets_rps", "what": "random GET /customers/{id} req/s", "figure": "rps:random_gets", "op": ">=",
     "bound": 0.60},
    {"key": "fields_hot_rps", "what": "fields list (hot page) req/s", "figure": "rps:fields_hot", "op": ">=",
     "bound": 0.40},
    {"key": "fields_random_rps", "what": "fields list (random pages) req/s", "figure": "rps:fields_random",
     "op": ">=", "bound": 0.40},
    {"key": "flavour_rps", "what": "every flavour's list req/s", "figure": "rps:flavour:*", "op": ">=",
     "bound": 0.40},
    {"key": "startup", "what": "startup to first 200 (s), any size", "figure": "startup", "op": "<=", "bound": 0.5},
    {"key": "rss_size", "what": "RSS at 10M / RSS at 1,000", "figure": "rss_size", "op": "<=", "bound": 1.10},
    {"key": "rss_soak", "what": "RSS after soak / RSS after warm-up", "figure": "rss_soak", "op": "<=",
     "bound": 1.25},
]


def ratio(value: float | None, reference: float | None) -> float | None:
    """``value / reference``, or ``None`` when either is missing or the reference is not positive."""
    if value is None or reference is None or not math.isfinite(value) or not math.isfinite(reference):
        return None
    if reference <= 0:
        return None
    return value / reference


def steal_percent(before: Sequence[int] | None, after: Sequence[int] | None) -> float | None:
    """Share of CPU time the hypervisor gave to other guests between two ``/proc/stat`` ``cpu`` lines.

    The fields are user, nice, system, idle, iowait, irq, softirq, steal (guest time is already in
    user). A high share means other machines on the host made the absolute figures noisy.
    """
    if not before or not after or len(before) < 8 or len(after) < 8:
        return None
    delta = [b - a for a, b in zip(before[:8], after[:8])]
    total = sum(delta)
    return 100 * delta[7] / total if total > 0 else None


def disturbed(measurement: Mapping[str, Any], steal_limit: float) -> bool:
    """Whether the hypervisor took more than ``steal_limit`` % of the CPU time during a run."""
    steal = measurement.get("steal_pct")
    return steal is not None and steal > steal_limit


def least_disturbed(attempts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The attempt with the least stolen CPU time (the first, when steal is unknown or tied)."""
    return min(attempts, key=lambda m: m.get("steal_pct") if m.get("steal_pct") is not None else 0.0)


def summarize(measurements: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Median and range of each metric over repetitions (runs with errors still count; errors are summed)."""
    out: dict[str, Any] = {"reps": len(measurements)}
    for metric in METRICS:
        values = [float(m[metric]) for m in measurements if m.get(metric) is not None]
        out[metric] = {"median": statistics.median(values) if values else None,
                       "min": min(values) if values else None, "max": max(values) if values else None,
                       "values": values}
    out["requests"] = sum(int(m.get("requests") or 0) for m in measurements)
    out["errors"] = sum(int(m.get("errors") or 0) for m in measurements)
    out["steal_pct"] = [m.get("steal_pct") for m in measurements]
    out["attempts"] = [int(m.get("attempts") or 1) for m in measurements]
    return out


def retry_summary(throughput: Mapping[str, Mapping[str, Mapping[str, Any]]], steal_limit: float) -> str | None:
    """One sentence on the runs measured again because the hypervisor took too much CPU time."""
    cells = [cell for per_conns in throughput.values() for cell in per_conns.values()]
    runs = sum(len(cell.get("attempts", [])) for cell in cells)
    again = sum(1 for cell in cells for n in cell.get("attempts", []) if n > 1)
    still = sum(1 for cell in cells for steal in cell.get("steal_pct", []) if steal is not None and steal > steal_limit)
    if not runs:
        return None
    return (f"{again} of {runs} measured runs were measured again because the hypervisor took over "
            f"{steal_limit:.0f} % of the CPU time during them (the least disturbed attempt is kept); "
            f"{still} kept runs were still over it")


def paired_ratios(measurement: Mapping[str, Any], before: Mapping[str, Any],
                  after: Mapping[str, Any]) -> dict[str, float | None]:
    """A measurement's metrics over the mean of the ceiling runs just before and after it."""
    out: dict[str, float | None] = {}
    for metric in METRICS:
        refs = [float(m[metric]) for m in (before, after) if m.get(metric) is not None]
        out[metric] = ratio(measurement.get(metric), sum(refs) / len(refs) if refs else None)
    return out


def median_ratios(pairs: Sequence[Mapping[str, float | None]]) -> dict[str, float | None]:
    """Median over repetitions of each metric's paired ratio."""
    out: dict[str, float | None] = {}
    for metric in METRICS:
        values = [p[metric] for p in pairs if p.get(metric) is not None]
        out[metric] = statistics.median(values) if values else None  # type: ignore[type-var]
    return out


def cell_ratios(cell: Mapping[str, Any], ceiling: Mapping[str, Any]) -> dict[str, float | None]:
    """Ratios of a summarized cell to the summarized ceiling cell (medians over medians).

    The benchmark reports :func:`median_ratios` of bracketed runs instead; this is the fallback
    when a cell has no paired ceiling runs.
    """
    return {metric: ratio(cell[metric]["median"], ceiling[metric]["median"]) for metric in METRICS}


def _compare(value: float | None, op: str, bound: float) -> bool | None:
    if value is None:
        return None
    return value >= bound if op == ">=" else value <= bound


def _worst(values: Iterable[float | None], op: str) -> float | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return min(present) if op == ">=" else max(present)


def evaluate_targets(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every target with its measured figure per connection count (or size) and a verdict.

    ``results`` is the document :func:`write_results` writes: ``throughput`` cells carry
    ``ratios``; ``startup`` maps sizes to summaries; ``memory`` holds ``rss_size_ratio`` and
    ``rss_soak_ratio``.
    """
    verdicts = []
    throughput = results.get("throughput", {})
    for target in TARGETS:
        figure, op, bound = target["figure"], target["op"], target["bound"]
        measured: dict[str, float | None] = {}
        if figure.startswith(("rps:", "p99:")):
            metric, scenario = figure.split(":", 1)
            metric = "rps" if metric == "rps" else "p99_ms"
            for name, per_conns in throughput.items():
                if name == "ceiling":
                    continue
                if scenario.endswith("*") and not name.startswith(scenario[:-1]):
                    continue
                if not scenario.endswith("*") and name != scenario:
                    continue
                for conns, cell in per_conns.items():
                    label = f"{name} c={conns}" if scenario.endswith("*") else f"c={conns}"
                    measured[label] = (cell.get("ratios") or {}).get(metric)
        elif figure == "startup":
            for size, summary in results.get("startup", {}).items():
                if size != "ceiling":
                    measured[f"{int(size):,}"] = (summary or {}).get("median_s")
        elif figure == "rss_size":
            pair = results.get("memory", {}).get("rss_size_pair") or [1000, 10_000_000]
            measured[f"{pair[1]:,}/{pair[0]:,}"] = results.get("memory", {}).get("rss_size_ratio")
        elif figure == "rss_soak":
            measured["soak/warm"] = results.get("memory", {}).get("rss_soak_ratio")
        worst = _worst(measured.values(), op)
        verdicts.append({**target, "measured": measured, "worst": worst,
                         "passed": _compare(worst, op, bound) if measured else None})
    return verdicts


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _range(summary: Mapping[str, Any], digits: int = 1) -> str:
    if summary["median"] is None:
        return "–"
    return f"{_fmt(summary['median'], digits)} ({_fmt(summary['min'], digits)}–{_fmt(summary['max'], digits)})"


def render_markdown(results: Mapping[str, Any]) -> str:
    """The human summary: machine, targets, throughput, startup, memory."""
    lines: list[str] = []
    machine, versions, config = results.get("machine", {}), results.get("versions", {}), results.get("config", {})
    lines.append(f"# Benchmark results ({config.get('mode', 'full')} run)")
    lines.append("")
    lines.append(f"- when: {results.get('started_at', '?')} ({_fmt(results.get('elapsed_s'), 0)} s)")
    lines.append(f"- machine: {machine.get('cpu_model', '?')}, {machine.get('nproc', '?')} CPUs, "
                 f"{_fmt(machine.get('mem_total_mib'), 0)} MiB RAM, load average before/after "
                 f"{machine.get('loadavg_before', '?')} / {machine.get('loadavg_after', '?')}"
                 + (f", CPU time stolen by the hypervisor during the run {machine['steal_pct']:.0f} %"
                    if machine.get("steal_pct") is not None else ""))
    lines.append("- versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    lines.append(f"- load generator: {config.get('loadgen', '?')}; gunicorn: {config.get('gunicorn', '?')}; "
                 f"{config.get('reps', '?')} repetitions of {config.get('duration_s', '?')} s after "
                 f"{config.get('warmup_s', '?')} s warm-up; dataset {config.get('count', 0):,} customers, "
                 f"seed {config.get('seed', '?')}")
    if config.get("mock_flags"):
        lines.append(f"- mockserver serve flags: {config['mock_flags']}")
    if results.get("retries"):
        lines.append(f"- re-measured: {results['retries']}")
    if results.get("notes"):
        for note in results["notes"]:
            lines.append(f"- note: {note}")
    lines.append("")
    lines.append("Every ratio is to the constant-bytes ceiling measured in the same run (req/s: higher is better; "
                 "latency and memory: lower is better). Throughput and latency: each run is divided by the mean of "
                 "the ceiling runs just before and after it, and the median over repetitions is shown.")
    lines.append("")
    lines.append("## Targets")
    lines.append("")
    lines.append("| target | bound | measured | verdict |")
    lines.append("|---|---|---|---|")
    for verdict in results.get("targets", []):
        measured = ", ".join(f"{k}: {_fmt(v)}" for k, v in verdict["measured"].items()) or "not measured"
        passed = {True: "pass", False: "**MISS**", None: "–"}[verdict["passed"]]
        lines.append(f"| {verdict['what']} | {verdict['op']} {verdict['bound']} | {measured} | {passed} |")
    lines.append("")
    lines.append("## Throughput and latency")
    lines.append("")
    lines.append("Median (min–max) of the repetitions; ×ceiling is the median of the bracketed ratios (see above) "
                 "at the same connection count.")
    lines.append("")
    lines.append("| scenario | conns | req/s | ×ceiling | p50 ms | ×ceiling | p99 ms | ×ceiling | errors |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for name, per_conns in results.get("throughput", {}).items():
        for conns, cell in per_conns.items():
            r = cell.get("ratios") or {}
            lines.append(f"| {name} | {conns} | {_range(cell['rps'], 0)} | {_fmt(r.get('rps'))} | "
                         f"{_range(cell['p50_ms'], 2)} | {_fmt(r.get('p50_ms'))} | {_range(cell['p99_ms'], 2)} | "
                         f"{_fmt(r.get('p99_ms'))} | {cell.get('errors', 0)} |")
    scenarios = results.get("scenarios", {})
    if scenarios:
        lines.append("")
        for name, info in scenarios.items():
            lines.append(f"- `{name}`: {info.get('description', '')}")
    skipped = results.get("skipped", [])
    for item in skipped:
        lines.append(f"- skipped: {item}")
    lines.append("")
    lines.append("## Startup (process start to first 200 on a list page)")
    lines.append("")
    lines.append("| customers | median s | min–max s | ×ceiling |")
    lines.append("|---|---|---|---|")
    for size, summary in results.get("startup", {}).items():
        label = "ceiling" if size == "ceiling" else f"{int(size):,}"
        lines.append(f"| {label} | {_fmt(summary.get('median_s'), 3)} | {_fmt(summary.get('min_s'), 3)}–"
                     f"{_fmt(summary.get('max_s'), 3)} | {_fmt(summary.get('ratio'))} |")
    memory = results.get("memory", {})
    if memory:
        lines.append("")
        lines.append("## Memory (process tree: master + workers, MiB)")
        lines.append("")
        lines.append("RSS and PSS are summed over the tree from `/proc/<pid>/smaps_rollup`; peak RSS is the sum of "
                     "each process's `VmHWM`; peak PSS is the largest sampled.")
        lines.append("")
        lines.append("| server | point | RSS | PSS | peak RSS | peak PSS | RSS ×ceiling |")
        lines.append("|---|---|---|---|---|---|---|")
        for row in memory.get("rows", []):
            lines.append(f"| {row['server']} | {row['point']} | {_fmt(row.get('rss_mib'), 1)} | "
                         f"{_fmt(row.get('pss_mib'), 1)} | {_fmt(row.get('peak_rss_mib'), 1)} | "
                         f"{_fmt(row.get('peak_pss_mib'), 1)} | {_fmt(row.get('rss_ratio'))} |")
        lines.append("")
        lines.append(f"- RSS at the largest dataset / at the smallest (after the same warm-up): "
                     f"{_fmt(memory.get('rss_size_ratio'), 3)}")
        lines.append(f"- RSS after {memory.get('soak_requests', 0):,} random requests / after warm-up: "
                     f"{_fmt(memory.get('rss_soak_ratio'), 3)} (/ right after start: "
                     f"{_fmt(memory.get('rss_soak_vs_start_ratio'), 3)})")
    lines.append("")
    if results.get("deep"):
        lines.extend(deep.render(results["deep"]))
    return "\n".join(lines)


def write_results(results: dict[str, Any], directory: Path, stem: str = "latest") -> tuple[Path, Path]:
    """Add target verdicts, then write ``<stem>.json`` and ``<stem>.md``; returns both paths."""
    results["targets"] = evaluate_targets(results)
    directory.mkdir(parents=True, exist_ok=True)
    json_path, md_path = directory / f"{stem}.json", directory / f"{stem}.md"
    json_path.write_text(json.dumps(results, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    md_path.write_text(render_markdown(results), encoding="utf-8")
    return json_path, md_path


def check_results(results: dict[str, Any]) -> list[str]:
    """What a self-test requires of a results document (empty list: fine)."""
    problems = []
    throughput = results.get("throughput", {})
    for name in ("ceiling", "hot", "random_pages", "random_gets", "fields_hot", "fields_random"):
        if name not in throughput:
            problems.append(f"no throughput for {name}")
            continue
        for conns, cell in throughput[name].items():
            if not cell["rps"]["median"] or cell["rps"]["median"] <= 0:
                problems.append(f"{name} c={conns}: no requests measured")
            if cell["errors"]:
                problems.append(f"{name} c={conns}: {cell['errors']} errors")
            if cell["ratios"]["rps"] is None:
                problems.append(f"{name} c={conns}: no ratio to the ceiling")
    if not any(name.startswith("flavour:") for name in throughput):
        problems.append("no flavour measured")
    if not all(s.get("median_s") for s in results.get("startup", {}).values()):
        problems.append("a startup time is missing")
    memory = results.get("memory", {})
    if memory.get("rss_size_ratio") is None or memory.get("rss_soak_ratio") is None:
        problems.append("memory ratios missing")
    if len(results.get("targets", [])) != len(TARGETS):
        problems.append("target verdicts missing")
    return problems
