"""contracts.plugin through pytester: fixtures, marker, options, environment, report header, contract helpers.

The plugin is loaded by its ``pytest11`` entry point, as in a user's project (``-p contracts.plugin``
on top of it would register the module twice).
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml  # noqa: F401 - imported once here: pytester runs in-process must not re-import its C loader

from mockserver import ServerProcess, Settings

pytest_plugins = ["pytester"]

EXAMPLE = Path(__file__).parents[1] / "examples" / "test_readme_plugin_example.py"


def test_importing_the_plugin_loads_only_pytest_and_the_standard_library() -> None:
    code = ("import sys, contracts.plugin; heavy = {'falcon', 'httpx', 'hypothesis', 'schemathesis', 'mockserver', "
            "'yaml', 'gunicorn'}; print(sorted({m.split('.')[0] for m in sys.modules} & heavy))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"


def test_the_readme_example_passes_in_a_fresh_project(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_example=EXAMPLE.read_text())
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=6)


def test_settings_come_from_marker_option_environment_then_defaults(pytester: pytest.Pytester,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_precedence="""
        import pytest

        def test_defaults_and_environment(mock_settings):
            assert (mock_settings.seed, mock_settings.count, mock_settings.flavour) == (5, 1000, "canonical")

        @pytest.mark.mockserver(seed=7, count=50, flavour="apideck")
        def test_marker_wins(mock_settings, mock_dataset, mock_app):
            assert (mock_settings.seed, mock_settings.count, mock_settings.flavour) == (7, 50, "apideck")
            assert (mock_dataset.seed, mock_dataset.count) == (7, 50)

        def test_option(mock_settings, request):
            assert mock_settings.count == 30
    """)
    monkeypatch.setenv("MOCKSERVER_SEED", "5")
    result = pytester.runpytest("test_precedence.py::test_defaults_and_environment",
                                "test_precedence.py::test_marker_wins")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["mockserver: seed=5 count=1000 flavour=canonical (replay with --mockserver-seed=5*"])
    result = pytester.runpytest("-q", "--mockserver-count", "30", "test_precedence.py::test_option")
    result.assert_outcomes(passed=1)


def test_bad_marker_arguments_are_usage_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.mockserver(seeds=7)
        def test_typo(mock_settings):
            pass
    """)
    result = pytester.runpytest("-q")
    result.assert_outcomes(errors=1)
    assert "got unknown argument(s) ['seeds']; valid: seed, count, flavour, token" in result.stdout.str()


def test_in_process_fixtures_give_every_test_a_fresh_store(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        pytestmark = pytest.mark.mockserver(count=20)

        @pytest.mark.parametrize("round", [1, 2])
        def test_write_then_count(mock_client, round):
            assert mock_client.get("/customers").json()["meta"]["total_count"] == 20
            created = mock_client.post("/customers", json={"name": f"New {round}"})
            assert created.status_code == 201
            assert mock_client.get("/customers").json()["meta"]["total_count"] == 21

        @pytest.mark.mockserver(flavour="truto", count=20)
        def test_flavour_at_the_root(mock_client):
            body = mock_client.get("/unified/ecommerce/customers", params={"integrated_account_id": "a"}).json()
            assert body["result_count"] == 20
    """)
    pytester.runpytest("-q").assert_outcomes(passed=3)


def test_mock_server_is_shared_per_settings_and_stopped_at_the_end(pytester: pytest.Pytester) -> None:
    urls = pytester.path / "urls.txt"
    pytester.makepyfile(f"""
        import httpx
        import pytest

        def record(server):
            with open({str(urls)!r}, "a") as out:
                out.write(server.url + "\\n")

        def test_one(mock_server):
            record(mock_server)
            health = httpx.get(mock_server.url_for("/health")).json()
            assert (health["seed"], health["count"]) == (mock_server.settings.seed, mock_server.dataset.count)

        def test_two(mock_server):
            record(mock_server)
            response = httpx.get(mock_server.url_for("/ecommerce/customers", flavour="apideck"),
                                 headers={{"Authorization": f"Bearer {{mock_server.token}}",
                                          "x-apideck-app-id": "a", "x-apideck-consumer-id": "c"}})
            assert response.json()["data"][0]["id"] == mock_server.dataset.id_of(0)

        @pytest.mark.mockserver(seed=8, count=10)
        def test_other_settings(mock_server):
            record(mock_server)
            assert mock_server.dataset.seed == 8
    """)
    pytester.runpytest("-q").assert_outcomes(passed=3)
    first, second, third = urls.read_text().split()
    assert first == second != third, "one server per distinct settings"
    for url in (first, third):
        parts = urlsplit(url)
        with socket.socket() as probe:
            assert probe.connect_ex((parts.hostname, parts.port)) != 0, f"{url} still listens after the session"


def test_a_broken_adapter_fails_the_test_with_the_readable_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        from contracts.adapters.ecwid import EcwidAdapter

        class DropsPhones(EcwidAdapter):
            def fetch_page(self, *args):
                page = super().fetch_page(*args)
                for customer in page.customers:
                    customer["phone_numbers"] = []
                return page

        def test_adapter(contract):
            contract.check_adapter(DropsPhones, checks=["adapter.walk"])
    """)
    result = pytester.runpytest("-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*FAILED adapter ecwid: 0 properties held, 1 failed*",
                                 ("*FAILED adapter.ground_truth: customer * differs from the ground truth in "
                                 "phone_numbers*"), "*expected:*", "*actual:*", "*seed: 42*"])
    # no traceback frames into the kit's own source (pytest's own warnings may name site-packages)
    assert not re.search(r"contracts/[\w/]+\.py:\d+", result.stdout.str()), "no traceback into the kit"


@pytest.fixture
def real_mock() -> ServerProcess:
    with ServerProcess(Settings(seed=4, count=60, workers=1, port=0)) as server:
        yield server


@pytest.mark.integration
def test_contract_base_url_points_the_suite_at_a_deployed_service(pytester: pytest.Pytester,
                                                                  real_mock: ServerProcess) -> None:
    pytester.makepyfile("""
        def test_base_url(contract_base_url, contract):
            assert contract_base_url.startswith("http://127.0.0.1:")
            report = contract.check_server(checks=["errors", "get"], max_examples=3)
            assert report.target == contract_base_url and report.ok
    """)
    result = pytester.runpytest(f"--contract-base-url={real_mock.url}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"contract base URL: {real_mock.url}"])


def test_check_server_failures_fail_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        from contracts.generated import GeneratedAPI

        class NoAuth:
            '''Answers without checking the token: the contract requires a 401.'''
            def __init__(self, app):
                self.app = app
            def __call__(self, environ, start_response):
                environ["HTTP_AUTHORIZATION"] = "Bearer injected"
                return self.app(environ, start_response)

        def test_server(contract, mock_app):
            contract.check_server(app=NoAuth(mock_app), checks=["errors.missing_auth"], max_examples=3)
    """)
    result = pytester.runpytest("-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*FAILED errors.missing_auth*"])


def test_generated_api_fixture_follows_the_seed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest
        from contracts.generated import generated_api as draw

        @pytest.mark.mockserver(seed=3)
        def test_seeded(generated_api):
            assert generated_api.customers == draw(3).customers
    """)
    pytester.runpytest("-q").assert_outcomes(passed=1)


def test_the_entry_point_can_be_disabled(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        def test_needs_the_plugin(mock_app):
            pass
    """)
    result = pytester.runpytest("-q", "-p", "no:mockserver")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'mock_app' not found*"])


@pytest.mark.integration
def test_mock_server_forgets_the_writes_of_earlier_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import httpx

        def auth(server):
            return {"Authorization": f"Bearer {server.token}"}

        def test_writes(mock_server):
            url = mock_server.url_for("/customers")
            created = httpx.post(url, json={"first_name": "Only", "last_name": "Here"}, headers=auth(mock_server))
            assert created.status_code == 201
            deleted = httpx.delete(f"{url}/{mock_server.dataset.id_of(0)}", headers=auth(mock_server))
            assert deleted.status_code == 204

        def test_sees_the_seeded_data_only(mock_server):
            body = httpx.get(mock_server.url_for("/customers"), params={"limit": "200"},
                             headers=auth(mock_server)).json()
            assert body["meta"]["total_count"] == mock_server.dataset.count
            assert [c["id"] for c in body["data"][:3]] == [mock_server.dataset.id_of(i) for i in range(3)]
    """)
    pytester.runpytest("-q").assert_outcomes(passed=2)
