"""The query engine against a brute-force model: every sort, filter, page size and write."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.catalog import SORT_FIELDS, Catalog, Filters, ListQuery, record_matches
from mockserver.dataset import Dataset, parse_timestamp
from mockserver.errors import NotFound
from mockserver.fields import parse_fields, project
from mockserver.model import CUSTOMER_PATHS
from mockserver.pagination import Position
from mockserver.store import Store

COUNT = 400


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        self.now += 7
        return self.now


def new_catalog(directory: str) -> Catalog:
    ds = Dataset(13, COUNT)
    return Catalog(ds, Store(os.path.join(directory, "s.db"), ds.fingerprint), clock=Clock())


@pytest.fixture
def catalog(tmp_path: Any) -> Catalog:
    return new_catalog(str(tmp_path))


@pytest.fixture(scope="module")
def written(tmp_path_factory: Any) -> Catalog:
    """A catalog with creates, updates and deletes applied (read-only in tests)."""
    catalog = new_catalog(str(tmp_path_factory.mktemp("written")))
    ds = catalog.dataset
    for n in range(12):
        catalog.create({"first_name": f"Ann{n}", "last_name": "Zed", "status": ["active", "archived"][n % 2],
                        "emails": [{"email": f"ann{n}@example.com"}]})
        catalog.update(ds.id_of(n * 31), {"first_name": "Bob", "last_name": f"Ng{n}"})
        catalog.delete(ds.id_of(n * 31 + 7))
    return catalog


def everyone(catalog: Catalog) -> list[dict[str, Any]]:
    """All live customers, found without the engine: scan ids, ask get()."""
    ds = catalog.dataset
    found = []
    for ordinal in range(ds.count + 50):
        try:
            found.append(catalog.get(ds.id_of(ordinal)))
        except NotFound:
            pass
    return found


def brute(catalog: Catalog, query: ListQuery) -> list[str]:
    f = query.filters
    rows = [r for r in everyone(catalog)
            if record_matches(r, parse_timestamp(r["created_at"]), parse_timestamp(r["updated_at"]), f)]
    ordinal = {r["id"]: catalog.dataset.ordinal_of(r["id"]) for r in rows}
    if query.sort == "name":
        key = lambda r: (r["name"] or "", ordinal[r["id"]])
    else:
        key = lambda r: (parse_timestamp(r[query.sort]), ordinal[r["id"]])
    return [r["id"] for r in sorted(rows, key=key, reverse=query.descending)]


def walk(catalog: Catalog, query: ListQuery, limit: int) -> Iterator[tuple[list[str], int | None]]:
    position = None
    for _ in range(COUNT + 100):
        page = catalog.list(query, limit, position)
        assert len(page.records) <= limit
        yield [r["id"] for r in page.records], page.total
        if not page.has_next:
            return
        position = Position(page.last_key, False, page.version, query.signature)
    raise AssertionError("walk did not end")


def filters_for(catalog: Catalog, draw: Any) -> Filters:
    ds = catalog.dataset
    pick = draw(st.integers(0, COUNT - 1))
    c = ds.customer(pick)
    options = {
        "status": st.sampled_from(["active", "archived"]),
        "created_from": st.just(ds.created_of(pick)),
        "created_to": st.just(ds.created_of(pick)),
        "updated_from": st.just(ds.updated_of(pick)),
        "updated_to": st.just(ds.updated_of(pick)),
        "email": st.just(c["emails"][0]["email"]),
        "phone": st.just(c["phone_numbers"][0]["area_code"] + c["phone_numbers"][0]["number"]),
        "ids": st.just((c["id"], ds.id_of((pick + 1) % COUNT), "123")),
        "name_contains": st.sampled_from(["an", "ZZZ", c["last_name"][:3]]),
    }
    chosen = draw(st.lists(st.sampled_from(sorted(options)), max_size=3, unique=True))
    return Filters(**{name: draw(options[name]) for name in chosen})


@settings(max_examples=60)
@given(data=st.data())
def test_walks_match_brute_force(written: Catalog, data: st.DataObject) -> None:
    catalog = written
    query = ListQuery(filters_for(catalog, data.draw), data.draw(st.sampled_from(SORT_FIELDS)),
                      data.draw(st.booleans()))
    limit = data.draw(st.sampled_from([1, 3, 20, 200]))
    expected = brute(catalog, query)
    pages = list(walk(catalog, query, limit))
    assert [i for ids, _ in pages for i in ids] == expected
    assert all(total == len(expected) for _, total in pages)


@settings(max_examples=25)
@given(data=st.data())
def test_walk_is_stable_across_interleaved_writes(data: st.DataObject) -> None:
    """A customer that lives through the walk is seen exactly once; others at most once."""
    with tempfile.TemporaryDirectory() as directory:
        check_walk_with_writes(new_catalog(directory), data)


def check_walk_with_writes(catalog: Catalog, data: st.DataObject) -> None:
    query = ListQuery(Filters(), data.draw(st.sampled_from(SORT_FIELDS)), data.draw(st.booleans()))
    limit = data.draw(st.integers(1, 60))
    ds = catalog.dataset
    before = {r["id"] for r in everyone(catalog)}
    touched: set[str] = set()
    seen: list[str] = []
    position = None
    while True:
        page = catalog.list(query, limit, position)
        seen.extend(r["id"] for r in page.records)
        for _ in range(data.draw(st.integers(0, 2))):
            action = data.draw(st.sampled_from(["create", "update", "delete"]))
            target = ds.id_of(data.draw(st.integers(0, COUNT - 1)))
            if action == "create":
                touched.add(catalog.create({"first_name": "Zoë", "last_name": "Walker"})["id"])
            elif target not in touched:
                touched.add(target)
                if action == "update":
                    catalog.update(target, {"first_name": "Aaron", "status": "archived"})
                else:
                    catalog.delete(target)
        if not page.has_next:
            break
        position = Position(page.last_key, False, page.version, query.signature)
    assert len(seen) == len(set(seen)), "a customer was listed twice"
    assert before - touched <= set(seen), "a customer alive for the whole walk was skipped"


def test_previous_cursor_returns_the_previous_page(catalog: Catalog) -> None:
    for sort in SORT_FIELDS:
        query = ListQuery(Filters(status="active"), sort, descending=sort == "name")
        first = catalog.list(query, 9)
        second = catalog.list(query, 9, Position(first.last_key, False, first.version, query.signature))
        back = catalog.list(query, 9, Position(second.first_key, True, second.version, query.signature))
        assert [r["id"] for r in back.records] == [r["id"] for r in first.records]
        assert second.has_previous and not back.has_previous


@pytest.mark.parametrize("sort", SORT_FIELDS)
@pytest.mark.parametrize("descending", [False, True])
def test_offsets_page_like_the_brute_force_order(catalog: Catalog, sort: str, descending: bool) -> None:
    catalog.delete(catalog.dataset.id_of(5))
    catalog.create({"name": "Offset Person"})
    query = ListQuery(Filters(), sort, descending)
    expected = brute(catalog, query)
    got: list[str] = []
    for offset in range(0, len(expected) + 30, 30):  # sequential, as platforms page
        got.extend(r["id"] for r in catalog.list_at_offset(query, offset, 30).records)
    assert got == expected
    jump = catalog.list_at_offset(query, 123, 7)  # random access without a previous page
    assert [r["id"] for r in jump.records] == expected[123:130]


def test_writes_round_trip(catalog: Catalog) -> None:
    created = catalog.create({"first_name": "Ada", "last_name": "Lovelace",
                              "emails": [{"email": "ada@example.com", "type": "primary"}]})
    assert created["name"] == "Ada Lovelace" and created["emails"][0]["id"]
    assert catalog.get(created["id"]) == created
    updated = catalog.update(created["id"], {"last_name": "Byron"})
    assert updated["name"] == "Ada Byron" and updated["created_at"] == created["created_at"]
    found = catalog.list(ListQuery(Filters(email="ADA@example.com")), 10)
    assert [r["id"] for r in found.records] == [created["id"]] and found.total == 1
    catalog.delete(created["id"])
    with pytest.raises(NotFound):
        catalog.get(created["id"])
    with pytest.raises(NotFound):
        catalog.delete(created["id"])


def test_base_updates_keep_identity_and_creation_time(catalog: Catalog) -> None:
    cid = catalog.dataset.id_of(10)
    original = catalog.get(cid)
    updated = catalog.update(cid, {"notes": "VIP"})
    assert updated["notes"] == "VIP" and updated["id"] == cid
    assert updated["created_at"] == original["created_at"]
    assert {k: v for k, v in updated.items() if k not in ("notes", "updated_at")} == \
        {k: v for k, v in original.items() if k not in ("notes", "updated_at")}


def test_totals_at_ten_million_are_immediate(tmp_path: Any) -> None:
    ds = Dataset(42, 10_000_000)
    catalog = Catalog(ds, Store(os.path.join(tmp_path, "big.db"), ds.fingerprint))
    since = ds.created_of(9_000_000)
    page = catalog.list(ListQuery(Filters(status="archived", updated_from=since), "updated_at"), 50)
    assert page.total is not None and 80_000 < page.total < 100_000
    assert all(r["status"] == "archived" and parse_timestamp(r["updated_at"]) >= since for r in page.records)
    assert catalog.list(ListQuery(Filters(), "name", True), 5).total == 10_000_000


@pytest.mark.parametrize("fields", [None, "id,emails.email,addresses.city,notes", "name,orders"])
def test_pages_written_as_json_equal_their_records_serialized(written: Catalog, fields: str | None) -> None:
    """Pages mixing base customers (written straight to JSON) and overlay records, in every order."""
    selection = parse_fields(fields, CUSTOMER_PATHS) if fields else None
    for sort in SORT_FIELDS:
        position, pages, overlay_seen = None, 0, 0
        while True:
            page = written.list(ListQuery(sort=sort), 37, position)
            assert page.records_json(selection) == [orjson.dumps(project(r, selection)) for r in page.records]
            overlay_seen += sum(1 for item in page.items if not isinstance(item, int))
            pages += 1
            if not page.has_next:
                break
            position = Position(page.last_key, False, page.version, ListQuery(sort=sort).signature)
        assert pages > 5 and overlay_seen == 24  # 12 created + 12 updated customers were on the pages


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("limit", [1, 7, 399, 400, 401])
def test_plain_created_walks_without_writes_match_brute_force(catalog: Catalog, descending: bool,
                                                               limit: int) -> None:
    """No filter, no write: the created-order page is computed as an index range, not walked."""
    query = ListQuery(sort="created_at", descending=descending)
    pages = list(walk(catalog, query, limit))
    assert [i for ids, _ in pages for i in ids] == brute(catalog, query)
    assert all(total == COUNT for _, total in pages)
    assert len(pages) == -(-COUNT // limit)  # the last page says it is last


@given(j=st.integers(-5, COUNT + 5), shift=st.sampled_from([-1, 0, 1]), descending=st.booleans())
def test_created_pages_start_right_after_any_key(j: int, shift: int, descending: bool) -> None:
    """Keys between, before and beyond the dataset's own: the page starts at the first key past it."""
    with tempfile.TemporaryDirectory() as directory:
        catalog = new_catalog(directory)
        ds = catalog.dataset
        query = ListQuery(descending=descending)
        key = (ds.created_of(max(j, 0)) + shift, j)
        page = catalog.list(query, 5, Position(key, False, 0, query.signature))
        order = sorted(range(COUNT), key=lambda i: (ds.created_of(i), i), reverse=descending)
        expected = [i for i in order if ((ds.created_of(i), i) < key if descending else (ds.created_of(i), i) > key)]
        assert page.items == expected[:5]
        assert page.has_next == (len(expected) > 5)


@given(st.builds(Filters, email=st.none() | st.text(), phone=st.none() | st.text(), status=st.none() | st.text(),
                 ids=st.none() | st.lists(st.text()).map(tuple), created_from=st.none() | st.integers(),
                 created_to=st.none() | st.integers(), updated_from=st.none() | st.integers(),
                 updated_to=st.none() | st.integers(), name_contains=st.none() | st.text()))
def test_filters_travel_as_a_json_list_and_back(filters: Filters) -> None:
    """Page tokens (ecartAPI, Shopify) carry filters as a list: what comes back is what went out."""
    assert Filters.from_list(json.loads(json.dumps(filters.as_list()))) == filters


@pytest.mark.parametrize("values", [None, {}, [], [None] * 8, [1] + [None] * 8, [None] * 3 + ["x"] + [None] * 5,
                                    [None] * 4 + [True] + [None] * 4, [None] * 4 + ["1"] + [None] * 4])
def test_filters_from_a_list_refuse_what_no_token_carries(values: object) -> None:
    with pytest.raises(ValueError):
        Filters.from_list(values)
