"""`mockserver` details a newcomer meets first: --version, a subcommand's own usage, a complete route list."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from mockserver.cli import main
from mockserver.flavours import FLAVOURS


def test_version_comes_from_the_package_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"mockserver {version('unified-customers-mock')}\n"


def test_an_unknown_serve_option_prints_the_usage_of_serve(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--bogus"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: mockserver serve ") and "--flavour" in err
    assert err.rstrip().endswith("mockserver serve: error: unrecognized arguments: --bogus")


def test_an_unknown_top_level_option_still_prints_the_top_level_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--bogus"])
    assert capsys.readouterr().err.startswith("usage: mockserver [-h]")


def _sections(out: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = ""
    for line in out.splitlines():
        if not line.startswith(" "):
            current = line.split(":")[0]
            sections[current] = []
        else:
            sections[current].append(line.split()[-1] if "(" not in line else line.split("  (")[0].split()[-1])
    return sections


def test_routes_puts_server_routes_under_their_own_heading_and_lists_the_root_document(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["routes", "--flavour", "ecwid"]) == 0
    sections = _sections(capsys.readouterr().out)
    assert list(sections) == [*FLAVOURS.names(), "server"]
    assert "/openapi.yaml" in sections["ecwid"] and "/ecwid/openapi.yaml" in sections["ecwid"]
    assert "/openapi.yaml" not in sections["canonical"]
    for flavour in FLAVOURS.names():
        assert "/health" not in sections[flavour] and "/__admin/reset" not in sections[flavour]
    assert {"/", "/health", "/__admin/reset", "/docs/assets/{file}"} <= set(sections["server"])
