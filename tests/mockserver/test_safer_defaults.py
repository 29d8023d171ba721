"""Safe defaults (issue 12 §5): CORS for loopback origins only, no silent exposure to the network,
links from the configured base URL (never the ``Host`` header), tokens kept off command lines,
no temporary directories left behind."""

from __future__ import annotations

import gc
import itertools
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import falcon
import falcon.testing
import pytest
import yaml

from mockserver import Settings, create_app
from mockserver.cli import main
from mockserver.errors import InvalidSettings
from mockserver.server import check_exposure
from tests.fixtures.apps import AUTH

LOOPBACK = ["http://localhost:5173", "http://127.0.0.1:3000", "http://[::1]:8080", "http://localhost",
            "https://localhost:8443"]
FOREIGN = ["https://evil.example", "http://localhost.evil.example", "http://127.0.0.1.evil.example:3000",
           "null", "http://localhost:5173/path"]


_APPS = itertools.count()


def _client(tmp_path: Path, **settings: Any) -> falcon.testing.TestClient:
    app = create_app(Settings(seed=7, count=30, state=str(tmp_path / f"s{next(_APPS)}.db"), **settings))
    return falcon.testing.TestClient(app, headers=AUTH)


def _preflight(client: falcon.testing.TestClient, origin: str) -> falcon.testing.Result:
    return client.simulate_options("/customers/123", headers={
        "Origin": origin, "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "authorization, content-type"})


@pytest.mark.parametrize("origin", LOOPBACK)
def test_cors_allows_loopback_origins_on_any_port(tmp_path: Path, origin: str) -> None:
    client = _client(tmp_path)
    simple = client.simulate_get("/customers", headers={"Origin": origin})
    assert simple.headers["access-control-allow-origin"] == origin
    assert "Origin" in simple.headers["vary"]
    preflight = _preflight(client, origin)
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "PATCH" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()


@pytest.mark.parametrize("origin", FOREIGN)
def test_cors_gives_foreign_origins_nothing(tmp_path: Path, origin: str) -> None:
    client = _client(tmp_path)
    assert "access-control-allow-origin" not in client.simulate_get("/customers", headers={"Origin": origin}).headers
    preflight = _preflight(client, origin)
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-headers" not in preflight.headers


def test_cors_origin_adds_exact_origins_and_star_opens_all(tmp_path: Path) -> None:
    client = _client(tmp_path, cors_origins=("https://app.example.com",))
    allowed = _preflight(client, "https://app.example.com")
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "access-control-allow-origin" not in _preflight(client, "https://other.example.com").headers
    assert "access-control-allow-origin" in _preflight(client, "http://localhost:1234").headers
    open_client = _client(tmp_path, cors_origins=("*",))
    assert _preflight(open_client, "https://evil.example").headers["access-control-allow-origin"] == "*"


def test_cors_origins_come_from_flags_and_the_environment() -> None:
    assert Settings.from_env({"MOCKSERVER_CORS_ORIGINS": "https://a.example, https://b.example"}).cors_origins == (
        "https://a.example", "https://b.example")
    settings = Settings(cors_origins=("https://a.example", "https://b.example"))
    assert Settings.from_env(settings.to_env()) == settings


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "mybox.example"])
def test_a_non_loopback_host_without_token_is_refused(host: str, capsys: Any) -> None:
    with pytest.raises(InvalidSettings, match="--allow-anyone"):
        check_exposure(Settings(host=host))
    assert main(["serve", "--host", host, "--port", "0"]) == 2  # refused before anything binds
    error = capsys.readouterr().err
    assert "MOCKSERVER_TOKEN" in error and "--allow-anyone" in error and "Traceback" not in error


def test_exposure_is_allowed_with_a_token_or_on_purpose_with_a_warning() -> None:
    for host in ("127.0.0.1", "127.4.5.6", "::1", "localhost"):
        assert check_exposure(Settings(host=host)) is None
    assert check_exposure(Settings(host="0.0.0.0", token="s3cret")) is None
    warning = check_exposure(Settings(host="0.0.0.0", allow_anyone=True, admin_token="adm1n"))
    assert warning is not None and "WITHOUT A TOKEN" in warning


def test_an_open_api_off_loopback_still_needs_an_admin_token() -> None:
    with pytest.raises(InvalidSettings, match="admin token"):
        check_exposure(Settings(host="0.0.0.0", allow_anyone=True))


def test_serve_prints_the_warning_when_anyone_is_allowed(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    from mockserver import server

    monkeypatch.setattr(server, "_check_port", lambda host, port: None)  # binds nothing in a test
    monkeypatch.setattr(server, "run_gunicorn", lambda options, load: 0)
    monkeypatch.setenv("MOCKSERVER_ADMIN_TOKEN", "adm1n")
    assert main(["serve", "--host", "0.0.0.0", "--port", "8999", "--allow-anyone"]) == 0
    assert "WARNING" in capsys.readouterr().err


def _next_link(body: dict[str, Any]) -> str:
    return str(body["links"]["next"])


def test_links_ignore_the_host_header(tmp_path: Path) -> None:
    client = _client(tmp_path)
    body = client.simulate_get("/customers", params={"limit": 2}, headers={"Host": "evil.example"}).json
    assert _next_link(body).startswith("http://127.0.0.1:8000/customers?")  # the bound address
    response = client.simulate_get("/ecartapi/api/v2/customers", params={"limit": 2},
                                   headers={"Host": "evil.example"})
    assert "evil.example" not in response.headers["link"]
    assert "<http://127.0.0.1:8000/ecartapi/api/v2/customers?" in response.headers["link"]


def test_links_and_documents_use_the_public_url(tmp_path: Path) -> None:
    client = _client(tmp_path, public_url="https://mock.example.com/team/", port=9001)
    body = client.simulate_get("/apideck/ecommerce/customers", params={"limit": 2},
                               headers={"Host": "evil.example", "x-apideck-app-id": "a",
                                        "x-apideck-consumer-id": "c"}).json
    assert body["links"]["next"].startswith("https://mock.example.com/team/apideck/ecommerce/customers?")
    response = client.simulate_get("/ecartapi/api/v2/customers", params={"limit": 2})
    assert "<https://mock.example.com/team/ecartapi/api/v2/customers?" in response.headers["link"]
    for path, server in [("/openapi.yaml", "https://mock.example.com/team"),
                         ("/canonical/openapi.yaml", "https://mock.example.com/team/canonical"),
                         ("/apideck/openapi.yaml", "https://mock.example.com/team/apideck"),
                         ("/ecwid/openapi.yaml", "https://mock.example.com/team/ecwid")]:
        document = yaml.safe_load(client.simulate_get(path).text)
        assert [entry["url"] for entry in document["servers"]] == [server], path
        assert document["paths"], path


def test_documents_name_the_bound_address_without_a_public_url(tmp_path: Path) -> None:
    client = _client(tmp_path, port=9002)
    document = yaml.safe_load(client.simulate_get("/openapi.yaml").text)
    assert [entry["url"] for entry in document["servers"]] == ["http://127.0.0.1:9002"]


@pytest.mark.parametrize("url", ["mock.example.com", "ftp://x", "https://x/?a=1", ""])
def test_a_public_url_must_be_an_http_url(url: str) -> None:
    with pytest.raises(InvalidSettings, match="public URL"):
        Settings(public_url=url)


def test_help_says_how_to_keep_the_token_out_of_ps(capsys: Any) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for words in ("--token-file", "MOCKSERVER_TOKEN", "ps", "--allow-anyone", "--public-url", "--cors-origin"):
        assert words in text


@pytest.mark.parametrize("content", [None, "", "\n  \n"])
def test_an_unusable_token_file_is_a_usage_error(tmp_path: Path, content: str | None, capsys: Any) -> None:
    path = tmp_path / "token"
    if content is not None:
        path.write_text(content)
    assert main(["serve", "--token-file", str(path), "--port", "0"]) == 2
    error = capsys.readouterr().err
    assert str(path) in error and "Traceback" not in error


def _temp_entries(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir())


def test_routes_leaves_no_temporary_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: Any) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert main(["routes"]) == 0
    assert "/customers" in capsys.readouterr().out
    assert _temp_entries(tmp_path) == []


def test_an_app_without_state_removes_its_temporary_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    app = create_app(Settings(count=5))
    assert falcon.testing.TestClient(app, headers=AUTH).simulate_post(
        "/customers", json={"first_name": "Temp", "last_name": "State"}).status_code == 201
    assert len(_temp_entries(tmp_path)) == 1
    del app
    gc.collect()
    assert _temp_entries(tmp_path) == []
    # and at exit, for an app still alive then
    code = "from mockserver import create_app; app = create_app(); print('built')"
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "TMPDIR": str(tmp_path)},
                          capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "built" and _temp_entries(tmp_path) == []
