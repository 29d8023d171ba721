"""Value pools: realistic names, companies and addresses drawn once from a seeded Faker.

The dataset never calls Faker at run time (importing and seeding Faker alone takes
about a second, and generating a customer with it about 0.6 ms). Instead the pools below
were drawn once from ``Faker`` with a fixed seed and are shipped as
``mockserver/data/pools.json``; each customer picks from them with a hash of
``(seed, i)``. Determinism therefore does not depend on the Faker installed at run time.

Regenerating the file needs exactly the Faker version named in ``FAKER_VERSION`` (pinned
in ``pyproject.toml``): other versions draw other values, and the test
``tests/mockserver/test_pools.py`` fails if regeneration with the pinned version would
change the shipped file::

    python -m mockserver.pools --write
"""

from __future__ import annotations

import json
import sys
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["FAKER_VERSION", "POOL_SEED", "Pools", "generate_pools", "load_pools", "ascii_slug", "COUNTRIES"]

FAKER_VERSION = "40.54.0"
"""The Faker release the shipped pools were drawn with."""

POOL_SEED = 20190101
"""Seed of the Faker instance the pools are drawn from."""

# NOTE: country weights are per mille; they decide where customers live, and the
# currency and phone prefix follow the country.
COUNTRIES: dict[str, dict[str, Any]] = {
    "US": {"locale": "en_US", "name": "United States", "currency": "USD", "dial": "1",
           "areas": ["212", "213", "305", "312", "415", "512", "617", "702", "206", "303"], "weight": 500},
    "GB": {"locale": "en_GB", "name": "United Kingdom", "currency": "GBP", "dial": "44",
           "areas": ["20", "121", "131", "141", "161", "113", "117"], "weight": 150},
    "DE": {"locale": "de_DE", "name": "Germany", "currency": "EUR", "dial": "49",
           "areas": ["30", "40", "69", "89", "221", "211", "711"], "weight": 120},
    "FR": {"locale": "fr_FR", "name": "France", "currency": "EUR", "dial": "33",
           "areas": ["1", "2", "3", "4", "5"], "weight": 100},
    "MX": {"locale": "es_MX", "name": "Mexico", "currency": "MXN", "dial": "52",
           "areas": ["55", "33", "81", "222", "664"], "weight": 130},
}

FIRST_NAMES_PER_LOCALE = 70
LAST_NAMES_PER_LOCALE = 70
COMPANIES_PER_LOCALE = 30
ADDRESSES_PER_COUNTRY = 60
NOTES = 40

Pools = dict[str, Any]


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters only: the local part of generated email addresses."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed.lower() if "a" <= ch <= "z")


def _unique(values: list[str], want: int, draw: Any) -> list[str]:
    seen: dict[str, None] = dict.fromkeys(values)
    while len(seen) < want:
        seen.setdefault(draw(), None)
    return list(seen)[:want]


def generate_pools() -> Pools:
    """Draw every pool from Faker seeded with ``POOL_SEED`` (needs ``FAKER_VERSION``)."""
    from faker import Faker  # NOTE: imported here only; run time never needs Faker.

    first: set[str] = set()
    last: set[str] = set()
    companies: list[dict[str, str]] = []
    addresses: dict[str, list[dict[str, str | None]]] = {}
    notes: list[str] = []
    for offset, (code, country) in enumerate(COUNTRIES.items()):
        fake = Faker(country["locale"])
        fake.seed_instance(POOL_SEED + offset)
        # NOTE: first names must not contain spaces so that sorting (first, last)
        # pool indexes equals sorting the full "First Last" string.
        firsts = _unique([], FIRST_NAMES_PER_LOCALE, fake.first_name)
        first.update(n for n in firsts if " " not in n and ascii_slug(n))
        last.update(n for n in _unique([], LAST_NAMES_PER_LOCALE, fake.last_name) if ascii_slug(n))
        for name in _unique([], COMPANIES_PER_LOCALE, fake.company):
            slug = ascii_slug(name.split(" ")[0].split(",")[0])[:20] or "company"
            companies.append({"name": name, "domain": f"{slug}.{fake.tld()}"})
        rows = []
        for _ in range(ADDRESSES_PER_COUNTRY):
            if code == "US":
                state = fake.state_abbr(include_territories=False)
                postal = fake.postcode_in_state(state)
            else:
                state = fake.administrative_unit()
                postal = fake.postcode()
            # NOTE: some locales put a flat number on its own line ("Flat 7\nLee Passage");
            # that becomes line1/line2, so no generated value contains a newline.
            street, _, rest = fake.street_address().partition("\n")
            secondary = fake.secondary_address() if code in ("US", "MX") and fake.boolean(30) else None
            rows.append({
                "line1": street,
                "line2": rest or secondary,
                "city": fake.city(),
                "state": state,
                "postal_code": postal,
            })
        addresses[code] = rows
    fake = Faker("en_US")
    fake.seed_instance(POOL_SEED)
    notes = _unique([], NOTES, lambda: fake.sentence(nb_words=8))
    return {
        "faker_version": FAKER_VERSION,
        "pool_seed": POOL_SEED,
        "first_names": sorted(first),
        "last_names": sorted(last),
        "companies": sorted(companies, key=lambda c: c["name"]),
        "email_domains": ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com",
                          "proton.me", "gmx.de", "orange.fr", "yahoo.com.mx", "btinternet.com"],
        "countries": {code: {k: v for k, v in c.items() if k != "locale"} for code, c in COUNTRIES.items()},
        "addresses": addresses,
        "notes": notes,
    }


@lru_cache(maxsize=1)
def load_pools() -> Pools:
    """The shipped pools (read once per process)."""
    text = resources.files("mockserver").joinpath("data/pools.json").read_text(encoding="utf-8")
    pools: Pools = json.loads(text)
    return pools


def _dump(pools: Pools) -> str:
    return json.dumps(pools, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = _dump(generate_pools())
    if "--write" in args:
        path = resources.files("mockserver").joinpath("data/pools.json")
        with open(str(path), "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"wrote {path}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
