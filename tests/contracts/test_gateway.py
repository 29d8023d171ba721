"""contracts.gateway: the canonical API served through an adapter, checked end to end by check_server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import falcon
import falcon.testing
import httpx
import pytest
import yaml

from contracts.adapters import ADAPTERS
from contracts.check import check_server
from contracts.cli import main
from contracts.gateway import create_gateway, read_only_spec
from mockserver import Dataset, ServerProcess, Settings, create_app

AUTH = {"Authorization": "Bearer any-token"}


def _gateway(name: str, seed: int = 3, count: int = 80) -> falcon.App:
    upstream = create_app(Settings(seed=seed, count=count))
    client = httpx.Client(transport=httpx.WSGITransport(app=upstream))
    adapter = ADAPTERS.get(name)(f"http://mockserver/{ADAPTERS.get(name).flavour}", client=client)
    return create_gateway(adapter)


@pytest.fixture
def gateway() -> falcon.testing.TestClient:
    return falcon.testing.TestClient(_gateway("ecwid"))


def test_check_server_passes_end_to_end_through_the_ecwid_adapter(tmp_path: Path) -> None:
    spec = tmp_path / "gateway.yaml"
    spec.write_text(yaml.safe_dump(read_only_spec()))
    report = check_server(app=_gateway("ecwid"), spec=str(spec), max_examples=4, seed=5)
    assert report.ok, report.render()
    assert "pagination.walk" in report.passed and "filters.match" in report.passed
    assert any(r.name.startswith("schemathesis GET /customers") for r in report.results)


def test_check_server_through_a_broken_adapter_names_the_property(tmp_path: Path) -> None:
    from tests.contracts.test_adapters import LosesLastOfEachPage

    upstream = create_app(Settings(seed=3, count=80))
    adapter = LosesLastOfEachPage("http://mockserver/ecwid", client=httpx.Client(transport=httpx.WSGITransport(
        app=upstream)))
    spec = tmp_path / "gateway.yaml"
    spec.write_text(yaml.safe_dump(read_only_spec()))
    report = check_server(app=create_gateway(adapter), spec=str(spec), max_examples=4, seed=5,
                          checks=["pagination"])
    assert not report.ok and any(p.startswith("pagination.") for p in report.failed_properties), report.render()


def test_pages_are_the_canonical_customers_without_what_ecwid_cannot_provide(gateway: falcon.testing.TestClient) -> None:
    body = gateway.simulate_get("/customers", params={"limit": "30"}, headers=AUTH).json
    truth = Dataset(3, 80)
    assert [c["id"] for c in body["data"]] == [truth.id_of(i) for i in range(30)]
    assert body["meta"]["total_count"] == 80 and body["meta"]["items_on_page"] == 30
    first = body["data"][0]
    assert first["name"] == truth.customer(0)["name"] and first["status"] is None
    assert body["links"]["next"].endswith("cursor=" + body["meta"]["cursors"]["next"])
    archived = gateway.simulate_get("/customers", params={"filter[customer_ids]": f"{truth.id_of(1)},{truth.id_of(2)}",
                                                          "fields": "id"}, headers=AUTH).json
    assert archived["data"] == [{"id": truth.id_of(1)}, {"id": truth.id_of(2)}]
    assert archived["meta"]["total_count"] == 2, "counted by walking when the adapter cannot tell"


def test_errors_are_canonical_problems(gateway: falcon.testing.TestClient) -> None:
    cases = [
        ({"path": "/customers", "headers": {}}, 401, "unauthorized"),
        ({"path": "/customers", "params": {"limit": "0"}}, 400, "invalid-parameter"),
        ({"path": "/customers", "params": {"limit": "x"}}, 400, "invalid-parameter"),
        ({"path": "/customers", "params": {"cursor": "garbage"}}, 400, "invalid-cursor"),
        ({"path": "/customers", "params": {"sorted": "1"}}, 400, "invalid-parameter"),
        ({"path": "/customers", "query_string": "limit=1&limit=2"}, 400, "invalid-parameter"),
        ({"path": "/customers/123"}, 404, "not-found"),
        ({"path": "/nowhere"}, 404, "not-found"),
    ]
    for kwargs, status, kind in cases:
        headers = kwargs.pop("headers", AUTH)
        response = gateway.simulate_get(headers=headers, **kwargs)
        assert response.status_code == status, (kwargs, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json["type"] == f"/problems/{kind}" and response.json["status"] == status
    assert gateway.simulate_get("/customers", headers={}).headers["www-authenticate"] == 'Bearer realm="mockserver"'
    refused = gateway.simulate_post("/customers", json={"name": "x"}, headers=AUTH)
    assert refused.status_code == 405 and "GET" in refused.headers["allow"]


def test_the_gateway_document_is_the_read_side_of_the_contract(gateway: falcon.testing.TestClient) -> None:
    document = yaml.safe_load(gateway.simulate_get("/openapi.yaml").text)
    assert {path: sorted(ops) for path, ops in document["paths"].items()} == {
        "/customers": ["get"], "/customers/{id}": ["get", "parameters"], "/openapi.yaml": ["get"]}
    assert document["components"]["schemas"]["Customer"]


def test_cli_rejects_an_unknown_adapter(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gateway", "--adapter", "shopify", "--upstream", "http://127.0.0.1:1"]) == 2
    assert "registered adapters: apideck" in capsys.readouterr().err
    assert main(["gateway", "--adapter", "ecwid", "--upstream", "ftp://x"]) == 2


@pytest.fixture
def mock_process() -> Iterator[ServerProcess]:
    with ServerProcess(Settings(seed=3, count=40, workers=1, port=0)) as server:
        yield server


@pytest.mark.integration
def test_contracts_gateway_command_serves_through_a_real_mock(mock_process: ServerProcess, tmp_path: Path) -> None:
    from mockserver.server import free_port

    port = free_port()
    home = tmp_path / "home"  # gunicorn would put a control socket in ~/.gunicorn
    home.mkdir()
    process = subprocess.Popen([sys.executable, "-m", "contracts", "gateway", "--adapter", "truto", "--upstream",
                                f"{mock_process.url}/truto", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": ""})
    try:
        assert process.stdout is not None
        announced = ""
        while "contracts check --base-url" not in announced:  # gunicorn prints it once it listens
            line = process.stdout.readline()
            assert line, f"the gateway exited: {announced}"
            announced += line
        response = httpx.get(f"http://127.0.0.1:{port}/customers", params={"limit": 3}, headers=AUTH)
        assert response.status_code == 200
        assert [c["id"] for c in response.json()["data"]] == [Dataset(3, 40).id_of(i) for i in range(3)]
        assert f"--base-url http://127.0.0.1:{port}" in announced
        assert not (home / ".gunicorn").exists()
    finally:
        process.terminate()
        process.communicate(timeout=15)
