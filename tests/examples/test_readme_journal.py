"""The README's "Request journal and verification" section: its curl block run as written against a real
server, and its pytest example the file ``test_readme_journal_example.py`` that runs beside this one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mockserver import ServerProcess, Settings
from tests.examples.readme import bash_block, json_documents, run_against, section

HERE = Path(__file__).resolve().parent
pytestmark = pytest.mark.integration


def test_the_curl_block_works_as_written() -> None:
    script = bash_block("## Request journal and verification")
    with ServerProcess(Settings(seed=42, count=1000, workers=2, port=0)) as server:
        run = run_against(script, server.url)
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
    blocks = re.findall(r"```python\n(.*?)```", section("## Request journal and verification"), re.DOTALL)
    assert blocks == [(HERE / "test_readme_journal_example.py").read_text(encoding="utf-8")]
