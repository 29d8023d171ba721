"""The performance shortcuts agree with the straightforward code they replace.

Each fast path (bench/ profiles motivated them) is checked against an independent
implementation: ``format_timestamp`` (strftime), ``link_with`` (urlencode of all pairs), and the
bounds a byte cache promises.
"""

from __future__ import annotations

from urllib.parse import urlencode

import falcon
import falcon.testing
from hypothesis import given
from hypothesis import strategies as st

from mockserver.dataset import EPOCH, format_timestamp
from mockserver.resources import BytesCache, cursor_links, link_with
from mockserver.writer import timestamp_text


@given(st.integers(min_value=0, max_value=EPOCH * 2))
def test_timestamp_text_equals_format_timestamp(seconds: int) -> None:
    assert timestamp_text(seconds) == format_timestamp(seconds)


keys = st.sampled_from(["limit", "fields", "cursor", "filter[status]", "sort[by]", "x y", "é", "a&b"])
values = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12) | st.from_regex(
    r"[A-Za-z0-9_-]{1,40}", fullmatch=True)
cursors = st.none() | st.from_regex(r"[A-Za-z0-9_-]{1,60}", fullmatch=True) | st.text(max_size=8).filter(bool)


@given(st.lists(st.tuples(keys, values), max_size=6), cursors, cursors)
def test_page_links_equal_link_with(pairs: list[tuple[str, str]], previous: str | None, following: str | None) -> None:
    app = falcon.App()
    app.req_options.keep_blank_qs_values = True
    req = falcon.Request(falcon.testing.create_environ(path="/customers", query_string=urlencode(pairs)),
                         options=app.req_options)
    links = cursor_links(req, previous, following)
    assert links == {
        "previous": link_with(req, {"cursor": previous}) if previous else None,
        "current": link_with(req, {}),
        "next": link_with(req, {"cursor": following}) if following else None,
    }


def test_bytes_cache_is_bounded_by_entries_and_by_bytes() -> None:
    by_entries = BytesCache(3)
    for n in range(10):
        by_entries.put(n, b"x" * 10)
    assert len(by_entries) == 3 and [by_entries.get(n) for n in (6, 7, 8, 9)] == [None, b"x" * 10, b"x" * 10,
                                                                                  b"x" * 10]
    by_bytes = BytesCache(1000, max_bytes=20_000)
    for n in range(100):
        by_bytes.put(n, bytes(1000))
    assert by_bytes.nbytes <= 20_000
    assert 10 <= len(by_bytes) < 20
    assert by_bytes.get(99) == bytes(1000) and by_bytes.get(0) is None


def test_bytes_cache_evicts_least_recently_used_first() -> None:
    cache = BytesCache(2)
    cache.put("a", b"1")
    cache.put("b", b"2")
    assert cache.get("a") == b"1"  # a is now the most recent
    cache.put("c", b"3")
    assert cache.get("b") is None and cache.get("a") == b"1" and cache.get("c") == b"3"


def test_bytes_cache_returns_but_does_not_keep_a_value_too_large_for_it() -> None:
    cache = BytesCache(10, max_bytes=4000)
    cache.put("small", b"s")
    assert cache.put("huge", bytes(5000)) == bytes(5000)
    assert cache.get("huge") is None and cache.get("small") == b"s"


def test_bytes_cache_keeps_equal_values_including_tuples() -> None:
    cache = BytesCache(10, max_bytes=100_000)
    value = (b"body", "link")
    assert cache.put("k", value) == value
    assert cache.get("k") == value
    cache.put("k", b"other")  # replacing a key does not count it twice
    assert len(cache) == 1 and cache.get("k") == b"other"
    cache.clear()
    assert len(cache) == 0 and cache.nbytes == 0


def test_found_record_json_equals_the_record_serialized(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A get writes an untouched base customer straight from the dataset; written ones from their dict."""
    import orjson

    from mockserver.catalog import Catalog
    from mockserver.dataset import Dataset
    from mockserver.dialect import Found
    from mockserver.fields import parse_fields, project
    from mockserver.model import CUSTOMER_PATHS
    from mockserver.store import Store

    dataset = Dataset(11, 300)
    catalog = Catalog(dataset, Store(str(tmp_path / "s.db"), dataset.fingerprint))
    written = dataset.id_of(5)
    catalog.update(written, {"first_name": "Zoë", "emails": [{"email": "z@example.com", "type": "primary"}]})
    created = catalog.create({"first_name": "New", "last_name": "One"})["id"]
    selections = [None, *(parse_fields(f, CUSTOMER_PATHS) for f in ("id", "name,emails.email", "addresses.city,orders"))]
    for customer_id in [dataset.id_of(i) for i in (0, 4, 5, 6, 299)] + [written, created]:
        found = Found(catalog, customer_id)
        for fields in selections:
            assert found.record_json(fields) == orjson.dumps(project(catalog.get(customer_id), fields)), customer_id
