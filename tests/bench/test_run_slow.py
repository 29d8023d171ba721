"""The benchmark end to end: ``python bench/run.py --selftest`` (slow: starts servers and wrk)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.integration
def test_bench_selftest_runs_and_checks_its_output() -> None:
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--selftest"], capture_output=True,
                          text=True, timeout=900, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "selftest: ok" in proc.stdout
