"""Settings from code and environment, and the CLI run in-process."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockserver.cli import main
from mockserver.dataset import Dataset
from mockserver.errors import InvalidSettings
from mockserver.settings import Settings


def test_environment_builds_the_same_settings_as_code() -> None:
    env = {"MOCKSERVER_SEED": "9", "MOCKSERVER_COUNT": "77", "MOCKSERVER_CORS": "false",
           "MOCKSERVER_TOKEN": "t", "MOCKSERVER_HOST": "::1"}
    assert Settings.from_env(env) == Settings(seed=9, count=77, cors=False, token="t", host="::1")
    assert Settings.from_env(env, seed=1).seed == 1  # explicit values (CLI flags) win
    assert Settings.from_env(Settings(seed=3, state="/x").to_env()) == Settings(seed=3, state="/x")


@pytest.mark.parametrize(("env", "message"), [
    ({"MOCKSERVER_SEED": "abc"}, "MOCKSERVER_SEED must be an integer"),
    ({"MOCKSERVER_CORS": "maybe"}, "MOCKSERVER_CORS must be true or false"),
    ({"MOCKSERVER_COUNT": "-1"}, "count must be between"),
    ({"MOCKSERVER_WORKERS": "0"}, "workers must be at least 1"),
])
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidSettings, match=message):
        Settings.from_env(env)


def test_defaults_are_safe() -> None:
    settings = Settings()
    assert settings.host == "127.0.0.1" and settings.token is None and settings.cors


def test_help_explains_the_options(capsys: Any) -> None:
    with pytest.raises(SystemExit) as info:
        main(["serve", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--host", "--port", "--seed", "--count", "--workers", "--state", "--token", "--no-cors",
                 "--flavour", "MOCKSERVER_"):
        assert flag in text


def test_no_command_prints_help_and_exits_2(capsys: Any) -> None:
    assert main([]) == 2
    assert "serve" in capsys.readouterr().out


def test_usage_errors_exit_2_without_traceback(capsys: Any) -> None:
    assert main(["serve", "--flavour", "shopify-plus"]) == 2
    err = capsys.readouterr().err
    assert "unknown flavour 'shopify-plus'" in err and "canonical" in err and "Traceback" not in err
    assert main(["dump", "--count", "-5"]) == 2


def test_dump_prints_ground_truth(capsys: Any) -> None:
    assert main(["dump", "--seed", "4", "--count", "50", "--start", "48", "--limit", "10"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line) for line in lines] == [Dataset(4, 50).customer(48), Dataset(4, 50).customer(49)]


def test_routes_lists_every_flavour(capsys: Any) -> None:
    from mockserver.flavours import FLAVOURS

    assert main(["routes"]) == 0
    out = capsys.readouterr().out
    for flavour in FLAVOURS:
        assert f"{flavour.name}: " in out and f"/{flavour.name}/openapi.yaml" in out
    assert "/customers/{id}" in out
