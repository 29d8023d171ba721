"""The client properties and the judge that runs them over one client run's evidence.

A client property is a plain function registered with :func:`client_property`: given the
:class:`~contracts.clientcheck.evidence.Evidence` it returns nothing when the client behaved, raises
:class:`~contracts.failures.ContractFailure` naming the requests that show the violation, or
:class:`NotApplicable` when the run gives it nothing to judge (a client that never listed has no
walk). :func:`judge` runs them all (or some) and returns a :class:`~contracts.failures.CheckReport`,
the same report ``contracts check`` prints.

The bundled properties live in :mod:`contracts.clientcheck.walk_properties` (pages and cursors)
and :mod:`contracts.clientcheck.conduct` (rate limits, retries, exit and budget).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from contracts.clientcheck.evidence import Entry, Evidence, describe
from contracts.failures import CheckReport, CheckResult, ContractFailure, UnknownCheck

__all__ = [
    "CLIENT_PROPERTIES", "ClientProperty", "NotApplicable", "client_property", "fail", "judge", "selected",
]

MAX_SHOWN = 12
"""Requests one failure lists (a long walk is cut in its middle by the report)."""


class NotApplicable(Exception):
    """The run gives the property nothing to judge; the message says why (shown as a skip)."""


Check = Callable[[Evidence], None]


@dataclass(frozen=True)
class ClientProperty:
    """A named property of a well-behaved client."""

    name: str
    check: Check
    doc: str

    @property
    def summary(self) -> str:
        return self.doc.split("\n\n")[0].replace("\n", " ")


CLIENT_PROPERTIES: dict[str, ClientProperty] = {}
"""Every client property, in the order the report lists them."""


def client_property(name: str) -> Callable[[Check], Check]:
    """Register ``check`` as the client property ``name`` (``group.what``); its docstring is the rule."""

    def register(check: Check) -> Check:
        if name in CLIENT_PROPERTIES:
            raise ValueError(f"a client property named {name!r} is already registered")
        CLIENT_PROPERTIES[name] = ClientProperty(name, check, (check.__doc__ or "").strip())
        return check

    return register


def fail(evidence: Evidence, prop: str, message: str, shown: Iterable[Entry | tuple[Entry, str]] = (),
         *, expected: Any = None, actual: Any = None) -> ContractFailure:
    """A failure of ``prop`` listing the requests in ``shown`` (an entry, or an entry and a note)."""
    order: dict[int, tuple[Entry, list[str]]] = {}
    for item in shown:
        entry, note = item if isinstance(item, tuple) else (item, "")
        _, notes = order.setdefault(id(entry), (entry, []))
        if note:
            notes.append(note)
    lines = [describe(entry, evidence.base_url, "; ".join(notes)) for entry, notes in order.values()]
    return ContractFailure(prop=prop, message=message, expected=expected, actual=actual, requests=lines,
                           seed=evidence.notes.get("seed"))


def selected(names: Sequence[str] | None) -> list[str]:
    """The property names to run for ``names`` (properties or groups; ``None``: all).

    Raises:
        UnknownCheck: a name that is neither a property nor a group.
    """
    if not names:
        return list(CLIENT_PROPERTIES)
    chosen: list[str] = []
    for name in names:
        found = [p for p in CLIENT_PROPERTIES if p == name or p.split(".")[0] == name]
        if not found:
            raise UnknownCheck(f"unknown client property {name!r}; use one of: {', '.join(CLIENT_PROPERTIES)} "
                               f"(or a group: {', '.join(sorted({p.split('.')[0] for p in CLIENT_PROPERTIES}))})")
        chosen.extend(p for p in found if p not in chosen)
    return chosen


def judge(evidence: Evidence, names: Sequence[str] | None = None, target: str = "",
          on_result: Callable[[CheckResult], None] | None = None) -> CheckReport:
    """Run the client properties over ``evidence``; the report lists what held, failed or did not apply."""
    started = time.perf_counter()
    report = CheckReport(target or f"client of {evidence.flavour}")
    for name in selected(names):
        begun = time.perf_counter()
        result = CheckResult(name)
        try:
            CLIENT_PROPERTIES[name].check(evidence)
        except ContractFailure as failure:
            result.failures.append(failure)
            report.failures.append(failure)
        except NotApplicable as why:
            result.skipped = str(why)
        else:
            report.passed.append(name)
        result.elapsed = time.perf_counter() - begun
        report.results.append(result)
        if on_result is not None:
            on_result(result)
    report.duration = time.perf_counter() - started
    return report


# The bundled properties register themselves here, in report order.
from contracts.clientcheck import conduct, walk_properties  # noqa: F401
