"""Where a check run's results go: handlers behind one small interface.

::

    Handler (Protocol)        on_result(result) as each test case ends; on_finish(report) once
    ├── ConsoleHandler        one progress line per result, then the readable report
    └── JUnitHandler          a JUnit XML file for CI: one testcase per property/operation

:func:`contracts.check.check_server` calls every handler it is given; the CLI passes a
console handler (progress to stderr, report to stdout) and, with ``--junit-xml``, a JUnit one.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from typing import Protocol

from contracts.failures import CheckReport, CheckResult

__all__ = ["ConsoleHandler", "Handler", "JUnitHandler", "notify"]


class Handler(Protocol):
    """Receives a run's results as they happen."""

    def on_result(self, result: CheckResult) -> None:
        """One property or operation finished (or was skipped)."""
        ...

    def on_finish(self, report: CheckReport) -> None:
        """The run is over; ``report`` has every result."""
        ...


def _status(result: CheckResult) -> str:
    if result.skipped is not None:
        return "skip"
    return "ok  " if result.ok else "FAIL"


class ConsoleHandler:
    """Progress lines while the run goes, then the readable report.

    Args:
        progress: called with one line per result (e.g. ``sys.stderr`` writes).
        output: called once with the rendered report at the end; ``None`` prints nothing then.
    """

    def __init__(self, progress: Callable[[str], None], output: Callable[[str], None] | None = None) -> None:
        self.progress = progress
        self.output = output

    def on_result(self, result: CheckResult) -> None:
        note = result.skipped if result.skipped is not None else ", ".join(
            p for p in [result.detail, f"{result.elapsed:.1f}s"] if p)
        failed = f" -> {', '.join(sorted({f.prop for f in result.failures}))}" if result.failures else ""
        self.progress(f"{_status(result)} {result.name} ({note}){failed}")

    def on_finish(self, report: CheckReport) -> None:
        if self.output is not None:
            self.output(report.render())


class JUnitHandler:
    """Writes a JUnit XML file (one ``testcase`` per result) when the run finishes.

    Args:
        path: the file to write; parent directories are created.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)

    def on_result(self, result: CheckResult) -> None:
        """Nothing to do until the end: the file is written whole."""

    def on_finish(self, report: CheckReport) -> None:
        results = report.results
        suite = ET.Element("testsuite", {
            "name": f"contracts check {report.target}",
            "tests": str(len(results)),
            "failures": str(sum(1 for r in results if r.failures)),
            "errors": "0",
            "skipped": str(sum(1 for r in results if r.skipped is not None)),
            "time": f"{report.duration:.3f}",
        })
        for result in results:
            group = result.name.split(" ")[0].split(".")[0]
            case = ET.SubElement(suite, "testcase", {"classname": f"contracts.{group}", "name": result.name,
                                                     "time": f"{result.elapsed:.3f}"})
            if result.skipped is not None:
                ET.SubElement(case, "skipped", {"message": result.skipped})
            elif result.failures:
                first = result.failures[0]
                failure = ET.SubElement(case, "failure", {
                    "message": f"[{first.prop}] {first.message}",
                    "type": ", ".join(sorted({f.prop for f in result.failures})),
                })
                failure.text = "\n\n".join(f.render() for f in result.failures)
        root = ET.Element("testsuites", {"tests": suite.get("tests", "0"), "failures": suite.get("failures", "0"),
                                         "time": suite.get("time", "0")})
        root.append(suite)
        ET.indent(root)
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        ET.ElementTree(root).write(self.path, encoding="utf-8", xml_declaration=True)


def notify(handlers: Sequence[Handler], result: CheckResult) -> None:
    """Pass one result to every handler."""
    for handler in handlers:
        handler.on_result(result)
