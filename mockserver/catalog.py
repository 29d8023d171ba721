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
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from itertools import islice
from operator import itemgetter
from typing import Any

from mockserver.dataset import Dataset, format_timestamp
from mockserver.errors import NotFound
from mockserver.overlay import OverlayIndex, OverlaySide
from mockserver.pagination import Position
from mockserver.query import (
    NO_FILTERS,
    SORT_FIELDS,
    Filters,
    Item,
    ListQuery,
    Page,
    entry_matches,
    record_matches,
)
from mockserver.ranking import (
    WALK_BUDGET,
    BaseOrder,
    CreatedOrder,
    NameOrder,
    UpdatedOrder,
    WorkBudget,
    start_for_offset,
)
from mockserver.store import Entry, Store
from mockserver.walks import BaseWalks
from mockserver.writer import UPDATE_HORIZON

# NOTE: the query types live in mockserver.query, the base walks in mockserver.walks and the overlay
# in mockserver.overlay; they are exported here too, where flavours have always imported them.
__all__ = ["NO_FILTERS", "SORT_FIELDS", "Catalog", "Filters", "ListQuery", "OverlaySide", "Page", "complete_record",
           "entry_matches", "record_matches"]

COUNT_SCAN_LIMIT = 200_000
"""Totals that would need more checks than this are reported as unknown (``None``)."""


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
        self.walks = BaseWalks(dataset)
        self.overlay = OverlayIndex(store, self.walks)
        self._offset_marks: OrderedDict[tuple[Any, ...], tuple[Any, ...]] = OrderedDict()
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
        side = self.overlay.side(query, state)
        return start_for_offset(order, side.replaced, side.live_keys, offset, query.descending)

    def _base_order(self, query: ListQuery) -> BaseOrder | None:
        """The base customers passing the query's filters, addressable by position (``None``: no
        structure for these filters, the list is walked)."""
        f, ds = query.filters, self.dataset
        by_update = f.updated_from is not None or f.updated_to is not None
        if f.explicit or f.status is not None or by_update and query.sort != "updated_at":
            return None
        lo, hi = self.walks.index_range(f)
        search = self.walks.name_search(f.name_contains) if f.name_contains is not None else None
        created = CreatedOrder(ds, lo, hi, search[0] if search else None)
        if query.sort == "created_at":
            return created
        if query.sort == "updated_at":
            return UpdatedOrder(created, f.updated_from, f.updated_to)
        if (lo, hi) != (0, ds.count):
            return None
        return NameOrder(ds) if search is None else search[1]

    def _page(self, items: builtins.list[Item], has_next: bool, has_previous: bool, total: int | None,
              version: int) -> Page:
        return Page([payload for _key, payload in items], items[0][0] if items else None,
                    items[-1][0] if items else None, has_next, has_previous, total, version, self.dataset)

    # ---- ordered walk -----------------------------------------------------------

    def _walk(self, query: ListQuery, state: Mapping[int, Entry], after: tuple[Any, ...] | None,
              reverse: bool, budget: WorkBudget) -> Iterator[Item]:
        """Items strictly after ``after`` in the query's order (``reverse`` walks backwards)."""
        descending = query.descending != reverse
        base = self.walks.items(query, state, after, descending, budget)
        overlay = self.overlay.items(query, state, after, descending)
        if overlay is None:
            return base
        return heapq.merge(base, overlay, key=itemgetter(0), reverse=descending)

    # ---- totals -----------------------------------------------------------------

    def total(self, query: ListQuery, state: Mapping[int, Entry]) -> int | None:
        """How many customers match the filters (``None`` if counting is too costly)."""
        base = self._base_total(query.filters)
        if base is None or not state:
            return base
        side = self.overlay.side(query, state)
        return base - len(side.replaced) + len(side.live)

    def _base_total(self, f: Filters) -> int | None:
        ds = self.dataset
        lo, hi = self.walks.index_range(f)
        predicate = self.walks.predicate(f)
        if f.explicit:
            return sum(1 for i in self.walks.explicit_candidates(f)
                       if lo <= i < hi and (predicate is None or predicate(i)))
        if f.name_contains is not None and f.status is None:  # PERF: counted, not scanned
            residues = self.walks.name_search(f.name_contains)[0]
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
