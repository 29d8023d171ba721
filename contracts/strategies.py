"""Hypothesis strategies built from the contract, for testing the *clients* of the API.

Every function returns a strategy, checks its arguments at once (raising Hypothesis's
``InvalidArgument``) and says what its examples shrink towards. Schemas, enums, patterns,
bounds and parameter names are read from ``openapi.yaml`` (``flavour="canonical"``) or from
a flavour's document in ``mockserver/specs/``; nothing is copied by hand.

* :func:`customers` - full canonical customers (or a flavour's native records), including what
  real data has: unicode and very long names, empty arrays, ``null`` optionals.
* :func:`pages` - list response bodies; canonical pages are consistent (counts, cursors, links,
  last page, empty page, maximum page size).
* :func:`error_bodies` - error bodies for every documented error status.
* :func:`page_sizes`, :func:`field_selections`, :func:`list_queries` - request inputs.
* :func:`foreign_cursors` - cursors a server never issued (garbage, edited, other dataset).

Example:
    >>> from hypothesis import given
    >>> @given(page=pages(last=True))
    ... def test_my_client_stops_on_the_last_page(page): ...
"""

from __future__ import annotations

import base64
import copy
import http
import json
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache, partial
from typing import Any
from urllib.parse import urlencode

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from contracts.flavour_specs import (
    customer_schema,
    document,
    field_paths,
    limit_bounds,
    list_operation,
    list_parameters,
)
from contracts.json_strategies import EMAIL, SchemaStrategies, string_strategy, texts
from contracts.openapi import merged, operations

__all__ = [
    "customers",
    "error_bodies",
    "field_selections",
    "foreign_cursors",
    "list_queries",
    "page_sizes",
    "pages",
]

JSON = Any
Strategy = st.SearchStrategy

PROBLEM_STATUS = {
    "/problems/invalid-parameter": 400, "/problems/invalid-cursor": 400, "/problems/malformed-body": 400,
    "/problems/unauthorized": 401, "/problems/not-found": 404, "/problems/method-not-allowed": 405,
    "/problems/unsupported-media-type": 415, "/problems/invalid-body": 422, "/problems/internal": 500,
    "/problems/connection-unauthorized": 401, "/problems/connection-disabled": 403,
    "/problems/connection-not-found": 404, "/problems/rate-limited": 429,
    "/problems/connection-downstream-error": 502, "/problems/unavailable": 503,
}
"""Problem ``type`` -> status, as the table in ``openapi.yaml``'s description states."""



# ---- canonical customers --------------------------------------------------------------------


def _names() -> Strategy[str | None]:
    """null, short plain names, unicode names, very long names."""
    plain = st.from_regex(r"\A[A-Z][a-z]{0,11}( [A-Z][a-z]{0,11}){0,2}\Z")
    return st.one_of(st.none(), plain, texts(1))


def _canonical_hints() -> dict[str, Strategy[Any]]:
    return {
        "id": st.integers(100_000_000, 999_999_999).map(str),
        "name": _names(), "first_name": _names(), "last_name": _names(), "company_name": _names(),
        "notes": st.one_of(st.none(), texts(0, 10_000)),
        "emails.email": st.one_of(st.from_regex(EMAIL),
                                  string_strategy({"pattern": _email_pattern()})),
    }


@lru_cache(maxsize=1)
def _email_pattern() -> str:
    doc = document("canonical")
    email = merged(doc, doc["components"]["schemas"]["Email"])
    return str(email["properties"]["email"]["pattern"])


def _finish_canonical(customer: dict[str, Any]) -> dict[str, Any]:
    """Rules the schema states in prose: updated_at >= created_at, nested ids derived from the id."""
    created, updated = customer.get("created_at"), customer.get("updated_at")
    if isinstance(created, str) and isinstance(updated, str) and updated < created:
        customer["created_at"], customer["updated_at"] = updated, created
    return _renumber(customer)


def _check_fields(flavour: str, fields: Sequence[str] | None) -> Any:
    if fields is None:
        return None
    if flavour != "canonical":
        raise InvalidArgument("fields= is only supported for the canonical flavour")
    if isinstance(fields, str) or not all(isinstance(f, str) for f in fields):
        raise InvalidArgument(f"fields must be a sequence of field paths, got {fields!r}")
    from mockserver import CUSTOMER_PATHS, MockServerError, parse_fields

    try:
        return parse_fields(",".join(fields), CUSTOMER_PATHS)
    except MockServerError as exc:
        raise InvalidArgument(f"fields={list(fields)!r}: {exc}") from None


def customers(flavour: str = "canonical", *, fields: Sequence[str] | None = None) -> Strategy[dict[str, Any]]:
    """Customers as the API returns them: canonical ones, or ``flavour``'s native records.

    Canonical customers hold every property of the ``Customer`` schema (values from its enums
    and patterns), names that may be ``null``, unicode or longer than 255 characters, 0-3
    emails, phones, addresses and orders, and ``updated_at >= created_at``. With ``fields``
    (canonical paths) they are projected as a ``fields=`` response would be. For another
    flavour, records are drawn from the item schema of its list response.

    Examples shrink towards a customer whose optional properties are ``null``, whose arrays
    are empty and whose strings are shortest.

    Raises:
        InvalidArgument: unknown flavour, or a ``fields`` entry that is not a field path.
    """
    doc = document(flavour)
    fieldset = _check_fields(flavour, fields)
    schema = customer_schema(doc, flavour)
    if flavour != "canonical":
        return SchemaStrategies(doc).build(schema)
    strategy = SchemaStrategies(doc, _canonical_hints()).build(schema).map(_finish_canonical)
    if fieldset is not None:
        from mockserver import project

        strategy = strategy.map(lambda c: project(c, fieldset))
    return strategy


# ---- request inputs -----------------------------------------------------------------------


def page_sizes(flavour: str = "canonical") -> Strategy[int]:
    """Valid page sizes of ``flavour``'s list operation (its ``limit`` bounds), maximum included.

    Examples shrink towards the smallest page size (1).

    Raises:
        InvalidArgument: unknown flavour, or its list operation has no page size parameter.
    """
    _, low, high = limit_bounds(flavour)
    # NOTE: one draw in ten is the maximum; the pair shrinks to (low, 0), i.e. to the minimum.
    return st.tuples(st.integers(low, high), st.integers(0, 9)).map(lambda p: high if p[1] == 9 else p[0])


def field_selections(flavour: str = "canonical", *, min_size: int = 1,
                     max_size: int | None = None) -> Strategy[list[str]]:
    """Lists of distinct field paths of ``flavour``'s customer, nested ones in dot notation.

    For the canonical flavour these are exactly the valid ``fields=`` entries. Examples
    shrink towards one top-level field, the first property of the schema (``["id"]``).

    Raises:
        InvalidArgument: unknown flavour, or bad sizes.
    """
    paths = field_paths(flavour)
    if min_size < 0 or (max_size is not None and max_size < min_size) or min_size > len(paths):
        raise InvalidArgument(f"need 0 <= min_size <= max_size <= {len(paths)}, got {min_size}, {max_size}")
    return st.lists(st.sampled_from(paths), min_size=min_size, max_size=max_size, unique=True)


def list_queries(flavour: str = "canonical", *, dataset: Any = None) -> Strategy[dict[str, str]]:
    """Query parameters of a valid first-page list request (no ``cursor``), as strings.

    Each documented parameter is present or absent; values come from its schema (``limit``
    from :func:`page_sizes`, ``fields`` from :func:`field_selections`). With a
    ``mockserver.Dataset``, canonical filter values come from real customers so they match.
    Examples shrink towards ``{}``: the first page with every default.

    Raises:
        InvalidArgument: unknown flavour, or ``dataset`` given for another flavour or empty.
    """
    doc = document(flavour)
    params = list_parameters(flavour)
    if dataset is not None and (flavour != "canonical" or not getattr(dataset, "count", 0)):
        raise InvalidArgument("dataset= needs the canonical flavour and a Dataset with customers")
    size_name, _, _ = limit_bounds(flavour)
    values: dict[str, Strategy[str]] = {}
    for name, param in params.items():
        schema = merged(doc, param.get("schema") or {})
        if "cursor" in name.lower() or param.get("required") or name in ("offset", "page"):
            continue
        if name == size_name:
            values[name] = page_sizes(flavour).map(str)
        elif name == "fields" and flavour == "canonical":
            values[name] = field_selections().map(",".join)
        elif dataset is not None and name in _DATASET_FILTERS:
            values[name] = st.integers(0, dataset.count - 1).map(partial(_DATASET_FILTERS[name], dataset))
        else:
            values[name] = SchemaStrategies(doc).build(schema).map(_query_text)
    return st.fixed_dictionaries({}, optional=values)


def _query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _phone_of(dataset: Any, i: int) -> str:
    phone = dataset.customer(i)["phone_numbers"][0]
    return f"+{phone['country_code']} {phone['area_code'] or ''} {phone['number']}".replace("  ", " ")


_DATASET_FILTERS: dict[str, Callable[[Any, int], str]] = {
    "filter[email]": lambda ds, i: ds.customer(i)["emails"][0]["email"],
    "filter[phone_number]": _phone_of,
    "filter[customer_ids]": lambda ds, i: ",".join(ds.id_of(j) for j in range(i, min(i + 3, ds.count))),
    "filter[created_since]": lambda ds, i: ds.customer(i)["created_at"],
    "filter[updated_since]": lambda ds, i: ds.customer(i)["updated_at"],
}


@lru_cache(maxsize=1)
def _other_dataset_cursors() -> tuple[str, ...]:
    """Real cursors from a mock with a dataset no test uses: valid in form, foreign to any other server."""
    import tempfile

    from falcon.testing import TestClient

    from mockserver import Settings, create_app

    with tempfile.TemporaryDirectory() as tmp:
        client = TestClient(create_app(Settings(seed=-977, count=37, state=f"{tmp}/state.sqlite3")))
        found = []
        for query in ("limit=1", "limit=5&sort[by]=name", "limit=2&filter[status]=active"):
            body = client.simulate_get("/canonical/customers", query_string=query,
                                       headers={"Authorization": "Bearer x"}).json
            found.append(body["meta"]["cursors"]["next"])
    return tuple(c for c in found if c)


def foreign_cursors(*, like: str | None = None) -> Strategy[str]:
    """Cursors the server under test never issued, which it must answer with a 400.

    URL-safe garbage (the cursor's documented alphabet), base64 of JSON that looks like a
    position, cursors issued by a mock with another dataset, arbitrary unicode and, with
    ``like`` (a cursor the server did issue), edited copies of it: truncated, one character
    changed, or extended. Examples shrink towards the single character ``"0"``.

    Raises:
        InvalidArgument: ``like`` is not a non-empty string.
    """
    if like is not None and (not isinstance(like, str) or not like):
        raise InvalidArgument(f"like must be a non-empty cursor string, got {like!r}")
    b64 = st.builds(lambda obj: base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("="),
                    st.one_of(st.lists(st.integers(), max_size=4), st.dictionaries(st.sampled_from(["offset", "id",
                              "page", "key"]), st.integers(0, 10**9), min_size=1)))
    options: list[Strategy[str]] = [
        st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), min_size=1,
                max_size=60),
        b64,
        st.sampled_from(_other_dataset_cursors()) if _other_dataset_cursors() else st.just("W10"),
        st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40),
    ]
    if like is not None:
        options.append(st.builds(_edit, st.just(like), st.integers(0, len(like) - 1), st.sampled_from("AZaz09_-"),
                                 st.sampled_from(["truncate", "replace", "extend"])))
    return st.one_of(options).filter(lambda c: c != like)


def _edit(cursor: str, at: int, char: str, how: str) -> str:
    if how == "truncate":
        return cursor[:at] or "A"
    if how == "replace":
        return cursor[:at] + (char if cursor[at] != char else "B") + cursor[at + 1:]
    return cursor + char


# ---- pages and errors ----------------------------------------------------------------------


def _renumber(customer: dict[str, Any]) -> dict[str, Any]:
    """Nested ids derived from the customer's id (``<id>-e1``...), as the contract describes them."""
    for key, tag in (("emails", "e"), ("phone_numbers", "p"), ("addresses", "a"), ("orders", "o")):
        for n, item in enumerate(customer.get(key) or (), start=1):
            if key == "orders" or item.get("id") is not None:
                item["id"] = f"{customer['id']}-{tag}{n}"
    return customer


def _fill(templates: list[dict[str, Any]], count: int, first_id: int) -> list[dict[str, Any]]:
    """``count`` customers cycling through ``templates``, each with its own id.

    PERF: drawing 200 full customers would exceed Hypothesis's budget per example; a few
    drawn templates with distinct ids give the maximum page size at the cost of three.
    """
    out = []
    for n in range(count):
        customer = copy.deepcopy(templates[n % len(templates)])
        customer["id"] = str(100_000_000 + (first_id - 100_000_000 + n * 7919) % 900_000_000)
        out.append(_renumber(customer))
    return out


@st.composite
def _canonical_page(draw: st.DrawFn, limit: int | None, last: bool | None, fields: Sequence[str] | None,
                    base_url: str) -> dict[str, Any]:
    size = draw(page_sizes()) if limit is None else limit
    is_last = draw(st.booleans()) if last is None else last
    # NOTE: the empty page and the full last page are drawn often: clients get them wrong.
    count = draw(st.one_of(st.integers(0, size), st.sampled_from([0, size]))) if is_last else size
    templates = draw(st.lists(customers(fields=None), min_size=1, max_size=3)) if count else []
    first_id = draw(st.integers(100_000_000, 999_999_999))
    data = _fill(templates, count, first_id)
    if fields is not None:
        from mockserver import CUSTOMER_PATHS, parse_fields, project

        fieldset = parse_fields(",".join(fields), CUSTOMER_PATHS)
        data = [project(c, fieldset) for c in data]
    is_first = draw(st.booleans())
    cursor = st.from_regex(r"\A[A-Za-z0-9_-]{8,40}\Z")
    current = None if is_first else draw(cursor)
    previous = None if is_first else draw(cursor)
    nxt = None if is_last else draw(cursor)
    before = 0 if is_first else draw(st.integers(1, 10_000))
    after = 0 if is_last else draw(st.integers(1, 10_000))
    query: dict[str, Any] = {"limit": size}
    if fields is not None:
        query["fields"] = ",".join(fields)

    def link(value: str | None) -> str:
        return f"{base_url}/customers?" + urlencode({**query, **({"cursor": value} if value else {})})

    return {
        "data": data,
        "meta": {"items_on_page": count, "total_count": before + count + after,
                 "cursors": {"previous": previous, "current": current, "next": nxt}},
        "links": {"previous": link(previous) if previous else None, "current": link(current),
                  "next": link(nxt) if nxt else None},
    }


def pages(flavour: str = "canonical", *, limit: int | None = None, last: bool | None = None,
          fields: Sequence[str] | None = None, base_url: str = "http://127.0.0.1:8000") -> Strategy[dict[str, Any]]:
    """List response bodies.

    Canonical pages are consistent: ``items_on_page == len(data)``; a page that is not the last
    holds exactly ``limit`` customers and has a ``next`` cursor and link; the last one has
    ``next: null`` and 0 to ``limit`` customers (the empty page included); ``total_count``
    counts the pages around it; ``links`` are absolute and carry the cursors. The maximum
    page size (200 customers) is drawn too. For another flavour, bodies are drawn from its
    list response schema (valid, not cross-checked).

    Args:
        limit: fix the page size (default: drawn from :func:`page_sizes`).
        last: ``True`` for last pages only, ``False`` for pages with a next one.
        fields: project every customer as ``fields=`` would (canonical only).

    Examples shrink towards an empty page that is both the first and the last.

    Raises:
        InvalidArgument: unknown flavour, a ``limit`` outside the documented bounds, bad ``fields``.
    """
    doc = document(flavour)
    _check_fields(flavour, fields)
    if limit is not None:
        _, low, high = limit_bounds(flavour)
        if isinstance(limit, bool) or not isinstance(limit, int) or not low <= limit <= high:
            raise InvalidArgument(f"limit={limit!r} is outside the documented bounds {low}..{high}")
    if last is not None and not isinstance(last, bool):
        raise InvalidArgument(f"last must be True, False or None, got {last!r}")
    if flavour == "canonical":
        return _canonical_page(limit, last, fields, base_url.rstrip("/"))
    return SchemaStrategies(doc).build(list_operation(flavour).response_schema(doc, "200") or {})


def _error_responses(doc: Mapping[str, Any]) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for operation in operations(doc):
        for code in operation.spec.get("responses") or {}:
            if str(code).isdigit() and int(code) >= 400 and int(code) not in found:
                schema = operation.response_schema(doc, code)
                if schema is not None:
                    found[int(code)] = schema
    return dict(sorted(found.items()))


def error_bodies(status: int | None = None, flavour: str = "canonical") -> Strategy[dict[str, Any]]:
    """Error bodies as ``flavour`` documents them, for ``status`` or any documented error status.

    Canonical bodies are problem details whose ``type`` matches the status (the table of
    ``openapi.yaml``), ``title`` is the reason phrase and ``errors`` has 0-3 entries. Examples
    shrink towards a body with a one-character ``detail`` and no ``errors`` entry.

    Raises:
        InvalidArgument: unknown flavour, or a status the flavour does not document.
    """
    doc = document(flavour)
    responses = _error_responses(doc)
    if status is not None and status not in responses:
        raise InvalidArgument(f"status={status!r} is not an error status the {flavour} document declares; "
                              f"declared: {', '.join(map(str, responses))}")
    statuses = [status] if status is not None else list(responses)
    if flavour != "canonical":
        return st.sampled_from(statuses).flatmap(lambda code: SchemaStrategies(doc).build(responses[code]))
    problem = merged(doc, doc["components"]["schemas"]["Problem"])
    error_item = SchemaStrategies(doc).build(problem["properties"]["errors"]["items"])
    # NOTE: the contract states the kinds as a pattern, not an enum; the table is PROBLEM_STATUS.
    types = list(problem["properties"]["type"].get("enum") or PROBLEM_STATUS)

    def body(code: int) -> Strategy[dict[str, Any]]:
        kinds = [t for t in types if PROBLEM_STATUS.get(t) == code] or ["/problems/internal"]
        return st.fixed_dictionaries({
            "type": st.sampled_from(kinds),
            "title": st.just(http.HTTPStatus(code).phrase),
            "status": st.just(code),
            "detail": texts(1, 500),
            "errors": st.lists(error_item, max_size=3),
        }).map(lambda d: {k: d[k] for k in ("type", "title", "status", "detail", "errors")})

    return st.sampled_from(statuses).flatmap(body)
