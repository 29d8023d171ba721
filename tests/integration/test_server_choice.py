"""`mockserver serve --server gunicorn|granian`: choosing the server, and what each must do alike.

Both servers build the app once and fork their workers from it (one state for all), restart a worker
that dies into that same state, stop on SIGTERM and remove a temporary state, and keep every
answer consistent while many clients write and walk lists at once (granian runs the app in threads).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from mockserver import Dataset, ServerProcess, Settings
from mockserver.cli import main
from mockserver.errors import InvalidSettings
from mockserver.shared import LocalShared

pytestmark = pytest.mark.integration
AUTH = {"Authorization": "Bearer choice", "Content-Type": "application/json"}


def call(url: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=AUTH)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _live_workers(server: ServerProcess, count: int) -> list[int]:
    """The live workers once ``count`` have registered (a worker registers as it boots, after the first answers)."""
    deadline = time.monotonic() + 20
    while True:
        live: list[int] = call(server.url + "/__admin/health")[1]["workers"]["live"]
        if len(live) >= count or time.monotonic() > deadline:
            assert len(live) == count, live
            return live
        time.sleep(0.1)


def test_the_server_is_a_setting_with_a_default_an_env_variable_and_a_flag(capsys: Any) -> None:
    assert Settings().server == "gunicorn"
    assert Settings.from_env({"MOCKSERVER_SERVER": "granian"}).server == "granian"
    with pytest.raises(InvalidSettings, match="server must be one of gunicorn, granian, got 'uwsgi'"):
        Settings(server="uwsgi")
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "--server {gunicorn,granian}" in capsys.readouterr().out


@pytest.mark.mockserver(count=20, server="granian")
def test_the_pytest_plugin_starts_the_server_the_marker_names(mock_server: Any) -> None:
    with urllib.request.urlopen(urllib.request.Request(mock_server.url + "/health"), timeout=20) as response:
        assert response.headers["Server"] == "granian" and json.loads(response.read())["count"] == 20


def test_granian_missing_is_one_clear_line_and_exit_2() -> None:
    hide = ("import sys; sys.modules['granian'] = None; from mockserver.cli import main; "
            "sys.exit(main(['serve', '--server', 'granian', '--port', '0']))")
    ran = subprocess.run([sys.executable, "-c", hide], capture_output=True, text=True, timeout=60, check=False)
    assert ran.returncode == 2 and "Traceback" not in ran.stderr
    assert "--server granian needs the granian package" in ran.stderr and "[granian]" in ran.stderr


def test_the_start_message_names_the_server(server_kind: str) -> None:
    running = ServerProcess(Settings(count=10, workers=2, server=server_kind)).start()
    output = running.stop()
    assert f"2 {server_kind} workers" in output, output


def test_sigterm_stops_every_worker_and_removes_the_temporary_state(server_kind: str) -> None:
    server = ServerProcess(Settings(count=10, workers=2, server=server_kind)).start()
    try:
        workers = _live_workers(server, 2)
    finally:
        output = server.stop()
    state = re.search(r"writes:\s+(\S+) \(temporary\)", output)
    assert state is not None, output
    assert not os.path.exists(os.path.dirname(state.group(1)))
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert "Traceback" not in output


def test_a_worker_that_dies_is_replaced_and_serves_the_same_state(tmp_path: Any, server_kind: str) -> None:
    settings = Settings(seed=4, count=50, workers=2, state=str(tmp_path / "state.sqlite3"), server=server_kind)
    with ServerProcess(settings) as server:
        assert call(server.url + f"/customers/{Dataset(4, 50).id_of(3)}", "PATCH", {"first_name": "Kept"})[0] == 200
        before = _live_workers(server, 2)
        os.kill(before[0], signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                live = call(server.url + "/__admin/health")[1]["workers"]["live"]
            except ConnectionResetError:  # granian: connections queued at the dead worker's own listener
                continue
            if len(live) == 2 and before[0] not in live:
                break
            time.sleep(0.2)
        assert len(live) == 2 and before[0] not in live, live
        for _ in range(10):  # from either worker, the new one included
            assert call(server.url + f"/customers/{Dataset(4, 50).id_of(3)}")[1]["data"]["first_name"] == "Kept"


def test_concurrent_writes_and_walks_stay_consistent_in_one_worker(tmp_path: Any, server_kind: str) -> None:
    """One worker: under granian its threads serve these clients at once, under gunicorn its greenlets."""
    settings = Settings(seed=6, count=200, workers=1, state=str(tmp_path / "state.sqlite3"), server=server_kind)
    dataset = Dataset(6, 200)
    errors: list[str] = []
    with ServerProcess(settings) as server:
        def writer(n: int) -> None:
            for i in range(25):
                status, _ = call(server.url + f"/customers/{dataset.id_of((n * 25 + i) % 200)}", "PATCH",
                                 {"first_name": f"W{n}x{i}"})
                if status != 200:
                    errors.append(f"PATCH {status}")
                status, _ = call(server.url + "/customers", "POST", {"first_name": f"New{n}", "last_name": str(i)})
                if status != 201:
                    errors.append(f"POST {status}")

        def walker(order: str) -> None:
            for _ in range(3):
                seen: list[str] = []
                url: str | None = server.url + "/customers?limit=20" + order
                while url:
                    status, page = call(url)
                    if status != 200:
                        errors.append(f"GET {status}")
                        return
                    seen += [c["id"] for c in page["data"]]
                    url = page["links"].get("next") if page.get("links") else None
                if len(seen) != len(set(seen)):
                    errors.append("a walk saw a customer twice")
                if not set(map(dataset.id_of, range(200))) <= set(seen):
                    errors.append("a walk missed a customer that existed all along")

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
        threads += [threading.Thread(target=walker, args=(order,)) for order in
                    ["", "&sort[by]=name", "&sort[by]=name&sort[direction]=desc", "&sort[by]=created_at"] * 2]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        output = server.stop()
    assert errors == [], errors[:10]
    assert "Traceback" not in output, output


def test_shared_state_reads_wait_for_a_transaction_of_another_thread(tmp_path: Any) -> None:
    """granian's threads share their process's SQLite connection: every use of it takes the lock."""
    from mockserver.controls import Controls

    shared = LocalShared(str(tmp_path / "shared"), Controls())
    shared.register_worker(os.getpid())
    answers: list[Any] = []
    with shared._transaction():  # another thread of the process, mid-transaction
        readers = [threading.Thread(target=lambda: answers.append(shared.workers())),
                   threading.Thread(target=lambda: answers.append(shared.initial_controls()))]
        for reader in readers:
            reader.start()
        time.sleep(0.3)
        assert answers == []  # they wait: no query on a connection another thread is inside
    for reader in readers:
        reader.join(5)
    assert len(answers) == 2 and [os.getpid()] in answers
