"""Cost that must not grow with writes, offsets or dataset size (issue 12, section 4).

Bounds are asserted by counting work (dataset attributes computed, overlay entries filtered,
SQLite rows kept), never by timing: a ten-million-customer dataset costs no memory, so the deep
cases run here against the same structures a 10M server uses.
"""

from __future__ import annotations

import gc
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import falcon.testing
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver import Settings, create_app, store
from mockserver import overlay as overlay_module
from mockserver.app import context_of
from mockserver.catalog import SORT_FIELDS, Catalog, Filters, ListQuery
from mockserver.dataset import Dataset
from mockserver.errors import SearchTooBroad
from mockserver.ranking import WALK_BUDGET
from mockserver.store import Store

TEN_MILLION = 10_000_000
TOUCH_LIMIT = 20_000
"""Per-customer attributes one deep page may compute: a page is 100 items, a search O(log n) keys
and an update-order key about 130; a walk to offset N would be millions."""

_PER_CUSTOMER = ("created_of", "updated_of", "name_of", "combo_of", "status_of", "update_lag", "customer",
                 "customer_json")


class TooMuchWork(AssertionError):
    pass


@contextmanager
def count_touches(ds: Dataset, limit: int = TOUCH_LIMIT) -> Iterator[list[int]]:
    """Wrap the dataset's per-customer attributes: count calls, fail (fast) past ``limit``."""
    counter = [0]

    def counted(method: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            counter[0] += 1
            if counter[0] > limit:
                raise TooMuchWork(f"more than {limit} customer attributes computed")
            return method(*args)
        return wrapper

    for name in _PER_CUSTOMER:
        setattr(ds, name, counted(getattr(ds, name)))
    try:
        yield counter
    finally:
        for name in _PER_CUSTOMER:
            if name == "customer":
                setattr(ds, name, getattr(ds, name).__closure__[0].cell_contents)  # the lru_cache
            else:
                delattr(ds, name)


def new_catalog(directory: str, count: int, seed: int = 5) -> Catalog:
    ds = Dataset(seed, count)
    ticks = iter(range(1_800_000_000, 1_900_000_000, 3))
    return Catalog(ds, Store(os.path.join(directory, "s.db"), ds.fingerprint), clock=lambda: next(ticks))


# ---- deep offsets: the customer at offset N without walking N ------------------------------------


@pytest.fixture(scope="module")
def huge(tmp_path_factory: Any) -> Catalog:
    return new_catalog(str(tmp_path_factory.mktemp("huge")), TEN_MILLION)


@pytest.mark.parametrize("sort", SORT_FIELDS)
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("offset", [5_000_000, 9_999_900])
def test_deep_offsets_at_ten_million_touch_a_bounded_number_of_customers(huge: Catalog, sort: str,
                                                                          descending: bool, offset: int) -> None:
    query = ListQuery(Filters(), sort, descending)
    huge.list_at_offset(query, 0, 1)  # build the once-per-process tables (name prefix sums)
    with count_touches(huge.dataset) as touched:
        page = huge.list_at_offset(query, offset, 100)
    assert len(page.items) == 100 and page.total == TEN_MILLION
    assert touched[0] < TOUCH_LIMIT


def test_deep_offsets_stay_counted_after_writes(tmp_path: Any) -> None:
    catalog = new_catalog(str(tmp_path), TEN_MILLION)
    ds = catalog.dataset
    catalog.update(ds.id_of(4_000_000), {"first_name": "Aaron", "last_name": "Aardvark"})
    catalog.delete(ds.id_of(7))
    catalog.create({"first_name": "Zed", "last_name": "Zulu"})
    for sort in SORT_FIELDS:
        for descending in (False, True):
            query = ListQuery(Filters(), sort, descending)
            catalog.list_at_offset(query, 0, 1)
            with count_touches(ds) as touched:
                page = catalog.list_at_offset(query, 9_999_990, 20)
            assert len(page.items) == 10 and not page.has_next, (sort, descending)
            assert touched[0] < TOUCH_LIMIT, (sort, descending)


def test_a_search_matching_no_name_answers_without_a_scan(huge: Catalog) -> None:
    with count_touches(huge.dataset) as touched:
        for sort in SORT_FIELDS:
            page = huge.list_at_offset(ListQuery(Filters(name_contains="zzzzq"), sort, True), 0, 20)
            assert page.items == [] and page.total == 0
    assert touched[0] < TOUCH_LIMIT


@pytest.mark.parametrize("sort", SORT_FIELDS)
def test_deep_offsets_of_a_name_search_are_counted(huge: Catalog, sort: str) -> None:
    query = ListQuery(Filters(name_contains="an"), sort, False)
    total = huge.total(query, {})
    assert total is not None and total > 1_000_000
    with count_touches(huge.dataset) as touched:
        page = huge.list_at_offset(query, total - 5, 20)
    assert len(page.items) == 5
    assert all("an" in huge.dataset.name_of(i).lower() for i in page.items)  # type: ignore[arg-type]
    assert touched[0] < TOUCH_LIMIT


def test_an_unselective_walk_ends_in_search_too_broad(huge: Catalog) -> None:
    """Orders without a counting structure are walked, but only within the work budget."""
    query = ListQuery(Filters(status="archived"), "updated_at", True)
    huge.walk_budget = 50_000
    try:
        with count_touches(huge.dataset, limit=10 * huge.walk_budget), \
                pytest.raises(SearchTooBroad, match="Narrow it"):
            huge.list_at_offset(query, 5_000_000, 20)
        assert len(huge.list_at_offset(query, 100, 20).items) == 20  # shallow pages still answer
    finally:
        huge.walk_budget = WALK_BUDGET


# ---- the merged order against brute force, above the in-memory threshold -------------------------

MID = 25_000  # above MATERIALIZE_LIMIT: the streamed walks and counted offsets are what answers


@pytest.fixture(scope="module")
def mid(tmp_path_factory: Any) -> Catalog:
    catalog = new_catalog(str(tmp_path_factory.mktemp("mid")), MID, seed=11)
    ds = catalog.dataset
    for n in range(30):
        catalog.update(ds.id_of(n * 811), {"first_name": ["Aaron", "Zoe", "Mia"][n % 3], "last_name": f"Q{n}"})
        catalog.delete(ds.id_of(n * 811 + 5))
        catalog.create({"first_name": ["Ann", "Zed"][n % 2], "last_name": f"New{n}"})
    return catalog


def expected_order(catalog: Catalog, query: ListQuery) -> list[int]:
    """Ordinals in order, from the dataset's attributes and the overlay's records (no engine)."""
    ds, state = catalog.dataset, catalog.state()
    needle = (query.filters.name_contains or "").lower()
    rows: list[tuple[tuple[Any, ...], int]] = []
    for i in range(ds.count):
        if i not in state and needle in ds.name_of(i).lower():
            value = {"created_at": ds.created_of(i), "updated_at": ds.updated_of(i), "name": ds.name_of(i)}
            rows.append(((value[query.sort], i), i))
    for ordinal, entry in state.items():
        record = entry.record
        if record is not None and needle in (record["name"] or "").lower():
            value = {"created_at": entry.created_ts, "updated_at": entry.updated_ts, "name": record["name"] or ""}
            rows.append(((value[query.sort], ordinal), ordinal))
    rows.sort(reverse=query.descending)
    return [ordinal for _, ordinal in rows]


@pytest.fixture(scope="module")
def orders(mid: Catalog) -> dict[tuple[str, bool, str | None], list[int]]:
    return {(sort, descending, needle): expected_order(mid, ListQuery(Filters(name_contains=needle), sort,
                                                                      descending))
            for sort in SORT_FIELDS for descending in (False, True) for needle in (None, "an")}


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_offsets_in_an_updated_window_match_brute_force(mid: Catalog, orders: dict[Any, list[int]],
                                                         data: st.DataObject) -> None:
    descending, needle = data.draw(st.booleans()), data.draw(st.sampled_from([None, "an"]))
    ds, state = mid.dataset, mid.state()
    low = ds.created_of(data.draw(st.integers(0, MID)))
    high = low + data.draw(st.integers(0, 3 * 10**6))

    def updated(ordinal: int) -> int:
        entry = state.get(ordinal)
        return entry.updated_ts if entry is not None else ds.updated_of(ordinal)

    expected = [o for o in orders[("updated_at", descending, needle)] if low <= updated(o) <= high]
    offset = data.draw(st.integers(0, len(expected) + 3))
    query = ListQuery(Filters(name_contains=needle, updated_from=low, updated_to=high), "updated_at", descending)
    page = mid.list_at_offset(query, offset, 5)
    assert page.ordinals == expected[offset:offset + 5]
    assert page.total == len(expected)


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_random_offsets_match_brute_force_with_writes(mid: Catalog, orders: dict[Any, list[int]],
                                                     data: st.DataObject) -> None:
    sort, descending = data.draw(st.sampled_from(SORT_FIELDS)), data.draw(st.booleans())
    needle = data.draw(st.sampled_from([None, "an"]))
    expected = orders[(sort, descending, needle)]
    offset = data.draw(st.integers(0, len(expected) + 5))
    page = mid.list_at_offset(ListQuery(Filters(name_contains=needle), sort, descending), offset, 7)
    assert page.ordinals == expected[offset:offset + 7]
    assert page.total == len(expected)

def count_entry_matches(monkeypatch: Any) -> list[int]:
    """From now on, ``[n]``: how often the catalog has filtered one overlay entry."""
    calls = [0]
    real = overlay_module.entry_matches

    def counted(*args: Any) -> bool:
        calls[0] += 1
        return real(*args)

    monkeypatch.setattr(overlay_module, "entry_matches", counted)
    return calls


# ---- the overlay: indexed once per version, latest versions only ----------------------------------


def test_list_pages_do_not_refilter_the_overlay_per_request(tmp_path: Any, monkeypatch: Any) -> None:
    catalog = new_catalog(str(tmp_path), 1_000)
    for n in range(300):
        catalog.create({"first_name": f"P{n}"})
    calls = count_entry_matches(monkeypatch)
    for sort in SORT_FIELDS:
        catalog.list(ListQuery(Filters(), sort, True), 20)  # builds this version's index once
    assert calls[0] > 0  # the counter sees the filtering it counts
    calls[0] = 0
    for _ in range(5):
        for sort in SORT_FIELDS:
            page = catalog.list(ListQuery(Filters(), sort, True), 20)
            assert page.total == 1_300
    assert calls[0] == 0


def _rows(path: str) -> int:
    with sqlite3.connect(path) as conn:
        rows: int = conn.execute("SELECT COUNT(*) FROM changes").fetchone()[0]
    return rows


def test_the_log_keeps_latest_versions_plus_a_bounded_window(tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(store, "HISTORY_WINDOW", 40, raising=False)
    monkeypatch.setattr(store, "COMPACT_EVERY", 10, raising=False)
    path = os.path.join(tmp_path, "s.db")
    writer = Store(path, "1:10")
    versions = {}
    for n in range(600):
        writer.append(3, lambda _, n=n: {"n": n}, 0, n, first_new_ordinal=10)  # type: ignore[misc]
        versions[n] = writer.version
    writer.append(4, lambda _: {"other": True}, 0, 0, first_new_ordinal=10)
    assert _rows(path) <= 40 + 10 + 1  # not 601
    reader = Store(path, "1:10")
    reader.refresh()
    assert reader.latest[3].record == {"n": 599} and reader.latest[4].record == {"other": True}
    # a walk pinned inside the window sees its version exactly; older ones the window's start
    assert reader.state_at(versions[590])[3].record == {"n": 590}
    assert 4 not in reader.state_at(versions[590])
    assert reader.state_at(versions[5])[3].record["n"] >= 599 - 50  # type: ignore[index]


def test_compaction_never_hands_a_created_ordinal_out_again(tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(store, "HISTORY_WINDOW", 4, raising=False)
    monkeypatch.setattr(store, "COMPACT_EVERY", 2, raising=False)
    writer = Store(os.path.join(tmp_path, "s.db"), "1:10")
    created = writer.append(None, lambda o: {"o": o}, 0, 0, first_new_ordinal=10).ordinal
    writer.append(created, lambda _: None, 0, 0, first_new_ordinal=10)
    for n in range(20):
        writer.append(1, lambda _, n=n: {"n": n}, 0, 0, first_new_ordinal=10)  # type: ignore[misc]
    assert writer.append(None, lambda o: {"o": o}, 0, 0, first_new_ordinal=10).ordinal == created + 1


# ---- the work budget ends in each flavour's own error ---------------------------------------------


ECWID = {"Authorization": "Bearer secret_test"}


@pytest.fixture(scope="module")
def big_app(tmp_path_factory: Any) -> falcon.App[Any, Any]:
    app = create_app(Settings(seed=7, count=TEN_MILLION, state=str(tmp_path_factory.mktemp("big") / "s.db")))
    context_of(app).catalog.walk_budget = 20_000
    return app


@pytest.fixture
def big_client(big_app: falcon.App[Any, Any]) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(big_app, headers={"Authorization": "Bearer test-token"})


def test_ecwid_keyword_matching_nothing_answers_at_once(big_app: falcon.App[Any, Any],
                                                        big_client: falcon.testing.TestClient) -> None:
    with count_touches(context_of(big_app).catalog.dataset) as touched:
        result = big_client.simulate_get("/ecwid/api/v3/1003/customers", params={"keyword": "zzzzq"},
                                         headers=ECWID)
    assert result.status_code == 200
    assert result.json["total"] == 0 and result.json["items"] == []
    assert touched[0] < TOUCH_LIMIT


def test_too_broad_searches_end_in_the_flavours_error(big_client: falcon.testing.TestClient) -> None:
    ecwid = big_client.simulate_get("/ecwid/api/v3/1003/customers", params={
        "updatedFrom": "946684800", "sortBy": "REGISTERED_DATE_DESC", "offset": "5000000"}, headers=ECWID)
    assert ecwid.status_code == 400
    assert ecwid.json["errorCode"] == "WRONG_PARAMETER" and "Narrow it" in ecwid.json["errorMessage"]
    myboxx = big_client.simulate_get("/myboxx/api/json/v1/ecwid/customers", params={
        "updatedFrom": "946684800", "sortBy": "NAME_ASC", "offset": "5000000"})
    assert myboxx.status_code == 400 and "Narrow it" in myboxx.json["errors"]["detail"]
    ecartapi = big_client.simulate_get("/ecartapi/api/v2/customers", params={
        "updatedAt[from]": "2000-01-01", "updatedAt[to]": "2100-01-01", "page": "40000", "limit": "250"})
    assert ecartapi.status_code == 400
    assert ecartapi.json["error"]["type"] == "search-too-broad" and "Narrow it" in ecartapi.json["error"]["message"]


def test_a_worker_holds_one_entry_per_written_customer_not_one_per_write(tmp_path: Any) -> None:
    path = os.path.join(tmp_path, "s.db")
    writer, reader = Store(path, "1:10"), Store(path, "1:10")
    reader.refresh()
    gc.collect()
    before = sum(1 for thing in gc.get_objects() if isinstance(thing, store.Entry))
    for n in range(500):
        writer.append(3, lambda _, n=n: {"n": n}, 0, n, first_new_ordinal=10)  # type: ignore[misc]
    reader.refresh()
    assert reader.latest[3].record == {"n": 499}
    gc.collect()
    alive = sum(1 for thing in gc.get_objects() if isinstance(thing, store.Entry)) - before
    assert alive < 50  # two stores, one customer: not 1,000 versions


def test_a_name_search_in_an_updated_window_is_counted_exactly_at_ten_million(huge: Catalog) -> None:
    ds = huge.dataset
    low, high = ds.updated_of(2_000_000), ds.updated_of(9_000_000)
    query = ListQuery(Filters(name_contains="an", updated_from=low, updated_to=high), "updated_at", False)
    everyone = huge.total(ListQuery(Filters(name_contains="an")), {})
    with count_touches(ds) as touched:
        total = huge.total(query, {})
        page = huge.list_at_offset(query, total - 3 if total else 0, 10)
    assert total is not None and everyone is not None and 0 < total < everyone
    assert len(page.items) == 3 and touched[0] < TOUCH_LIMIT
    # the window's first customer: nobody near it in updated order is an earlier match
    first = huge.list_at_offset(query, 0, 1).ordinals[0]
    assert low <= ds.updated_of(first) and "an" in ds.name_of(first).lower()
    assert all(ds.updated_of(j) < low or "an" not in ds.name_of(j).lower()
               for j in range(max(0, first - 200), first + 200) if (ds.updated_of(j), j) < (ds.updated_of(first), first))


def test_a_write_patches_the_overlay_index_instead_of_rebuilding_it(tmp_path: Any, monkeypatch: Any) -> None:
    catalog = new_catalog(str(tmp_path), 1_000)
    ids = [catalog.create({"first_name": f"P{n}", "last_name": "Q"})["id"] for n in range(300)]
    catalog.update(catalog.dataset.id_of(3), {"first_name": "Base"})
    queries = [ListQuery(Filters(), sort, descending) for sort in SORT_FIELDS for descending in (False, True)]
    for query in queries:
        catalog.list(query, 20)
    calls = count_entry_matches(monkeypatch)
    catalog.update(ids[5], {"first_name": "Aaa"})
    catalog.delete(ids[7])
    catalog.delete(catalog.dataset.id_of(9))
    catalog.create({"first_name": "Zzz"})
    pages = [catalog.list(query, 1_400) for query in queries]
    assert calls[0] <= 4 * len(SORT_FIELDS)  # the four customers written, once per sort: not 304 each
    fresh = Catalog(catalog.dataset, Store(catalog.store.path, catalog.dataset.fingerprint))
    for query, page in zip(queries, pages):
        assert page.ordinals == fresh.list(query, 1_400).ordinals
        assert page.total == 1_000 + 300 - 1 - 1 + 1
