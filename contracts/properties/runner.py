"""How one property runs: the kit's one Hypothesis harness, for server and adapter checks alike.

A property is a plain function registered with :func:`prop` in a registry (:data:`PROPERTIES`
for servers, ``ADAPTER_PROPERTIES`` for adapters): given its harness (what it runs against)
it returns a Hypothesis strategy, explicit examples and a test body that is its own
assertion (it raises :class:`~contracts.failures.ContractFailure`). :func:`run_property` runs
it with a seeded, database-free Hypothesis and turns the (shrunk) failure into a result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from hypothesis import HealthCheck, Phase, Verbosity, example, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import Flaky

from contracts.failures import CheckResult, ContractFailure

__all__ = ["PROPERTIES", "Harness", "Property", "Skip", "prop", "run_property"]


class Skip(Exception):
    """The property cannot run against this target (e.g. no customers, no write support)."""


class Harness(Protocol):
    """What a property runs against, as far as running it is concerned."""

    @property
    def seed(self) -> int:
        """The Hypothesis seed (same seed, same examples)."""

    @property
    def max_examples(self) -> int:
        """Examples of a cheap property; a property of cost ``n`` runs ``max_examples // n`` (at least 2)."""

    def before_example(self) -> None:
        """Forget what the previous example recorded (a failure shows only its own requests)."""

    def failure_for(self, name: str, error: Exception, *, building: bool) -> ContractFailure | None:
        """The failure an unexpected exception of property ``name`` stands for, or ``None`` to let it
        propagate (``building``: it was raised while the property built its strategy)."""

    def not_repeated(self) -> str:
        """Said of a failure Hypothesis could not reproduce with the same input."""


Build = Callable[[Any], tuple[st.SearchStrategy[Any], list[Any], Callable[[Any], None]]]


@dataclass(frozen=True)
class Property:
    """A named Hypothesis property: ``build(harness)`` gives the strategy, explicit examples and the test body."""

    name: str
    group: str
    cost: int
    """Examples are ``max_examples // cost`` (at least 2): walks cost more than single requests."""
    build: Build
    doc: str


PROPERTIES: dict[str, Property] = {}
"""The server properties ``contracts check`` runs, in registration order."""


def prop(name: str, cost: int = 1, *, registry: dict[str, Property] | None = None
         ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a property builder under ``name`` (its group is the part before the dot) in
    ``registry`` (default :data:`PROPERTIES`)."""
    into = PROPERTIES if registry is None else registry

    def register(build: Callable[..., Any]) -> Callable[..., Any]:
        if name in into:
            raise ValueError(f"a property named {name!r} is already registered")
        into[name] = Property(name, name.split(".")[0], cost, build, (build.__doc__ or "").strip())
        return build

    return register


def run_property(harness: Harness, name: str, registry: dict[str, Property] | None = None) -> CheckResult:
    """Run one registered property with Hypothesis; the result holds its (shrunk) failure, if any."""
    spec = (PROPERTIES if registry is None else registry)[name]
    started = time.perf_counter()
    examples_run = 0
    try:
        strategy, explicit, body = spec.build(harness)
    except Skip as why:
        return CheckResult(name, skipped=str(why), elapsed=time.perf_counter() - started)
    except ContractFailure as failure:
        failure.seed = harness.seed
        return CheckResult(name, [failure], time.perf_counter() - started)
    except Exception as exc:
        found = harness.failure_for(name, exc, building=True)
        if found is None:
            raise
        found.seed = harness.seed
        return CheckResult(name, [found], time.perf_counter() - started)

    def test(value: Any) -> None:
        nonlocal examples_run
        examples_run += 1
        harness.before_example()
        try:
            body(value)
        except (ContractFailure, Skip):
            raise
        except Exception as exc:
            found = harness.failure_for(name, exc, building=False)
            if found is None:
                raise
            raise found from None

    wrapped = given(strategy)(test)
    for value in reversed(explicit):
        wrapped = example(value)(wrapped)
    wrapped = settings(max_examples=max(2, harness.max_examples // spec.cost), deadline=None, database=None,
                       print_blob=False, report_multiple_bugs=False, verbosity=Verbosity.quiet,
                       suppress_health_check=list(HealthCheck),
                       phases=[Phase.explicit, Phase.generate, Phase.shrink])(wrapped)
    wrapped = hypothesis_seed(harness.seed)(wrapped)
    failures: list[ContractFailure] = []
    skipped = None
    try:
        wrapped()
    except ContractFailure as caught:
        failures.append(caught)
    except Skip as why:
        skipped = str(why)
    except Flaky as flaky:
        inner = next((e for e in _leaves(flaky) if isinstance(e, ContractFailure)), None)
        if inner is None:
            raise
        inner.message += " " + harness.not_repeated()
        failures.append(inner)
    for found in failures:
        found.seed = harness.seed
    return CheckResult(name, failures, time.perf_counter() - started, skipped=skipped,
                       detail=f"{examples_run} examples")


def _leaves(error: BaseException) -> Iterator[BaseException]:
    yield error
    for inner in getattr(error, "exceptions", ()) or ():
        yield from _leaves(inner)
    if error.__cause__ is not None:
        yield from _leaves(error.__cause__)
