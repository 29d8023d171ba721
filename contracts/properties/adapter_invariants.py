"""The invariants adapter properties are built from: calling the adapter, walking it, comparing.

Every helper that finds a broken contract raises :class:`~contracts.failures.ContractFailure`
(made by :func:`fail`) carrying the calls that led to it, expected vs actual and a curl line
for the ground truth.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
from hypothesis import strategies as st

from contracts.adapters import AdapterError, AdapterPage, Sort
from contracts.failures import ContractFailure, UsageError, curl_line
from contracts.properties.adapter_world import World

__all__ = [
    "FILTER_PATHS",
    "LIMITS",
    "call_text",
    "compare_walk",
    "crash",
    "customers_path",
    "expect_error",
    "fail",
    "filter_value",
    "list_page",
    "problem_key",
    "problem_shape",
    "query",
    "strip_excluded",
    "walk_adapter",
]

FILTER_PATHS = {"email": "emails.email", "phone_number": "phone_numbers.number", "status": "status",
                "customer_ids": "id", "created_since": "created_at", "updated_since": "updated_at"}
"""The canonical field each filter reads (a filter on an excluded field is not checked)."""
LIMITS = st.one_of(st.integers(0, 199).map(lambda n: 200 - n), st.integers(1, 30))
"""Page sizes 1..200, small ones (many pages) half of the time, shrinking towards 200: a failure is
reported with the fewest requests that show it."""


# ---- exclusions -----------------------------------------------------------------------------------


def strip_excluded(record: Any, excluded: Sequence[str] | frozenset[str]) -> Any:
    """``record`` without the excluded paths (a copy): ``key``, ``parent.key`` or ``parent[n:]``."""
    if not isinstance(record, dict):
        return record
    out = json.loads(json.dumps(record))
    for path in sorted(excluded, key=lambda p: "[" not in p):  # truncations first
        if "[" in path:
            name, _, rest = path.partition("[")
            keep = int(rest.split(":")[0] or 0)
            if isinstance(out.get(name), list):
                out[name] = out[name][:keep]
        elif "." in path:
            parent, child = path.split(".", 1)
            value = out.get(parent)
            for item in value if isinstance(value, list) else [value] if isinstance(value, dict) else []:
                if isinstance(item, dict):
                    item.pop(child, None)
        else:
            out.pop(path, None)
    return out


def _differences(expected: Any, actual: Any) -> list[str]:
    if not isinstance(expected, dict) or not isinstance(actual, dict):
        return ["the whole value"]
    keys = list(dict.fromkeys(list(expected) + list(actual)))
    return [k for k in keys if expected.get(k, "<missing>") != actual.get(k, "<missing>")]



# ---- calling the adapter ------------------------------------------------------------------------------


def call_text(cursor: str | None, limit: int, fields: Sequence[str] | None, filters: Mapping[str, str],
              sort: Sort) -> str:
    return (f"adapter.list_customers(cursor={cursor!r}, limit={limit}, fields={list(fields) if fields else None}, "
            f"filters={dict(filters)}, sort=Sort({sort.by!r}, descending={sort.descending}))")


def list_page(world: World, prop: str, cursor: str | None, limit: int, fields: Sequence[str] | None,
              filters: Mapping[str, str], sort: Sort) -> AdapterPage:
    world.calls.append(call_text(cursor, limit, fields, filters, sort))
    try:
        page = world.adapter.list_customers(cursor, limit, fields, filters, sort)
    except AdapterError as error:
        raise fail(world, prop, f"list_customers raised the canonical error {error.status} "
                                f"{error.problem.get('type')} for a valid request: {error.problem.get('detail')}",
                   actual=error.problem) from None
    except Exception as exc:  # noqa: BLE001 - any crash is a finding, reported with its origin
        raise crash(world, prop, "list_customers", exc) from None
    if not isinstance(page, AdapterPage) and not hasattr(page, "customers"):
        raise fail(world, prop, f"list_customers returned {type(page).__name__}, not an AdapterPage")
    return page


def crash(world: World, prop: str, what: str, exc: BaseException) -> ContractFailure:
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    origin = f" at {where.filename}:{where.lineno}" if where else ""
    return fail(world, prop, f"{what} raised {type(exc).__name__}: {exc}{origin}. An adapter answers with "
                             f"canonical data or raises AdapterError, never another exception.")


def fail(world: World, prop: str, message: str, *, expected: Any = None, actual: Any = None,
         curl_path: str | None = None) -> ContractFailure:
    curl = None
    if curl_path is not None:
        curl = curl_line("GET", f"{world.truth_url}{curl_path}", {"Authorization": f"Bearer {world.truth_token}"})
    if world.dataset_seed is not None:
        message += f" (dataset seed {world.dataset_seed})"
    return ContractFailure(prop=prop, message=message, expected=expected, actual=actual,
                           requests=list(world.calls[-12:]), curl=curl)


def walk_adapter(world: World, prop: str, limit: int, fields: Sequence[str] | None, filters: Mapping[str, str],
                 sort: Sort, expected_count: int, max_pages: int | None = None) -> list[dict[str, Any]]:
    """Every customer the adapter lists, checking the paging properties on the way."""
    items: list[dict[str, Any]] = []
    seen: dict[Any, int] = {}
    cursor: str | None = None
    budget = max_pages if max_pages is not None else expected_count + 2
    for number in range(budget):
        page = list_page(world, prop, cursor, limit, fields, filters, sort)
        if len(page.customers) > limit:
            raise fail(world, "adapter.paging.limit", f"page {number + 1} holds {len(page.customers)} customers "
                                                      f"for limit={limit}", expected=limit,
                       actual=len(page.customers))
        if page.total is not None and page.total != expected_count and fields is None:
            raise fail(world, "adapter.filters" if filters else "adapter.paging.total",
                       f"the adapter reports total={page.total} but {expected_count} customers match",
                       expected=expected_count, actual=page.total)
        for customer in page.customers:
            cid = customer.get("id") if isinstance(customer, dict) else None
            if cid is not None and cid in seen:
                raise fail(world, "adapter.paging.no_duplicates",
                           f"customer {cid!r} is listed again on page {number + 1} (first on page {seen[cid]})",
                           actual=cid)
            if cid is not None:
                seen[cid] = number + 1
        items.extend(page.customers)
        if page.next_cursor is None:
            return items
        if max_pages is not None and number + 1 == max_pages:
            return items
        cursor = page.next_cursor
    raise fail(world, "adapter.paging.termination",
               f"the walk did not end after {budget} pages for {expected_count} customers (limit={limit}): "
               f"next_cursor never became None", expected=expected_count, actual=len(items))


def compare_walk(world: World, excluded: frozenset[str], prop: str, expected: list[dict[str, Any]],
                 actual: list[dict[str, Any]], path: str) -> None:
    want_ids = [c.get("id") for c in expected]
    got_ids = [c.get("id") if isinstance(c, dict) else None for c in actual]
    if want_ids != got_ids:
        missing = [i for i in want_ids if i not in set(got_ids)]
        extra = [i for i in got_ids if i not in set(want_ids)]
        if prop == "adapter.ground_truth":
            prop = "adapter.paging.complete" if missing or extra else "adapter.paging.order"
        detail = (f"{len(missing)} missing (first {missing[:3]}), {len(extra)} unexpected (first {extra[:3]})"
                  if missing or extra else "the same customers in another order")
        raise fail(world, prop, f"the adapter listed {len(got_ids)} customers where the canonical API lists "
                                f"{len(want_ids)}: {detail}", expected=want_ids[:20], actual=got_ids[:20],
                   curl_path=path)
    for n, (want, got) in enumerate(zip(expected, actual)):
        want_s, got_s = strip_excluded(want, excluded), strip_excluded(got, excluded)
        if want_s != got_s:
            keys = _differences(want_s, got_s)
            which = f"customer {want['id']!r}" if "id" in want else f"customer #{n + 1} of the walk"
            raise fail(world, prop, f"{which} differs from the ground truth in "
                                    f"{', '.join(keys)} (fields the platform cannot provide belong in "
                                    f"excluded_fields)",
                       expected={k: want_s.get(k) for k in keys}, actual={k: got_s.get(k, '<missing>') for k in keys},
                       curl_path=path)


# ---- the properties ------------------------------------------------------------------------------------


def query(limit: int | None = None, fields: Sequence[str] | None = None, filters: Mapping[str, str] | None = None,
          sort: Sort | None = None, cursor: str | None = None) -> dict[str, str]:
    params: dict[str, str] = {}
    if limit is not None:
        params["limit"] = str(limit)
    if fields:
        params["fields"] = ",".join(fields)
    for key, value in (filters or {}).items():
        params[f"filter[{key}]"] = value
    if sort is not None and sort != Sort():
        params["sort[by]"] = sort.by
        params["sort[direction]"] = "desc" if sort.descending else "asc"
    if cursor is not None:
        params["cursor"] = cursor
    return params


def customers_path(params: Mapping[str, str]) -> str:
    from urllib.parse import urlencode

    return "/customers" + (f"?{urlencode(params)}" if params else "")



def filter_value(key: str, everyone: list[dict[str, Any]]) -> st.SearchStrategy[str]:
    if not everyone:
        return st.just({"status": "active"}.get(key, "nobody@example.com"))
    people = st.sampled_from(everyone)
    if key == "email":
        def email(person: dict[str, Any], shout: bool) -> str:
            address = person["emails"][0]["email"] if person.get("emails") else "nobody@example.com"
            return f" {address.upper()} " if shout else address  # matching is case-insensitive, trimmed
        return st.builds(email, people, st.booleans())
    if key == "phone_number":
        def phone(person: dict[str, Any], form: int) -> str:
            phones = person.get("phone_numbers") or [{"number": "000-0000"}]
            p = phones[0]
            forms: list[str] = [p["number"], f"({p.get('area_code') or ''}) {p['number']}",
                    f"+{p.get('country_code') or ''} {p.get('area_code') or ''} {p['number']}"]
            return forms[form]
        return st.builds(phone, people, st.integers(0, 2))
    if key == "status":
        return st.sampled_from(["active", "archived"])
    if key == "customer_ids":
        return st.lists(people.map(lambda p: p["id"]), min_size=1, max_size=5).map(
            lambda ids: " , ".join(ids + ["999999999"]))
    stamp = "created_at" if key == "created_since" else "updated_at"
    return people.map(lambda p: p[stamp])


def expect_error(world: World, prop: str, expected: httpx.Response, call: Callable[[], Any], path: str,
                 *, auth: bool = True) -> None:
    try:
        want = expected.json()
    except ValueError:
        raise UsageError(f"the ground truth answered {expected.status_code} without a JSON body to "
                         f"{expected.request.url}") from None
    try:
        result = call()
    except AdapterError as error:
        got = error.problem
        problems = problem_shape(got)
        if error.status != expected.status_code or problems or problem_key(got) != problem_key(want):
            why = "; ".join(problems) if problems else "it is not the canonical problem"
            raise fail(world, prop, f"the adapter raised {error.status} {got.get('type')} where the canonical API "
                                    f"answers {expected.status_code} {want.get('type')}: {why}",
                       expected=problem_key(want) | {"status": expected.status_code},
                       actual=problem_key(got) | {"status": error.status}, curl_path=path if auth else None) from None
        return
    except Exception as exc:  # noqa: BLE001
        raise crash(world, prop, world.calls[-1] if world.calls else "the adapter", exc) from None
    raise fail(world, prop, f"the adapter answered instead of raising AdapterError({expected.status_code}, "
                            f"{want.get('type')})", expected=problem_key(want), actual=repr(result)[:300],
               curl_path=path if auth else None)


def problem_key(problem: Mapping[str, Any]) -> dict[str, Any]:
    found = problem.get("errors")
    errors: list[Any] = found if isinstance(found, list) else []
    return {"type": problem.get("type"), "title": problem.get("title"),
            "errors": sorted((e.get("in"), e.get("name")) for e in errors if isinstance(e, dict))}


def problem_shape(problem: Mapping[str, Any]) -> list[str]:
    """What keeps ``problem`` from being a valid canonical ``Problem`` body."""
    found = []
    for key, kind in (("type", str), ("title", str), ("status", int), ("detail", str), ("errors", list)):
        if not isinstance(problem.get(key), kind):
            found.append(f"{key} must be a {kind.__name__}")
    if isinstance(problem.get("detail"), str) and not problem["detail"]:
        found.append("detail must not be empty")
    for entry in problem.get("errors") or []:
        if not isinstance(entry, dict) or entry.get("in") not in ("query", "header", "path", "body") \
                or not isinstance(entry.get("name"), str) or not entry.get("detail"):
            found.append(f"errors entry {entry!r} needs in (query|header|path|body), name and detail")
    return found
