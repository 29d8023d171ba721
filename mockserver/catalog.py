"""Lists, gets and writes over the dataset plus its overlay: the query engine, pure Python.

A list is the merge of two ordered streams: base customers (computed, never stored,
see :mod:`mockserver.dataset` for why every order can be walked without scanning) and
overlay entries (created or updated customers, in memory), minus base customers the overlay
replaced or deleted. Walks are keyset-based (:class:`~mockserver.pagination.Position`)
and pinned to an overlay version, so concurrent writes never shift a walk.

Flavours translate their own parameters into a :class:`ListQuery` and render the
:class:`Page`; this module knows no HTTP and no platform.
"""

from __future__ import annotations

import builtins
import heapq
import re
import time
from bisect import bisect_left, bisect_right, insort
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from operator import itemgetter
from typing import Any

import orjson

from mockserver.dataset import Dataset, format_timestamp
from mockserver.errors import NotFound
from mockserver.fields import FieldSet, project
from mockserver.pagination import Position
from mockserver.ranking import (
    WALK_BUDGET,
    BaseOrder,
    CreatedOrder,
    NameOrder,
    Residues,
    UpdatedOrder,
    WorkBudget,
    start_for_offset,
)
from mockserver.store import Entry, PinnedState, Store
from mockserver.writer import UPDATE_HORIZON

__all__ = ["SORT_FIELDS", "Catalog", "Filters", "ListQuery", "Page"]

SORT_FIELDS = ("created_at", "updated_at", "name")
MATERIALIZE_LIMIT = 20_000
"""Candidate ranges up to this size are sorted in memory instead of streamed."""
COUNT_SCAN_LIMIT = 200_000
"""Totals that would need more checks than this are reported as unknown (``None``)."""
SIDE_ITEMS_LIMIT = 300_000
"""Overlay entries the per-version, per-query overlay indexes may hold together (per process)."""

_DIGITS = re.compile(r"\D+", re.ASCII)
Item = tuple[tuple[Any, ...], Any]  # (sort key, payload: base index or Entry)


@dataclass(frozen=True)
class OverlaySide:
    """The overlay as one query sees it: what to merge into the base walk, and what to take out of it."""

    live: builtins.list[Item]
    """Overlay entries passing the filters, ascending by sort key."""
    live_keys: builtins.list[tuple[Any, ...]]
    replaced: builtins.list[tuple[Any, ...]]
    """Base keys (ascending) of base customers passing the filters that the overlay replaced or deleted."""
    key_of: dict[int, tuple[Any, ...]]
    """The key of each live entry, by ordinal (to patch the side after writes)."""
    replaced_ordinals: set[int]


_NO_OVERLAY = OverlaySide([], [], [], {}, set())
PATCH_LIMIT = 2_000
"""Customers written since the previous version's overlay index up to which it is patched, not rebuilt."""


@dataclass(frozen=True)
class Filters:
    """Conditions on canonical customers; ``None`` means "no condition"."""

    email: str | None = None
    """Exact, case-insensitive match against any email."""
    phone: str | None = None
    """Digits equal to number, area code + number or country code + area code + number."""
    status: str | None = None
    ids: tuple[str, ...] | None = None
    created_from: int | None = None
    """UNIX seconds, inclusive bounds (as are the three below)."""
    created_to: int | None = None
    updated_from: int | None = None
    updated_to: int | None = None
    name_contains: str | None = None
    """Case-insensitive substring of the name."""

    @property
    def explicit(self) -> bool:
        return self.ids is not None or self.email is not None or self.phone is not None


NO_FILTERS = Filters()


@dataclass(frozen=True)
class ListQuery:
    filters: Filters = field(default_factory=Filters)
    sort: str = "created_at"
    descending: bool = False

    @property
    def signature(self) -> str:
        """Stable text naming filters and order: cursors are only valid for it."""
        f = self.filters
        parts = [self.sort, "d" if self.descending else "a", f.email or "", f.phone or "", f.status or "",
                 ",".join(f.ids) if f.ids is not None else "~", *(str(v) if v is not None else "" for v in (
                     f.created_from, f.created_to, f.updated_from, f.updated_to)), f.name_contains or ""]
        return "|".join(parts)


@dataclass
class Page:
    """One page of a walk. Records are built only when asked for, in dict or JSON form."""

    items: list[int | Entry]
    """Each customer on the page, in order: a base index, or the overlay entry that replaced it."""
    first_key: tuple[Any, ...] | None
    last_key: tuple[Any, ...] | None
    has_next: bool
    has_previous: bool
    total: int | None
    version: int
    dataset: Dataset | None = field(default=None, repr=False, compare=False)

    @cached_property
    def records(self) -> list[dict[str, Any]]:
        """Canonical dicts (shared and cached: do not mutate)."""
        customer = self.dataset.customer if self.dataset is not None else None
        return [item.record or {} if isinstance(item, Entry) else customer(item)  # type: ignore[misc]
                for item in self.items]

    @cached_property
    def ordinals(self) -> list[int]:
        return [item.ordinal if isinstance(item, Entry) else item for item in self.items]

    def records_json(self, fields: FieldSet | None = None) -> list[bytes]:
        """Each record as canonical JSON, projected to ``fields`` when given.

        Equal to ``dumps(project(record, fields))`` for each of :attr:`records`.

        # PERF: base customers are written straight to JSON (``Dataset.customer_json``), so a
        # cold canonical page builds no customer dicts.
        """
        dataset = self.dataset
        written = []
        for item in self.items:
            if isinstance(item, Entry):
                written.append(orjson.dumps(project(item.record or {}, fields)))
            elif fields is None:
                written.append(dataset.customer_json(item))  # type: ignore[union-attr]
            else:
                written.append(dataset.customer_json_fields(item, fields))  # type: ignore[union-attr]
        return written


def _phone_digits(phone: dict[str, Any]) -> tuple[str, ...]:
    number = _DIGITS.sub("", phone.get("number") or "")
    area = _DIGITS.sub("", phone.get("area_code") or "")
    country = _DIGITS.sub("", phone.get("country_code") or "")
    return number, area + number, country + area + number


def entry_matches(entry: Entry, f: Filters) -> bool:
    """Whether a live overlay entry satisfies the filters: :func:`record_matches` on its record, with
    the record parsed only for filters on emails, phones or ids."""
    if entry.text is None:
        return False
    if f.status is not None and entry.status != f.status:
        return False
    if f.created_from is not None and entry.created_ts < f.created_from:
        return False
    if f.created_to is not None and entry.created_ts > f.created_to:
        return False
    if f.updated_from is not None and entry.updated_ts < f.updated_from:
        return False
    if f.updated_to is not None and entry.updated_ts > f.updated_to:
        return False
    if f.name_contains is not None and f.name_contains.lower() not in entry.name.lower():
        return False
    if f.explicit:
        return record_matches(entry.record or {}, entry.created_ts, entry.updated_ts,
                              Filters(email=f.email, phone=f.phone, ids=f.ids))
    return True


def record_matches(record: dict[str, Any], created_ts: int, updated_ts: int, f: Filters) -> bool:
    """Whether a canonical record satisfies the filters (used for overlay entries)."""
    if f.status is not None and record.get("status") != f.status:
        return False
    if f.ids is not None and record.get("id") not in f.ids:
        return False
    if f.created_from is not None and created_ts < f.created_from:
        return False
    if f.created_to is not None and created_ts > f.created_to:
        return False
    if f.updated_from is not None and updated_ts < f.updated_from:
        return False
    if f.updated_to is not None and updated_ts > f.updated_to:
        return False
    if f.name_contains is not None and f.name_contains.lower() not in (record.get("name") or "").lower():
        return False
    if f.email is not None:
        wanted = f.email.strip().lower()
        if not any((e.get("email") or "").lower() == wanted for e in record.get("emails") or ()):
            return False
    if f.phone is not None:
        wanted = _DIGITS.sub("", f.phone)
        if not wanted or not any(wanted in _phone_digits(p) for p in record.get("phone_numbers") or ()):
            return False
    return True


class Catalog:
    """The customers a server holds: base dataset + overlay, with lists, gets and writes.

    Args:
        dataset: the immutable base.
        store: the shared write overlay.
        clock: seconds since the epoch for write timestamps (tests pass a fake).
    """

    def __init__(self, dataset: Dataset, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.dataset = dataset
        self.store = store
        self.clock = clock
        self._sorted_cache: OrderedDict[tuple[Any, ...], list[Item]] = OrderedDict()
        self._offset_marks: OrderedDict[tuple[Any, ...], tuple[Any, ...]] = OrderedDict()
        self._sides: OrderedDict[tuple[Any, ...], OverlaySide] = OrderedDict()
        self._side_items = 0
        self._latest_sides: dict[tuple[Any, ...], tuple[tuple[str, int], OverlaySide]] = {}
        self._name_searches: OrderedDict[str, tuple[Residues, NameOrder | None]] = OrderedDict()
        self.walk_budget = WALK_BUDGET
        """Base customers one list may examine one by one before it ends in ``SearchTooBroad``."""

    # ---- ids --------------------------------------------------------------------

    def ordinal_of(self, customer_id: str, state: Mapping[int, Entry]) -> int | None:
        """The ordinal of a live customer id in ``state``, or ``None``."""
        ordinal = self.dataset.ordinal_of(customer_id)
        if ordinal is None:
            return None
        entry = state.get(ordinal)
        if entry is None:
            return ordinal if ordinal < self.dataset.count else None
        return ordinal if entry.text is not None else None

    def get(self, customer_id: str, version: int | None = None) -> dict[str, Any]:
        """The customer with this id.

        Raises:
            NotFound: no live customer has the id.
        """
        state = self.state(version)
        ordinal = self.ordinal_of(customer_id, state)
        if ordinal is None:
            raise NotFound(f"Could not find customer with id: '{customer_id}'", entity="customer",
                           entity_id=customer_id)
        return self.record(ordinal, state)

    def record(self, ordinal: int, state: Mapping[int, Entry]) -> dict[str, Any]:
        entry = state.get(ordinal)
        record = entry.record if entry is not None else None
        return record if record is not None else self.dataset.customer(ordinal)

    def state(self, version: int | None = None) -> Mapping[int, Entry]:
        latest = self.store.refresh()
        return self.store.state_at(latest if version is None else version)

    def entry_timestamps(self, ordinal: int, state: Mapping[int, Entry]) -> tuple[int, int]:
        entry = state.get(ordinal)
        if entry is not None:
            return entry.created_ts, entry.updated_ts
        return self.dataset.created_of(ordinal), self.dataset.updated_of(ordinal)

    # ---- writes -----------------------------------------------------------------

    def _now(self) -> int:
        return int(self.clock())

    def create(self, fields: dict[str, Any], *, check: Callable[[], None] | None = None) -> dict[str, Any]:
        """Store a new customer from canonical writable fields; returns the full record.

        ``check()`` runs inside the write transaction on the latest state and raises to refuse
        the write: a rule it verifies (a unique email) holds across workers (see ``Store.append``).
        """
        self.store.refresh()
        now = self._now()
        # NOTE: the id derives from the ordinal SQLite allocates inside the write transaction.
        entry = self.store.append(None, lambda ordinal: complete_record(self.dataset.id_of(ordinal), fields, now, now),
                                  now, now, first_new_ordinal=self.dataset.count, check=check)
        return entry.record or {}

    def update(self, customer_id: str, fields: dict[str, Any], *,
               check: Callable[[], None] | None = None) -> dict[str, Any]:
        """Apply canonical writable fields to a customer; returns the full record (``check``: as for create).

        Raises:
            NotFound: no live customer has the id.
        """
        current = self.get(customer_id)
        state = self.store.state_at(self.store.version)
        ordinal = self.ordinal_of(customer_id, state)
        assert ordinal is not None
        created_ts, _ = self.entry_timestamps(ordinal, state)
        now = max(self._now(), created_ts)
        merged = dict(current)
        merged.update(fields)
        if ("first_name" in fields or "last_name" in fields) and "name" not in fields:
            merged["name"] = " ".join(p for p in (merged.get("first_name"), merged.get("last_name")) if p) or None
        # the id the ordinal derives from, never the request's spelling of it
        record = complete_record(self.dataset.id_of(ordinal), merged, created_ts, now)
        entry = self.store.append(ordinal, lambda _: record, created_ts, now, first_new_ordinal=self.dataset.count,
                                  check=check)
        return entry.record or {}

    def delete(self, customer_id: str) -> None:
        """Delete a customer.

        Raises:
            NotFound: no live customer has the id.
        """
        self.get(customer_id)
        state = self.store.state_at(self.store.version)
        ordinal = self.ordinal_of(customer_id, state)
        assert ordinal is not None
        created_ts, updated_ts = self.entry_timestamps(ordinal, state)
        self.store.append(ordinal, lambda _: None, created_ts, updated_ts, first_new_ordinal=self.dataset.count)

    def reset(self) -> None:
        self.store.reset()

    # ---- lists ------------------------------------------------------------------

    def list(self, query: ListQuery, limit: int, position: Position | None = None, *,
             latest: int | None = None) -> Page:
        """One page of ``limit`` customers after (or before) ``position``.

        ``latest`` is the store version the caller has just refreshed to: a page cached under that
        version is then built from exactly that version (and the store is asked once).
        """
        if latest is None:
            latest = self.store.refresh()
        version = latest if position is None else position.version
        state = self.store.state_at(version)
        if not state and query.sort == "created_at" and (position is None or not position.before) \
                and query.filters == NO_FILTERS:
            return self._created_page(query, limit, position, version)
        budget = WorkBudget(self.walk_budget)
        if position is None or not position.before:
            after = position.key if position else None
            items = list(islice(self._walk(query, state, after, False, budget), limit + 1))
            has_next, has_previous = len(items) > limit, position is not None
            items = items[:limit]
        else:
            items = list(islice(self._walk(query, state, position.key, True, budget), limit + 1))
            has_next, has_previous = True, len(items) > limit
            items = items[:limit][::-1]
        return self._page(items, has_next, has_previous, self.total(query, state), version)

    def _created_page(self, query: ListQuery, limit: int, position: Position | None, version: int) -> Page:
        """:meth:`list` forward in created order with no filter and no overlay, without a walk.

        # PERF: the most common list (every plain ``GET /customers`` page): created order is index
        # order, so the page is a range of indexes found one square root away from the cursor.
        """
        ds = self.dataset
        count, created_of = ds.count, ds.created_of
        after = position.key if position is not None else None
        if not query.descending:
            start = 0
            if after is not None:
                start = max(0, ds.first_created_at_or_after(int(after[0])) - 1)
                while start < count and (created_of(start), start) <= after:
                    start += 1
            indexes = range(start, min(count, start + limit + 1))
        else:
            start = count - 1
            if after is not None:
                start = min(count - 1, ds.first_created_at_or_after(int(after[0])))
                while start >= 0 and (created_of(start), start) >= after:
                    start -= 1
            indexes = range(start, max(-1, start - limit - 1), -1)
        items = indexes[:limit]
        first_key = (created_of(items[0]), items[0]) if items else None
        last_key = (created_of(items[-1]), items[-1]) if items else None
        return Page(list(items), first_key, last_key, len(indexes) > limit, position is not None,
                    self.total(query, {}), version, ds)

    def list_at_offset(self, query: ListQuery, offset: int, limit: int) -> Page:
        """One page of ``limit`` customers starting at ``offset`` (for offset-paged flavours)."""
        version = self.store.refresh()
        state = self.store.state_at(version)
        start_key, skip = self._offset_start(query, state, version, offset)
        walk = self._walk(query, state, start_key, False, WorkBudget(self.walk_budget))
        items = list(islice(walk, skip, skip + limit + 1))
        has_next = len(items) > limit
        items = items[:limit]
        if items:
            self._offset_marks[(query.signature, version, offset + len(items))] = items[-1][0]
            if len(self._offset_marks) > 1024:
                self._offset_marks.popitem(last=False)
        return self._page(items, has_next, offset > 0, self.total(query, state), version)

    def _offset_start(self, query: ListQuery, state: Mapping[int, Entry], version: int,
                      offset: int) -> tuple[tuple[Any, ...] | None, int]:
        """A key to resume from and how many items to skip after it to reach ``offset``."""
        if offset == 0:
            return None, 0
        mark = self._offset_marks.get((query.signature, version, offset))
        if mark is not None:
            return mark, 0
        order = self._base_order(query)
        if order is None:
            return None, offset  # walked, within the work budget
        # PERF: counted, not walked: O(log n) base keys plus bisections of the overlay
        side = self._overlay_side(query, state)
        return start_for_offset(order, side.replaced, side.live_keys, offset, query.descending)

    def _base_order(self, query: ListQuery) -> BaseOrder | None:
        """The base customers passing the query's filters, addressable by position (``None``: no
        structure for these filters, the list is walked)."""
        f, ds = query.filters, self.dataset
        by_update = f.updated_from is not None or f.updated_to is not None
        if f.explicit or f.status is not None or by_update and query.sort != "updated_at":
            return None
        lo, hi = self._range(f)
        search = self._name_search(f.name_contains) if f.name_contains is not None else None
        created = CreatedOrder(ds, lo, hi, search[0] if search else None)
        if query.sort == "created_at":
            return created
        if query.sort == "updated_at":
            return UpdatedOrder(created, f.updated_from, f.updated_to)
        if (lo, hi) != (0, ds.count):
            return None
        return NameOrder(ds) if search is None else search[1]

    def _name_search(self, needle: str) -> tuple[Residues, NameOrder]:
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

    def _page(self, items: builtins.list[Item], has_next: bool, has_previous: bool, total: int | None,
              version: int) -> Page:
        return Page([payload for _key, payload in items], items[0][0] if items else None,
                    items[-1][0] if items else None, has_next, has_previous, total, version, self.dataset)

    # ---- ordered walk -----------------------------------------------------------

    def _walk(self, query: ListQuery, state: Mapping[int, Entry], after: tuple[Any, ...] | None,
              reverse: bool, budget: WorkBudget) -> Iterator[Item]:
        """Items strictly after ``after`` in the query's order (``reverse`` walks backwards)."""
        descending = query.descending != reverse
        base = self._base_items(query, state, after, descending, budget)
        overlay = self._overlay_items(query, state, after, descending)
        if overlay is None:
            return base
        return heapq.merge(base, overlay, key=itemgetter(0), reverse=descending)

    def _overlay_items(self, query: ListQuery, state: Mapping[int, Entry], after: tuple[Any, ...] | None,
                       descending: bool) -> Iterator[Item] | None:
        """Overlay entries strictly after ``after`` in walk order (``None`` if there are none)."""
        if not state:
            return None
        side = self._overlay_side(query, state)
        live = side.live
        if not descending:
            start = 0 if after is None else bisect_right(side.live_keys, after)
            return islice(live, start, None) if start < len(live) else None
        stop = len(live) if after is None else bisect_left(side.live_keys, after)
        return (live[j] for j in range(stop - 1, -1, -1)) if stop > 0 else None

    def _overlay_side(self, query: ListQuery, state: Mapping[int, Entry]) -> OverlaySide:
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
        f, sort, count = query.filters, query.sort, self.dataset.count
        lo, hi = self._range(f)
        predicate = self._base_predicate(f)
        live: builtins.list[Item] = []
        replaced = []
        replaced_ordinals = set()
        for ordinal, entry in state.items():
            if ordinal < count and lo <= ordinal < hi and (predicate is None or predicate(ordinal)):
                replaced.append(self._base_key(sort, ordinal))
                replaced_ordinals.add(ordinal)
            if entry_matches(entry, f):
                live.append((self._entry_key(sort, entry), entry))
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
        f, sort, count = query.filters, query.sort, self.dataset.count
        lo, hi = self._range(f)
        predicate = self._base_predicate(f)
        live, keys, replaced = builtins.list(old.live), builtins.list(old.live_keys), builtins.list(old.replaced)
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
                key = self._entry_key(sort, entry)
                at = bisect_left(keys, key)
                keys.insert(at, key)
                live.insert(at, (key, entry))
                key_of[ordinal] = key
            if ordinal < count and ordinal not in replaced_ordinals and lo <= ordinal < hi and (
                    predicate is None or predicate(ordinal)):
                insort(replaced, self._base_key(sort, ordinal))
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

    @staticmethod
    def _entry_key(sort: str, entry: Entry) -> tuple[Any, ...]:
        if sort == "created_at":
            return (entry.created_ts, entry.ordinal)
        if sort == "updated_at":
            return (entry.updated_ts, entry.ordinal)
        return (entry.name, entry.ordinal)

    def _base_key(self, sort: str, i: int) -> tuple[Any, ...]:
        ds = self.dataset
        if sort == "created_at":
            return (ds.created_of(i), i)
        if sort == "updated_at":
            return (ds.updated_of(i), i)
        return (ds.name_of(i), i)

    def _range(self, f: Filters) -> tuple[int, int]:
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

    def _base_predicate(self, f: Filters) -> Callable[[int], bool] | None:
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

    def _explicit_candidates(self, f: Filters) -> set[int]:
        ds = self.dataset
        sets: list[set[int]] = []
        if f.ids is not None:
            sets.append({i for i in map(ds.index_of, f.ids) if i is not None})
        if f.email is not None:
            sets.append(set(ds.indexes_for_email(f.email)))
        if f.phone is not None:
            sets.append(set(ds.indexes_for_phone(f.phone)))
        return set.intersection(*sets)

    def _base_items(self, query: ListQuery, state: Mapping[int, Entry], after: tuple[Any, ...] | None,
                    descending: bool, budget: WorkBudget) -> Iterator[Item]:
        f, sort = query.filters, query.sort
        lo, hi = self._range(f)
        predicate = self._base_predicate(f)
        if f.explicit or hi - lo <= MATERIALIZE_LIMIT:
            items = self._sorted_candidates(query, lo, hi, predicate)
            return self._from_sorted(items, state, after, descending)
        # PERF: a name search walks only the customers of matching name combinations
        search = self._name_search(f.name_contains) if f.name_contains is not None else None
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
                           predicate: Callable[[int], bool] | None) -> builtins.list[Item]:
        cache_key = (query.filters, query.sort, lo, hi)
        items = self._sorted_cache.get(cache_key)
        if items is None:
            f = query.filters
            if f.explicit:
                candidates: Iterable[int] = sorted(i for i in self._explicit_candidates(f) if lo <= i < hi)
            else:
                candidates = range(lo, hi)
            if predicate is not None:
                candidates = filter(predicate, candidates)
            items = [(self._base_key(query.sort, i), i) for i in candidates]
            items.sort(key=lambda item: item[0])
            self._sorted_cache[cache_key] = items
            if len(self._sorted_cache) > 32:
                self._sorted_cache.popitem(last=False)
        else:
            self._sorted_cache.move_to_end(cache_key)
        return items

    @staticmethod
    def _from_sorted(items: builtins.list[Item], state: Mapping[int, Entry], after: tuple[Any, ...] | None,
                     descending: bool) -> Iterator[Item]:
        from bisect import bisect_left, bisect_right

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
        key_of = self._base_key
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
        heap: builtins.list[tuple[int, int]] = []
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

    # ---- totals -----------------------------------------------------------------

    def total(self, query: ListQuery, state: Mapping[int, Entry]) -> int | None:
        """How many customers match the filters (``None`` if counting is too costly)."""
        base = self._base_total(query.filters)
        if base is None or not state:
            return base
        side = self._overlay_side(query, state)
        return base - len(side.replaced) + len(side.live)

    def _base_total(self, f: Filters) -> int | None:
        ds = self.dataset
        lo, hi = self._range(f)
        predicate = self._base_predicate(f)
        if f.explicit:
            return sum(1 for i in self._explicit_candidates(f) if lo <= i < hi and (predicate is None or predicate(i)))
        if f.name_contains is not None and f.status is None:  # PERF: counted, not scanned
            residues = self._name_search(f.name_contains)[0]
            if f.updated_from is None and f.updated_to is None:
                return residues.count_below(hi) - residues.count_below(lo)
            return UpdatedOrder(CreatedOrder(ds, lo, hi, residues), f.updated_from, f.updated_to).size
        if f.name_contains is not None:
            if hi - lo > COUNT_SCAN_LIMIT:
                return None
            return sum(1 for i in range(lo, hi) if predicate is None or predicate(i))
        # only status and time windows: arithmetic, plus the edges of the update window
        edge_lo, edge_hi = lo, hi
        checked = 0
        if f.updated_from is not None:
            edge_lo = min(hi, max(lo, ds.first_created_at_or_after(f.updated_from)))
            checked += sum(1 for i in range(lo, edge_lo) if predicate is None or predicate(i))
        if f.updated_to is not None:
            # created_of(i + horizon) <= updated_to guarantees updated_of(i) <= updated_to
            edge_hi = max(edge_lo, min(edge_hi, ds.first_created_at_or_after(f.updated_to + 1) - UPDATE_HORIZON))
            checked += sum(1 for i in range(edge_hi, hi) if predicate is None or predicate(i))
        span = edge_hi - edge_lo
        if f.status is not None:
            archived = ds.count_archived(edge_lo, edge_hi)
            span = archived if f.status == "archived" else span - archived
        return span + checked


def complete_record(customer_id: str, fields: dict[str, Any], created_ts: int, updated_ts: int) -> dict[str, Any]:
    """A full canonical record from writable fields: every key present, sub-ids filled in."""
    first, last = fields.get("first_name"), fields.get("last_name")
    name = fields.get("name") or (" ".join(p for p in (first, last) if p) or None)

    def with_ids(items: Any, tag: str) -> list[dict[str, Any]]:
        out = []
        for n, item in enumerate(items or (), start=1):
            item = dict(item)
            if not item.get("id"):
                item["id"] = f"{customer_id}-{tag}{n}"
            out.append(item)
        return out

    def complete(items: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
        return [{k: item.get(k) for k in keys} for item in items]

    return {
        "id": customer_id,
        "name": name,
        "first_name": first,
        "last_name": last,
        "company_name": fields.get("company_name"),
        "status": fields.get("status") or "active",
        "currency": fields.get("currency"),
        "emails": complete(with_ids(fields.get("emails"), "e"), ("id", "email", "type")),
        "phone_numbers": complete(with_ids(fields.get("phone_numbers"), "p"),
                                  ("id", "country_code", "area_code", "number", "extension", "type")),
        "addresses": complete(with_ids(fields.get("addresses"), "a"),
                              ("id", "type", "line1", "line2", "city", "state", "postal_code", "country")),
        "orders": complete(with_ids(fields.get("orders"), "o"), ("id", "total", "status")),
        "notes": fields.get("notes"),
        "created_at": format_timestamp(created_ts),
        "updated_at": format_timestamp(updated_ts),
    }
