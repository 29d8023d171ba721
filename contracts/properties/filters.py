"""Filter and sort properties: filtered walks are exact, bad filters are refused, sort order holds across pages."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from contracts.properties.invariants import (
    check_walk,
    expect_problem,
    key_of,
    matches_filter,
    parse_time,
    sort_key,
    walk,
)
from contracts.properties.registry import (
    COVERAGE,
    Context,
    Skip,
    Universe,
    after_last,
    id_sample,
    need_items,
    prop,
    sort_params,
    sorts,
)
from contracts.schema import Contract


def _filter_values(ctx: Context, universe: Universe, name: str) -> st.SearchStrategy[str]:
    """Values for ``filter[name]`` taken from real customers (so they match), or matching nothing."""
    items = universe.items
    pick = st.integers(0, len(items) - 1).map(lambda i: items[i])
    if name == "email":
        def emails(item: dict[str, Any]) -> st.SearchStrategy[str]:
            found = [e["email"] for e in item.get("emails") or () if isinstance(e, dict) and e.get("email")]
            return st.sampled_from(found) if found else st.just("nobody@example.invalid")
        value = pick.flatmap(emails)
        return st.one_of(value, value.map(str.upper), value.map(lambda v: f"  {v} "),
                         st.just("nobody@example.invalid"))
    if name == "phone_number":
        def phones(item: dict[str, Any]) -> st.SearchStrategy[str]:
            found = [p for p in item.get("phone_numbers") or () if isinstance(p, dict) and p.get("number")]
            if not found:
                return st.just("000")
            return st.sampled_from(found).flatmap(lambda p: st.sampled_from([
                str(p.get("number")), f"({p.get('area_code') or ''}) {p.get('number')}",
                f"+{p.get('country_code') or ''} {p.get('area_code') or ''} {p.get('number')}"]))
        return pick.flatmap(phones)
    if name == "status":
        return st.sampled_from(["active", "archived"])
    if name == "customer_ids":
        return st.tuples(id_sample(universe, 8), st.booleans()).map(
            lambda t: (", " if t[1] else ",").join([str(i) for i in t[0]] + (["no-such-id"] if t[1] else [])))
    if name in ("created_since", "updated_since"):
        key = name.replace("_since", "_at")

        def stamps(item: dict[str, Any]) -> st.SearchStrategy[str]:
            moment = parse_time(item.get(key))
            if moment is None:  # a malformed timestamp is the schema checks' finding, not a filter value
                return st.just("2019-01-01T00:00:00Z")
            shifted = moment.astimezone(timezone(timedelta(hours=2))).isoformat()
            return st.sampled_from([str(item.get(key)), shifted])
        return pick.flatmap(stamps)
    raise ValueError(name)


_KNOWN_FILTERS = ("email", "phone_number", "status", "customer_ids", "created_since", "updated_since")
_LISTS = ("customer_ids",)
"""Filters whose value is a comma-separated list (their multi-valued form)."""


def _form(chosen: list[tuple[str, str]]) -> tuple[str, str]:
    """The (form, filter) kind one filtered request exercises."""
    if len(chosen) > 1:
        return "combined", "+".join(n for n, _ in chosen)
    name, text = chosen[0]
    several = name in _LISTS and len([p for p in text.split(",") if p.strip()]) > 1
    return "multi-valued" if several else "single", name


def _explicit_filters(ctx: Context, universe: Universe, names: list[str]) -> list[Any]:
    """Examples that run on every check, whatever Hypothesis draws: each documented filter in its
    single-valued form (spelled as the contract allows, not as stored), lists in their
    multi-valued form, two filters combined, and values that match nothing."""
    c, items = ctx.contract, universe.items
    middle, last = items[len(items) // 2], items[-1]
    everything = (None, None)

    def having(key: str) -> dict[str, Any]:
        return next((i for i in items[len(items) // 3:] + items if i.get(key)), middle)

    explicit: list[Any] = []
    for name in names:
        if name == "email":
            found = [e.get("email") for e in having("emails").get("emails") or () if isinstance(e, dict)]
            text = str(found[0]) if found and found[0] else "nobody@example.invalid"
            explicit += [([(name, f"  {text.upper()} ")], c.limit_max, everything),
                         ([(name, "nobody@example.invalid")], c.limit_max, everything)]
        elif name == "phone_number":
            phones: list[Any] = having("phone_numbers").get("phone_numbers") or []
            phone: dict[str, Any] = next((p for p in phones if isinstance(p, dict)), {})
            international = (f"+{phone.get('country_code') or ''} ({phone.get('area_code') or ''}) "
                             f"{phone.get('number') or '000'}")
            explicit += [([(name, international)], c.limit_max, everything),
                         ([(name, str(phone.get("number") or "000"))], c.limit_max, everything)]
        elif name == "status":
            explicit += [([(name, "archived")], c.limit_max, everything), ([(name, "active")], c.limit_max, everything)]
        elif name == "customer_ids":
            picks = [str(items[0].get("id")), str(middle.get("id")), str(last.get("id"))]
            explicit += [([(name, picks[1])], c.limit_max, everything),
                         ([(name, ", ".join(dict.fromkeys(picks)) + ",no-such-id")],
                          max(c.limit_min, min(2, c.limit_max)), everything)]
        elif name in ("created_since", "updated_since"):
            stamp = str(middle.get(name.replace("_since", "_at")))
            moment = parse_time(stamp)
            if moment is None:  # a malformed timestamp is the schema checks' finding, not a filter value
                continue
            shifted = moment.astimezone(timezone(timedelta(hours=2))).isoformat()
            # the boundary itself (>=, not >), and another offset for the same instant
            explicit.append(([(name, stamp if name == "created_since" else shifted)], c.limit_max, everything))
    if "status" in names and "created_since" in names and parse_time(middle.get("created_at")):
        status = last.get("status") if last.get("status") in ("active", "archived") else "active"
        explicit.append(([("status", status), ("created_since", str(middle.get("created_at")))],
                         c.limit_max, everything))
    return explicit


@prop("filters.match", cost=2)
def _filters_match(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """Every customer a filtered walk returns satisfies the filters, and no customer of the
    reference collection that satisfies them is missing: each documented filter single- and
    (lists) multi-valued, and combined, first as explicit examples, then as Hypothesis draws."""
    universe = need_items(ctx)
    names = [n for n in ctx.contract.filters if n in _KNOWN_FILTERS]
    if not names:
        raise Skip("the contract documents no filter this kit knows")
    one = st.sampled_from(names).flatmap(lambda n: st.tuples(st.just(n), _filter_values(ctx, universe, n)))
    filters = st.lists(one, min_size=1, max_size=2, unique_by=lambda f: f[0])
    strategy = st.tuples(filters, ctx.limits(len(universe.items)), sorts(ctx))
    c = ctx.contract
    explicit = _explicit_filters(ctx, universe, names)

    def body(value: Any) -> None:
        chosen, limit, (by, direction) = value
        ctx.exercise("filters", *_form(chosen))
        params = dict(universe.params)
        for name, text in chosen:
            key = f"filter[{name}]"
            if key in params and name.endswith("_since"):  # the reference window and the filter combine (AND)
                a, b = parse_time(params[key]), parse_time(text)
                text = params[key] if a and b and a > b else text
            params[key] = text
        params.update(sort_params(by, direction))
        wanted = [i for i in universe.items if all(matches_filter(i, n, v) for n, v in chosen)]
        result = walk(ctx.target, c, params, limit=limit, max_pages=ctx.budget.max_pages)
        described = "&".join(f"filter[{n}]={v}" for n, v in chosen)
        for page in result.pages:
            for item in page.items:
                broken = [n for n, v in chosen if not matches_filter(item, n, v)]
                if broken:
                    raise ctx.target.fail("filters.match", f"{described} returned customer {item.get('id')!r}, "
                                                           f"which does not satisfy filter[{broken[0]}].",
                                          expected=f"customers with {described}",
                                          actual=_filter_view(item, broken[0]), reply=page.reply)
        check_walk(ctx.target, result, after_last=after_last(ctx, params))
        got = {key_of(i) for i in result.ids}
        missing = [i.get("id") for i in wanted if key_of(i.get("id")) not in got]
        if missing:
            raise ctx.target.fail("filters.complete", f"{described} left out customers that satisfy it (they "
                                                      f"are in the unfiltered walk).",
                                  expected=f"{len(wanted)} customers incl. {missing[:5]!r}",
                                  actual=f"{len(got)} customers", reply=result.pages[0].reply)

    return strategy, explicit, body


def _filter_view(item: dict[str, Any], name: str) -> Any:
    field_name = {"email": "emails", "phone_number": "phone_numbers", "customer_ids": "id",
                  "created_since": "created_at", "updated_since": "updated_at"}.get(name, name)
    return {"id": item.get("id"), field_name: item.get(field_name)}


_WHITESPACE = " \t\n\r\x0b\x0c\xa0\u3000"
_UNKNOWN_KEYS = ("filter[nickname]", "filter[Status]", "filter[email_address]")
_MALFORMED_KEYS = ("filter[status", "filter[]", "filter", "filters[status]", "filter[status][eq]", "filter.status",
                   "sort[by")
_BAD_VALUES = {"email": "   ", "phone_number": "", "status": "gone", "customer_ids": " , ,",
               "created_since": "yesterday", "updated_since": "2020-01-01T00:00:00"}
_GOOD_VALUES = {"email": ("a@example.com", "b@example.com"), "phone_number": ("555-0100", "555-0199"),
                "status": ("active", "archived"), "customer_ids": ("a,b", "c"),
                "created_since": ("2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z"),
                "updated_since": ("2020-01-01T00:00:00Z", "2021-01-01T00:00:00+02:00")}


def _bad_values(name: str) -> st.SearchStrategy[str]:
    """Values of ``filter[name]`` the contract says are a 400."""
    if name in ("email", "phone_number"):
        return st.text(alphabet=_WHITESPACE, max_size=4)
    if name == "customer_ids":
        return st.text(alphabet=", \t", max_size=6)
    if name == "status":
        return st.text(max_size=12).filter(lambda v: v not in ("active", "archived"))
    dates = st.sampled_from(["yesterday", "2020-01-01", "2020-01-01T00:00:00", "2020-13-01T00:00:00Z",
                             "2020-01-01 00:00:00Z", "1577836800", "2020-01-01T25:00:00+01:00"])
    return st.one_of(dates, st.text(max_size=16).filter(lambda v: parse_time(v) is None))


@prop("filters.invalid")
def _filters_invalid(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """An unknown filter key, a malformed filter key, a value a documented filter cannot use, or a
    filter given twice is a 400 invalid-parameter problem, never ignored (every kind as an
    explicit example, then Hypothesis draws)."""
    c = ctx.contract
    names = [n for n in c.filters if n in _KNOWN_FILTERS]
    documented = {f"filter[{n}]" for n in c.filters} | {"sort[by]", "sort[direction]"}
    unknown = st.from_regex(r"filter\[[A-Za-z_]{1,16}\]", fullmatch=True).filter(lambda k: k not in documented)
    malformed = st.tuples(st.sampled_from(["filter", "filter[", "filters[", "filter]", "filter[[", "sort["]),
                          st.text(alphabet="abc_[]. ", max_size=8)).map("".join).filter(
        lambda k: k not in documented and not re.fullmatch(r"filter\[[^\[\]]*\]", k))
    kinds = [st.tuples(st.just("unknown key"), unknown.map(lambda k: [(k, "active")])),
             st.tuples(st.just("malformed key"), malformed.map(lambda k: [(k, "active")]))]
    # NOTE: a list filter (customer_ids) may be repeated: `a=x&a=y` is one of the list forms the
    # contract accepts, so only single-valued filters must refuse a second value.
    scalars = [n for n in names if n not in _LISTS]
    if names:
        kinds += [st.tuples(st.just("bad value"), st.sampled_from(names).flatmap(
                      lambda n: _bad_values(n).map(lambda v: [(f"filter[{n}]", v)])))]
    if scalars:
        kinds += [st.tuples(st.just("repeated key"), st.sampled_from(scalars).map(
                      lambda n: [(f"filter[{n}]", v) for v in _GOOD_VALUES[n]]))]
    explicit: list[Any] = [("unknown key", [(k, "active")]) for k in _UNKNOWN_KEYS if k not in documented]
    explicit += [("malformed key", [(k, "active")]) for k in _MALFORMED_KEYS]
    explicit += [("bad value", [(f"filter[{n}]", _BAD_VALUES[n])]) for n in names]
    explicit += [("repeated key", [(f"filter[{n}]", v) for v in _GOOD_VALUES[n]]) for n in scalars]

    def body(value: Any) -> None:
        form, params = value
        key = params[0][0]
        ctx.exercise("filters", form, key[7:-1] if form in ("bad value", "repeated key") else key)
        reply = ctx.target.get(c.list_path, params=[("limit", str(c.limit_min)), *params])
        shown = "&".join(f"{k}={v}" for k, v in params)
        expect_problem(ctx.target, reply, status=400, problem_type="/problems/invalid-parameter",
                       prop="filters.invalid", why=f"{shown} ({form}) must be refused, not ignored")

    return st.one_of(kinds), explicit, body


_FORMS = ("single", "multi-valued", "combined", "unknown key", "malformed key", "bad value", "repeated key")


def _describe(contract: Contract, tally: dict[tuple[str, str], int]) -> str:
    """One line: every filter kind the run exercised, with its examples, and what it could not."""
    parts = []
    for form in _FORMS:
        seen = {name: n for (f, name), n in tally.items() if f == form}
        if seen:
            shown = ", ".join(f"{name} {n}" for name, n in sorted(seen.items()))
            parts.append(f"{form} ({sum(seen.values())}: {shown})" if form in ("unknown key", "malformed key",
                                                                              "combined") else f"{form} ({shown})")
    wanted = [("single", n) for n in contract.filters] + [("multi-valued", n) for n in contract.filters
                                                          if n in _LISTS]
    wanted += [("bad value", n) for n in contract.filters]
    wanted += [("repeated key", n) for n in contract.filters if n not in _LISTS]
    missing = [f"{form} {name}" for form, name in wanted if (form, name) not in tally]
    return "; ".join(parts) + (f"; NOT exercised: {', '.join(missing)}" if missing else "")


COVERAGE["filters"] = _describe


@prop("sort.order", cost=2)
def _sort_order(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """The sort order (sort[by], sort[direction]) holds across page boundaries."""
    universe = need_items(ctx, 2)
    c = ctx.contract
    if not c.sort_keys:
        raise Skip("the contract documents no sort[by] values")
    size = len(universe.items)
    low = ctx.limits(size)
    strategy = st.tuples(st.sampled_from(c.sort_keys), st.sampled_from(c.sort_directions or ("asc",)),
                         low.map(lambda n: min(n, max(1, size // 2)) if size > 1 else n))
    explicit = [(k, d, max(1, min(c.limit_default, size // 2))) for k in c.sort_keys
                for d in (c.sort_directions or ("asc",))][:6]

    def body(value: Any) -> None:
        by, direction, limit = value
        limit = max(limit, c.limit_min, math.ceil(size / (ctx.budget.max_pages - 1)))
        params = {**universe.params, **sort_params(by, direction)}
        result = walk(ctx.target, c, params, limit=limit, max_pages=ctx.budget.max_pages)
        check_walk(ctx.target, result, after_last=after_last(ctx, params))
        previous: Any = None
        for n, page in enumerate(result.pages):
            for item in page.items:
                key = sort_key(item, by)
                if key is None:
                    raise ctx.target.fail("sort.order", f"customer {item.get('id')!r} has no usable {by} "
                                                        f"(RFC 3339 expected) to sort by.",
                                          actual=item.get(by), reply=page.reply)
                if previous is not None and (key < previous[0] if direction == "asc" else key > previous[0]):
                    where = "across a page boundary" if previous[2] != n else f"on page {n + 1}"
                    raise ctx.target.fail("sort.order", f"sort[by]={by}&sort[direction]={direction} is not "
                                                        f"respected {where} (limit={limit}).",
                                          expected=f"{by} {'>=' if direction == 'asc' else '<='} "
                                                   f"{_show(previous[0])} (after {previous[1]!r})",
                                          actual=f"{_show(key)} for {item.get('id')!r}", reply=page.reply)
                previous = (key, item.get("id"), n)

    return strategy, explicit, body


def _show(key: Any) -> str:
    return key.isoformat() if isinstance(key, datetime) else repr(key)
