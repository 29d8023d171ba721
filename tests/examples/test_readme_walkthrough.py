"""The README's curl walkthrough, run as written against a real `mockserver serve`."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from mockserver import ServerProcess, Settings
from tests.examples.readme import json_documents

README = Path(__file__).resolve().parents[2] / "README.md"
pytestmark = pytest.mark.integration


def walkthrough() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Walkthrough (curl)", 1)[1]
    return re.search(r"```bash\n(.*?)```", section, re.DOTALL).group(1)  # type: ignore[union-attr]


def test_readme_opens_with_the_two_commands() -> None:
    first_block = re.search(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL).group(1)  # type: ignore[union-attr]
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ['pip install -c constraints.txt -e . && mockserver serve',
                        'pip install -c constraints.txt -e ".[test]" && pytest']
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci.splitlines(), ".ci/run must run exactly the README's test command"


def test_walkthrough_works_as_written() -> None:
    with ServerProcess(Settings(seed=42, count=1000, workers=1)) as server:
        script = walkthrough().replace("http://127.0.0.1:8000", server.url)
        run = subprocess.run(["bash", "-e", "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    bodies = json_documents(out)
    lists = [b for b in bodies if isinstance(b.get("data"), list)]
    assert len(lists[0]["data"]) == 2 and lists[0]["meta"]["cursors"]["next"]
    assert lists[1]["data"][0]["id"] != lists[0]["data"][0]["id"]  # the next page
    assert set(lists[2]["data"][0]) == {"id", "name", "emails", "addresses"}
    assert all(c["status"] == "archived" for c in lists[3]["data"])
    assert "HTTP/1.1 201" in out and re.search(r"^location: /customers/\d{9}\r?$", out, re.MULTILINE | re.IGNORECASE)
    assert out.count("HTTP/1.1 204") == 2  # the delete, then the reset
    customers = [b["data"] for b in bodies if isinstance(b.get("data"), dict)]  # get, create, update, get
    assert customers[-1] == customers[0] and customers[2]["status"] == "archived", "the reset undid the writes"
    problems = [b for b in bodies if "type" in b and "status" in b]
    assert [p["status"] for p in problems] == [404, 400, 401]
