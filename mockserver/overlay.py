"""The overlay (created, updated and deleted customers) as each list query sees it.

For a store version and a query, an :class:`OverlaySide` holds the live overlay entries passing the
filters in sort order, and the keys of the base customers the overlay replaced or deleted; the
catalog merges the first into its walk of the base and leaves the second out of it. Sides are
built once per version and query, and the latest version's side is patched after a few writes
rather than rebuilt.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from operator import itemgetter
from typing import Any

from mockserver.query import Item, ListQuery, entry_matches
from mockserver.store import Entry, PinnedState, Store
from mockserver.walks import BaseWalks

__all__ = ["PATCH_LIMIT", "SIDE_ITEMS_LIMIT", "OverlayIndex", "OverlaySide", "entry_key"]

SIDE_ITEMS_LIMIT = 300_000
"""Overlay entries the per-version, per-query overlay indexes may hold together (per process)."""
PATCH_LIMIT = 2_000
"""Customers written since the previous version's overlay index up to which it is patched, not rebuilt."""


@dataclass(frozen=True)
class OverlaySide:
    """The overlay as one query sees it: what to merge into the base walk, and what to take out of it."""

    live: list[Item]
    """Overlay entries passing the filters, ascending by sort key."""
    live_keys: list[tuple[Any, ...]]
    replaced: list[tuple[Any, ...]]
    """Base keys (ascending) of base customers passing the filters that the overlay replaced or deleted."""
    key_of: dict[int, tuple[Any, ...]]
    """The key of each live entry, by ordinal (to patch the side after writes)."""
    replaced_ordinals: set[int]


_NO_OVERLAY = OverlaySide([], [], [], {}, set())


def entry_key(sort: str, entry: Entry) -> tuple[Any, ...]:
    if sort == "created_at":
        return (entry.created_ts, entry.ordinal)
    if sort == "updated_at":
        return (entry.updated_ts, entry.ordinal)
    return (entry.name, entry.ordinal)


class OverlayIndex:
    """The :class:`OverlaySide` of each (store version, query), cached per process."""

    def __init__(self, store: Store, walks: BaseWalks) -> None:
        self.store = store
        self.walks = walks
        self._sides: OrderedDict[tuple[Any, ...], OverlaySide] = OrderedDict()
        self._side_items = 0
        self._latest_sides: dict[tuple[Any, ...], tuple[tuple[str, int], OverlaySide]] = {}

    def items(self, query: ListQuery, state: Mapping[int, Entry], after: tuple[Any, ...] | None,
              descending: bool) -> Iterator[Item] | None:
        """Overlay entries strictly after ``after`` in walk order (``None`` if there are none)."""
        if not state:
            return None
        side = self.side(query, state)
        live = side.live
        if not descending:
            start = 0 if after is None else bisect_right(side.live_keys, after)
            return islice(live, start, None) if start < len(live) else None
        stop = len(live) if after is None else bisect_left(side.live_keys, after)
        return (live[j] for j in range(stop - 1, -1, -1)) if stop > 0 else None

    def side(self, query: ListQuery, state: Mapping[int, Entry]) -> OverlaySide:
        """The overlay sorted and filtered for ``query``: built once per store version and query.

        # PERF: every list used to filter and sort the whole overlay; now a page costs bisections.
        """
        if not state:
            return _NO_OVERLAY
        stamp = self._state_stamp(state)
        cache_key = (stamp, query.filters, query.sort)
        side = self._sides.get(cache_key) if stamp is not None else None
        if side is not None:
            self._sides.move_to_end(cache_key)
            return side
        if stamp is not None and state is self.store.latest:
            side = self._patched_side(query, state, stamp)
            if side is None:
                side = self._built_side(query, state)
            self._latest_sides[(query.filters, query.sort)] = (stamp, side)
            if len(self._latest_sides) > 8:
                self._latest_sides.pop(next(iter(self._latest_sides)))
        else:
            side = self._built_side(query, state)
        if stamp is not None:
            self._sides[cache_key] = side
            self._side_items += len(side.live) + len(side.replaced)
            while len(self._sides) > 32 or self._side_items > SIDE_ITEMS_LIMIT and len(self._sides) > 1:
                _, dropped = self._sides.popitem(last=False)
                self._side_items -= len(dropped.live) + len(dropped.replaced)
        return side

    def _built_side(self, query: ListQuery, state: Mapping[int, Entry]) -> OverlaySide:
        walks = self.walks
        f, sort, count = query.filters, query.sort, walks.dataset.count
        lo, hi = walks.index_range(f)
        predicate = walks.predicate(f)
        live: list[Item] = []
        replaced = []
        replaced_ordinals = set()
        for ordinal, entry in state.items():
            if ordinal < count and lo <= ordinal < hi and (predicate is None or predicate(ordinal)):
                replaced.append(walks.key(sort, ordinal))
                replaced_ordinals.add(ordinal)
            if entry_matches(entry, f):
                live.append((entry_key(sort, entry), entry))
        live.sort(key=itemgetter(0))
        replaced.sort()
        return OverlaySide(live, [key for key, _ in live], replaced, {e.ordinal: key for key, e in live},
                           replaced_ordinals)

    def _patched_side(self, query: ListQuery, state: Mapping[int, Entry],
                      stamp: tuple[str, int]) -> OverlaySide | None:
        """The previous latest version's side with the customers written since moved (``None``: rebuild).

        # PERF: a write used to cost the next list of every worker a sort of the whole overlay.
        """
        previous = self._latest_sides.get((query.filters, query.sort))
        if previous is None or previous[0][0] != stamp[0] or previous[0][1] >= stamp[1]:
            return None
        changed = self.store.changed_since(previous[0][1])
        if changed is None or len(changed) > PATCH_LIMIT:
            return None
        old = previous[1]
        walks = self.walks
        f, sort, count = query.filters, query.sort, walks.dataset.count
        lo, hi = walks.index_range(f)
        predicate = walks.predicate(f)
        live, keys, replaced = list(old.live), list(old.live_keys), list(old.replaced)
        key_of, replaced_ordinals = dict(old.key_of), set(old.replaced_ordinals)
        for ordinal in changed:
            gone = key_of.pop(ordinal, None)
            if gone is not None:
                at = bisect_left(keys, gone)
                del keys[at], live[at]
            entry = state.get(ordinal)
            if entry is None:
                continue
            if entry_matches(entry, f):
                key = entry_key(sort, entry)
                at = bisect_left(keys, key)
                keys.insert(at, key)
                live.insert(at, (key, entry))
                key_of[ordinal] = key
            if ordinal < count and ordinal not in replaced_ordinals and lo <= ordinal < hi and (
                    predicate is None or predicate(ordinal)):
                insort(replaced, walks.key(sort, ordinal))
                replaced_ordinals.add(ordinal)
        return OverlaySide(live, keys, replaced, key_of, replaced_ordinals)

    def _state_stamp(self, state: Mapping[int, Entry]) -> tuple[str, int] | None:
        """What identifies an overlay state for caching (``None``: a state the store did not give)."""
        store = self.store
        if state is store.latest:
            return store.generation, store.version
        if isinstance(state, PinnedState):
            return store.generation, state.version
        return None
