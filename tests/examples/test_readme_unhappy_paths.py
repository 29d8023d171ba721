"""The README's "Unhappy paths" section: its curl block run as written against a real server, and its
pytest example the file ``test_readme_unhappy_example.py`` that runs beside this one."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from mockserver import ServerProcess, Settings
from tests.examples.test_readme_walkthrough import json_documents

HERE = Path(__file__).resolve().parent
README = HERE.parents[1] / "README.md"
pytestmark = pytest.mark.integration


def section() -> str:
    return README.read_text(encoding="utf-8").split("## Unhappy paths:", 1)[1].split("\n## ", 1)[0]


def test_the_curl_block_works_as_written() -> None:
    script = re.search(r"```bash\n(.*?)```", section(), re.DOTALL).group(1)  # type: ignore[union-attr]
    with ServerProcess(Settings(seed=42, count=1000, workers=2, port=0)) as server:
        run = subprocess.run(["bash", "-e", "-c", script.replace("http://127.0.0.1:8000", server.url)],
                             capture_output=True, text=True, timeout=60, check=False)
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
    blocks = re.findall(r"```python\n(.*?)```", section(), re.DOTALL)
    assert blocks == [(HERE / "test_readme_unhappy_example.py").read_text(encoding="utf-8")]
