"""``contracts check`` leaves a real server with the customers it found (unless told to keep its writes)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from contracts.cli import main
from mockserver import ServerProcess, Settings

pytestmark = pytest.mark.integration

CHECKS = ["--checks", "schemathesis.examples,schemathesis.fuzzing,schemathesis.stateful,writes", "--max-examples", "8"]


def total(url: str) -> int:
    request = urllib.request.Request(f"{url}/customers?limit=1", headers={"Authorization": "Bearer any"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(json.loads(response.read())["meta"]["total_count"])


# NOTE: with check seed 1, Schemathesis' stateful phase used to DELETE two of the server's own customers
# (an id seen in a list page instead of the one a create linked to).
@pytest.mark.parametrize("check_seed", ["0", "1"])
def test_the_check_deletes_the_customers_it_created(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    check_seed: str) -> None:
    with ServerProcess(Settings(seed=7, count=300, workers=1, state=str(tmp_path / "state.sqlite3"))) as server:
        before = total(server.url)
        code = main(["check", "--base-url", server.url, "-q", "--seed", check_seed, *CHECKS])
        after = total(server.url)
    out = capsys.readouterr().out
    assert code == 0, out
    assert after == before == 300
    created = int(out.split("created_customers=")[1].split(",")[0])
    assert created > 0 and f"deleted_customers={created}" in out


def test_keep_writes_keeps_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with ServerProcess(Settings(seed=7, count=300, workers=1, state=str(tmp_path / "state.sqlite3"))) as server:
        code = main(["check", "--base-url", server.url, "-q", "--keep-writes", *CHECKS])
        after = total(server.url)
    out = capsys.readouterr().out
    assert code == 0, out
    created = int(out.split("created_customers=")[1].split(",")[0])
    assert 300 < after <= 300 + created  # some it deleted itself (the writes properties, stateful links)
    assert "deleted_customers" not in out


def test_help_says_that_the_check_writes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "It WRITES: it creates, updates and deletes customers" in text and "--keep-writes" in text
