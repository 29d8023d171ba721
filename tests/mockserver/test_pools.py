"""The shipped value pools are exactly what the pinned Faker draws."""

from __future__ import annotations

import json
from importlib import metadata

from mockserver.pools import FAKER_VERSION, generate_pools, load_pools


def test_pinned_faker_is_the_one_installed() -> None:
    assert metadata.version("faker") == FAKER_VERSION, "pyproject pins faker==FAKER_VERSION for regeneration"


def test_shipped_pools_equal_a_fresh_draw_from_the_pinned_faker() -> None:
    # Run `python -m mockserver.pools --write` after a deliberate Faker upgrade.
    fresh = json.loads(json.dumps(generate_pools(), ensure_ascii=False))
    assert fresh == load_pools()


def test_pools_are_usable_for_sorting_and_emails() -> None:
    pools = load_pools()
    assert pools["first_names"] == sorted(set(pools["first_names"]))
    assert pools["last_names"] == sorted(set(pools["last_names"]))
    assert all(" " not in name for name in pools["first_names"])  # keeps name order == (first, last) order
    assert len(pools["first_names"]) * len(pools["last_names"]) > 50_000
