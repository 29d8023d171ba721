"""Adapter contracts: check an adapter against the mock's ground truth with Hypothesis.

The mock serves the same customers in every platform's dialect *and* in the canonical one,
so for any dataset seed the right answer of an adapter reading ``/<flavour>`` is known: it is
what the canonical flavour answers for the same request. :func:`check_adapter` draws dataset
seeds, page sizes, field sets, filters, sorts and ids and checks, in property terms:

===========================  ======================================================================
``adapter.walk``             walking every page visits each customer once, in order, at most
                             ``limit`` per page, ends, and equals the ground truth record by record
``adapter.fields``           ``fields`` gives the canonical projection
``adapter.filters``          filtered walks equal the canonical filtered walks
``adapter.sort``             every canonical order equals the canonical walk in that order
``adapter.get``              ``get_customer(id)`` equals the canonical ``GET /customers/{id}``
``adapter.errors.*``         an unknown id, bad input and missing credentials give the canonical
                             problem (status, ``type``, ``title``, the inputs named in ``errors``)
===========================  ======================================================================

Fields the adapter declares in ``excluded_fields`` are removed from both sides before
comparing: ``status`` (a key), ``emails.id`` (a key of every item), ``emails[1:]`` (items after
the first). Filters on excluded fields are not generated.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from contracts.failures import CheckReport, UsageError
from contracts.properties.adapter import ADAPTER_PROPERTIES
from contracts.properties.adapter_invariants import strip_excluded
from contracts.properties.adapter_world import AdapterHarness, Worlds
from contracts.properties.runner import run_property

__all__ = ["ADAPTER_CHECKS", "check_adapter", "strip_excluded"]

ADAPTER_CHECKS = tuple(ADAPTER_PROPERTIES)
"""The properties :func:`check_adapter` runs, in order (``checks=`` takes these or ``adapter.errors``)."""


def check_adapter(adapter: Any, *, ground_truth: Any = None, count: int = 60,
                  dataset_seeds: Sequence[int] | None = None, seed: int = 0, max_examples: int = 25,
                  token: Any = ..., truth_token: str = "contract-token", checks: Sequence[str] | None = None,
                  progress: Callable[[str], None] | None = None, handlers: Sequence[Any] = ()) -> CheckReport:
    """Check an adapter against the ground truth of the mock.

    Args:
        adapter: an adapter class or factory (``factory(base_url, client=..., token=...)``, see
            :class:`~contracts.adapters.AdapterFactory`), a registered adapter name
            (``"ecwid"``), or an instance already reading the mock given as ``ground_truth``.
        ground_truth: ``None``: in-process mocks, one per drawn dataset seed (the default);
            a mock server's base URL, or a mock WSGI app: the one the adapter reads.
        count: customers per in-process dataset.
        dataset_seeds: dataset seeds to draw from (default: any).
        seed: the Hypothesis seed (same seed, same examples).
        max_examples: Hypothesis examples per property (walk-heavy ones run a third).
        token: credentials for the adapter (default: the adapter's own).
        truth_token: bearer token for the canonical ground truth.
        checks: property names (:data:`ADAPTER_CHECKS`) or ``adapter.errors``; default: all.
        progress: called with one line per property as it finishes.
        handlers: more :class:`~contracts.report.Handler` s (e.g. a JUnit writer).

    Returns:
        the :class:`~contracts.failures.CheckReport` (``ok``, ``failed_properties``, ``render()``).

    Raises:
        UsageError: an adapter the kit cannot build or reach, or unknown ``checks``.

    Example:
        >>> report = check_adapter("ecwid", max_examples=5)  # doctest: +SKIP
        >>> report.ok  # doctest: +SKIP
        True
    """
    from contracts.report import ConsoleHandler, notify

    if max_examples < 1:
        raise UsageError(f"max_examples must be at least 1, got {max_examples}")
    if count < 0:
        raise UsageError(f"count must be at least 0, got {count}")
    chosen = list(ADAPTER_CHECKS) if checks is None else []
    for name in checks or ():
        matches = [c for c in ADAPTER_CHECKS if c == name or c.startswith(name + ".")]
        if not matches:
            raise UsageError(f"unknown adapter check {name!r}; choose from {', '.join(ADAPTER_CHECKS)}")
        chosen.extend(m for m in matches if m not in chosen)
    worlds = Worlds(adapter, ground_truth, count, token, truth_token, dataset_seeds)
    everyone = ([ConsoleHandler(progress)] if progress else []) + list(handlers)
    report = CheckReport(target=f"adapter {worlds.name}")
    started = time.perf_counter()
    harness = AdapterHarness(worlds, seed, max_examples)
    try:
        for name in ADAPTER_CHECKS:
            if name not in chosen:
                continue
            result = run_property(harness, name, ADAPTER_PROPERTIES)
            report.results.append(result)
            report.failures.extend(result.failures)
            if result.ok and result.skipped is None:
                report.passed.append(name)
            notify(everyone, result)
    finally:
        worlds.close()
    report.stats["excluded_fields"] = ",".join(sorted(worlds.excluded)) or "none"
    report.duration = time.perf_counter() - started
    for handler in everyone:
        handler.on_finish(report)
    return report
