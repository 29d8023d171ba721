"""``mock.example.yaml`` through the ``mockserver serve --config`` code path, and bad config files.

The example must load (it is what people copy), show every key the file may hold, and mean what
its comments say; a bad file must stop the CLI with one line naming the file, the line and the
key, exit status 2, no traceback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mockserver import cli
from mockserver.config_file import CONTROL_KEYS, SETTING_KEYS, WEBHOOKS_KEY, initial_controls

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "mock.example.yaml"

# Every key of the controls model (mockserver/controls.py), written out here on purpose.
CONTROL_MODEL_KEYS = {
    "mode", "accounts", "count", "state", "faults",                              # tenants
    "seed", "latency", "errors", "connection", "rules", "flavour", "operation",  # fault profile and rules
    "distribution", "ms", "min_ms", "max_ms", "median_ms", "sigma",              # latency
    "status", "rate", "retry_after", "fault",                                    # error and connection shares
    "enabled", "flavours", "model", "limit", "seconds", "leak_per_second",       # rate limits
    "offset_seconds", "frozen_at",                                               # clock
}


def keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return {str(k) for k in node} | {k for v in node.values() for k in keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in keys(v)}
    return set()


def serve_settings(*argv: str) -> Any:
    return cli._settings(cli._parse(cli._parser(), ["serve", *argv]))


def test_the_example_shows_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    assert set(document) == set(SETTING_KEYS) | set(CONTROL_KEYS) | {WEBHOOKS_KEY}
    shown = keys({k: v for k, v in document.items() if k in CONTROL_KEYS})
    if "\n  # frozen_at: " in text:  # shown commented out: a frozen clock is no default to copy
        shown.add("frozen_at")
    assert CONTROL_MODEL_KEYS - shown == set()


def test_serve_reads_the_example_as_its_comments_say(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MOCKSERVER_SEED", "MOCKSERVER_COUNT", "MOCKSERVER_CONFIG", "MOCKSERVER_FLAVOUR"):
        monkeypatch.delenv(name, raising=False)
    settings = serve_settings("--config", str(EXAMPLE), "--count", "77")
    assert (settings.seed, settings.count, settings.workers, settings.flavour) == (42, 77, 2, "canonical")
    assert settings.cors_origins == ("https://app.example.com",) and settings.state is None

    controls = initial_controls(settings)
    assert controls.tenants_mode == "shared" and controls.isolated("acme-consumer")
    assert controls.tenant("acme-consumer").count == 50  # type: ignore[union-attr]
    assert controls.tenant("suspended-store").state == "disabled"  # type: ignore[union-attr]
    flaky = controls.faults_for("flaky-shop")
    assert flaky is not None and flaky.base.errors[0].as_json() == {"status": 503, "rate": 0.5, "retry_after": 2}
    faults = controls.faults
    assert faults is not None and faults.seed == 7 and faults.base.latency is not None
    assert faults.base.latency.as_json() == {"distribution": "lognormal", "median_ms": 20, "sigma": 0.5}
    assert [e.status for e in faults.base.errors] == [500, 429] and faults.base.connection[0].fault == "reset"
    shopify_list, create = faults.rules
    assert shopify_list.matches("shopify", "list") and not shopify_list.matches("ecwid", "list")
    assert create.matches("ecwid", "create") and create.latency is not None and create.latency.ms == 100
    assert controls.rate_limits is False and controls.prefer is True
    assert dict(controls.quotas["shopify"]) == {"model": "bucket", "limit": 40, "leak_per_second": 2}
    assert controls.clock_offset == 0 and controls.clock_frozen is None
    # a flag wins over the file
    assert initial_controls(serve_settings("--config", str(EXAMPLE), "--rate-limits")).rate_limits is True


def bad_file(tmp_path: Path, change: str) -> Path:
    """The example with one line's value replaced: ``key: old => new``."""
    old, new = change.split(" => ")
    new = old[:len(old) - len(old.lstrip())] + new
    text = EXAMPLE.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / "mock.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.mark.parametrize(("change", "needle", "message"), [
    ("workers: 2 => wrokers: 2", "wrokers:", "wrokers: unknown key"),
    ("        ms: 100 => ms: -5", "ms: -5", "faults.rules[1].latency.ms: must be between 0 and 60000, got -5"),
    ("    - fault: reset => - fault: explode", "fault: explode", "faults.connection[0].fault: must be one of"),
    ("      state: disabled => state: asleep", "state: asleep", "tenants.accounts.suspended-store.state:"),
    ("      leak_per_second: 2 => leak_per_second: 0", "leak_per_second: 0",
     "rate_limits.flavours.shopify.leak_per_second: must be a positive number"),
    ("  mode: shared => mode: [shared", "mode: [shared", "not valid YAML"),
])
def test_a_bad_file_is_one_line_naming_file_line_and_key(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         change: str, needle: str, message: str) -> None:
    path = bad_file(tmp_path, change)
    assert cli.main(["serve", "--config", str(path)]) == 2
    error = capsys.readouterr().err
    line = line_of(path, needle)
    # a YAML syntax error is found where the parser gave up, at or just after the bad line
    where = [f"{path}:{n}:" for n in (range(line, line + 3) if message == "not valid YAML" else [line])]
    assert error.startswith("mockserver: error: ") and any(w in error for w in where), error
    assert message in error and error.count("\n") == 1


def test_the_cli_prints_no_traceback_for_a_bad_file(tmp_path: Path) -> None:
    path = bad_file(tmp_path, "      rate: 0.001 => rate: 2")
    done = subprocess.run([sys.executable, "-m", "mockserver", "serve", "--config", str(path)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{path}:{line_of(path, 'rate: 2')}: faults.connection[0].rate: must be between 0 and 1" in done.stderr
