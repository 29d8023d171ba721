"""What a contract check reports: structured failures and the report that collects them.

::

    ContractFailure (AssertionError)     one broken property, with evidence and a reproduction
    CheckResult                          one test case of a run (a property or an operation), for reports
    CheckReport                          everything one run checked, passed and failed
    UsageError (Exception)               the run could not start: exit code 2, never a traceback
    ├── InvalidSpec (ValueError)         the OpenAPI document cannot be read or used
    ├── ServerUnreachable (ConnectionError)  nothing answers at the base URL
    └── UnknownCheck (LookupError)       a ``checks=`` name that does not exist

A failure names the *property* that broke (``pagination.no_duplicates``,
``fields.projection``, ``adapter.ground_truth`` ...), says in a sentence what differed and
what to try, carries expected vs actual, the minimal request sequence and a curl line.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CheckReport",
    "CheckResult",
    "ContractFailure",
    "InvalidSpec",
    "ServerUnreachable",
    "UnknownCheck",
    "UsageError",
    "curl_line",
]


def curl_line(method: str, url: str, headers: dict[str, str] | None = None, body: str | None = None) -> str:
    """A copy-pasteable curl command reproducing one request."""
    parts = ["curl", "-sS", "-i"]
    if method.upper() != "GET":
        parts += ["-X", method.upper()]
    for name, value in (headers or {}).items():
        parts += ["-H", f"{name}: {value}"]
    if body is not None:
        parts += ["--data-raw", body]
    parts.append(url)
    return " ".join(shlex.quote(p) for p in parts)


class ContractFailure(AssertionError):
    """A property of the contract that the target does not hold.

    Keyword Args:
        prop: dotted property name, e.g. ``pagination.no_duplicates``.
        message: a sentence saying what differed and what to try.
        expected: what the contract required (any JSON-able value).
        actual: what the target did.
        requests: the (minimal) request sequence, one ``METHOD URL`` per item.
        curl: a curl line reproducing the decisive request.
        seed: the Hypothesis or dataset seed to replay the run.
    """

    def __init__(self, *, prop: str, message: str, expected: Any = None, actual: Any = None,
                 requests: list[str] | None = None, curl: str | None = None, seed: int | None = None) -> None:
        super().__init__(f"[{prop}] {message}")
        self.prop = prop
        self.message = message
        self.expected = expected
        self.actual = actual
        self.requests = list(requests or [])
        self.curl = curl
        self.seed = seed

    def render(self) -> str:
        """Multi-line, human-readable description (what the CLI and pytest show)."""
        lines = [f"FAILED {self.prop}: {self.message}"]
        if self.expected is not None:
            lines.append(f"  expected: {_short(self.expected)}")
        if self.expected is not None or self.actual is not None:
            lines.append(f"  actual:   {_short(self.actual)}")
        if self.requests:
            lines.append("  requests:")
            shown = self.requests
            if len(shown) > 12:  # a long walk: its start and its end tell the story
                shown = [*shown[:5], f"... {len(shown) - 10} more ...", *shown[-5:]]
            lines.extend(f"    {r}" for r in shown)
        if self.curl:
            lines.append(f"  reproduce: {self.curl}")
        if self.seed is not None:
            lines.append(f"  seed: {self.seed}")
        return "\n".join(lines)


def _short(value: Any, limit: int = 400) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class CheckResult:
    """One test case of a run: a Hypothesis property or a Schemathesis operation (a JUnit testcase)."""

    name: str
    """``pagination.walk`` or ``schemathesis GET /customers``."""
    failures: list[ContractFailure] = field(default_factory=list)
    elapsed: float = 0.0
    """Seconds spent on it."""
    skipped: str | None = None
    """Why it did not run (e.g. the server does not support writes); ``None`` when it ran."""
    detail: str = ""
    """A short note for progress output, e.g. ``12 examples`` or ``40 cases``."""

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass
class CheckReport:
    """The outcome of one contract run against one target."""

    target: str
    """Base URL or adapter name that was checked."""
    passed: list[str] = field(default_factory=list)
    """Property names that held."""
    failures: list[ContractFailure] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    """Counters such as Schemathesis operations and cases, Hypothesis examples."""
    duration: float = 0.0
    """Seconds the run took."""
    results: list[CheckResult] = field(default_factory=list)
    """Every test case in the order it ran (what the JUnit report lists)."""
    coverage: dict[str, str] = field(default_factory=dict)
    """group -> what the run exercised of it, e.g. ``filters`` -> each filter kind and its examples."""

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def failed_properties(self) -> list[str]:
        return sorted({f.prop for f in self.failures})

    def render(self) -> str:
        head = (f"{'PASSED' if self.ok else 'FAILED'} {self.target}: {len(self.passed)} properties held, "
                f"{len(self.failures)} failed in {self.duration:.1f}s")
        body = [f.render() for f in self.failures]
        stats = ", ".join(f"{k}={v}" for k, v in sorted(self.stats.items()))
        covered = [f"exercised {group}: {text}" for group, text in self.coverage.items()]
        return "\n".join([head, *body, *covered] + ([f"stats: {stats}"] if stats else []))


class UsageError(Exception):
    """The check could not run at all (bad arguments, unreadable spec, unreachable server).

    The CLI prints the message (no traceback) and exits with code 2.
    """


class InvalidSpec(UsageError, ValueError):
    """The OpenAPI document cannot be loaded or lacks what the checks need."""


class ServerUnreachable(UsageError, ConnectionError):
    """Nothing usable answers at the base URL."""


class UnknownCheck(UsageError, LookupError):
    """A name in ``checks=`` that is neither a check group nor a property."""
