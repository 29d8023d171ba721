"""The admin API's guard and ``Prefer``'s, against real gunicorn (2 workers).

A server with ``--admin-token`` (or only ``--token``) refuses its admin routes without that token,
never starts off loopback without one, and honours ``Prefer`` only from whoever holds it;
``--no-prefer`` ignores the header; CORS preflights let a browser send it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockserver import Settings
from mockserver.server import ServerProcess, free_port
from tests.mockserver.unhappy_client import call

API, ADMIN_TOKEN = "api-tok", "adm-tok"
JSON = {"Content-Type": "application/json"}
ROUTES = [("GET", "health", None), ("GET", "config", None), ("PUT", "faults", {"errors": [{"status": 500, "rate": 1}]}),
          ("PUT", "tenants/t-1", {"state": "disabled"}), ("PUT", "rate-limits", {"enabled": True}),
          ("PUT", "clock", {"offset_seconds": 5}), ("DELETE", "faults", None), ("POST", "reset", None)]


@pytest.fixture(scope="module")
def guarded() -> Iterator[ServerProcess]:
    with ServerProcess(Settings(seed=4, count=10, workers=2, token=API, admin_token=ADMIN_TOKEN)) as running:
        yield running


@pytest.fixture(scope="module")
def token_only() -> Iterator[ServerProcess]:
    with ServerProcess(Settings(seed=4, count=10, workers=2, token=API, prefer=False)) as running:
        yield running


def _refused(server: ServerProcess, headers: dict[str, str]) -> None:
    for method, path, body in ROUTES:
        status, answer_headers, data = call(server, method, f"/__admin/{path}", {**JSON, **headers}, body)
        assert status == 401, (method, path, headers, data)
        assert answer_headers["content-type"] == "application/problem+json"


def _controls(server: ServerProcess, token: str) -> bytes:
    status, _, data = call(server, "GET", "/__admin/config", {"Authorization": f"Bearer {token}"})
    assert status == 200
    return data


def test_admin_routes_refuse_a_missing_or_wrong_token_with_an_admin_token_set(guarded: ServerProcess) -> None:
    before = _controls(guarded, ADMIN_TOKEN)
    _refused(guarded, {})
    _refused(guarded, {"Authorization": f"Bearer {API}"})  # the API token is not the admin token
    _refused(guarded, {"Authorization": "Bearer nope"})
    _refused(guarded, {"X-Mock-Admin-Token": API})
    assert _controls(guarded, ADMIN_TOKEN) == before  # nothing refused changed anything
    for headers in ({"Authorization": f"Bearer {ADMIN_TOKEN}"}, {"X-Mock-Admin-Token": ADMIN_TOKEN}):
        status, _, _ = call(guarded, "GET", "/__admin/health", headers)
        assert status == 200


def test_admin_routes_take_the_api_token_when_no_admin_token_is_set(token_only: ServerProcess) -> None:
    _refused(token_only, {})
    _refused(token_only, {"Authorization": "Bearer nope"})
    assert call(token_only, "GET", "/__admin/health", {"Authorization": f"Bearer {API}"})[0] == 200


def _serve(*flags: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}
    return subprocess.run([sys.executable, "-m", "mockserver", "serve", "--port", str(free_port()), *flags],
                          capture_output=True, text=True, timeout=60, env=env, check=False)


def test_the_server_refuses_to_start_off_loopback_without_an_admin_token() -> None:
    open_to_all = _serve("--host", "0.0.0.0")
    assert open_to_all.returncode == 2
    assert "--host 0.0.0.0" in open_to_all.stderr and "token" in open_to_all.stderr
    anyone = _serve("--host", "0.0.0.0", "--allow-anyone")
    assert anyone.returncode == 2
    assert "admin token" in anyone.stderr and "MOCKSERVER_ADMIN_TOKEN" in anyone.stderr
    assert "Traceback" not in open_to_all.stderr + anyone.stderr


LIST = "/customers?limit=1"


def test_prefer_on_a_server_with_a_token_needs_the_admin_token(guarded: ServerProcess) -> None:
    api = {"Authorization": f"Bearer {API}"}
    for prefer in ("code=429", "code=404", "fault=reset", "delay=5000"):
        assert call(guarded, "GET", LIST, {**api, "Prefer": prefer})[0] == 200
        assert call(guarded, "GET", LIST, {**api, "Prefer": prefer, "X-Mock-Admin-Token": API})[0] == 200
    status, headers, _ = call(guarded, "GET", LIST, {**api, "Prefer": "code=429", "X-Mock-Admin-Token": ADMIN_TOKEN})
    assert status == 429 and "retry-after" in headers


def test_no_prefer_ignores_the_header_until_the_admin_api_turns_it_on(token_only: ServerProcess) -> None:
    api = {"Authorization": f"Bearer {API}"}
    forcing = {**api, "Prefer": "code=429", "X-Mock-Admin-Token": API}
    assert call(token_only, "GET", LIST, forcing)[0] == 200
    assert call(token_only, "PUT", "/__admin/config", {**api, **JSON}, {"prefer": True})[0] == 200
    try:
        assert {call(token_only, "GET", LIST, forcing)[0] for _ in range(6)} == {429}  # on both workers
        assert call(token_only, "GET", LIST, {**api, "Prefer": "code=429"})[0] == 200
    finally:
        call(token_only, "PUT", "/__admin/config", {**api, **JSON}, {"prefer": False})
    assert call(token_only, "GET", LIST, forcing)[0] == 200


@pytest.mark.parametrize("path", ["/customers", "/truto/unified/ecommerce/customers", "/ecwid/api/v3/1/customers"])
def test_a_cors_preflight_allows_the_prefer_header(guarded: ServerProcess, path: str) -> None:
    status, headers, _ = call(guarded, "OPTIONS", path, {
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "prefer, x-mock-admin-token"})
    assert status in (200, 204)
    assert headers["access-control-allow-origin"] == "http://localhost:3000"
    allowed = {h.strip().lower() for h in headers["access-control-allow-headers"].split(",")}
    assert {"prefer", "x-mock-admin-token"} <= allowed or "*" in allowed


def test_a_bad_config_file_stops_the_server_before_it_starts(tmp_path: Path) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text("seed: 3\nfaults:\n  errors:\n    - status: 500\n      rate: 2\n", encoding="utf-8")
    refused = _serve("--config", str(config))
    assert refused.returncode == 2
    assert f"{config}:5: faults.errors[0].rate: must be between 0 and 1, got 2" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_misspelt_flavour_in_the_config_file_stops_the_server(tmp_path: Path) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text("seed: 3\nrate_limits:\n  flavours:\n    shopfy: {limit: 3}\n", encoding="utf-8")
    refused = _serve("--config", str(config))
    assert refused.returncode == 2
    assert f"{config}:4: rate_limits.flavours.shopfy: unknown flavour 'shopfy'" in refused.stderr
