"""The benchmark's arithmetic and output on synthetic figures (no server, no timing)."""

from __future__ import annotations

import json

import pytest

from bench import report
from bench.machine import tree_memory, tree_pids
from bench.report import check_results


def measurement(rps: float, p50: float, p99: float, errors: int = 0) -> dict:
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "requests": int(rps * 5), "errors": errors}


def test_summarize_takes_median_and_range_of_each_metric() -> None:
    cell = report.summarize([measurement(100, 1, 9), measurement(300, 3, 7), measurement(200, 2, 8, errors=2)])
    assert cell["rps"] == {"median": 200, "min": 100, "max": 300, "values": [100, 300, 200]}
    assert cell["p99_ms"]["median"] == 8
    assert cell["reps"] == 3
    assert cell["errors"] == 2
    assert cell["requests"] == 500 + 1500 + 1000


def test_ratio_is_value_over_reference_and_none_when_undefined() -> None:
    assert report.ratio(50, 200) == 0.25
    assert report.ratio(None, 200) is None
    assert report.ratio(50, 0) is None
    assert report.ratio(50, None) is None


def synthetic_results() -> dict:
    ceiling = {"1": report.summarize([measurement(1000, 1, 2)] * 3),
               "32": report.summarize([measurement(4000, 8, 10)] * 3)}

    def cell(rps1: float, rps32: float, p99_32: float = 12) -> dict:
        per = {"1": report.summarize([measurement(rps1, 1.2, 2.5)] * 3),
               "32": report.summarize([measurement(rps32, 9, p99_32)] * 3)}
        for conns, c in per.items():
            c["ratios"] = report.cell_ratios(c, ceiling[conns])
        return per

    for c in ceiling.values():
        c["ratios"] = report.cell_ratios(c, c)
    return {
        "started_at": "2026-01-01T00:00:00+00:00", "elapsed_s": 600,
        "machine": {"nproc": 2, "cpu_model": "test cpu", "mem_total_mib": 1024},
        "versions": {"python": "3.11"}, "config": {"mode": "full", "count": 1_000_000, "seed": 42},
        "throughput": {
            "ceiling": ceiling,
            "hot": cell(950, 3800, p99_32=25),          # 0.95 / 0.95; p99 2.5x: a miss
            "random_pages": cell(500, 1000),             # 0.5 / 0.25: a miss at 32
            "random_gets": cell(700, 2600),              # 0.7 / 0.65
            "fields_hot": cell(900, 3000),
            "fields_random": cell(450, 1700),
            "flavour:canonical": cell(900, 3600),
            "flavour:ecwid": cell(300, 3600),            # 0.3 at 1 connection: a miss
        },
        "startup": {"1000": {"median_s": 0.3, "min_s": 0.3, "max_s": 0.31},
                    "10000000": {"median_s": 0.45, "min_s": 0.4, "max_s": 0.5},
                    "ceiling": {"median_s": 0.25, "min_s": 0.25, "max_s": 0.25, "ratio": 1.0}},
        "memory": {"rows": [{"server": "mock", "point": "after warm-up", "rss_mib": 100.0, "pss_mib": 50.0,
                             "peak_rss_mib": 101.0, "peak_pss_mib": 51.0, "rss_ratio": 1.2}],
                   "rss_size_ratio": 1.04, "rss_soak_ratio": 1.3, "soak_requests": 200_000},
    }


def test_targets_take_the_worst_figure_over_connection_counts() -> None:
    verdicts = {v["key"]: v for v in report.evaluate_targets(synthetic_results())}
    assert verdicts["hot_rps"]["worst"] == pytest.approx(0.95) and verdicts["hot_rps"]["passed"] is True
    assert verdicts["hot_p99"]["worst"] == pytest.approx(2.5) and verdicts["hot_p99"]["passed"] is False
    assert verdicts["random_pages_rps"]["measured"] == {"c=1": pytest.approx(0.5), "c=32": pytest.approx(0.25)}
    assert verdicts["random_pages_rps"]["passed"] is False
    assert verdicts["random_gets_rps"]["passed"] is True
    assert verdicts["flavour_rps"]["worst"] == pytest.approx(0.3) and verdicts["flavour_rps"]["passed"] is False
    assert set(verdicts["flavour_rps"]["measured"]) == {"flavour:canonical c=1", "flavour:canonical c=32",
                                                        "flavour:ecwid c=1", "flavour:ecwid c=32"}
    assert verdicts["startup"]["worst"] == 0.45 and verdicts["startup"]["passed"] is True
    assert verdicts["rss_size"]["passed"] is True
    assert verdicts["rss_soak"]["passed"] is False


def test_unmeasured_target_has_no_verdict() -> None:
    results = synthetic_results()
    del results["throughput"]["fields_hot"]
    verdicts = {v["key"]: v for v in report.evaluate_targets(results)}
    assert verdicts["fields_hot_rps"]["passed"] is None


def test_write_results_writes_json_and_markdown(tmp_path) -> None:  # type: ignore[no-untyped-def]
    json_path, md_path = report.write_results(synthetic_results(), tmp_path, "t")
    data = json.loads(json_path.read_text())
    assert len(data["targets"]) == len(report.TARGETS)
    text = md_path.read_text()
    assert "| hot | 32 | 3,800 (3,800–3,800) | 0.95 |" in text
    assert "**MISS**" in text
    assert "test cpu" in text


def test_selftest_check_flags_missing_and_erroneous_figures(tmp_path) -> None:  # type: ignore[no-untyped-def]
    results = synthetic_results()
    report.write_results(results, tmp_path, "t")
    assert check_results(results) == []
    results["throughput"]["hot"]["32"]["errors"] = 3
    del results["throughput"]["random_gets"]
    problems = check_results(results)
    assert "hot c=32: 3 errors" in problems
    assert "no throughput for random_gets" in problems


def test_tree_memory_reads_this_process() -> None:
    import os

    assert tree_pids(os.getpid())[0] == os.getpid()
    memory = tree_memory(os.getpid())
    assert memory["processes"] >= 1
    assert memory["rss_mib"] > 1 and memory["pss_mib"] > 0 and memory["peak_rss_mib"] >= memory["rss_mib"] * 0.5


def test_paired_ratio_divides_by_the_mean_of_the_bracketing_ceiling_runs() -> None:
    pair = report.paired_ratios(measurement(150, 2, 20), measurement(100, 1, 10), measurement(200, 3, 30))
    assert pair == {"rps": pytest.approx(1.0), "p50_ms": pytest.approx(1.0), "p99_ms": pytest.approx(1.0)}
    assert report.median_ratios([{"rps": 0.5, "p50_ms": 1, "p99_ms": 2}, {"rps": 0.9, "p50_ms": 3, "p99_ms": None},
                                 {"rps": 0.7, "p50_ms": 2, "p99_ms": 4}]) == {"rps": 0.7, "p50_ms": 2, "p99_ms": 3}


def test_steal_share_is_steal_ticks_over_all_ticks_between_two_readings() -> None:
    before = [100, 0, 50, 800, 0, 0, 0, 50, 0, 0]
    after = [200, 0, 100, 900, 0, 0, 0, 100, 0, 0]  # +100 user +50 system +100 idle +50 steal
    assert report.steal_percent(before, after) == pytest.approx(100 * 50 / 300)
    assert report.steal_percent(before, before) is None  # no time passed
    assert report.steal_percent(None, after) is None
    assert report.steal_percent([1, 2, 3], after) is None  # a kernel without the steal field


def test_a_run_disturbed_by_the_hypervisor_is_measured_again_and_the_least_disturbed_kept(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from bench import run

    # /proc/stat readings: each run adds 100 ticks, of which the listed share is steal
    steals = iter([40, 25, 5])
    ticks = [0] * 8

    def cpu_times() -> list[int]:
        return list(ticks)

    served = iter([1000.0, 2000.0, 3000.0])

    def load(server, workload, conns, seconds, quota=0):  # type: ignore[no-untyped-def]
        steal = next(steals)
        ticks[0] += 100 - steal
        ticks[7] += steal
        return measurement(next(served), 1, 2)

    monkeypatch.setattr(run, "cpu_times", cpu_times)
    monkeypatch.setattr(run, "log", lambda message: None)
    bench = run.Bench.__new__(run.Bench)
    bench.mode = {"duration": 1}
    bench.deadline = float("inf")
    bench.load = load  # type: ignore[method-assign]
    raw: dict = {"w": {}}
    kept = bench._measure(None, SimpleNamespace(name="w"), 32, 0, raw)  # type: ignore[arg-type]
    assert run.STEAL_RETRIES == 2  # so: 40 % -> again, 25 % -> again, 5 % -> kept
    assert kept["rps"] == 3000.0 and kept["steal_pct"] == pytest.approx(5.0) and kept["attempts"] == 3
    assert raw["w"][32] == [kept]


def test_least_disturbed_and_retry_summary() -> None:
    attempts = [dict(measurement(1, 1, 1), steal_pct=30.0), dict(measurement(2, 1, 1), steal_pct=12.0)]
    assert report.least_disturbed(attempts)["rps"] == 2
    assert report.least_disturbed([measurement(5, 1, 1), measurement(6, 1, 1)])["rps"] == 5  # steal unknown
    assert report.disturbed({"steal_pct": 10.5}, 10.0) and not report.disturbed({"steal_pct": 10.0}, 10.0)
    assert not report.disturbed({}, 10.0)
    kept = [dict(measurement(1, 1, 1), steal_pct=3.0, attempts=1), dict(measurement(2, 1, 1), steal_pct=12.0,
                                                                         attempts=3)]
    throughput = {"hot": {"32": report.summarize(kept)}, "ceiling": {"32": report.summarize(kept[:1])}}
    assert report.retry_summary(throughput, 10.0) == (
        "1 of 3 measured runs were measured again because the hypervisor took over 10 % of the CPU time during "
        "them (the least disturbed attempt is kept); 1 kept runs were still over it")


def test_a_start_disturbed_by_the_hypervisor_is_started_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import run

    steals = iter([50, 0, 0])  # the first start of the first server is disturbed
    ticks = [0] * 8
    monkeypatch.setattr(run, "cpu_times", lambda: list(ticks))
    monkeypatch.setattr(run, "log", lambda message: None)
    durations = iter([0.9, 0.3, 0.35])

    class FakeServer:
        startup_s: float | None = None

        def start(self) -> None:
            steal = next(steals)
            ticks[0] += 100 - steal
            ticks[7] += steal
            self.startup_s = next(durations)

        def stop(self) -> None:
            pass

    bench = run.Bench.__new__(run.Bench)
    assert bench.startup_times(FakeServer, 2) == [0.3, 0.35]  # type: ignore[arg-type]
