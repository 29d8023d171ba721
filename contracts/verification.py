"""Verifications over the mock's request journal, for tests: build a matcher, explain a miss.

``assert_called("POST", "/customers", json={"email": ...})`` on the pytest plugin's ``mock_server``
or ``mock_admin`` comes here: the keyword arguments become a matcher of ``POST
/__admin/requests/count`` (see ``mockserver/matching.py`` for the JSON), and a count that is not
the one expected fails with what was expected, how many matched, and the near misses with what
differs in each, like ``responses``' matchers say what did not match.

Standard library only at import time: the pytest plugin imports it in every run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["build_matcher", "explain_miss", "value_matcher"]

_VALUE_KEYS = ("equalTo", "contains", "matches", "absent")


def value_matcher(value: Any) -> dict[str, Any]:
    """A value matcher: a string is ``equalTo`` it, ``None`` is ``absent``, a dict is taken as it is."""
    if isinstance(value, Mapping):
        return dict(value)
    if value is None:
        return {"absent": True}
    return {"equalTo": str(value)}


def build_matcher(method: str | None = None, path: str | None = None, *, path_pattern: str | None = None,
                  url: str | None = None, query: Mapping[str, Any] | None = None,
                  headers: Mapping[str, Any] | None = None, json: Any = None, json_paths: Sequence[Any] = (),
                  body_contains: str | None = None, flavour: str | None = None, tenant: str | None = None,
                  status: int | None = None) -> dict[str, Any]:
    """The matcher JSON for these expectations (each one left out matches anything).

    Args:
        method: ``GET``, ``POST``... (``None`` or ``ANY``: every method).
        path: the exact path (``/customers``), without the query.
        path_pattern: a regular expression the whole path matches (instead of ``path``).
        url: the exact path and ``?query``.
        query: parameter -> expected value (a string: equal to it; ``None``: absent; or a value
            matcher such as ``{"matches": "[0-9]+"}``).
        headers: header -> expected value, as ``query`` (names are case-insensitive).
        json: the request body parses to this JSON value.
        json_paths: JSON paths the body must have (``"$.emails[0].email"``), or
            ``{"expression": path, "equalTo": value}``.
        body_contains: text the body contains.
        flavour, tenant, status: the flavour that served it, the caller's tenant, the answer's status.
    """
    matcher: dict[str, Any] = {}
    if method is not None:
        matcher["method"] = method.upper()
    if path is not None:
        matcher["urlPath"] = path
    if path_pattern is not None:
        matcher["urlPathPattern"] = path_pattern
    if url is not None:
        matcher["url"] = url
    if query:
        matcher["queryParameters"] = {name: value_matcher(v) for name, v in query.items()}
    if headers:
        matcher["headers"] = {name: value_matcher(v) for name, v in headers.items()}
    patterns: list[dict[str, Any]] = []
    if json is not None:
        patterns.append({"equalToJson": json})
    patterns.extend({"matchesJsonPath": path} for path in json_paths)
    if body_contains is not None:
        patterns.append({"contains": body_contains})
    if patterns:
        matcher["bodyPatterns"] = patterns
    for key, value in (("flavour", flavour), ("tenant", tenant), ("status", status)):
        if value is not None:
            matcher[key] = value
    return matcher


def _times(n: int) -> str:
    return f"{n} time" + ("" if n == 1 else "s")


def _line(entry: Mapping[str, Any]) -> str:
    status = "dropped" if entry.get("status") is None else entry.get("status")
    extras = [f"{k} {entry[k]}" for k in ("flavour", "tenant", "fault") if entry.get(k)]
    return f"#{entry.get('id')} {entry.get('method')} {entry.get('url')} -> {status}" + (
        f" ({', '.join(extras)})" if extras else "")


def explain_miss(matcher: Mapping[str, Any], expected: int | None, found: Sequence[Mapping[str, Any]],
                 misses: Sequence[Mapping[str, Any]]) -> str:
    """The message of a failed verification.

    Args:
        matcher: what was looked for.
        expected: how many times (``None``: at least once).
        found: the journaled requests that matched.
        misses: the near misses (``POST /__admin/requests/near-misses``' ``near_misses``).
    """
    wanted = "at least once" if expected is None else f"exactly {_times(expected)}"
    lines = [(f"Expected a request matching {json.dumps(matcher, sort_keys=True)} {wanted}; "
             f"{len(found)} matched.")]
    if found:
        lines.append("Matching requests:")
        lines.extend(f"  {_line(entry)}" for entry in found[:10])
        if len(found) > 10:
            lines.append(f"  ... and {len(found) - 10} more")
    near = [miss for miss in misses if miss.get("differences")]
    if near:
        lines.append("Closest requests that did not match:")
        for miss in near:
            lines.append(f"  {_line(miss['request'])}  (distance {miss['distance']:.2f})")
            lines.extend(f"    - {difference}" for difference in miss["differences"])
    elif not found:
        lines.append("The journal holds no request at all: did the client reach this server "
                     "(and not another port or an in-process app)?")
    lines.append("See every request with GET /__admin/requests (mock_server.requests()).")
    return "\n".join(lines)
