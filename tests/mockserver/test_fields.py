"""``fields=`` parsing and projection."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.dataset import Dataset
from mockserver.errors import InvalidParameter
from mockserver.fields import parse_fields, paths_of, project
from mockserver.model import CUSTOMER_PATHS

PATHS = sorted(CUSTOMER_PATHS)


def reference_projection(record: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """Independent definition: keep a top-level key if selected whole or through a child;
    inside arrays keep only the selected children, unless the parent itself is selected."""
    whole = {p for p in paths if "." not in p}
    children: dict[str, set[str]] = {}
    for p in paths:
        if "." in p:
            parent, child = p.split(".", 1)
            children.setdefault(parent, set()).add(child)
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key in whole:
            out[key] = value
        elif key in children:
            out[key] = [{k: v for k, v in item.items() if k in children[key]} for item in value]
    return out


@given(paths=st.lists(st.sampled_from(PATHS), min_size=1, max_size=8), i=st.integers(0, 499))
def test_projection_keeps_exactly_the_selected_paths(paths: list[str], i: int) -> None:
    record = Dataset(3, 500).customer(i)
    projected = project(record, parse_fields(",".join(paths), CUSTOMER_PATHS))
    assert projected == reference_projection(record, paths)
    assert list(projected) == [k for k in record if k in projected]  # order of the full record


def test_whole_selection_wins_over_narrower_in_any_order() -> None:
    record = Dataset(3, 10).customer(0)
    for text in ("emails,emails.email", "emails.email,emails"):
        assert project(record, parse_fields(text, CUSTOMER_PATHS)) == {"emails": record["emails"]}


def test_blank_selects_everything_and_blanks_are_ignored() -> None:
    assert parse_fields("", CUSTOMER_PATHS) is None
    assert parse_fields(" , ", CUSTOMER_PATHS) is None
    assert parse_fields("id,,name ", CUSTOMER_PATHS) == {"id": None, "name": None}


@pytest.mark.parametrize("bad", ["nope", "emails.nope", "id,ID", "emails..email", "name.first"])
def test_unknown_path_is_an_invalid_parameter_naming_it(bad: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        parse_fields(bad, CUSTOMER_PATHS)
    assert info.value.name == "fields"
    assert "unknown field" in info.value.detail


def test_paths_of_lists_nested_paths() -> None:
    ds = Dataset(3, 50)
    found = set().union(*(paths_of(ds.customer(i)) for i in range(50)))
    assert found == CUSTOMER_PATHS


@given(paths=st.lists(st.sampled_from(PATHS), min_size=1, max_size=8), seed=st.integers(0, 2**32),
       i=st.integers(0, 1999))
def test_written_projection_is_the_projected_record_serialized(paths: list[str], seed: int, i: int) -> None:
    """``Dataset.customer_json_fields`` writes the projection without building the record: it must
    equal the independent reference projection of the record, serialized."""
    ds = Dataset(seed, 2000)
    written = ds.customer_json_fields(i, parse_fields(",".join(paths), CUSTOMER_PATHS))
    assert written == orjson.dumps(reference_projection(ds.customer(i), paths))
