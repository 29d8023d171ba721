"""The Hypothesis properties ``contracts check`` runs, and the invariants they are built from.

Everything here judges *what the server says* against the contract, never against our
dataset: a correct implementation with other data, id and cursor formats passes.

::

    http.py          Target / Reply: a recording client; every failure carries its requests
    invariants.py    walk(), check_walk(), expected_projection(), expect_problem(), matches_filter()
    runner.py        the one Hypothesis harness: Property, prop(), run_property(), PROPERTIES
    registry.py      Context (reference collection, budget), helpers the server properties share
    pagination.py    pagination.walk, pagination.stable, pagination.bad_cursor
    fields.py        fields.projection, fields.unknown
    filters.py       filters.match, filters.invalid, sort.order
    records.py       get.matches_list, get.unknown_id, determinism.same_body
    errors.py        errors.bad_limit, errors.missing_auth
    writes.py        writes.lifecycle
    adapter.py       adapter.* (ADAPTER_PROPERTIES, run by check_adapter on the same harness;
                     adapter_world.py and adapter_invariants.py are what they are built from)

Bounds (so a check of a huge server stays fast): a walk never fetches more than
``Budget.max_pages`` pages (page sizes are drawn so a complete walk fits), and the full-walk
properties work on a *reference collection* of at most ``Budget.walk_max_items`` customers:
the whole collection when ``total_count`` is that small, otherwise the newest customers (a
``filter[created_since]`` window found with a descending sort). Sub-collections for small
page sizes are ``filter[customer_ids]`` samples of it.

A property module registers each property with ``@prop("<group>.<name>")``; the list of
bundled modules is at the bottom of this file, in the order the properties run.
"""

from contracts.properties.http import Reply, Target
from contracts.properties.invariants import (
    Page,
    Walk,
    check_walk,
    expect_problem,
    expected_projection,
    matches_filter,
    walk,
)
from contracts.properties.registry import PROPERTIES, Budget, Context, Property, Skip, prop, run_property

__all__ = [
    "PROPERTIES",
    "Budget",
    "Context",
    "Page",
    "Property",
    "Reply",
    "Skip",
    "Target",
    "Walk",
    "check_walk",
    "expect_problem",
    "expected_projection",
    "matches_filter",
    "prop",
    "run_property",
    "walk",
]

# The bundled properties, in the order they run. Each module registers itself in PROPERTIES.
from contracts.properties import pagination, fields, filters, records, errors, writes  # noqa: F401, I001
