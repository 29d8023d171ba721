"""``fields=`` selection with dot notation: parsing and projection, pure functions.

A selection such as ``id,name,emails.email,addresses.city`` compiles once into a
:class:`FieldSet` tree; projecting a record keeps only the selected keys, descending into
nested objects and into every element of nested arrays::

    >>> fs = parse_fields("id,addresses.city", {"id", "addresses", "addresses.city"})
    >>> project({"id": "1", "name": "x", "addresses": [{"city": "Oslo", "line1": "y"}]}, fs)
    {'id': '1', 'addresses': [{'city': 'Oslo'}]}

A projection is always a projection of the full record, so a ``fields`` response equals
the full response with the other keys removed; keys keep the full record's order.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import lru_cache
from typing import Any

from mockserver.errors import InvalidParameter

__all__ = ["FieldSet", "parse_fields", "paths_of", "project"]

FieldSet = dict[str, Any]
"""A compiled selection: key -> ``None`` (keep whole) or a nested :data:`FieldSet`."""


def parse_fields(text: str, allowed: Collection[str], *, parameter: str = "fields") -> FieldSet | None:
    """Compile a comma-separated list of dotted paths into a :data:`FieldSet`.

    Args:
        text: the raw parameter value; blank entries are ignored, an empty value
            selects everything (returns ``None``).
        allowed: every valid dotted path (``"emails"`` and ``"emails.email"`` alike).
        parameter: the parameter name used in the error.

    Raises:
        InvalidParameter: an entry is not one of ``allowed``.
    """
    return _parse(text, frozenset(allowed), parameter)


@lru_cache(maxsize=512)
def _parse(text: str, allowed: frozenset[str], parameter: str) -> FieldSet | None:
    # PERF: compiled once per distinct value; the hot path only projects.
    paths = [p.strip() for p in text.split(",") if p.strip()]
    if not paths:
        return None
    unknown = [p for p in paths if p not in allowed]
    if unknown:
        raise InvalidParameter(
            parameter,
            f"unknown field {unknown[0]!r}; valid fields are: {', '.join(sorted(allowed))}",
        )
    tree: FieldSet = {}
    for path in paths:
        node = tree
        parts = path.split(".")
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if last:
                node[part] = None  # whole value wins over any narrower selection
                break
            child = node.get(part, {})
            if child is None:  # already selected whole
                break
            node[part] = child
            node = child
    return tree


def project(value: Any, fields: FieldSet | None) -> Any:
    """Keep only the selected keys of ``value`` (objects, arrays of objects, nested)."""
    if fields is None:
        return value
    if isinstance(value, list):
        return [project(item, fields) for item in value]
    if not isinstance(value, Mapping):
        return value
    return {key: (item if fields[key] is None else project(item, fields[key]))
            for key, item in value.items() if key in fields}


def paths_of(example: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Every dotted path of a record, descending into objects and arrays of objects."""
    paths: list[str] = []
    for key, value in example.items():
        path = f"{prefix}{key}"
        paths.append(path)
        if isinstance(value, list) and value and isinstance(value[0], Mapping):
            value = value[0]
        if isinstance(value, Mapping):
            paths.extend(paths_of(value, f"{path}."))
    return paths
