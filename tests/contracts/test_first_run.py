"""What a newcomer meets first with the kit: a missing extra, ``--version``, env names, check names.

The missing-extra tests run the real console script (and a real pytest) in a child process whose
``sitecustomize`` makes ``import httpx`` fail exactly as it does where the extra is not installed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from contracts.check import _select
from contracts.cli import main
from contracts.properties import PROPERTIES

pytest_plugins = ["pytester"]

INSTALL = 'pip install "unified-customers-mock[contracts]"'

BLOCK_HTTPX = '''
import sys

class _NotInstalled:
    """Answers every import of httpx as Python does when it is not installed."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "httpx":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _NotInstalled())
'''


@pytest.fixture
def without_httpx(tmp_path: Path) -> dict[str, str]:
    """An environment in which ``import httpx`` fails (a ``sitecustomize`` on PYTHONPATH)."""
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(BLOCK_HTTPX)
    path = os.pathsep.join(p for p in (str(shim), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


def _console_script(name: str) -> str:
    script = Path(sys.executable).parent / name
    assert script.exists(), f"{script} is missing: install the project (pip install -e .)"
    return str(script)


def test_contracts_check_without_the_extra_names_it_in_one_line_and_exits_2(without_httpx: dict[str, str]) -> None:
    result = subprocess.run([_console_script("contracts"), "check", "--base-url", "http://127.0.0.1:9"],
                            capture_output=True, text=True, env=without_httpx, timeout=120, check=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        ("contracts: error: the contract kit needs the 'contracts' extra (module 'httpx' is not installed): "
         f"run {INSTALL}")]


def test_the_plugin_without_the_extra_fails_the_test_with_the_install_command(tmp_path: Path,
                                                                              without_httpx: dict[str, str]) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_client.py").write_text("def test_list(mock_client):\n"
                                            "    assert mock_client.get('/customers').status_code == 200\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_client.py"],
                            cwd=project, capture_output=True, text=True, env=without_httpx, timeout=120, check=False)
    out = result.stdout
    assert result.returncode == 1, out
    assert "1 error" in out
    assert f"mockserver plugin: the contract kit needs the 'contracts' extra (module 'httpx' is not installed): " \
           f"run {INSTALL}" in out
    assert "Traceback" not in out and "ModuleNotFoundError" not in out


def test_the_readme_says_which_extra_the_kit_needs() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert INSTALL in readme


def test_contracts_version_comes_from_the_package_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"contracts {version('unified-customers-mock')}\n"


def _reported_names() -> set[str]:
    """Every property name a failure report can carry (``.fail("<name>", ...)``, ``prop="<name>"`` in the kit)."""
    source = Path(__file__).parents[2] / "contracts"
    names: set[str] = set()
    for path in source.rglob("*.py"):
        names.update(re.findall(r"""(?:\.fail\(\s*|prop=)["']([a-z_]+\.[a-z_]+)["']""", path.read_text()))
    return names


def test_every_name_a_failure_report_uses_is_accepted_by_checks() -> None:
    names = _reported_names()
    assert {"pagination.complete", "filters.complete", "writes.create"} <= names  # the scan finds them
    for name in sorted(names):
        selected = _select([name])
        assert selected, name
        if not name.startswith("schemathesis."):
            assert selected <= set(PROPERTIES), name


def test_checks_pagination_complete_runs_the_walk_that_reports_it() -> None:
    assert _select(["pagination.complete"]) == {"pagination.walk"}
    assert _select(["filters.complete"]) == {"filters.match"}
    assert _select(["writes.delete"]) == {"writes.lifecycle"}


def test_a_schemathesis_check_name_from_a_report_runs_schemathesis() -> None:
    assert _select(["schemathesis.not_a_server_error"]) == _select(["schemathesis"])


@pytest.mark.parametrize(("name", "other"), [("CONTRACTS_BASE_URL", "CONTRACT_BASE_URL"),
                                             ("CONTRACT_BASE_URL", "CONTRACTS_BASE_URL")])
def test_the_plugin_reads_contracts_base_url_like_the_cli_and_the_old_name_with_a_warning(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, name: str, other: str) -> None:
    pytester.makepyfile(test_url="""
        def test_url(contract_base_url):
            assert contract_base_url == "http://127.0.0.1:9"
    """)
    monkeypatch.delenv(other, raising=False)
    monkeypatch.setenv(name, "http://127.0.0.1:9")
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=1)
    if name == "CONTRACTS_BASE_URL":
        assert "deprecated" not in result.stdout.str()
    else:
        result.stdout.fnmatch_lines(["*DeprecationWarning: CONTRACT_BASE_URL is deprecated: set CONTRACTS_BASE_URL*"])
