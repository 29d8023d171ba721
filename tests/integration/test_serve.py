"""`mockserver serve` as users run it: real server processes (gunicorn and granian), real sockets."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from mockserver import Dataset, ServerProcess, Settings

pytestmark = pytest.mark.integration
AUTH = {"Authorization": "Bearer integration"}


def call(url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        **AUTH, **({"Content-Type": "application/json"} if data else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any, server_kind: str) -> Any:
    state = str(tmp_path_factory.mktemp("serve") / "state.sqlite3")
    with ServerProcess(Settings(seed=3, count=500, workers=2, state=state, server=server_kind)) as running:
        yield running


def test_serves_the_dataset_over_a_socket(server: ServerProcess) -> None:
    ds = Dataset(3, 500)
    status, body = call(f"{server.url}/customers?limit=200")
    assert status == 200 and body["data"][:3] == [ds.customer(i) for i in range(3)]
    seen = [c["id"] for c in body["data"]]
    while body["links"]["next"]:
        status, body = call(body["links"]["next"])
        seen += [c["id"] for c in body["data"]]
    assert seen == [ds.id_of(i) for i in range(500)]


def test_writes_are_visible_to_every_worker(server: ServerProcess) -> None:
    status, created = call(f"{server.url}/customers", "POST", {"first_name": "Worker", "last_name": "Check"})
    assert status == 201
    cid = created["data"]["id"]
    # Each request goes to whichever worker accepts it; 40 tries reach both of 2 workers.
    assert all(call(f"{server.url}/customers/{cid}")[0] == 200 for _ in range(40))
    assert call(f"{server.url}/customers/{cid}", "DELETE")[0] == 204
    assert all(call(f"{server.url}/customers/{cid}")[0] == 404 for _ in range(40))


@pytest.mark.parametrize("mount", ["", "/canonical", "/ecartapi"])
def test_each_document_names_the_address_it_was_fetched_from(server: ServerProcess, mount: str) -> None:
    with urllib.request.urlopen(f"{server.url}{mount}/openapi.yaml", timeout=10) as response:
        document = yaml.safe_load(response.read())
    base = document["servers"][0]["url"]
    assert base == f"{server.url}{mount}"
    collection = next(path for path in document["paths"] if path.endswith("/customers"))
    assert call(base + collection, headers={"Authorization": "integration"} if mount == "/ecartapi" else None)[0] == 200


def test_state_file_survives_a_restart(tmp_path: Any, server_kind: str) -> None:
    state = str(tmp_path / "keep.sqlite3")
    with ServerProcess(Settings(seed=3, count=50, state=state, workers=1, server=server_kind)) as first:
        _, created = call(f"{first.url}/customers", "POST", {"name": "Persistent Person"})
    with ServerProcess(Settings(seed=3, count=50, state=state, workers=1, server=server_kind)) as second:
        status, body = call(f"{second.url}/customers/{created['data']['id']}")
    assert status == 200 and body["data"]["name"] == "Persistent Person"


def test_start_message_busy_port_and_python_m(server: ServerProcess) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    busy = subprocess.run([sys.executable, "-m", "mockserver", "serve", "--port", str(port)],
                          capture_output=True, text=True, timeout=30, check=False)
    assert busy.returncode == 2
    assert "already in use" in busy.stderr and "--port" in busy.stderr and "Traceback" not in busy.stderr


def test_start_message_names_url_seed_and_count(tmp_path: Any, server_kind: str) -> None:
    running = ServerProcess(Settings(seed=11, count=1234, workers=1, server=server_kind)).start()
    output = running.stop()
    assert f"{running.url}/customers" in output and "seed 11" in output and "1,234 customers" in output


def test_ten_million_customers_start_fast_enough_to_use(tmp_path: Any, server_kind: str) -> None:
    with ServerProcess(Settings(seed=1, count=10_000_000, workers=1, server=server_kind)) as big:
        status, body = call(f"{big.url}/customers?limit=1&sort[by]=name&sort[direction]=desc")
        assert status == 200 and body["meta"]["total_count"] == 10_000_000
        last = Dataset(1, 10_000_000).id_of(9_999_999)
        assert call(f"{big.url}/customers/{last}")[0] == 200
    # not a timing assertion: a generous bound that only a materializing server would miss
    assert big.startup_seconds < 15


def test_binds_loopback_by_default(server_kind: str) -> None:
    assert Settings().host == "127.0.0.1"
    with ServerProcess(Settings(count=10, workers=1, server=server_kind)) as running:
        port = int(running.url.rsplit(":", 1)[1])
        addresses = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
        outside = sorted(a for a in addresses if not a.startswith("127."))
        for address in outside[:1]:
            with socket.socket() as sock:
                sock.settimeout(1)
                assert sock.connect_ex((address, port)) != 0


def test_env_variables_configure_the_server(tmp_path: Any, server_kind: str) -> None:
    env = {"MOCKSERVER_TOKEN": "from-env"}  # flags are not given for it, so the variable decides
    with ServerProcess(Settings(seed=5, count=20, workers=1, server=server_kind), env=env) as running:
        assert call(f"{running.url}/customers")[0] == 401
        status, body = call(f"{running.url}/customers", headers={"Authorization": "Bearer from-env"})
        assert status == 200 and body["data"][0] == Dataset(5, 20).customer(0)
    assert os.environ.get("MOCKSERVER_TOKEN") is None


def test_admin_reset_forgets_every_write_in_every_worker(server: ServerProcess) -> None:
    ds = Dataset(3, 500)
    first_page = f"{server.url}/customers?limit=5"
    status, created = call(f"{server.url}/customers", "POST", {"first_name": "Reset", "last_name": "Me"})
    assert status == 201
    created_id = created["data"]["id"]
    assert call(f"{server.url}/customers/{ds.id_of(0)}", "PATCH", {"first_name": "Changed"})[0] == 200
    assert call(f"{server.url}/customers/{ds.id_of(1)}", "DELETE")[0] == 204
    for _ in range(20):  # both workers cache the written first page
        assert call(first_page)[1]["data"][0]["first_name"] == "Changed"

    assert call(f"{server.url}/__admin/reset", "POST", headers={"Authorization": ""})[0] == 401
    assert call(f"{server.url}/__admin/reset", "POST") == (204, None)

    for _ in range(20):  # every answer, from either worker, is the seeded data again
        assert call(f"{server.url}/customers/{created_id}")[0] == 404
        assert call(f"{server.url}/customers/{ds.id_of(1)}") == (200, {"data": ds.customer(1)})
        assert call(first_page)[1]["data"] == [ds.customer(i) for i in range(5)]


def test_the_start_message_prints_a_working_url_for_every_mount(tmp_path: Any, server_kind: str) -> None:
    from mockserver.flavours import FLAVOURS

    settings = Settings(seed=5, count=40, workers=1, flavour="ecwid", state=str(tmp_path / "state.sqlite3"),
                        server=server_kind)
    first = ServerProcess(settings).start()
    port, output = first.settings.port, first.stop()
    urls = re.findall(r"(http://127\.0\.0\.1:\d+/[^\s)]*)(?: \(\+ ([^)]*)\))?", output)
    served = [(url, needs) for url, needs in urls
              if urlsplit(url).path not in ("/", "/docs") and not urlsplit(url).path.startswith("/__admin/")]
    assert len(served) == 1 + len(FLAVOURS), output  # the root, then every flavour under /<name>
    assert {urlsplit(url).path.split("/")[1] for url, _ in served[1:]} == set(FLAVOURS.names())
    with ServerProcess(settings, port=port):
        for url, needs in urls:
            headers = {"Authorization": "Bearer secret_test"}
            headers.update({name: "test" for name in re.findall(r"header (\S+?)(?:,|$)", needs)})
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
                assert response.status == 200, url
