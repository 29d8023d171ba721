"""The README's "Request journal and verification" section: its curl block run as written against a real
server, and its pytest example the file ``test_readme_journal_example.py`` that runs beside this one."""

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
    return README.read_text(encoding="utf-8").split("## Request journal and verification", 1)[1].split("\n## ", 1)[0]


def test_the_curl_block_works_as_written() -> None:
    script = re.search(r"```bash\n(.*?)```", section(), re.DOTALL).group(1)  # type: ignore[union-attr]
    with ServerProcess(Settings(seed=42, count=1000, workers=2, port=0)) as server:
        run = subprocess.run(["bash", "-e", "-c", script.replace("http://127.0.0.1:8000", server.url)],
                             capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    listed, count, found, misses, config = json_documents(run.stdout)
    (page,) = listed["requests"]
    assert (page["method"], page["query"], page["status"], listed["next"]) == ("GET", "limit=2&access_token=***", 200, None)
    assert page["headers"]["Authorization"] == "***" and "abc123" not in run.stdout
    assert count == {"count": 1}
    (created,) = found["requests"]
    assert created["headers"]["Idempotency-Key"] == "k-1" and '"ada@example.com"' in created["body"]
    (miss,) = misses["near_misses"]
    assert miss["request"]["id"] == page["id"]
    assert miss["differences"] == ['queryParameters.limit: expected equalTo "20", got "2"']
    assert config["controls"]["journal"]["responses"] is True
    assert run.stdout.rsplit("HTTP/1.1 ", 1)[1].startswith("204 No Content")


def test_the_pytest_example_is_the_file_that_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", section(), re.DOTALL)
    assert blocks == [(HERE / "test_readme_journal_example.py").read_text(encoding="utf-8")]
