"""Positions in a sorted list without walking to them: what makes every offset answer in bounded work.

Base side: the base customers passing a filter, in one sort, addressed by position (``key_at``) in
O(log n) or O(``UPDATE_HORIZON``) from the dataset's structure (see :mod:`mockserver.dataset`):

* created order is index order (:class:`CreatedOrder`);
* name order visits combinations in order, each an arithmetic progression of indexes: a prefix table
  of combination sizes finds the combination holding a position (:class:`NameOrder`);
* updated order moves each customer at most ``UPDATE_HORIZON`` places from created order, so the
  customer at position ``p`` is among indexes ``p +- UPDATE_HORIZON`` (:class:`UpdatedOrder`);
* a name search keeps the indexes whose residue modulo the number of combinations names a matching
  combination (:class:`Residues`): counting and addressing them is arithmetic on a sorted list.

Overlay side: the written customers passing the filter, sorted, and the base keys of the base
customers they replaced or deleted. A merged position is "base position + overlay entries before -
replaced before", so :func:`start_for_offset` finds where offset ``N`` starts by a binary search over
base positions: O(log n) keys, never the ``N`` customers before it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from typing import Any, Protocol

from mockserver.dataset import Dataset
from mockserver.errors import SearchTooBroad
from mockserver.writer import UPDATE_HORIZON

__all__ = ["WALK_BUDGET", "BaseOrder", "CreatedOrder", "NameOrder", "Residues", "UpdatedOrder", "WorkBudget",
           "start_for_offset"]

Key = tuple[Any, ...]

WALK_BUDGET = 200_000
"""Base customers one list request may examine one by one (walks the structures cannot skip)."""


class WorkBudget:
    """Counts the customers a request examines one by one and stops it past ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.spent = 0

    def spend(self, amount: int = 1) -> None:
        self.spent += amount
        if self.spent > self.limit:
            raise SearchTooBroad(
                f"This search would examine more than {self.limit:,} customers. Narrow it: a longer "
                "name or keyword, a date range, an exact email or id, or a smaller offset.")


class BaseOrder(Protocol):
    """Base customers passing a filter, in ascending sort order, addressed by position."""

    size: int

    def key_at(self, position: int) -> Key:
        """The sort key ``(value, index)`` of the customer at ``0 <= position < size``."""
        ...


class Residues:
    """Indexes ``i`` with ``i % modulus`` in a sorted residue list: the customers of some name combinations."""

    def __init__(self, residues: Sequence[int], modulus: int) -> None:
        self.residues = residues
        self.modulus = modulus

    def count_below(self, n: int) -> int:
        """How many such indexes are ``< n``."""
        if n <= 0:
            return 0
        full, rest = divmod(n, self.modulus)
        return full * len(self.residues) + bisect_left(self.residues, rest)

    def nth(self, rank: int) -> int:
        """The ``rank``-th such index (0-based)."""
        full, rest = divmod(rank, len(self.residues))
        return full * self.modulus + self.residues[rest]


class CreatedOrder:
    """Indexes ``lo <= i < hi`` (optionally only those in ``residues``) in created order."""

    def __init__(self, dataset: Dataset, lo: int, hi: int, residues: Residues | None = None) -> None:
        self.dataset = dataset
        self.lo = lo
        self.residues = residues
        if residues is None:
            self.first_rank, self.size = 0, hi - lo
        else:
            self.first_rank = residues.count_below(lo)
            self.size = residues.count_below(hi) - self.first_rank

    def index_at(self, position: int) -> int:
        if self.residues is None:
            return self.lo + position
        return self.residues.nth(self.first_rank + position)

    def key_at(self, position: int) -> Key:
        i = self.index_at(position)
        return (self.dataset.created_of(i), i)


class NameOrder:
    """Every base customer (or those of the ``combos`` given, ascending) in name order."""

    def __init__(self, dataset: Dataset, combos: Sequence[int] | None = None) -> None:
        self.dataset = dataset
        self.combos = combos
        if combos is None:
            self.prefix = dataset.combo_sizes_prefix()
        else:
            count, every = dataset.count, dataset.combos
            full, rest = divmod(count, every)
            prefix = [0]
            for combo in combos:
                prefix.append(prefix[-1] + full + (1 if dataset.first_index_in_combo(combo) < rest else 0))
            self.prefix = prefix
        self.size = self.prefix[-1]

    def key_at(self, position: int) -> Key:
        slot = bisect_right(self.prefix, position) - 1
        combo = slot if self.combos is None else self.combos[slot]
        ds = self.dataset
        i = ds.first_index_in_combo(combo) + (position - self.prefix[slot]) * ds.combos
        return (ds.combo_name(combo), i)


class UpdatedOrder:
    """The customers of a :class:`CreatedOrder` in updated order, optionally only those updated
    within ``[updated_from, updated_to]`` (a contiguous block of that order).

    A customer is updated at most ``UPDATE_HORIZON`` indexes after it was created, so its place in
    updated order is within ``UPDATE_HORIZON + 1`` of its place in created order: both directions
    of the translation look at a window of that size, never further.
    """

    def __init__(self, created: CreatedOrder, updated_from: int | None = None,
                 updated_to: int | None = None) -> None:
        self.dataset = created.dataset
        self.created = created
        self.first = 0 if updated_from is None else self.rank_below((updated_from, -1))
        stop = created.size if updated_to is None else self.rank_below((updated_to + 1, -1))
        self.size = max(0, stop - self.first)

    def _created_rank(self, index: int) -> int:
        """How many customers of the created order have an index below ``index``."""
        created = self.created
        if created.residues is None:
            return min(max(index - created.lo, 0), created.size)
        return min(max(created.residues.count_below(index) - created.first_rank, 0), created.size)

    def rank_below(self, key: Key) -> int:
        """How many customers sort strictly before ``key`` in updated order, in O(``UPDATE_HORIZON``).

        Every customer created more than the horizon before the first one created at ``key``'s time
        sorts before it; every one created after that time sorts after it (it was updated no earlier
        than it was created): only the few between are compared.
        """
        ds = self.dataset
        seconds = key[0]
        start = self._created_rank(ds.first_created_at_or_after(seconds) - UPDATE_HORIZON)
        past = self._created_rank(ds.first_created_at_or_after(seconds + 1))
        index_at, updated_of = self.created.index_at, ds.updated_of
        return start + sum(1 for r in range(start, past) if (updated_of(i := index_at(r)), i) < key)

    def key_at(self, position: int) -> Key:
        ds, created = self.dataset, self.created
        position += self.first
        window = sorted((ds.updated_of(i), i) for i in map(created.index_at, range(
            max(0, position - UPDATE_HORIZON - 1), min(created.size, position + UPDATE_HORIZON + 2))))
        lo, hi = 0, len(window) - 1
        while lo < hi:  # ranks grow along the sorted window: find the one equal to ``position``
            mid = (lo + hi + 1) // 2
            if self.rank_below(window[mid]) <= position:
                lo = mid
            else:
                hi = mid - 1
        return window[lo]


def start_for_offset(order: BaseOrder, replaced: Sequence[Key], live: Sequence[Key], offset: int,
                     descending: bool) -> tuple[Key | None, int]:
    """Where the merged list's item at ``offset`` is: a key to walk strictly after, and how many
    items to skip after it (at most the overlay entries between two base customers).

    ``replaced`` are the (ascending) base keys of base customers the overlay replaced or deleted that
    pass the filter; ``live`` the (ascending) keys of overlay entries that pass it.
    """
    n = order.size
    if offset <= 0 or n == 0:
        return None, max(offset, 0)

    def merged_through(p: int) -> tuple[int, Key]:
        """Items of the merged list at or before (in walk order) base position ``p``, and its key."""
        if not descending:
            key = order.key_at(p)
            return p + 1 - bisect_right(replaced, key) + bisect_right(live, key), key
        key = order.key_at(n - 1 - p)
        return p + 1 - (len(replaced) - bisect_left(replaced, key)) + (len(live) - bisect_left(live, key)), key

    # merged_through(p) lies in [p + 1 - len(replaced), p + 1 + len(live)]: that bounds the search
    lo = min(n - 1, max(0, offset - len(live) - 1))
    hi = min(n - 1, offset + len(replaced))
    through, key = merged_through(lo)
    if through > offset:
        return None, offset
    while lo < hi:  # the last base position with at most ``offset`` merged items through it
        mid = (lo + hi + 1) // 2
        mid_through, mid_key = merged_through(mid)
        if mid_through <= offset:
            lo, through, key = mid, mid_through, mid_key
        else:
            hi = mid - 1
    return key, offset - through
