"""JSON Schema (the subset OpenAPI documents use) -> Hypothesis strategy, with overrides by property path.

Strings follow their ``format`` and ECMA-262 ``pattern``; text draws plain words first (so
examples shrink to the shortest), then any unicode, then very long text; ``null`` comes first
among enum values and types, so examples shrink towards ``null`` optionals.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hypothesis import strategies as st

from contracts.openapi import merged

__all__ = ["EMAIL", "EPOCH_MAX", "EPOCH_MIN", "LONG_NAME", "SchemaStrategies", "string_strategy", "texts"]

EMAIL = r"\A[a-z0-9_]{1,8}(\.[a-z0-9_]{1,8}){0,2}@[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?\.[a-z]{2,6}\Z"
"""Addresses every ``format: email`` validator accepts: no dot at either end of the local part or twice
in a row, no hyphen at either end of the domain label (``.@0.aa`` and ``a@-.aa`` were drawn, and refused)."""

Strategy = st.SearchStrategy

LONG_NAME = 256
"""Texts this long or longer are drawn too (longer than the 255 many clients assume)."""
MAX_ITEMS = 3
EPOCH_MIN = datetime(2000, 1, 1)
EPOCH_MAX = datetime(2099, 12, 31)


def _anchored(pattern: str) -> re.Pattern[str]:
    # NOTE: JSON Schema regexes are ECMA-262: `$` is the very end and `\d` is ASCII; Python's
    # `$` also matches before a final newline, so generate with `\Z` and ASCII classes.
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern, re.ASCII if "\\d" in pattern else 0)


def texts(min_size: int = 0, max_size: int | None = None) -> Strategy[str]:
    """Plain words first (shrinks to the shortest), then any unicode, then very long text."""
    top = max_size if max_size is not None else 4 * LONG_NAME
    plain = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=min_size,
                    max_size=min(top, 40))
    unicode = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=max(min_size, 1),
                      max_size=min(top, 40))
    options = [plain, unicode]
    if top >= LONG_NAME:
        # PERF: a short drawn text repeated up to a drawn length costs two draws, not 1,000.
        options.append(st.builds(lambda word, size: (word * (size // len(word) + 1))[:size],
                                 st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=12),
                                 st.integers(max(min_size, LONG_NAME), top)))
    return st.one_of(options)


def _timestamps() -> Strategy[str]:
    return st.datetimes(EPOCH_MIN, EPOCH_MAX).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))


def string_strategy(schema: Mapping[str, Any]) -> Strategy[str]:
    fmt, pattern = schema.get("format"), schema.get("pattern")
    low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
    if fmt == "date-time":
        base: Strategy[str] = _timestamps()
    elif fmt == "date":
        base = st.dates(EPOCH_MIN.date(), EPOCH_MAX.date()).map(lambda d: d.isoformat())
    elif fmt == "email" and pattern is None:
        base = st.from_regex(EMAIL)
    elif fmt in ("uri", "url"):
        base = st.from_regex(r"\Ahttps://api\.example\.com/[a-z0-9/]{0,20}\Z")
    elif fmt == "uri-reference":
        base = st.from_regex(r"\A/[a-z0-9/-]{0,30}\Z")
    elif fmt == "uuid":
        base = st.uuids().map(str)
    elif pattern is not None:
        base = st.from_regex(_anchored(pattern))
    else:
        return texts(low, high)
    if pattern is not None and fmt is not None:
        compiled = _anchored(pattern)
        base = base.filter(lambda s: compiled.search(s) is not None)
    if low or high is not None:
        base = base.filter(lambda s: len(s) >= low and (high is None or len(s) <= high))
    return base


class SchemaStrategies:
    """JSON Schema (the subset OpenAPI documents use) -> strategy, with overrides by property path."""

    def __init__(self, doc: Mapping[str, Any], hints: Mapping[str, Strategy[Any]] | None = None,
                 max_items: int = MAX_ITEMS) -> None:
        self.doc = doc
        self.hints = dict(hints or {})
        self.max_items = max_items

    def build(self, schema: Any, path: str = "") -> Strategy[Any]:
        if path in self.hints:
            return self.hints[path]
        if schema is True:
            schema = {}
        if schema is False:
            return st.nothing()
        schema = merged(self.doc, schema)
        if "const" in schema:
            return st.just(schema["const"])
        if "enum" in schema:
            values = list(schema["enum"])
            # NOTE: null first, so examples shrink towards null optionals.
            values.sort(key=lambda v: v is not None)
            return st.sampled_from(values)
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches:
            base = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
            return st.one_of([self.build(_combine(base, merged(self.doc, b)), path) for b in branches])
        types = schema.get("type")
        if isinstance(types, list):
            ordered = sorted(types, key=lambda t: t != "null")
            return st.one_of([self.build({**schema, "type": t}, path) for t in ordered])
        if types is None:
            types = "object" if "properties" in schema else "array" if "items" in schema else None
        if types == "null":
            return st.none()
        if types == "boolean":
            return st.booleans()
        if types == "integer":
            return st.integers(schema.get("minimum"), schema.get("maximum"))
        if types == "number":
            return st.one_of(st.integers(schema.get("minimum"), schema.get("maximum")),
                             st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False,
                                       allow_infinity=False))
        if types == "string":
            return string_strategy(schema)
        if types == "array":
            low = int(schema.get("minItems", 0))
            high = min(int(schema.get("maxItems", self.max_items)), max(low, self.max_items))
            return st.lists(self.build(schema.get("items") or {}, path), min_size=low, max_size=high)
        if types == "object":
            props = schema.get("properties") or {}
            if not props:
                extra = schema.get("additionalProperties", True)
                if extra is False:
                    return st.just({})
                members = self.build(extra, path) if isinstance(extra, Mapping) else st.one_of(
                    st.none(), st.text(max_size=10))
                return st.dictionaries(st.text(max_size=10), members, max_size=2)
            order = tuple(props)
            # NOTE: keys keep the schema's order, as real responses do.
            # NOTE: a property whose schema is `false` is forbidden: it is left out.
            return st.fixed_dictionaries({name: self.build(sub, f"{path}.{name}".lstrip("."))
                                          for name, sub in props.items() if sub is not False}).map(
                lambda d: {k: d[k] for k in order if k in d})
        return st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10))


def _combine(base: Mapping[str, Any], branch: Mapping[str, Any]) -> dict[str, Any]:
    out = {**base, **branch}
    if "properties" in base or "properties" in branch:
        out["properties"] = {**(base.get("properties") or {}), **(branch.get("properties") or {})}
    return out
