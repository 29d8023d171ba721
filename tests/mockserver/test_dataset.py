"""The base dataset: determinism, O(1) access, and the structure sorts and filters rely on."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver import customer_json
from mockserver import dataset as dataset_module
from mockserver.dataset import UPDATE_HORIZON, Dataset, format_timestamp, parse_timestamp

BIG = 10_000_000


def _digest(seed: int, count: int, indexes: list[int]) -> str:
    ds = Dataset(seed, count)
    blob = json.dumps([ds.customer(i) for i in indexes], sort_keys=False, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def test_same_seed_gives_identical_customers_in_another_process_and_any_order() -> None:
    indexes = [0, 1, 17, 999, 4_321, 9_999_999]
    here = _digest(42, BIG, indexes)
    code = (
        "import hashlib, json, sys\n"
        "from mockserver.dataset import Dataset\n"
        "ds = Dataset(42, 10_000_000)\n"
        "idx = [9_999_999, 4_321, 999, 17, 1, 0]\n"  # reverse order, fresh process
        "got = {i: ds.customer(i) for i in idx}\n"
        "order = [0, 1, 17, 999, 4_321, 9_999_999]\n"
        "print(hashlib.sha256(json.dumps([got[i] for i in order], ensure_ascii=False).encode()).hexdigest())\n"
    )
    # PYTHONHASHSEED differs per process: the data must not depend on hash()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == here


def test_customer_does_not_depend_on_count() -> None:
    small, big = Dataset(5, 100), Dataset(5, BIG)
    assert [small.customer(i) for i in range(100)] == [big.customer(i) for i in range(100)]


def test_other_seed_gives_other_customers() -> None:
    a, b = Dataset(1, 50), Dataset(2, 50)
    assert [a.customer(i)["id"] for i in range(50)] != [b.customer(i)["id"] for i in range(50)]
    assert sum(a.customer(i)["name"] == b.customer(i)["name"] for i in range(50)) < 10


def test_last_of_ten_million_is_reachable_directly() -> None:
    ds = Dataset(42, BIG)
    last = ds.customer(BIG - 1)
    assert ds.index_of(last["id"]) == BIG - 1
    with pytest.raises(IndexError):
        ds.customer(BIG)


@given(seed=st.integers(0, 2**32), i=st.integers(0, BIG - 1))
def test_ids_invert_to_their_index(seed: int, i: int) -> None:
    ds = Dataset(seed, BIG)
    cid = ds.id_of(i)
    assert re.fullmatch(r"[1-9]\d{8}", cid)
    assert ds.index_of(cid) == i


def test_ids_are_distinct() -> None:
    ds = Dataset(3, 50_000)
    assert len({ds.id_of(i) for i in range(50_000)}) == 50_000


@given(text=st.text(max_size=12))
def test_index_of_rejects_what_is_not_an_id(text: str) -> None:
    ds = Dataset(3, 1000)
    i = ds.index_of(text)
    assert i is None or (ds.id_of(i) == text)


def test_created_at_strictly_increases_and_updated_follows_within_horizon() -> None:
    ds = Dataset(9, BIG)
    for start in (0, 1_000, 5_000_000, BIG - 200):
        for i in range(start, start + 200):
            assert ds.created_of(i) < ds.created_of(i + 1)
            assert ds.created_of(i) <= ds.updated_of(i) <= ds.created_of(i + UPDATE_HORIZON)
    assert datetime.fromtimestamp(ds.created_of(BIG - 1), tz=UTC).year <= 2026


@given(seconds=st.integers(1_500_000_000, 1_800_000_000))
def test_first_created_at_or_after_is_exact(seconds: int) -> None:
    ds = Dataset(1, BIG)
    i = ds.first_created_at_or_after(seconds)
    assert ds.created_of(i) >= seconds
    assert i == 0 or ds.created_of(i - 1) < seconds


def test_rendered_timestamps_match_the_numbers() -> None:
    ds = Dataset(4, 500)
    for i in (0, 7, 499):
        c = ds.customer(i)
        assert parse_timestamp(c["created_at"]) == ds.created_of(i)
        assert parse_timestamp(c["updated_at"]) == ds.updated_of(i)
        assert c["created_at"].endswith("Z") and "T" in c["created_at"]


def test_name_combinations_are_in_string_order() -> None:
    ds = Dataset(11, 1000)
    names = [ds.combo_name(c) for c in range(ds.combos)]
    assert names == sorted(names)
    assert len(set(names)) == ds.combos


def test_name_walk_lists_customers_in_name_order() -> None:
    ds = Dataset(11, 3000)
    walked = list(ds.indexes_by_name(0))
    expected = sorted(range(3000), key=lambda i: (ds.customer(i)["name"], i))
    assert walked == expected
    assert list(ds.indexes_by_name(ds.combos - 1, reverse=True)) == expected[::-1]


@given(start=st.integers(0, 5000), length=st.integers(0, 800), seed=st.integers(0, 1000))
def test_archived_count_is_exact(start: int, length: int, seed: int) -> None:
    ds = Dataset(seed, 6000)
    brute = sum(ds.customer(i)["status"] == "archived" for i in range(start, min(start + length, 6000)))
    assert ds.count_archived(start, min(start + length, 6000)) == brute


def test_archived_share_is_realistic() -> None:
    ds = Dataset(8, BIG)
    assert 0.05 < ds.count_archived(0, BIG) / BIG < 0.15


def test_emails_and_phones_invert_to_their_customer() -> None:
    ds = Dataset(21, 20_000)
    for i in range(0, 20_000, 397):
        c = ds.customer(i)
        for email in c["emails"]:
            assert i in ds.indexes_for_email(email["email"].upper())
        for phone in c["phone_numbers"]:
            assert i in ds.indexes_for_phone(f"+{phone['country_code']} ({phone['area_code']}) {phone['number']}")


def test_values_look_real() -> None:
    ds = Dataset(42, 2000)
    customers = [ds.customer(i) for i in range(2000)]
    for c in customers:
        assert c["name"] == f"{c['first_name']} {c['last_name']}"
        primary = c["emails"][0]
        assert primary["type"] == "primary" and re.fullmatch(r"[a-z]+[._]?[a-z]*\d+@[a-z0-9.-]+\.[a-z]+",
                                                                primary["email"])
        assert c["currency"] in {"USD", "GBP", "EUR", "MXN"}
        assert all(a["country"] in {"US", "GB", "DE", "FR", "MX"} for a in c["addresses"])
        assert re.fullmatch(r"\d{3}-\d{4}", c["phone_numbers"][0]["number"])
        for order in c["orders"]:
            assert re.fullmatch(r"\d+\.\d{2}", order["total"])
    # variety, not one value repeated
    assert len({c["last_name"] for c in customers}) > 200
    assert len({c["addresses"][0]["city"] for c in customers}) > 100
    assert 0.2 < sum(c["company_name"] is not None for c in customers) / 2000 < 0.5
    us = [c for c in customers if c["addresses"][0]["country"] == "US"]
    assert us and all(c["currency"] == "USD" and c["phone_numbers"][0]["country_code"] == "1" for c in us)


def test_timestamp_helpers_round_trip() -> None:
    assert format_timestamp(1546300800) == "2019-01-01T00:00:00Z"
    assert parse_timestamp("2019-01-01T01:00:00+01:00") == 1546300800
    with pytest.raises(ValueError):
        parse_timestamp("2019-01-01")
    with pytest.raises(ValueError):
        parse_timestamp("2019-01-01T00:00:00")


HOSTILE = {
    "first_names": ['Zoë "Q"', "back\\slash", "tab\there", "emoji 😀", "ctl\x01x"],
    "last_names": ["line\nbreak", "sep\u2028arator", "O'Brien </script>"],
    "company": 'A "quoted" \\ & <Co> ünïcode',
    "note": 'multi\nline "note" \\ \x7f end',
}


@pytest.fixture
def hostile_pools(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The shipped pools with values that need JSON escaping at the front of each list."""
    pools = copy.deepcopy(dataset_module.load_pools())
    pools["first_names"][: len(HOSTILE["first_names"])] = HOSTILE["first_names"]
    pools["last_names"][: len(HOSTILE["last_names"])] = HOSTILE["last_names"]
    pools["companies"][0]["name"] = HOSTILE["company"]
    pools["notes"][0] = HOSTILE["note"]
    monkeypatch.setattr(dataset_module, "load_pools", lambda: pools)
    monkeypatch.setattr(customer_json, "load_pools", lambda: pools)  # the JSON fragments are drawn there
    customer_json.json_tables.cache_clear()  # the fragments are built once per process
    yield pools
    customer_json.json_tables.cache_clear()


def test_written_json_escapes_every_pool_value_as_a_serializer_would(hostile_pools: dict[str, Any]) -> None:
    """``customer_json`` pastes pre-escaped fragments: the result must parse, carry the pool values
    unchanged, and be exactly what orjson writes for the parsed record."""
    ds = Dataset(7, 6000)
    seen: set[str] = set()
    for i in range(6000):
        raw = ds.customer_json(i)
        record = orjson.loads(raw)
        assert orjson.dumps(record) == raw
        assert record["first_name"] in hostile_pools["first_names"]
        assert record["last_name"] in hostile_pools["last_names"]
        assert record["name"] == f"{record['first_name']} {record['last_name']}"
        seen.update((record["first_name"], record["last_name"], record["company_name"], record["notes"]))
    assert set(HOSTILE["first_names"]) | set(HOSTILE["last_names"]) | {HOSTILE["company"], HOSTILE["note"]} <= seen
