"""One client check: start (or reach) the mock, set the profile, run the client, read the journal, judge.

::

    1. the mock            a `mockserver serve` child (2 workers, --count, --seed), or --base-url
    2. reference walk      the flavour's list with faults and rate limits off (before)
    3. journal             DELETE /__admin/requests; response capture on (PUT /__admin/config); one
                           GET /health?check-client=start (gone afterwards: the ring dropped requests)
    4. profile             PUT /__admin/rate-limits or /__admin/faults (contracts.clientcheck.profiles)
    5. the client          the command, {url} replaced, MOCK_URL / MOCK_TOKEN / MOCK_FLAVOUR set,
                           stopped at --budget seconds
    6. evidence            profile off; GET /__admin/requests (following next); reference walk (after)
    7. judge               contracts.clientcheck.judge over the evidence

With ``--base-url`` the controls the server had (faults, rate limits, response capture) are put
back at the end; the journal it held before the run is cleared in step 3.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from contracts.admin_client import AdminClient, AdminError, urllib_sender
from contracts.clientcheck.evidence import ClientRun, Entry, Evidence
from contracts.clientcheck.judge import judge, selected
from contracts.clientcheck.pages import READERS, PageReader, UnknownReader
from contracts.clientcheck.profiles import PROFILES, Quota, apply_profile, clear_profile
from contracts.clientcheck.reference import walk_ids
from contracts.failures import CheckReport, CheckResult, ServerUnreachable, UsageError

__all__ = ["ClientCheck", "ClientReport", "check_client", "read_journal"]

ADMIN_TOKEN = "client-check-admin"
JOURNAL_PAGE = 1000
MARK = "/health?check-client=start"
STDERR_TAIL = 2000


@dataclass
class ClientCheck:
    """What to check: one client command against one flavour under one profile."""

    flavour: str
    command: Sequence[str]
    """The client's argv; ``{url}`` in any argument becomes the flavour's base URL."""
    profile: str = "pagination"
    base_url: str | None = None
    """A running mock's root; ``None``: start one."""
    admin_token: str | None = None
    token: str = "secret_client-check"
    """The API token the client should send (``MOCK_TOKEN``); the mock started here accepts any."""
    budget: float = 60.0
    count: int = 230
    seed: int = 0
    quota: Quota = field(default_factory=Quota)
    checks: Sequence[str] | None = None
    progress: Callable[[str], None] = lambda line: None

    def validate(self) -> PageReader:
        """The flavour's page reader.

        Raises:
            UsageError: an unknown flavour or profile, an empty command, a bad budget or count.
        """
        try:
            reader = READERS.get(self.flavour)
        except UnknownReader as exc:
            raise UsageError(str(exc)) from None
        if self.profile not in PROFILES:
            raise UsageError(f"unknown profile {self.profile!r}; use one of: {', '.join(PROFILES)}")
        if not self.command:
            raise UsageError("no client command: put it after --, e.g. -- python my_client.py {url}")
        if not self.budget > 0:
            raise UsageError(f"--budget must be a positive number of seconds, got {self.budget:g}")
        selected(self.checks)
        if self.base_url is not None and not self.base_url.startswith(("http://", "https://")):
            raise UsageError(f"--base-url must start with http:// or https://, got {self.base_url!r}")
        return reader


@dataclass
class ClientReport:
    """The judged run: the report of the properties and what the run exercised."""

    report: CheckReport
    evidence: Evidence
    profile: str
    flavour_url: str

    @property
    def ok(self) -> bool:
        return self.report.ok

    def as_json(self) -> dict[str, Any]:
        """The report as JSON (``--report json``)."""
        def result(r: CheckResult) -> dict[str, Any]:
            status = "skipped" if r.skipped is not None else ("passed" if r.ok else "failed")
            out: dict[str, Any] = {"name": r.name, "status": status}
            if r.skipped is not None:
                out["reason"] = r.skipped
            if r.failures:
                f = r.failures[0]
                out.update(message=f.message, expected=_jsonable(f.expected), actual=_jsonable(f.actual),
                           requests=f.requests)
            return out

        return {"ok": self.ok, "flavour": self.evidence.flavour, "profile": self.profile,
                "url": self.flavour_url, "seed": self.evidence.notes.get("seed"),
                "failed": self.report.failed_properties, "properties": [result(r) for r in self.report.results],
                "stats": self.report.stats,
                "client": {"command": list(self.evidence.run.command), "exit_code": self.evidence.run.exit_code,
                           "elapsed": round(self.evidence.run.elapsed, 3), "timed_out": self.evidence.run.timed_out}}


def _jsonable(value: Any) -> Any:
    return value if value is None or isinstance(value, str | int | float | bool | list | dict) else repr(value)


def read_journal(admin: AdminClient) -> list[Entry]:
    """Every journal entry, oldest first (``GET /__admin/requests`` following ``next``)."""
    return list(admin.requests(limit=JOURNAL_PAGE))


def _run_command(argv: list[str], env: dict[str, str], budget: float) -> ClientRun:
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        try:
            # NOTE: its own session, so that a client stopped at the budget goes with its children.
            process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL,
                                       env=env, start_new_session=True)
        except OSError as exc:
            return ClientRun(argv, None, 0.0, budget, f"{argv[0]}: {exc.strerror or exc}")
        timed_out = False
        try:
            code: int | None = process.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            timed_out = True
            _stop(process)
            code = None
        except BaseException:  # Ctrl+C: the client goes too
            _stop(process)
            raise
        elapsed = time.perf_counter() - started
        err.seek(0)
        tail = err.read()[-STDERR_TAIL:].decode("utf-8", "replace")
    return ClientRun(argv, code, elapsed, budget, tail, timed_out)


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=3)
            return
        except subprocess.TimeoutExpired:
            continue


def check_client(check: ClientCheck) -> ClientReport:
    """Run ``check`` end to end; the judged report.

    Raises:
        UsageError: bad options, or the mock cannot be started or reached.
    """
    reader = check.validate()
    say = check.progress
    server: Any = None
    root = check.base_url.rstrip("/") if check.base_url else ""
    if not root:
        from mockserver import ServerProcess, Settings

        say(f"starting mock: mockserver serve --workers 2 --count {check.count} --seed {check.seed}")
        try:
            server = ServerProcess(Settings(seed=check.seed, count=check.count, workers=2,
                                            admin_token=ADMIN_TOKEN)).start()
        except RuntimeError as exc:
            raise ServerUnreachable(f"the mock did not start: {exc}") from None
        root = server.url
        say(f"mock ready at {root} ({server.startup_seconds:.1f} s)")
    started = time.perf_counter()
    try:
        admin = AdminClient(urllib_sender(root), check.admin_token or ADMIN_TOKEN, check.flavour)
        outcome = _check(check, reader, admin, root)
        outcome.report.duration = time.perf_counter() - started
        return outcome
    except AdminError as exc:
        raise ServerUnreachable(f"the mock's admin API refused a request: {exc}") from None
    except OSError as exc:
        raise ServerUnreachable(f"the mock at {root} stopped answering: {exc}") from None
    finally:
        if server is not None:
            say("stopping mock")
            server.stop()


def _check(check: ClientCheck, reader: PageReader, admin: AdminClient, root: str) -> ClientReport:
    say = check.progress
    # NOTE: canonical too is reached at its mount: a server may serve another flavour at its root.
    flavour_url = f"{root}/{check.flavour}"
    try:
        saved = (admin.get_faults(), admin.rate_limits(), admin.controls())
    except (AdminError, OSError) as exc:
        raise ServerUnreachable(f"cannot use the admin API at {root}/__admin: {exc}. With --base-url, pass the "
                                f"server's admin token as --admin-token.") from None
    try:
        clear_profile(admin)
        say(f"reference walk of {flavour_url}{reader.list_path}")
        before = set(walk_ids(flavour_url, reader, check.token))
        admin.clear_requests()
        admin.journal(responses=True)
        _mark(root)
        say(f"profile {check.profile}: {_apply(check, admin)}")
        argv = [part.replace("{url}", flavour_url) for part in check.command]
        env = {**os.environ, "MOCK_URL": flavour_url, "MOCK_TOKEN": check.token, "MOCK_FLAVOUR": check.flavour}
        say(f"running client (budget {check.budget:g} s): {' '.join(argv)}")
        run = _run_command(argv, env, check.budget)
        say(f"client {'stopped at the budget' if run.timed_out else f'exited {run.exit_code}'} after "
            f"{run.elapsed:.1f} s")
        clear_profile(admin)
        entries = read_journal(admin)
        complete = bool(entries) and _is_mark(entries[0])
        entries = entries[1:] if complete else entries
        after = set(walk_ids(flavour_url, reader, check.token))
    finally:
        _restore(admin, *saved)
    say(f"judging {len(entries)} journaled requests")
    evidence = Evidence(check.flavour, reader, entries, run, frozenset(before & after), root,
                        notes={"seed": check.seed}, complete=complete)
    report = judge(evidence, check.checks, target=f"client of {check.flavour} ({check.profile})")
    report.stats.update(_stats(evidence))
    return ClientReport(report, evidence, check.profile, flavour_url)


def _mark(root: str) -> None:
    """Journal one request before the client's: if it is gone afterwards, the ring dropped the oldest."""
    with urllib.request.urlopen(f"{root}{MARK}", timeout=10) as answer:
        answer.read()


def _is_mark(entry: Entry) -> bool:
    return entry.get("path") == "/health" and entry.get("query") == MARK.partition("?")[2]


def _apply(check: ClientCheck, admin: AdminClient) -> str:
    return apply_profile(admin, check.profile, check.flavour, check.seed, check.quota,
                         READERS.get(check.flavour).writes)


def _restore(admin: AdminClient, faults: Any, rate_limits: Any, controls: Any) -> None:
    try:
        admin.set_faults(faults)
        admin.request("PUT", "/rate-limits", rate_limits)
        journal = controls.get("journal") if isinstance(controls, dict) else None
        admin.journal(bool(journal.get("responses")) if isinstance(journal, dict) else False)
    except (AdminError, OSError):
        pass  # NOTE: a server that went away mid-run has nothing to restore


def _stats(evidence: Evidence) -> dict[str, Any]:
    ours = evidence.ours()
    return {"requests": len(ours), "list_requests": len(evidence.list_requests()),
            "reference_customers": len(evidence.reference_ids or ()),
            "answered_429": sum(1 for e in ours if e.get("status") == 429),
            "answered_5xx": sum(1 for e in ours if isinstance(e.get("status"), int) and e["status"] >= 500),
            "connections_dropped": sum(1 for e in ours if e.get("status") is None)}
