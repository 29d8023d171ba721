"""Base customers in any list order, computed, never stored: the walks under every list.

Every order is walked from the dataset's structure (see :mod:`mockserver.dataset`): created order
is index order, updated order looks at most ``UPDATE_HORIZON`` customers ahead, name order visits
name combinations in order. Small candidate ranges are sorted in memory instead. The overlay
(:mod:`mockserver.overlay`) is merged in by :class:`mockserver.catalog.Catalog`.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

from mockserver.dataset import Dataset
from mockserver.query import Filters, Item, ListQuery, record_matches
from mockserver.ranking import NameOrder, Residues, WorkBudget
from mockserver.store import Entry
from mockserver.writer import UPDATE_HORIZON

__all__ = ["MATERIALIZE_LIMIT", "BaseWalks"]

MATERIALIZE_LIMIT = 20_000
"""Candidate ranges up to this size are sorted in memory instead of streamed."""


class BaseWalks:
    """Keys, filters and ordered walks of one dataset's base customers, with their per-process caches."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self._sorted_cache: OrderedDict[tuple[Any, ...], list[Item]] = OrderedDict()
        self._name_searches: OrderedDict[str, tuple[Residues, NameOrder | None]] = OrderedDict()

    def name_search(self, needle: str) -> tuple[Residues, NameOrder]:
        """The base customers whose name contains ``needle``: as index residues and in name order."""
        key = needle.lower()
        found = self._name_searches.get(key)
        if found is None:
            ds = self.dataset
            combos = ds.combos_matching(key)
            residues = Residues(sorted(ds.first_index_in_combo(c) for c in combos), ds.combos)
            found = (residues, NameOrder(ds, combos))
            self._name_searches[key] = found
            if len(self._name_searches) > 16:
                self._name_searches.popitem(last=False)
        else:
            self._name_searches.move_to_end(key)
        return found  # type: ignore[return-value]

    def key(self, sort: str, i: int) -> tuple[Any, ...]:
        ds = self.dataset
        if sort == "created_at":
            return (ds.created_of(i), i)
        if sort == "updated_at":
            return (ds.updated_of(i), i)
        return (ds.name_of(i), i)

    def index_range(self, f: Filters) -> tuple[int, int]:
        """Base indexes ``lo <= i < hi`` that can satisfy the time filters."""
        ds = self.dataset
        lo, hi = 0, ds.count
        if f.created_from is not None:
            lo = max(lo, ds.first_created_at_or_after(f.created_from))
        if f.updated_from is not None:
            lo = max(lo, ds.first_created_at_or_after(f.updated_from) - UPDATE_HORIZON)
        if f.created_to is not None:
            hi = min(hi, ds.first_created_at_or_after(f.created_to + 1))
        if f.updated_to is not None:
            hi = min(hi, ds.first_created_at_or_after(f.updated_to + 1))
        return lo, max(lo, hi)

    def predicate(self, f: Filters) -> Callable[[int], bool] | None:
        """The filters :meth:`index_range` leaves to check, as a test of a base index (``None``: none)."""
        ds = self.dataset
        checks: list[Callable[[int], bool]] = []
        if f.status is not None:
            status = f.status
            checks.append(lambda i: ds.status_of(i) == status)
        if f.updated_from is not None or f.updated_to is not None:
            lo_u = f.updated_from if f.updated_from is not None else -(1 << 62)
            hi_u = f.updated_to if f.updated_to is not None else 1 << 62
            checks.append(lambda i: lo_u <= ds.updated_of(i) <= hi_u)
        if f.name_contains is not None:
            needle = f.name_contains.lower()
            checks.append(lambda i: needle in ds.name_of(i).lower())
        if f.explicit:
            checks.append(lambda i: record_matches(ds.customer(i), 0, 0, Filters(
                email=f.email, phone=f.phone, ids=f.ids)))
        if not checks:
            return None
        if len(checks) == 1:
            return checks[0]
        return lambda i: all(check(i) for check in checks)

    def explicit_candidates(self, f: Filters) -> set[int]:
        ds = self.dataset
        sets: list[set[int]] = []
        if f.ids is not None:
            sets.append({i for i in map(ds.index_of, f.ids) if i is not None})
        if f.email is not None:
            sets.append(set(ds.indexes_for_email(f.email)))
        if f.phone is not None:
            sets.append(set(ds.indexes_for_phone(f.phone)))
        return set.intersection(*sets)

    def items(self, query: ListQuery, state: Mapping[int, Entry], after: tuple[Any, ...] | None,
              descending: bool, budget: WorkBudget) -> Iterator[Item]:
        """Base customers passing the query's filters and not in ``state``, strictly after ``after``."""
        f, sort = query.filters, query.sort
        lo, hi = self.index_range(f)
        predicate = self.predicate(f)
        if f.explicit or hi - lo <= MATERIALIZE_LIMIT:
            items = self._sorted_candidates(query, lo, hi, predicate)
            return self._from_sorted(items, state, after, descending)
        # PERF: a name search walks only the customers of matching name combinations
        search = self.name_search(f.name_contains) if f.name_contains is not None else None
        if search is not None and not search[0].residues:
            return iter(())
        residues = search[0] if search is not None else None
        if sort == "created_at":
            indexes: Iterable[int] = self._created_indexes(lo, hi, after, descending, residues)
        elif sort == "updated_at":
            indexes = self._updated_indexes(lo, hi, after, descending, residues)
        else:
            combos = search[1].combos if search is not None else None
            indexes = self._name_indexes(lo, hi, after, descending, combos, budget)
        return self._keyed(sort, indexes, state, predicate, after, descending, budget)

    def _sorted_candidates(self, query: ListQuery, lo: int, hi: int,
                           predicate: Callable[[int], bool] | None) -> list[Item]:
        cache_key = (query.filters, query.sort, lo, hi)
        items = self._sorted_cache.get(cache_key)
        if items is None:
            f = query.filters
            if f.explicit:
                candidates: Iterable[int] = sorted(i for i in self.explicit_candidates(f) if lo <= i < hi)
            else:
                candidates = range(lo, hi)
            if predicate is not None:
                candidates = filter(predicate, candidates)
            items = [(self.key(query.sort, i), i) for i in candidates]
            items.sort(key=lambda item: item[0])
            self._sorted_cache[cache_key] = items
            if len(self._sorted_cache) > 32:
                self._sorted_cache.popitem(last=False)
        else:
            self._sorted_cache.move_to_end(cache_key)
        return items

    @staticmethod
    def _from_sorted(items: list[Item], state: Mapping[int, Entry], after: tuple[Any, ...] | None,
                     descending: bool) -> Iterator[Item]:
        keys = [item[0] for item in items] if after is not None else []
        if not descending:
            start = 0 if after is None else bisect_right(keys, after)
            seq: Iterable[Item] = islice(items, start, None)
        else:
            stop = len(items) if after is None else bisect_left(keys, after)
            seq = (items[j] for j in range(stop - 1, -1, -1))
        return (item for item in seq if item[1] not in state)

    def _keyed(self, sort: str, indexes: Iterable[int], state: Mapping[int, Entry],
               predicate: Callable[[int], bool] | None, after: tuple[Any, ...] | None,
               descending: bool, budget: WorkBudget) -> Iterator[Item]:
        key_of = self.key
        examined = 0
        for i in indexes:
            examined += 1
            if examined == 4096:  # PERF: the budget is checked in chunks, not per customer
                budget.spend(examined)
                examined = 0
            if i in state or (predicate is not None and not predicate(i)):
                continue
            key = key_of(sort, i)
            if after is not None and (key >= after if descending else key <= after):
                continue
            yield key, i

    @staticmethod
    def _span(lo: int, hi: int, descending: bool, residues: Residues | None) -> Iterable[int]:
        """Indexes ``lo <= i < hi`` (only those in ``residues`` if given) ascending, or descending."""
        if residues is None:
            return range(hi - 1, lo - 1, -1) if descending else range(lo, hi)
        first, stop = residues.count_below(lo), residues.count_below(hi)
        return map(residues.nth, range(stop - 1, first - 1, -1) if descending else range(first, stop))

    def _created_indexes(self, lo: int, hi: int, after: tuple[Any, ...] | None, descending: bool,
                         residues: Residues | None = None) -> Iterable[int]:
        ds = self.dataset
        if after is not None:
            # created_of is strictly increasing, so the key's position is one square root away
            j = ds.first_created_at_or_after(int(after[0]))
            if descending:
                hi = min(hi, j + 1)
            else:
                lo = max(lo, j - 1)
        return self._span(lo, hi, descending, residues)

    def _updated_indexes(self, lo: int, hi: int, after: tuple[Any, ...] | None, descending: bool,
                         residues: Residues | None = None) -> Iterator[int]:
        """Indexes in (updated_at, index) order using the bounded update lag.

        Candidates come in created order; one is held back until no later candidate can sort before
        it (a later one is updated no earlier than it was created).
        """
        ds = self.dataset
        updated_of, created_of = ds.updated_of, ds.created_of
        heap: list[tuple[int, int]] = []
        if not descending:
            if after is not None:
                lo = max(lo, ds.first_created_at_or_after(int(after[0])) - UPDATE_HORIZON)
            for i in self._span(lo, hi, False, residues):
                bound = created_of(i)
                while heap and heap[0][0] <= bound:
                    yield heapq.heappop(heap)[1]
                heapq.heappush(heap, (updated_of(i), i))
            while heap:
                yield heapq.heappop(heap)[1]
        else:
            if after is not None:
                hi = min(hi, ds.first_created_at_or_after(int(after[0]) + 1))
            for i in self._span(lo, hi, True, residues):
                bound = created_of(i + UPDATE_HORIZON)
                while heap and -heap[0][0] >= bound:
                    yield -heapq.heappop(heap)[1]
                heapq.heappush(heap, (-updated_of(i), -i))
            while heap:
                yield -heapq.heappop(heap)[1]

    def _name_indexes(self, lo: int, hi: int, after: tuple[Any, ...] | None, descending: bool,
                      combos: Sequence[int] | None, budget: WorkBudget) -> Iterator[int]:
        """Indexes in name order: of every combination, or of the ascending ``combos`` given."""
        ds = self.dataset
        if after is None:
            start = ds.combos - 1 if descending else 0
        else:
            start = ds.combo_at_or_after(after[0])
            # walking down, the combination equal to the key still holds smaller indexes
            if descending and not (start < ds.combos and ds.combo_name(start) == after[0]):
                start -= 1
        if combos is None:
            indexes = ds.indexes_by_name(start, reverse=descending)
        elif descending:
            at = bisect_right(combos, start)  # combos[:at] are at or before the start
            indexes = ds.indexes_of_combos(combos[at - 1::-1] if at else [], reverse=True)
        else:
            indexes = ds.indexes_of_combos(combos[bisect_left(combos, start):])
        skipped = 0
        for i in indexes:
            if lo <= i < hi:
                yield i
            else:
                skipped += 1
                if skipped == 4096:
                    budget.spend(skipped)
                    skipped = 0
