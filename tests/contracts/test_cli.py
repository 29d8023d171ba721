"""``contracts check`` on the command line: exit codes, messages, progress, JUnit XML."""

from __future__ import annotations

import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from contracts.cli import main
from mockserver import ServerProcess, Settings, create_app
from tests.contracts.broken import BUGS
from tests.contracts.independent import served


@pytest.fixture
def broken_url(tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A broken server (an item repeated across pages) behind a real socket on 127.0.0.1."""
    app = BUGS["item_repeated_across_pages"].build(create_app(Settings(seed=7, count=60,
                                                                      state=str(tmp_path / "s.sqlite3"))))
    with served(app) as url:
        yield url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_missing_base_url_is_a_usage_error(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTRACTS_BASE_URL", raising=False)
    assert main(["check"]) == 2
    err = capsys.readouterr().err
    assert "--base-url is required" in err and "Traceback" not in err


def test_unreachable_server_exits_2_and_names_the_problem(capsys: pytest.CaptureFixture[str]) -> None:
    port = _free_port()
    assert main(["check", "--base-url", f"http://127.0.0.1:{port}", "-q"]) == 2
    err = capsys.readouterr().err
    assert f"cannot reach http://127.0.0.1:{port}/customers" in err and "Is the server running" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (["--max-examples", "0"], "must be at least 1"),
    (["--seed", "x"], "must be an integer"),
    (["--base-url", "127.0.0.1:8000"], "must start with http://"),
    (["--checks", "pagnation"], "unknown check 'pagnation'"),
    (["--spec", "/no/such/openapi.yaml"], "cannot read the OpenAPI document"),
])
def test_bad_options_exit_2_with_a_message(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Each of these is refused before any request is sent, so no server is needed.
    args = ["check", "--base-url", f"http://127.0.0.1:{_free_port()}", *argv] if "--base-url" not in argv else [
        "check", *argv]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_python_dash_m_contracts_is_the_cli() -> None:
    result = subprocess.run([sys.executable, "-m", "contracts", "check", "--help"], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0
    for option in ("--base-url", "--spec", "--token", "--junit-xml", "--seed", "--max-examples"):
        assert option in result.stdout


def test_a_broken_server_over_a_socket_exits_1_names_the_property_and_writes_junit(
        broken_url: str, tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    junit = tmp_path / "out" / "contracts.xml"
    code = main(["check", "--base-url", broken_url, "--junit-xml", str(junit), "--max-examples", "5",
                 "--checks", "pagination,fields,errors,schemathesis.examples"])
    out, err = capsys.readouterr()

    assert code == 1
    assert "FAILED pagination.no_duplicates:" in out
    assert f"reproduce: curl -sS -i -H 'Authorization: Bearer contract-token' '{broken_url}/customers?" in out
    assert "FAIL pagination.walk" in err and "ok   fields.projection" in err  # progress, one line per property
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and int(suite.get("failures", "0")) >= 1
    failed = [c for c in suite.findall("testcase") if c.find("failure") is not None]
    assert "pagination.walk" in [c.get("name") for c in failed]
    assert any("pagination.no_duplicates" in (c.find("failure").get("type") or "") for c in failed)  # type: ignore[union-attr]
    assert any(c.get("name", "").startswith("schemathesis GET /customers") for c in suite.findall("testcase"))


@pytest.mark.integration
def test_the_mock_passes_contracts_check_over_http(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    junit = tmp_path / "contracts.xml"
    with ServerProcess(Settings(count=300, state=str(tmp_path / "state.sqlite3"))) as server:
        code = main(["check", "--base-url", server.url, "--junit-xml", str(junit), "--max-examples", "10"])
    out, err = capsys.readouterr()

    assert code == 0, out
    assert out.startswith(f"PASSED {server.url}: 14 properties held, 0 failed")
    assert "FAIL" not in err
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0" and int(suite.get("tests", "0")) > 20
