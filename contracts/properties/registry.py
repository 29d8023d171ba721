"""The context server properties run in (reference collection, budget) and their shared helpers.

A property is a plain function registered with :func:`prop`: given the :class:`Context` it
returns a Hypothesis strategy, explicit examples and a test body. :func:`run_property`
(:mod:`contracts.properties.runner`, the harness adapter checks run on too) runs it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import strategies as st

from contracts.failures import ContractFailure
from contracts.properties.http import Target
from contracts.properties.invariants import Walk, key_of, page_of, pages_for, parse_time, sort_key, walk
from contracts.properties.runner import PROPERTIES, Property, Skip, prop, run_property
from contracts.schema import Contract

__all__ = [
    "COVERAGE",
    "PROPERTIES",
    "Budget",
    "Context",
    "Property",
    "Skip",
    "Universe",
    "after_last",
    "id_sample",
    "ids_param",
    "need_items",
    "prop",
    "run_property",
    "sort_params",
    "sorts",
    "walk_order",
]


@dataclass(frozen=True)
class Budget:
    """How much one check run may ask of the server."""

    max_examples: int = 25
    """Hypothesis examples for cheap properties; walk-heavy ones use a fraction (see ``Property.cost``)."""
    walk_max_items: int = 1000
    """Largest reference collection walked in full."""
    max_pages: int = 100
    """Most pages one walk may fetch (page sizes are drawn so that a complete walk fits)."""


@dataclass
class Universe:
    """The reference collection: customers the full-walk properties know about."""

    params: dict[str, str]
    """Filters that define it (empty: the whole collection)."""
    items: list[dict[str, Any]]
    complete: bool
    """True when it is the whole collection (no window)."""

    @property
    def ids(self) -> list[Any]:
        return [item.get("id") for item in self.items]


@dataclass
class Context:
    """What a property runs against."""

    target: Target
    contract: Contract
    seed: int = 0
    budget: Budget = field(default_factory=Budget)
    writes: tuple[str, ...] | None = None
    """The write methods the server supports (``None``: every one the contract documents)."""
    exercised: dict[str, dict[tuple[str, str], int]] = field(default_factory=dict)
    """What the run exercised, per group: ``(form, name) -> examples`` (see :meth:`exercise`)."""
    _universe: Universe | None = None
    _universe_error: ContractFailure | None = None

    def exercise(self, group: str, form: str, name: str) -> None:
        """Count one example of ``form`` (e.g. ``single``, ``bad value``) of ``name`` (e.g. ``email``)."""
        tally = self.exercised.setdefault(group, {})
        tally[(form, name)] = tally.get((form, name), 0) + 1

    @property
    def supported_writes(self) -> tuple[str, ...]:
        return self.contract.writes if self.writes is None else self.writes

    def universe(self) -> Universe:
        """The reference collection (walked once, with the largest page size).

        Raises:
            ContractFailure: the first time, when the list cannot be walked.
            Skip: afterwards (one failure is reported once, not by every property).
        """
        if self._universe_error is not None:
            raise Skip(f"needs the customer list, which failed ({self._universe_error.prop})")
        if self._universe is None:
            try:
                self._universe = self._reference()
            except ContractFailure as failure:
                self._universe_error = failure
                raise
        return self._universe

    def _reference(self) -> Universe:
        c, budget, target = self.contract, self.budget, self.target
        first = page_of(target, target.get(c.list_path, params={"limit": c.limit_max}), limit=c.limit_max, first=True)
        params: dict[str, str] = {}
        total = first.total if isinstance(first.total, int) else 0
        if total > budget.walk_max_items:
            if "created_since" in c.filters and "created_at" in c.sort_keys:
                newest = walk(target, c, {"sort[by]": "created_at", "sort[direction]": "desc"}, limit=c.limit_max,
                              max_pages=max(1, budget.walk_max_items // c.limit_max))
                since = newest.items[-1].get("created_at") if newest.items else None
                if isinstance(since, str):
                    params = {"filter[created_since]": since}
            if not params and "customer_ids" in c.filters:
                some = walk(target, c, {}, limit=c.limit_max, max_pages=max(1, budget.walk_max_items // c.limit_max))
                params = {"filter[customer_ids]": ",".join(str(i.get("id")) for i in some.items)}
            if not params:
                raise Skip(f"the server lists {total} customers and the contract has no filter to walk a "
                           f"smaller part of them")
        # NOTE: a window that holds more than twice walk_max_items (a broken filter) is cut short.
        result = walk(target, c, params, limit=c.limit_max,
                      max_pages=min(budget.max_pages, pages_for(2 * budget.walk_max_items, c.limit_max) + 1))
        items, seen = [], set()
        for item in result.items:
            key = key_of(item.get("id"))
            if key not in seen:
                seen.add(key)
                items.append(item)
        return Universe(params, items, complete=not params)

    # ---- the Harness run_property runs properties with

    @property
    def max_examples(self) -> int:
        return self.budget.max_examples

    def before_example(self) -> None:
        self.target.log.clear()

    def failure_for(self, name: str, error: Exception, *, building: bool) -> ContractFailure | None:
        if isinstance(error, httpx.HTTPError):
            return self.target.fail(name, f"the request failed: {type(error).__name__}: {error}. The server "
                                          f"dropped the connection or did not answer in time.")
        if building:
            return None
        # NOTE: an answer the check did not foresee is reported, not raised.
        return self.target.fail(name, f"the check could not interpret the server's answers "
                                      f"({type(error).__name__}: {error}).")

    def not_repeated(self) -> str:
        return ("The failure did not repeat when the same requests were sent again: the server answers the same "
                "requests differently.")

    def limits(self, size: int) -> st.SearchStrategy[int]:
        """Page sizes for a walk of ``size`` customers that fits in the page budget (shrinks to the smallest)."""
        c = self.contract
        low = max(c.limit_min, math.ceil(max(size, 1) / (self.budget.max_pages - 1)))
        return st.integers(min(low, c.limit_max), c.limit_max)



COVERAGE: dict[str, Callable[[Contract, dict[tuple[str, str], int]], str]] = {}
"""group -> describes what a run exercised (``Context.exercised[group]``) in one line for the report."""


def sort_params(by: str | None, direction: str | None) -> dict[str, str]:
    return {**({"sort[by]": by} if by else {}), **({"sort[direction]": direction} if direction else {})}


def sorts(ctx: Context) -> st.SearchStrategy[tuple[str | None, str | None]]:
    c = ctx.contract
    return st.tuples(st.sampled_from([None, *c.sort_keys]), st.sampled_from([None, *c.sort_directions]))


def need_items(ctx: Context, n: int = 1) -> Universe:
    universe = ctx.universe()
    if len(universe.items) < n:
        raise Skip(f"the server lists {len(universe.items)} customers; this property needs at least {n}")
    return universe


def after_last(ctx: Context, params: dict[str, str]) -> Callable[[Walk], list[Any]] | None:
    """For walks in the default order: which customers the server lists after the walk's last
    one, asked through ``filter[created_since]`` (``None`` when the walk or contract has no such order)."""
    c = ctx.contract
    if params.get("sort[by]", "created_at") != "created_at" or params.get("sort[direction]", "asc") != "asc" \
            or "created_since" not in c.filters:
        return None

    def probe(result: Walk) -> list[Any]:
        since = result.items[-1].get("created_at")
        last, window = parse_time(since), parse_time(params.get("filter[created_since]"))
        if last is None:
            return []
        if window is not None and window > last:
            since = params["filter[created_since]"]
        reply = ctx.target.get(c.list_path, params={**params, "filter[created_since]": since, "limit": c.limit_max})
        if reply.status != 200:
            return []
        visited = {key_of(i) for i in result.ids}
        return [i.get("id") for i in page_of(ctx.target, reply, limit=c.limit_max, first=True).items
                if key_of(i.get("id")) not in visited]

    return probe


def walk_order(universe: Universe, ids: list[Any] | None, by: str | None, direction: str | None) -> list[Any]:
    """The expected walk order of ``ids`` (all of the universe when ``None``) under a sort."""
    wanted = None if ids is None else {key_of(i) for i in ids}
    items = [i for i in universe.items if wanted is None or key_of(i.get("id")) in wanted]
    by = by or "created_at"
    keyed = [(sort_key(i, by), n, i.get("id")) for n, i in enumerate(items)]
    if any(k is None for k, _, _ in keyed):
        return [i for _, _, i in keyed]
    keyed.sort(key=lambda t: (t[0], t[1]), reverse=direction == "desc")
    return [i for _, _, i in keyed]


def id_sample(universe: Universe, max_size: int = 40) -> st.SearchStrategy[list[Any]]:
    """Distinct ids of the reference collection (shrinks towards the first one alone)."""
    ids = universe.ids
    return st.lists(st.integers(0, len(ids) - 1), min_size=1, max_size=min(max_size, len(ids)),
                    unique=True).map(lambda picks: [ids[i] for i in sorted(picks)])


def ids_param(ids: list[Any]) -> str:
    return ",".join(str(i) for i in ids)
