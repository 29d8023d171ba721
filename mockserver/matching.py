"""Request matchers over the journal (WireMock style): which journaled requests a verification counts.

A matcher is JSON; every key it gives must hold, the keys it leaves out match anything::

    {"method": "POST", "urlPath": "/customers",
     "queryParameters": {"limit": {"equalTo": "20"}},
     "headers": {"Idempotency-Key": {"matches": "k.*"}},
     "bodyPatterns": [{"matchesJsonPath": "$.emails[0].email"}, {"equalToJson": {"first_name": "Ada"}}],
     "flavour": "canonical", "tenant": "t1", "status": 201}

- ``method`` (``ANY`` matches every method), ``url`` (path and ``?query``, exact), ``urlPath`` (the
  path, exact), ``urlPattern`` / ``urlPathPattern`` (regular expressions the whole URL / path match);
  ``flavour``, ``tenant`` (strings) and ``status`` (an integer).
- ``queryParameters`` and ``headers``: name -> a value matcher: ``{"equalTo": s}``,
  ``{"contains": s}``, ``{"matches": regex}`` or ``{"absent": true}``, with ``"caseInsensitive": true``
  beside ``equalTo`` / ``contains``. A repeated parameter matches when one of its values does;
  header names are case-insensitive.
- ``bodyPatterns``: each must hold for the request body: ``{"equalToJson": value}`` (the body parses
  to an equal JSON value), ``{"matchesJsonPath": "$.a.b[0]"}`` (the path selects something) or
  ``{"matchesJsonPath": {"expression": "$.a", <value matcher>}}``, or a value matcher on the body text.
  JSON paths: ``$``, ``.name``, ``['name']``, ``[n]`` and ``[*]`` / ``.*``.

:func:`parse_matcher` checks a matcher once (a bad one is :class:`~mockserver.errors.InvalidBody`
naming the key: ``headers.Idempotency-Key.matches``); :meth:`Matcher.differences` says what differs
from a journaled request, which ranks the near misses.

Pure: no web framework, no flavour.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from mockserver.errors import InvalidBody, Problem

__all__ = ["MATCHER_KEYS", "VALUE_MATCHERS", "Matcher", "NearMiss", "ValueMatcher", "near_misses", "parse_json_path",
           "parse_matcher", "select"]

MATCHER_KEYS = ("method", "url", "urlPath", "urlPattern", "urlPathPattern", "queryParameters", "headers",
                "bodyPatterns", "flavour", "tenant", "status")
VALUE_MATCHERS = ("equalTo", "contains", "matches", "absent")
_BODY_MATCHERS = ("equalToJson", "matchesJsonPath", "equalTo", "contains", "matches")
_MAX_PATTERN = 1000

Check = Callable[[Mapping[str, Any]], "str | None"]
"""A part of a matcher: ``None`` when a journaled entry satisfies it, else what differs (a sentence)."""


def _bad(key: str, detail: str) -> InvalidBody:
    return InvalidBody(f"{key}: {detail}", problems=(Problem("body", key, detail),))


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise _bad(key, f"must be a string, got {json.dumps(value)[:80]}")
    return value


def _regex(value: Any, key: str) -> re.Pattern[str]:
    pattern = _text(value, key)
    if len(pattern) > _MAX_PATTERN:
        raise _bad(key, f"a regular expression of at most {_MAX_PATTERN} characters, got {len(pattern)}")
    try:
        return re.compile(pattern)
    except (re.error, ValueError, OverflowError, RecursionError) as exc:
        raise _bad(key, f"is not a valid regular expression: {exc}") from None


def _mapping(value: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _bad(key, f"must be an object, got {json.dumps(value)[:80]}")
    return value


@dataclass(frozen=True)
class ValueMatcher:
    """``equalTo`` / ``contains`` / ``matches`` / ``absent`` on one string value (``None``: absent)."""

    kind: str
    expected: Any
    case_insensitive: bool = False

    @classmethod
    def read(cls, data: Any, key: str) -> ValueMatcher:
        spec = _mapping(data, key)
        unknown = sorted(set(spec) - {*VALUE_MATCHERS, "caseInsensitive"})
        if unknown:
            raise _bad(f"{key}.{unknown[0]}", f"unknown value matcher; one of {', '.join(VALUE_MATCHERS)}")
        kinds = [k for k in VALUE_MATCHERS if k in spec]
        if len(kinds) != 1:
            raise _bad(key, f"give exactly one of {', '.join(VALUE_MATCHERS)}, got {len(kinds)}")
        kind = kinds[0]
        folded = spec.get("caseInsensitive", False)
        if not isinstance(folded, bool):
            raise _bad(f"{key}.caseInsensitive", "must be true or false")
        if kind == "absent":
            if not isinstance(spec["absent"], bool):
                raise _bad(f"{key}.absent", "must be true or false")
            return cls("absent", spec["absent"])
        if kind == "matches":
            return cls(kind, _regex(spec[kind], f"{key}.matches"))
        expected = _text(spec[kind], f"{key}.{kind}")
        return cls(kind, expected.casefold() if folded else expected, folded)

    def test(self, value: str | None) -> bool:
        if self.kind == "absent":
            return (value is None) is self.expected
        if value is None:
            return False
        if self.kind == "matches":
            return self.expected.fullmatch(value) is not None
        if self.case_insensitive:
            value = value.casefold()
        return value == self.expected if self.kind == "equalTo" else self.expected in value

    def describe(self) -> str:
        if self.kind == "absent":
            return "absent" if self.expected else "present"
        shown = self.expected.pattern if self.kind == "matches" else self.expected
        return f"{self.kind} {json.dumps(shown)}" + (" (any case)" if self.case_insensitive else "")


# ---- JSON paths ----------------------------------------------------------------------------------

_STEP = re.compile(r"\.([A-Za-z_$][\w$-]*)|\.\*|\[\*\]|\[(-?[0-9]{1,9})\]|\['((?:[^'\\]|\\.)*)'\]|\[\"((?:[^\"\\]|\\.)*)\"\]")


def parse_json_path(path: Any, key: str) -> tuple[Any, ...]:
    """``$.a[0]['b']`` as steps: a name (str), an index (int) or ``*``; :class:`InvalidBody` naming ``key``."""
    text = _text(path, key)
    if not text.startswith("$") or len(text) > _MAX_PATTERN:
        raise _bad(key, f"a JSON path starts with $ (like $.emails[0].email), got {text[:80]!r}")
    steps: list[Any] = []
    at = 1
    while at < len(text):
        found = _STEP.match(text, at)
        if found is None:
            raise _bad(key, f"cannot read the JSON path at character {at + 1}: {text[at:at + 20]!r}; steps are "
                            ".name, ['name'], [n] and [*]")
        name, index, quoted, double = found.groups()
        if name is not None:
            steps.append(name)
        elif index is not None:
            steps.append(int(index))
        elif quoted is not None or double is not None:
            steps.append(re.sub(r"\\(.)", r"\1", quoted if quoted is not None else double))
        else:
            steps.append("*")
        at = found.end()
    return tuple(steps)


def select(value: Any, steps: tuple[Any, ...]) -> list[Any]:
    """What the JSON path ``steps`` selects in ``value`` (empty: nothing)."""
    current = [value]
    for step in steps:
        following: list[Any] = []
        for node in current:
            if step == "*":
                following.extend(node.values() if isinstance(node, dict) else node if isinstance(node, list) else ())
            elif isinstance(step, int):
                if isinstance(node, list) and -len(node) <= step < len(node):
                    following.append(node[step])
            elif isinstance(node, dict) and step in node:
                following.append(node[step])
        current = following
    return current


# ---- the matcher -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Matcher:
    """A parsed matcher: its named parts, each a check on a journal entry."""

    parts: tuple[tuple[str, Check], ...]
    prefilter: Mapping[str, Any]
    """Exact values (``method``, ``path``, ``flavour``, ``tenant``, ``status``) the journal can select by."""
    source: Mapping[str, Any]

    def differences(self, entry: Mapping[str, Any]) -> list[str]:
        """What differs between the matcher and ``entry`` (empty: it matches)."""
        return [difference for _, check in self.parts if (difference := check(entry)) is not None]

    def matches(self, entry: Mapping[str, Any]) -> bool:
        return all(check(entry) is None for _, check in self.parts)


def parse_matcher(data: Any) -> Matcher:
    """Check a matcher's JSON once.

    Raises:
        InvalidBody: an unknown key or a bad value, naming its key path (``bodyPatterns[1].equalToJson``).
    """
    spec = _mapping(data, "matcher")
    unknown = sorted(set(spec) - set(MATCHER_KEYS))
    if unknown:
        raise _bad(unknown[0], f"unknown key {json.dumps(unknown[0])}; a matcher takes {', '.join(MATCHER_KEYS)}")
    parts: list[tuple[str, Check]] = []
    prefilter: dict[str, Any] = {}
    if "method" in spec:
        method = _text(spec["method"], "method").upper()
        if not re.fullmatch(r"[A-Z]{1,20}", method):
            raise _bad("method", f"must be an HTTP method like POST (or ANY), got {spec['method']!r}")
        if method != "ANY":
            prefilter["method"] = method
            parts.append(("method", _equal("method", "method", method)))
    if "url" in spec:
        parts.append(("url", _equal("url", "url", _text(spec["url"], "url"))))
    if "urlPath" in spec:
        prefilter["path"] = _text(spec["urlPath"], "urlPath")
        parts.append(("urlPath", _equal("urlPath", "path", prefilter["path"])))
    for key, field in (("urlPattern", "url"), ("urlPathPattern", "path")):
        if key in spec:
            parts.append((key, _pattern(key, field, _regex(spec[key], key))))
    for key in ("flavour", "tenant"):
        if key in spec:
            prefilter[key] = _text(spec[key], key)
            parts.append((key, _equal(key, key, prefilter[key])))
    if "status" in spec:
        status = spec["status"]
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise _bad("status", f"must be an HTTP status (an integer from 100 to 599), got {json.dumps(status)[:40]}")
        prefilter["status"] = status
        parts.append(("status", _equal("status", "status", status)))
    for name, matcher in _mapping(spec.get("queryParameters", {}), "queryParameters").items():
        key = f"queryParameters.{name}"
        parts.append((key, _query(key, name, ValueMatcher.read(matcher, key))))
    for name, matcher in _mapping(spec.get("headers", {}), "headers").items():
        key = f"headers.{name}"
        parts.append((key, _header(key, name, ValueMatcher.read(matcher, key))))
    patterns = spec.get("bodyPatterns", [])
    if not isinstance(patterns, list):
        raise _bad("bodyPatterns", "must be a list of body patterns")
    for i, pattern in enumerate(patterns):
        key = f"bodyPatterns[{i}]"
        parts.append((key, _body(key, _mapping(pattern, key))))
    return Matcher(tuple(parts), prefilter, spec)


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _equal(key: str, field: str, expected: Any) -> Check:
    def check(entry: Mapping[str, Any]) -> str | None:
        got = entry.get(field)
        return None if got == expected else f"{key}: expected {_shown(expected)}, got {_shown(got)}"
    return check


def _pattern(key: str, field: str, regex: re.Pattern[str]) -> Check:
    def check(entry: Mapping[str, Any]) -> str | None:
        got = entry.get(field) or ""
        return None if regex.fullmatch(got) else f"{key}: expected to match {_shown(regex.pattern)}, got {_shown(got)}"
    return check


def _query(key: str, name: str, matcher: ValueMatcher) -> Check:
    def check(entry: Mapping[str, Any]) -> str | None:
        values = [v for k, v in parse_qsl(entry.get("query") or "", keep_blank_values=True) if k == name]
        if any(matcher.test(v) for v in values) or (not values and matcher.test(None)):
            return None
        return f"{key}: expected {matcher.describe()}, got {_shown(values[0] if len(values) == 1 else values or None)}"
    return check


def _header(key: str, name: str, matcher: ValueMatcher) -> Check:
    lowered = name.lower()

    def check(entry: Mapping[str, Any]) -> str | None:
        got = next((v for k, v in (entry.get("headers") or {}).items() if k.lower() == lowered), None)
        return None if matcher.test(got) else f"{key}: expected {matcher.describe()}, got {_shown(got)}"
    return check


def _body(key: str, spec: Mapping[str, Any]) -> Check:
    kinds = [k for k in spec if k in _BODY_MATCHERS]
    unknown = sorted(set(spec) - {*_BODY_MATCHERS, "caseInsensitive", "absent"})
    if unknown:
        raise _bad(f"{key}.{unknown[0]}", f"unknown body pattern; one of {', '.join(_BODY_MATCHERS)}")
    if len(kinds) != 1 and "absent" not in spec:
        raise _bad(key, f"give exactly one of {', '.join(_BODY_MATCHERS)}, got {len(kinds)}")
    if "absent" in spec or kinds[0] in VALUE_MATCHERS:
        text = ValueMatcher.read(spec, key)

        def check_text(entry: Mapping[str, Any]) -> str | None:
            body = entry.get("body")
            return None if text.test(body) else f"{key}: body expected {text.describe()}, got {_shown(body)}"
        return check_text
    if kinds[0] == "equalToJson":
        expected = spec["equalToJson"]

        def check_json(entry: Mapping[str, Any]) -> str | None:
            body, problem = _json_body(entry)
            if problem is not None:
                return f"{key}: expected JSON equal to {_shown(expected)}, but {problem}"
            return None if body == expected else f"{key}: expected JSON equal to {_shown(expected)}, got {_shown(body)}"
        return check_json
    path_spec = spec["matchesJsonPath"]
    where = f"{key}.matchesJsonPath"
    if isinstance(path_spec, dict):
        steps = parse_json_path(path_spec.get("expression"), f"{where}.expression")
        rest = {k: v for k, v in path_spec.items() if k != "expression"}
        value = ValueMatcher.read(rest, where) if rest else None
        expression = path_spec["expression"]
    else:
        steps, value, expression = parse_json_path(path_spec, where), None, path_spec

    def check_path(entry: Mapping[str, Any]) -> str | None:
        body, problem = _json_body(entry)
        if problem is not None:
            return f"{key}: expected {expression} in a JSON body, but {problem}"
        found = select(body, steps)
        if value is None:
            return None if found else f"{key}: {expression} selects nothing in the body"
        texts = [v if isinstance(v, str) else json.dumps(v) for v in found]
        if any(value.test(t) for t in texts) or (not texts and value.test(None)):
            return None
        return f"{key}: {expression} expected {value.describe()}, got {_shown(texts[0] if len(texts) == 1 else texts)}"
    return check_path


def _json_body(entry: Mapping[str, Any]) -> tuple[Any, str | None]:
    body = entry.get("body")
    if body is None:
        return None, "the request had no body"
    if entry.get("body_truncated"):
        return None, "its body was cut (over --journal-body-bytes)"
    try:
        return json.loads(body), None
    except (ValueError, RecursionError):
        return None, "its body is not JSON"


@dataclass(frozen=True)
class NearMiss:
    """A journaled request close to a matcher: ``distance`` 0 (it matches) to 1 (nothing in common)."""

    entry: Mapping[str, Any]
    distance: float
    differences: list[str]

    def as_json(self) -> dict[str, Any]:
        return {"request": self.entry, "distance": self.distance, "differences": self.differences}


def near_misses(matcher: Matcher, entries: Sequence[Mapping[str, Any]], limit: int = 5) -> list[NearMiss]:
    """The ``limit`` entries closest to ``matcher``, closest first (newest first among equals).

    The distance is the share of the matcher's parts an entry fails, the method and path counting
    double (a request to another endpoint is further than one with another header).
    """
    if not matcher.parts:
        return []
    weights = {name: 2.0 if name in ("method", "url", "urlPath", "urlPattern", "urlPathPattern") else 1.0
               for name, _ in matcher.parts}
    total = sum(weights.values())
    ranked: list[tuple[float, int, NearMiss]] = []
    for order, entry in enumerate(entries):
        failed = [(name, d) for name, check in matcher.parts if (d := check(entry)) is not None]
        distance = round(sum(weights[name] for name, _ in failed) / total, 4)
        ranked.append((distance, -order, NearMiss(entry, distance, [d for _, d in failed])))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [miss for _, _, miss in ranked[:limit]]
