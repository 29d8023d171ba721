"""Customer i is the same person in every flavour, for many seeds and ids.

Each flavour's own get endpoint is read and reduced to the facts every platform carries
(first and last name, primary email, primary phone digits, billing city and postal code,
creation and update time), parsed from the platform's own formats. The canonical record
from the dataset is the reference.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

import falcon.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver import FLAVOURS, Dataset, Settings, create_app
from mockserver.dataset import parse_timestamp

SEEDS = [0, 1, 7, 42, 1234, 99_999, 2**31 - 1, 2**40 + 3]
COUNT = 5_000


class Person(NamedTuple):
    first: str
    last: str
    email: str
    phone_digits: str
    city: str
    postal_code: str
    created: int
    updated: int


def digits(text: str | None) -> str:
    return re.sub(r"\D", "", (text or "").split(" x")[0].split(" ext")[0])


def iso(text: str) -> int:
    return parse_timestamp(re.sub(r"\.\d+", "", text))


def ecwid_time(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z").astimezone(UTC).timestamp())


def from_canonical(c: dict[str, Any]) -> Person:
    phone = c["phone_numbers"][0]
    billing = next(a for a in c["addresses"] if a["type"] == "billing")
    return Person(c["first_name"], c["last_name"], c["emails"][0]["email"],
                  phone["country_code"] + phone["area_code"] + digits(phone["number"]),
                  billing["city"], billing["postal_code"], iso(c["created_at"]), iso(c["updated_at"]))


def from_unified(c: dict[str, Any], phones_key: str) -> Person:
    """Apideck and Truto: unified shapes close to canonical, other key names."""
    phone = c[phones_key][0]
    number = phone["number"] if phones_key == "phones" else \
        phone["country_code"] + phone["area_code"] + phone["number"]
    billing = next(a for a in c["addresses"] if a["type"] == "billing")
    email = next(e for e in c["emails"] if e.get("is_primary", e.get("type") == "primary"))
    return Person(c["first_name"], c["last_name"], email["email"], digits(number), billing["city"],
                  billing["postal_code"], iso(c["created_at"]), iso(c["updated_at"]))


def from_ecwid(c: dict[str, Any]) -> Person:
    person = c["billingPerson"]
    return Person(person["firstName"], person["lastName"], c["email"], digits(person["phone"]), person["city"],
                  person["postalCode"], ecwid_time(c["registered"]), ecwid_time(c["updated"]))


def from_ecartapi(c: dict[str, Any]) -> Person:
    billing = next(a for a in c["addresses"] if a["defaultBilling"])
    return Person(c["firstName"], c["lastName"], c["email"], digits(c["phone"]), billing["city"],
                  billing["postalCode"], iso(c["dates"]["createdAt"]), iso(c["dates"]["updatedAt"]))


READERS: dict[str, tuple[str, dict[str, str], Any]] = {
    # flavour: (get path for an id, headers, body -> Person)
    "canonical": ("/customers/{id}", {"Authorization": "Bearer t"}, lambda b: from_canonical(b["data"])),
    "apideck": ("/apideck/ecommerce/customers/{id}",
                {"Authorization": "Bearer t", "x-apideck-consumer-id": "c", "x-apideck-app-id": "a"},
                lambda b: from_unified(b["data"], "phone_numbers")),
    "truto": ("/truto/unified/ecommerce/customers/{id}?integrated_account_id=acc", {"Authorization": "Bearer t"},
              lambda b: from_unified(b, "phones")),
    "ecartapi": ("/ecartapi/api/v2/customers/{id}", {"Authorization": "t"}, lambda b: from_ecartapi(b["customer"])),
    "ecwid": ("/ecwid/api/v3/1003/customers/{id}", {"Authorization": "Bearer secret_t"}, from_ecwid),
    "myboxx": ("/myboxx/api/json/v1/ecwid/customer/{id}", {"Authorization": "Bearer t"},
               lambda b: from_ecwid(b["data"]["attributes"])),
}


@lru_cache(maxsize=len(SEEDS))
def client(seed: int) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(Settings(seed=seed, count=COUNT)))


def read(flavour: str, seed: int, customer_id: str) -> Person:
    path, headers, parse = READERS[flavour]
    target = path.format(id=customer_id)
    route, _, query = target.partition("?")
    response = client(seed).simulate_get(route, query_string=query, headers=headers)
    assert response.status_code == 200, (flavour, response.text)
    return parse(response.json)  # type: ignore[no-any-return]


def test_every_registered_flavour_has_a_reader() -> None:
    assert set(FLAVOURS.names()) == set(READERS)


@settings(max_examples=60)
@given(seed=st.sampled_from(SEEDS), i=st.integers(0, COUNT - 1))
def test_customer_is_the_same_person_in_every_flavour(seed: int, i: int) -> None:
    ds = Dataset(seed, COUNT)
    expected = from_canonical(ds.customer(i))
    for flavour in READERS:
        assert read(flavour, seed, ds.id_of(i)) == expected, flavour


def test_a_write_through_one_flavour_is_seen_by_all() -> None:
    seed = 5  # not in SEEDS: this test writes
    ds = Dataset(seed, COUNT)
    cid = ds.id_of(17)
    patched = client(seed).simulate_patch(f"/customers/{cid}", json={"first_name": "Zelda"},
                                          headers={"Authorization": "Bearer t"})
    assert patched.status_code == 200
    for flavour in READERS:
        assert read(flavour, seed, cid).first == "Zelda", flavour
