"""The README's "Check a client" section: its command block run as written (from the repository root,
where the reference clients it names live), and its sample report checked against the real one."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.examples.readme import bash_block, section

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration

TIMES_AND_PORTS = re.compile(r"\d\d:\d\d:\d\d\.\d{3}|127\.0\.0\.1:\d+|in \d+\.\ds")


def test_the_command_block_works_as_written() -> None:
    script = bash_block("### Check a client:", end="\n### ")
    bin_dir = str(Path(sys.executable).parent)  # `contracts` and `python` of this environment
    run = subprocess.run(["bash", "-e", "-c", f'export PATH="{bin_dir}:$PATH"\n{script}'], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert out.startswith("PASSED client of apideck (rate-limits): 7 properties held, 0 failed")
    assert re.search(r"answered_429=[1-9]", out)  # the quota was met, and the client waited
    assert "FAILED client of ecwid (pagination): 4 properties held, 1 failed" in out
    assert out.rstrip().endswith("exit 1")
    assert "check-client: running client" in run.stderr and "check-client: judging" in run.stderr

    sample = re.search(r"```text\n(.*?)```", section("### Check a client:", end="\n### "), re.DOTALL).group(1)  # type: ignore[union-attr]
    real = [TIMES_AND_PORTS.sub("*", line) for line in out.splitlines()]
    for line in sample.splitlines():
        shown = TIMES_AND_PORTS.sub("*", line)
        if "..." in shown:  # the sample shortens long lists
            head = shown.split("...", 1)[0]
            assert any(r.startswith(head) for r in real), line
        else:
            assert shown in real, line
