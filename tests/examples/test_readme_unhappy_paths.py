"""The README's "Unhappy paths" section: its curl block run as written against a real server, and its
pytest example the file ``test_readme_unhappy_example.py`` that runs beside this one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mockserver import ServerProcess, Settings
from tests.examples.readme import bash_block, json_documents, run_against, section

HERE = Path(__file__).resolve().parent
pytestmark = pytest.mark.integration


def test_the_curl_block_works_as_written() -> None:
    script = bash_block("## Unhappy paths:")
    with ServerProcess(Settings(seed=42, count=1000, workers=2, port=0)) as server:
        run = run_against(script, server.url)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert out.startswith("HTTP/1.1 429") and "retry-after: 60" in out.lower()
    delay = re.search(r"200 after ([\d.]+) s$", out, re.MULTILINE)  # curl bodies end without a newline
    assert delay is not None and float(delay.group(1)) >= 0.25
    assert "curl: connection reset" in out
    bodies = json_documents(out)
    assert {"id": "suspended", "mode": "shared", "configured": True, "state": "disabled"} in bodies
    assert any(b.get("status_code") == 403 and b.get("type_name") == "ConnectorDisabledError" for b in bodies)
    assert any(b.get("id") == "job-42" and b.get("count") == 50 for b in bodies)
    codes = re.findall(r"(?:^|\})(\d{3})$", out, re.MULTILINE)
    assert codes == ["503", "200", "200", "429", "200"]  # the fault, then the rate limit and the clock
    assert out.rsplit("HTTP/1.1 ", 1)[1].startswith("204 No Content")  # the reset, last


def test_the_pytest_example_is_the_file_that_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", section("## Unhappy paths:"), re.DOTALL)
    assert blocks == [(HERE / "test_readme_unhappy_example.py").read_text(encoding="utf-8")]
