"""``contracts check-client`` end to end: real ``mockserver serve`` (2 workers), real client processes.

The reference clients in ``tests/contracts/clients/`` stand for users' code: the good ones must pass
in every profile, each broken one must be flagged by exactly the property that names its bug.
Most checks share one server (``--base-url``, reset before each); the first test lets
check-client start its own.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.admin_client import AdminClient, urllib_sender
from contracts.cli import main
from contracts.clientcheck import ClientCheck, ClientReport, check_client
from mockserver import ServerProcess, Settings

pytestmark = pytest.mark.integration

CLIENTS = Path(__file__).resolve().parents[1] / "contracts" / "clients"
ADMIN_TOKEN = "check-client-tests"
GOOD = {"canonical": "good_cursor.py", "apideck": "good_cursor.py", "ecwid": "good_offset.py"}
RATE_LIMITED_PAGE = "20"
"""12 pages of 230 customers: more than two 5-request windows hold, so the walk meets a 429."""


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(Settings(seed=0, count=230, workers=2, admin_token=ADMIN_TOKEN)) as running:
        yield running


def command(script: str, flavour: str, *extra: str) -> list[str]:
    return [sys.executable, str(CLIENTS / script), "{url}", "--flavour", flavour, *extra]


def check(server: ServerProcess, flavour: str, script: str, *extra: str, profile: str = "pagination",
          seed: int = 0, budget: float = 30) -> ClientReport:
    AdminClient(urllib_sender(server.url), ADMIN_TOKEN).reset()  # writes and fault sequences start over
    return check_client(ClientCheck(flavour, command(script, flavour, *extra), profile=profile,
                                    base_url=server.url, admin_token=ADMIN_TOKEN, seed=seed, budget=budget))


def verdicts(outcome: ClientReport) -> dict[str, str]:
    return {r.name: "skip" if r.skipped is not None else "ok" if r.ok else "FAIL" for r in outcome.report.results}


def test_it_starts_its_own_mock_and_passes_a_good_client(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check-client", "--flavour", "canonical", "--report", "json", "--",
                 *command("good_cursor.py", "canonical")])
    out, err = capsys.readouterr()
    assert code == 0, out
    report = json.loads(out)
    assert report["ok"] is True and report["failed"] == [] and report["profile"] == "pagination"
    assert report["stats"]["reference_customers"] == 230 and report["stats"]["list_requests"] == 5
    assert {p["name"]: p["status"] for p in report["properties"]}["walk.every_customer"] == "passed"
    for step in ("starting mock", "reference walk", "running client", "judging", "stopping mock"):
        assert f"check-client: {step}" in err


@pytest.mark.parametrize("flavour", ["canonical", "apideck", "truto", "ecartapi", "ecwid", "myboxx", "shopify"])
def test_a_good_client_of_every_flavour_passes_the_walk(server: ServerProcess, flavour: str) -> None:
    """The page reader of each flavour reads the real pages: ids, next cursors, offsets, Link headers."""
    script = "good_offset.py" if flavour in ("ecwid", "myboxx") else "good_cursor.py"
    outcome = check(server, flavour, script, "--limit", "60")
    assert outcome.ok, outcome.report.render()
    assert verdicts(outcome) == {**dict.fromkeys(("walk.every_customer", "walk.no_duplicates",
                                                  "walk.cursors_as_issued", "client.exit_status",
                                                  "client.within_budget"), "ok"),
                                 **dict.fromkeys(("rate_limit.honours_retry_after", "rate_limit.no_429_after_429",
                                                  "retries.idempotent_only"), "skip")}
    assert outcome.report.stats["list_requests"] == 4 and outcome.report.stats["reference_customers"] == 230


@pytest.mark.parametrize("flavour", sorted(GOOD))
def test_good_clients_pass_every_profile(server: ServerProcess, flavour: str) -> None:
    plain = check(server, flavour, GOOD[flavour])
    assert plain.ok, plain.report.render()
    assert plain.report.stats["list_requests"] == 5  # 230 customers, 50 a page

    limited = check(server, flavour, GOOD[flavour], "--limit", RATE_LIMITED_PAGE, profile="rate-limits")
    assert limited.ok, limited.report.render()
    assert limited.report.stats["answered_429"] >= 1
    assert verdicts(limited)["rate_limit.honours_retry_after"] == "ok"
    assert verdicts(limited)["rate_limit.no_429_after_429"] == "ok"

    writes = ("--creates", "4") if flavour != "apideck" else ()
    faulty = check(server, flavour, GOOD[flavour], *writes, profile="faults", seed=1)
    assert faulty.ok, faulty.report.render()
    stats = faulty.report.stats
    assert stats["answered_5xx"] + stats["connections_dropped"] >= 1, stats
    if writes:
        assert verdicts(faulty)["retries.idempotent_only"] == "ok"
        keyed = check(server, flavour, GOOD[flavour], *writes, "--idempotency-keys", profile="faults", seed=1)
        assert keyed.ok, keyed.report.render()
        posts = [e for e in keyed.evidence.entries if e.get("method") == "POST"]
        assert len(posts) > 4  # a failed create was sent again, under its key


@pytest.mark.parametrize(("script", "flavour", "extra", "profile", "seed", "flagged"), [
    pytest.param("skips_a_page.py", "apideck", (), "pagination", 0, {"walk.every_customer"}, id="skips-apideck"),
    pytest.param("skips_a_page.py", "ecwid", (), "pagination", 0, {"walk.every_customer"}, id="skips-ecwid"),
    pytest.param("edits_the_cursor.py", "apideck", (), "pagination", 0, {"walk.cursors_as_issued"},
                 id="edits-cursor-apideck"),
    pytest.param("ignores_retry_after.py", "canonical", ("--limit", RATE_LIMITED_PAGE), "rate-limits", 0,
                 {"rate_limit.honours_retry_after", "rate_limit.no_429_after_429"}, id="ignores-retry-after"),
    pytest.param("retries_post.py", "canonical", ("--creates", "5"), "faults", 1, {"retries.idempotent_only"},
                 id="retries-post-canonical"),
    pytest.param("retries_post.py", "ecwid", ("--creates", "5"), "faults", 1, {"retries.idempotent_only"},
                 id="retries-post-ecwid"),
    pytest.param("restarts_walk.py", "ecwid", (), "faults", 1, {"walk.no_duplicates"}, id="restarts-ecwid"),
    pytest.param("restarts_walk.py", "canonical", (), "faults", 2, {"walk.no_duplicates"}, id="restarts-canonical"),
])
def test_each_broken_client_is_flagged_by_its_property(server: ServerProcess, script: str, flavour: str,
                                                       extra: tuple[str, ...], profile: str, seed: int,
                                                       flagged: set[str]) -> None:
    outcome = check(server, flavour, script, *extra, profile=profile, seed=seed)
    assert set(outcome.report.failed_properties) == flagged, outcome.report.render()
    for failure in outcome.report.failures:
        assert failure.requests and all(line.startswith("#") and " -> " in line for line in failure.requests)


def test_the_json_report_of_a_failure_names_the_requests(server: ServerProcess,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    AdminClient(urllib_sender(server.url), ADMIN_TOKEN).reset()
    code = main(["check-client", "-q", "--flavour", "ecwid", "--base-url", server.url, "--admin-token", ADMIN_TOKEN,
                 "--report", "json", "--", *command("skips_a_page.py", "ecwid")])
    out, err = capsys.readouterr()
    assert code == 1 and err == ""  # -q: no progress lines
    report = json.loads(out)
    assert report["ok"] is False and report["failed"] == ["walk.every_customer"]
    gap = next(p for p in report["properties"] if p["name"] == "walk.every_customer")
    assert gap["status"] == "failed" and gap["expected"] == "230 customers" and gap["actual"] == "200"
    assert len(gap["requests"]) == 4 and all("/ecwid/api/v3/1003/customers?limit=50" in r for r in gap["requests"])
    assert report["client"]["exit_code"] == 0 and report["url"] == f"{server.url}/ecwid"


def test_a_crash_and_an_overrun_are_reported(server: ServerProcess, tmp_path: Path) -> None:
    crash = tmp_path / "crash.py"
    crash.write_text("import sys\nprint('about to fail', file=sys.stderr)\nraise SystemExit('no cursor in page')\n")
    crashed = check_client(ClientCheck("canonical", [sys.executable, str(crash)], base_url=server.url,
                                       admin_token=ADMIN_TOKEN))
    assert verdicts(crashed)["client.exit_status"] == "FAIL"
    assert "no cursor in page" in crashed.report.failures[0].message
    assert verdicts(crashed)["walk.every_customer"] == "skip"  # it never listed

    missing = check_client(ClientCheck("canonical", [str(tmp_path / "no-such-client")], base_url=server.url,
                                       admin_token=ADMIN_TOKEN))
    assert verdicts(missing)["client.exit_status"] == "FAIL"
    assert "could not be started" in missing.report.failures[0].message

    slow = check_client(ClientCheck("canonical", [sys.executable, "-c", "import time; time.sleep(30)"],
                                    base_url=server.url, admin_token=ADMIN_TOKEN, budget=0.5))
    assert verdicts(slow)["client.within_budget"] == "FAIL" and slow.evidence.run.timed_out
    assert slow.evidence.run.elapsed < 5


def test_the_server_gets_its_controls_back(server: ServerProcess) -> None:
    admin = AdminClient(urllib_sender(server.url), ADMIN_TOKEN)
    admin.reset()
    before = (admin.get_faults(), admin.rate_limits(), admin.controls()["journal"]["responses"])
    check(server, "canonical", "good_cursor.py", profile="faults", seed=2)
    check(server, "canonical", "good_cursor.py", "--limit", RATE_LIMITED_PAGE, profile="rate-limits")
    assert (admin.get_faults(), admin.rate_limits(), admin.controls()["journal"]["responses"]) == before


@pytest.mark.parametrize(("argv", "message"), [
    (["--flavour", "nope", "--", "true"], "invalid choice: 'nope'"),
    (["--flavour", "canonical"], "no client command"),
    (["--flavour", "canonical", "--base-url", "http://127.0.0.1:9", "--", "true"], "needs --admin-token"),
    (["--flavour", "canonical", "--checks", "walks", "--", "true"], "unknown client property 'walks'"),
    (["--flavour", "canonical", "--rate-limit", "five", "--", "true"], "--rate-limit: expected REQUESTS/SECONDS"),
    (["--flavour", "canonical", "--budget", "0", "--", "true"], "must be positive"),
])
def test_usage_errors_exit_2_with_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOCKSERVER_ADMIN_TOKEN", raising=False)
    monkeypatch.delenv("CONTRACTS_BASE_URL", raising=False)
    assert main(["check-client", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_wrong_admin_token_is_a_usage_error(server: ServerProcess, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check-client", "--flavour", "canonical", "--base-url", server.url, "--admin-token", "wrong",
                 "--", *command("good_cursor.py", "canonical")])
    err = capsys.readouterr().err
    assert code == 2 and "cannot use the admin API" in err and "--admin-token" in err and "Traceback" not in err


def test_help_explains_profiles_properties_and_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-client", "--help"]) == 0
    out = capsys.readouterr().out
    for text in ("pagination", "rate-limits", "faults", "walk.every_customer", "retries.idempotent_only",
                 "MOCK_URL", "MOCK_TOKEN", "{url}", "contracts check-client --flavour ecwid --profile faults --",
                 "exit status: 0"):
        assert text in out


def test_a_journal_too_small_for_the_run_is_said_not_misjudged() -> None:
    """230 pages of one customer in a ring of 100: the oldest pages are gone, so no walk is judged."""
    with ServerProcess(Settings(seed=0, count=230, workers=2, admin_token=ADMIN_TOKEN, journal_size=100)) as small:
        outcome = check_client(ClientCheck("canonical", command("good_cursor.py", "canonical", "--limit", "1"),
                                           base_url=small.url, admin_token=ADMIN_TOKEN))
    results = {r.name: r for r in outcome.report.results}
    for name in ("walk.every_customer", "walk.no_duplicates", "walk.cursors_as_issued"):
        assert results[name].skipped is not None and "--journal-size" in results[name].skipped
    assert outcome.ok  # nothing is claimed broken


def test_a_server_without_a_journal_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with ServerProcess(Settings(seed=0, count=30, workers=2, admin_token=ADMIN_TOKEN, journal_size=0)) as bare:
        code = main(["check-client", "--flavour", "canonical", "--base-url", bare.url, "--admin-token", ADMIN_TOKEN,
                     "--", *command("good_cursor.py", "canonical")])
    err = capsys.readouterr().err
    assert code == 2 and "keeps no request journal" in err and "Traceback" not in err
