"""What :mod:`contracts.strategies` reads from a flavour's OpenAPI document (through :mod:`contracts.openapi`).

The list and get operations are the ones the flavour declares (``operationId``), else found by
path shape; the customer schema is the canonical ``Customer`` or, for a platform, the item of
the first array of objects in its list response.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from hypothesis.errors import InvalidArgument

from contracts.failures import InvalidSpec
from contracts.openapi import (
    Operation,
    bundled_document,
    find_operations,
    flavour_operation_ids,
    merged,
    options,
    parameters,
    resolve,
)

__all__ = ["customer_schema", "document", "field_paths", "limit_bounds", "list_operation", "list_parameters"]


@lru_cache(maxsize=16)
def document(flavour: str) -> dict[str, Any]:
    from mockserver import FLAVOURS

    if not isinstance(flavour, str) or flavour not in FLAVOURS:
        raise InvalidArgument(f"flavour={flavour!r} is not a flavour of the mock; "
                              f"use one of: {', '.join(FLAVOURS.names())}")
    return bundled_document(FLAVOURS.get(flavour).spec)


@lru_cache(maxsize=16)
def _operations(flavour: str) -> tuple[Operation, Operation | None]:
    """The list and get operations of ``flavour``: the ones it declares, else found by path shape."""
    list_id, get_id = flavour_operation_ids(flavour)
    try:
        return find_operations(document(flavour), list_id=list_id, get_id=get_id)
    except InvalidSpec as exc:
        raise InvalidArgument(f"the {flavour} document: {exc}") from None


def list_parameters(flavour: str) -> dict[str, dict[str, Any]]:
    listing, _ = _operations(flavour)
    return parameters(document(flavour), listing, "query")


def customer_schema(doc: Mapping[str, Any], flavour: str) -> dict[str, Any]:
    if flavour == "canonical":
        return resolve(doc, doc["components"]["schemas"]["Customer"])  # type: ignore[no-any-return]
    listing, _ = _operations(flavour)
    found = _array_of_objects(doc, listing.response_schema(doc, "200"))
    if found is None:
        raise InvalidArgument(f"cannot find the customer schema in the {flavour} list response")
    return found


def _array_of_objects(doc: Mapping[str, Any], schema: Any, depth: int = 3) -> dict[str, Any] | None:
    """The item schema of the first array of objects in ``schema``, looking ``depth`` objects deep."""
    schema = merged(doc, schema)
    for option in options(doc, schema):
        if option.get("type") == "array" or "items" in option:
            for item in options(doc, option.get("items") or {}):
                if item.get("properties"):
                    return item
    if depth:
        for prop in (schema.get("properties") or {}).values():
            found = _array_of_objects(doc, prop, depth - 1)
            if found is not None:
                return found
    return None


def limit_bounds(flavour: str) -> tuple[str, int, int]:
    params = list_parameters(flavour)
    doc = document(flavour)
    for name in ("limit", "per_page", "page_size", "pageSize"):
        if name in params:
            schema = merged(doc, params[name].get("schema") or {})
            return name, int(schema.get("minimum", 1)), int(schema.get("maximum", 100))
    raise InvalidArgument(f"the {flavour} list operation has no page size parameter")


@lru_cache(maxsize=16)
def field_paths(flavour: str) -> tuple[str, ...]:
    doc = document(flavour)
    schema = merged(doc, customer_schema(doc, flavour))
    paths: list[str] = []
    nested: list[str] = []
    for name, prop in (schema.get("properties") or {}).items():
        paths.append(name)
        prop = merged(doc, prop)
        items = merged(doc, prop.get("items") or {}) if prop.get("type") == "array" or "items" in prop else prop
        nested.extend(f"{name}.{child}" for child, sub in (items.get("properties") or {}).items() if sub is not False)
    return tuple(paths + nested)


def list_operation(flavour: str) -> Operation:
    """The list operation of ``flavour``'s document."""
    listing, _ = _operations(flavour)
    return listing
