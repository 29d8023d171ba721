"""State as users run it: `mockserver serve` refusing bad state files, unique emails across workers."""

from __future__ import annotations

import ctypes
import json
import os
import sqlite3
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest

from mockserver import ServerProcess, Settings
from mockserver.store import Store

pytestmark = pytest.mark.integration


def _without_root_file_powers() -> None:
    """In the child: drop CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER from the bounding set.

    CI runs as root, whom a read-only mode does not stop; without these capabilities root obeys
    file modes like any user. (Not root: the calls fail harmlessly, modes apply anyway.)
    """
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2, 3):
        libc.prctl(24, capability, 0, 0, 0)  # PR_CAPBSET_DROP


def _make_state(tmp_path: Any, kind: str) -> str:
    path = str(tmp_path / "state.sqlite3")
    if kind == "garbage":
        with open(path, "wb") as file:
            file.write(b"\x00garbage\xff" * 1000)
    elif kind in ("truncated", "read-only"):
        whole = str(tmp_path / "whole.sqlite3")
        store = Store(whole, "42:1000")  # the CLI's default seed and count
        for _ in range(300):
            store.append(None, lambda o: {"id": str(o), "pad": "p" * 800}, 0, 0, first_new_ordinal=1000)
        store.close()
        with sqlite3.connect(whole) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        with open(whole, "rb") as file:
            data = file.read()
        for name in os.listdir(tmp_path):
            os.remove(tmp_path / name)
        with open(path, "wb") as file:
            file.write(data if kind == "read-only" else data[: len(data) // 2])
        if kind == "read-only":
            os.chmod(path, 0o444)
    elif kind == "directory":
        os.mkdir(path)
    return path


@pytest.mark.parametrize("kind", ["garbage", "truncated", "directory", "read-only"])
def test_serve_refuses_an_unusable_state_file_with_exit_2_and_one_clear_line(tmp_path: Any, kind: str) -> None:
    path = _make_state(tmp_path, kind)
    before = sorted(os.listdir(tmp_path))
    result = subprocess.run([sys.executable, "-m", "mockserver", "serve", "--port", "0", "--state", path],
                            capture_output=True, text=True, timeout=60, check=False,
                            preexec_fn=_without_root_file_powers)
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"mockserver: error: state file {path} cannot be used: "), lines[0]
    assert "--state" in lines[0] and "Traceback" not in result.stderr + result.stdout
    assert sorted(os.listdir(tmp_path)) == before  # no stray -changes, -wal or -shm file


# ---- Ecwid emails are unique across worker processes ----------------------------------------------


def _post(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Authorization": "Bearer secret_concurrency", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_concurrent_ecwid_creates_with_one_email_accept_exactly_one(tmp_path: Any) -> None:
    settings = Settings(seed=5, count=100, workers=3, state=str(tmp_path / "state.sqlite3"))
    with ServerProcess(settings) as server:
        for flavour_path in ["/ecwid/api/v3/1/customers", "/myboxx/api/json/v1/ecwid/add_customer"] * 5:
            email = f"race{os.urandom(4).hex()}@example.com"
            start = threading.Barrier(12)
            outcomes: list[int] = []

            def create(email: str = email, path: str = flavour_path, start: threading.Barrier = start,
                       outcomes: list[int] = outcomes) -> None:
                start.wait()
                outcomes.append(_post(server.url + path, {"email": email, "billingPerson": {"name": "R C"}})[0])

            threads = [threading.Thread(target=create) for _ in range(12)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert outcomes.count(200) == 1, (flavour_path, sorted(outcomes))
            assert all(status in (200, 409) for status in outcomes), outcomes
            found = urllib.request.Request(f"{server.url}/ecwid/api/v3/1/customers?email={email}",
                                           headers={"Authorization": "Bearer secret_concurrency"})
            with urllib.request.urlopen(found, timeout=30) as response:
                assert json.loads(response.read())["total"] == 1
