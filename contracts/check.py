"""Server conformance: check that a server implements the canonical Customers contract.

:func:`check_server` runs two kinds of checks against a base URL (or a WSGI app, in-process):

* **Schemathesis** on the OpenAPI document: every operation, positive and negative data,
  every response check (status codes, content types, headers, schema conformance, no 5xx,
  negative data rejected). Failures are named ``schemathesis.<check>``.
* **Hypothesis properties** (:mod:`contracts.properties`) that a generic fuzzer cannot state:
  pagination walks, ``fields`` projections, filters and sort, get vs list, error bodies,
  determinism and the write lifecycle.

Every failure names its property, carries the minimal request sequence, expected vs actual,
a curl line and the seed. ``contracts check`` (:mod:`contracts.cli`) is the command-line face.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from typing import Any

import httpx

from contracts.cleanup import CreatedCustomers, guard_stateful_writes
from contracts.failures import (
    CheckReport,
    CheckResult,
    ContractFailure,
    ServerUnreachable,
    UnknownCheck,
    UsageError,
)
from contracts.properties import PROPERTIES, Budget, Context, Target, run_property
from contracts.properties.http import masked_curl
from contracts.properties.registry import COVERAGE
from contracts.report import ConsoleHandler, Handler, notify
from contracts.schema import Contract, load_spec, schemathesis_schema

__all__ = ["CHECK_GROUPS", "SCHEMATHESIS_PHASES", "check_server"]

SCHEMATHESIS_PHASES = ("examples", "coverage", "fuzzing", "stateful")
"""Schemathesis phases; ``checks=["schemathesis.fuzzing"]`` runs one, ``"schemathesis"`` all of them."""

CHECK_GROUPS = ("schemathesis", *dict.fromkeys(p.group for p in PROPERTIES.values()))
"""Names accepted by ``checks=``: these groups, a single property (``pagination.walk``) or a
Schemathesis phase (``schemathesis.coverage``)."""

REPORTED_BY = {
    **{f"pagination.{name}": "pagination.walk" for name in (
        "complete", "first_page", "follow_next", "items_on_page", "last_page", "limit", "no_duplicates", "shape",
        "terminates")},
    "filters.complete": "filters.match",
    **{f"writes.{name}": "writes.lifecycle" for name in ("create", "update", "delete")},
}
"""Names a failure report uses that are not property names, and the property that reports them:
``checks=["pagination.complete"]`` reruns what reported it."""

IN_PROCESS_URL = "http://contracts.test"
"""Base URL used for an in-process app (only its host appears in links and curl lines)."""


def check_server(base_url: str | None = None, *, app: Any = None, spec: str | None = None,
                 token: str = "contract-token", seed: int = 0, max_examples: int = 25,
                 progress: Callable[[str], None] | None = None, checks: Sequence[str] | None = None,
                 handlers: Sequence[Handler] = (), keep_writes: bool = False, list_operation: str | None = None,
                 get_operation: str | None = None) -> CheckReport:
    """Check a server against the canonical contract.

    Args:
        base_url: where the API lives (its ``/customers`` is ``base_url + "/customers"``).
        app: a WSGI app to call in-process instead (no sockets); ``base_url`` is then optional.
        spec: the OpenAPI document (path or URL); default: the bundled canonical contract.
        token: sent as ``Authorization: Bearer <token>``.
        seed: seeds Schemathesis and every Hypothesis property (same seed, same requests).
        max_examples: Schemathesis examples per operation and Hypothesis examples per cheap
            property (walk-heavy properties run a fraction of it).
        progress: called with one line per property/operation as it finishes.
        checks: groups (:data:`CHECK_GROUPS`) or property names to run; default: all.
        handlers: more :class:`~contracts.report.Handler` s (e.g. a JUnit writer).
        keep_writes: keep the customers the check created; by default they are deleted when it
            ends (``report.stats``: ``created_customers``, ``deleted_customers`` and, for any that
            could not be deleted, ``customers_not_deleted``).
        list_operation: ``operationId`` of the document's list operation (default ``listCustomers``,
            or the ``GET`` on the ``customers`` collection path when the document has none).
        get_operation: ``operationId`` of its get operation (default ``getCustomer``, or the path shape).

    Returns:
        The report: ``report.ok``, ``report.failed_properties``, ``report.render()``.

    Raises:
        UsageError: bad arguments, unreadable spec, or no server answering at ``base_url``
            (``ServerUnreachable``).

    Example:
        >>> from mockserver import Settings, create_app
        >>> report = check_server(app=create_app(Settings(count=100)), max_examples=5)  # doctest: +SKIP
        >>> report.ok  # doctest: +SKIP
        True
    """
    if base_url is None and app is None:
        raise UsageError("give a base URL (or an in-process app) to check")
    if max_examples < 1:
        raise UsageError(f"max_examples must be at least 1, got {max_examples}")
    selected = _select(checks)
    document = load_spec(spec)
    contract = Contract.from_document(document, list_operation=list_operation, get_operation=get_operation)
    url = (base_url or IN_PROCESS_URL).rstrip("/")
    everyone: list[Handler] = ([ConsoleHandler(progress)] if progress else []) + list(handlers)
    report = CheckReport(target=base_url or "in-process app")
    started = time.perf_counter()
    transport = httpx.WSGITransport(app=app) if app is not None else None
    created = CreatedCustomers(contract)
    with httpx.Client(base_url=url, transport=transport, timeout=30.0,
                      event_hooks={"response": [created.hook]}) as client:
        target = Target(client, token)
        _probe(target, contract, url)
        try:
            _run_checks(target, contract, document, report, created, url=url, app=app, token=token, seed=seed,
                        max_examples=max_examples, selected=selected, notify_all=lambda r: notify(everyone, r))
        finally:
            report.stats["created_customers"] = len(created.ids)
            if not keep_writes and created.ids:
                deleted, left = created.delete_all(target)
                report.stats["deleted_customers"] = deleted
                if left:
                    report.stats["customers_not_deleted"] = ", ".join(left[:10]) + (" ..." if len(left) > 10 else "")
    report.duration = time.perf_counter() - started
    for handler in everyone:
        handler.on_finish(report)
    return report


def _run_checks(target: Target, contract: Contract, document: dict[str, Any], report: CheckReport,
                created: CreatedCustomers, *, url: str, app: Any, token: str, seed: int, max_examples: int,
                selected: set[str], notify_all: Callable[[CheckResult], None]) -> None:
    """Run the selected Schemathesis phases, then the selected properties, recording each result."""
    phases = tuple(p for p in SCHEMATHESIS_PHASES if f"schemathesis.{p}" in selected)
    # NOTE: probing writes sends POST/PATCH/DELETE; only runs that exercise writes do it.
    probing = bool(phases) or bool(selected & {"writes.lifecycle", "errors.missing_auth"})
    writes = _supported_writes(target, contract) if probing else contract.writes

    def record(result: CheckResult) -> None:
        report.results.append(result)
        report.failures.extend(result.failures)
        if result.ok and result.skipped is None and not result.name.startswith("schemathesis "):
            report.passed.append(result.name)
        notify_all(result)

    if phases:
        unsupported = [m for m in contract.writes if m not in writes]
        for method in unsupported:
            path = contract.list_path if method == "POST" else contract.item_path
            record(CheckResult(f"schemathesis {method} {path}", skipped=f"the server answers 405/501 to "
                                                                        f"{method}: writes are not supported"))
        _run_schemathesis(document, url=url, app=app, token=token, seed=seed, max_examples=max_examples,
                          phases=phases, record=record, stats=report.stats, exclude=unsupported,
                          created=created, list_operation=contract.list_operation)
    ctx = Context(target, contract, seed=seed, budget=Budget(max_examples=max_examples), writes=writes)
    for name in PROPERTIES:
        if name in selected:
            record(run_property(ctx, name))
    for group, tally in ctx.exercised.items():
        if group in COVERAGE:
            report.coverage[group] = COVERAGE[group](contract, tally)
    report.stats["properties"] = sum(1 for r in report.results if not r.name.startswith("schemathesis "))
    report.stats["property_requests"] = target.count


def _select(checks: Sequence[str] | None) -> set[str]:
    every_phase = {f"schemathesis.{p}" for p in SCHEMATHESIS_PHASES}
    if checks is None:
        return {*every_phase, *PROPERTIES}
    chosen: set[str] = set()
    for name in checks:
        if name in PROPERTIES or name in every_phase:
            chosen.add(name)
        elif name in REPORTED_BY:
            chosen.add(REPORTED_BY[name])
        elif name == "schemathesis" or name in _schemathesis_check_names():
            chosen.update(every_phase)
        elif name in CHECK_GROUPS:
            chosen.update(p.name for p in PROPERTIES.values() if p.group == name)
        else:
            raise UnknownCheck(f"unknown check {name!r}; choose groups ({', '.join(CHECK_GROUPS)}) or "
                               f"properties ({', '.join(PROPERTIES)}) or Schemathesis phases "
                               f"({', '.join(sorted(every_phase))})")
    return chosen


def _schemathesis_check_names() -> set[str]:
    """``schemathesis.<check>`` as failure reports name them (every phase runs every check)."""
    import schemathesis.specs.openapi.checks  # noqa: F401 - registers the OpenAPI checks
    from schemathesis.checks import CHECKS

    return {f"schemathesis.{name}" for name in (*CHECKS.get_all_names(), "error")}


def _probe(target: Target, contract: Contract, url: str) -> None:
    """Fail fast, as a usage error, when nothing usable answers at the base URL."""
    try:
        reply = target.get(contract.list_path, params={"limit": contract.limit_min})
    except httpx.HTTPError as exc:
        raise ServerUnreachable(f"cannot reach {url}{contract.list_path}: {exc or type(exc).__name__}. Is the "
                                f"server running, and is --base-url right?") from None
    finally:
        target.log.clear()
    if reply.status == 404:
        raise ServerUnreachable(f"{url}{contract.list_path} answered 404: no customers collection there. Is "
                                f"--base-url the API root (the part before {contract.list_path})?")
    if reply.status in (401, 403):
        raise UsageError(f"{url}{contract.list_path} rejected the token ({reply.status}); pass the server's "
                         f"token with --token (or $CONTRACTS_TOKEN).")


def _supported_writes(target: Target, contract: Contract) -> tuple[str, ...]:
    """The documented write methods the server implements: 405 or 501 means it does not.

    The probes change nothing on a correct server: ``POST {}`` is a 422 (no name), ``PATCH``
    and ``DELETE`` go to an id that does not exist (404).
    """
    supported = []
    for method in contract.writes:
        path = contract.list_path if method == "POST" else contract.item_url("no-such-customer")
        try:
            reply = target.request(method, path, body=None if method == "DELETE" else {})
        except httpx.HTTPError:
            supported.append(method)  # let the properties report the broken connection
            continue
        body = reply.json()
        if method == "POST" and reply.status == 201 and isinstance(body, dict) and isinstance(body.get("data"), dict):
            target.request("DELETE", contract.item_url(body["data"].get("id")))  # a lenient server created one
        if reply.status not in (405, 501):
            supported.append(method)
    target.log.clear()
    return tuple(supported)


# -------------------------------------------------------------- schemathesis


def _guarded(events: Iterator[Any], created: CreatedCustomers | None) -> Iterator[Any]:
    """The engine's events, produced while the run may change only the customers it created."""
    with guard_stateful_writes(created) if created is not None else nullcontext():
        yield from events


def _run_schemathesis(document: dict[str, Any], *, url: str, app: Any, token: str, seed: int, max_examples: int,
                      phases: tuple[str, ...], record: Callable[[CheckResult], None], stats: dict[str, Any],
                      exclude: Sequence[str] = (), created: CreatedCustomers | None = None,
                      list_operation: str | None = "listCustomers") -> None:
    """Run the selected Schemathesis phases; one result per (operation, phase), one for stateful.

    ``exclude`` lists write methods the server does not support; their operations are left out.
    """
    from schemathesis.engine import events, from_schema

    schema = schemathesis_schema(document, base_url=url, token=token, seed=seed, max_examples=max_examples,
                                 app=app, phases=phases, unsupported=tuple(exclude), list_operation=list_operation)
    cases = 0
    started = time.perf_counter()
    # NOTE: the stateful phase reports one scenario per generated sequence; they become one result.
    stateful, stateful_cases = CheckResult("schemathesis API links [stateful]"), 0
    for event in _guarded(from_schema(schema).execute(), created):
        if isinstance(event, events.ScenarioStarted):
            started = time.perf_counter()
        elif isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            cases += len(recorder.cases)
            if created is not None:
                created.note_interactions(recorder.interactions)
            failures = _failures(recorder, token, seed)
            elapsed = time.perf_counter() - started
            if event.phase.value == "stateful":
                known = {f.message for f in stateful.failures}
                stateful.failures.extend(f for f in failures if f.message not in known)
                stateful.elapsed += elapsed
                stateful_cases += len(recorder.cases)
                stateful.detail = f"{stateful_cases} cases"
                continue
            skipped = None
            if not recorder.cases and not failures:
                skipped = event.skip_reason or "nothing to generate in this phase"
            record(CheckResult(f"schemathesis {recorder.label} [{event.phase.value}]", failures, elapsed,
                               skipped=skipped, detail=f"{len(recorder.cases)} cases"))
        elif isinstance(event, events.PhaseFinished) and event.phase.name.value == "stateful":
            if event.phase.is_enabled:
                record(stateful)
        elif isinstance(event, events.NonFatalError):
            failure = ContractFailure(prop="schemathesis.error", message=f"{event.label}: {event.info.format()}",
                                      seed=seed)
            record(CheckResult(f"schemathesis {event.label} [error]", [failure]))
        elif isinstance(event, events.FatalError):
            failure = ContractFailure(prop="schemathesis.error", message=f"Schemathesis stopped: {event.exception}",
                                      seed=seed)
            record(CheckResult("schemathesis [fatal]", [failure]))
    stats["schemathesis_cases"] = cases


def _failures(recorder: Any, token: str, seed: int) -> list[ContractFailure]:
    found: dict[tuple[str, str, str], ContractFailure] = {}
    for case_id, nodes in recorder.checks.items():
        for node in nodes:
            info = node.failure_info
            if info is None:
                continue
            failure = info.failure
            key = (node.name, failure.title, failure.message.split("\n")[0])
            if key in found:
                continue
            interaction = recorder.interactions.get(getattr(failure, "case_id", None) or case_id)
            steps = [f"{s.method} {s.path}" for s in info.steps]
            curl, actual = info.code_sample, None
            if interaction is not None:
                request = interaction.request
                headers = {k: ", ".join(v) for k, v in request.headers.items()
                           if k.lower() not in ("user-agent", "accept-encoding", "connection", "content-length",
                                                "x-schemathesis-testcaseid")}
                body = request.body.decode("utf-8", "replace") if request.body else None
                curl = masked_curl(request.method, request.uri, headers, body, token)
                steps = steps or [f"{request.method} {request.uri}"]
                response = interaction.response
                if response is not None:
                    text = response.content.decode("utf-8", "replace") if response.content else ""
                    kind = (response.headers.get("content-type") or [""])[0]
                    actual = f"{response.status_code} {kind} {text[:300]}".strip()
            message = f"{recorder.label}: {failure.title}. {failure.message}".strip()
            found[key] = ContractFailure(prop=f"schemathesis.{node.name}", message=message, actual=actual,
                                         requests=steps, curl=curl, seed=seed)
    return list(found.values())
