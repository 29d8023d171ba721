"""Customer i is the same person in every flavour, for many seeds and ids.

Each registered flavour is read as a client reads it, through what the flavour itself declares:
its example credentials and get path (``Dialect.example``), the record inside its answer
(``unwrap_record``) and its own mapping back to canonical fields (``from_native``, the mapping its
writes use). No table here knows a platform, so a new flavour is checked the day it is registered.
The reduced facts (names, primary email, phone digits, billing city and postal code) are compared
with the dataset's canonical record, the reference.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple

import falcon.testing
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver import FLAVOURS, Dataset, Settings, create_app

SEEDS = [0, 1, 7, 42, 1234, 99_999, 2**31 - 1, 2**40 + 3]
COUNT = 5_000


class Person(NamedTuple):
    first: str
    last: str
    email: str
    phone_digits: str
    city: str
    postal_code: str


def digits(text: str | None) -> str:
    return re.sub(r"\D", "", (text or "").split(" x")[0].split(" ext")[0])


def person(c: dict[str, Any]) -> Person:
    """The facts every platform carries, from canonical fields (a record, or a flavour's mapping back)."""
    phone = (c.get("phone_numbers") or [{}])[0]
    billing = next(a for a in c["addresses"] if a["type"] == "billing")
    email = next(e for e in c["emails"] if e.get("type") == "primary")
    number = "".join(phone.get(k) or "" for k in ("country_code", "area_code", "number"))
    return Person(c["first_name"], c["last_name"], email["email"], digits(number), billing["city"] or "",
                  billing["postal_code"] or "")


@lru_cache(maxsize=len(SEEDS))
def client(seed: int) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(Settings(seed=seed, count=COUNT)))


def read(flavour: str, seed: int, customer_id: str) -> Person:
    dialect = FLAVOURS.get(flavour)
    example = dialect.example
    response = client(seed).simulate_get(f"/{flavour}{example.item_path.format(id=customer_id)}",
                                         query_string=example.item_query, headers=dict(example.credentials("t")))
    assert response.status_code == 200, (flavour, response.text)
    return person(dialect.from_native(dialect.unwrap_record(response.json)))


@pytest.mark.parametrize("flavour", FLAVOURS.names())
def test_every_flavour_example_answers_as_it_says(flavour: str) -> None:
    """The example a flavour declares (printed by ``serve`` and the landing page) answers 200."""
    example = FLAVOURS.get(flavour).example
    response = client(SEEDS[0]).simulate_get(f"/{flavour}{example.path}", query_string=example.query,
                                             headers=dict(example.credentials("t")))
    assert response.status_code == 200, response.text


@settings(max_examples=60)
@given(seed=st.sampled_from(SEEDS), i=st.integers(0, COUNT - 1))
def test_customer_is_the_same_person_in_every_flavour(seed: int, i: int) -> None:
    ds = Dataset(seed, COUNT)
    expected = person(ds.customer(i))
    for flavour in FLAVOURS.names():
        assert read(flavour, seed, ds.id_of(i)) == expected, flavour


def test_a_write_through_one_flavour_is_seen_by_all() -> None:
    seed = 5  # not in SEEDS: this test writes
    ds = Dataset(seed, COUNT)
    cid = ds.id_of(17)
    patched = client(seed).simulate_patch(f"/customers/{cid}", json={"first_name": "Zelda"},
                                          headers={"Authorization": "Bearer t"})
    assert patched.status_code == 200
    for flavour in FLAVOURS.names():
        assert read(flavour, seed, cid).first == "Zelda", flavour
