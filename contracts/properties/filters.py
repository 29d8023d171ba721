"""Filter and sort properties: filtered walks are exact, sort order holds across pages."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from contracts.properties.invariants import check_walk, key_of, matches_filter, parse_time, sort_key, walk
from contracts.properties.registry import (
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


@prop("filters.match", cost=2)
def _filters_match(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """Every customer a filtered walk returns satisfies the filters, and no customer of the
    reference collection that satisfies them is missing."""
    universe = need_items(ctx)
    names = [n for n in ctx.contract.filters if n in _KNOWN_FILTERS]
    if not names:
        raise Skip("the contract documents no filter this kit knows")
    one = st.sampled_from(names).flatmap(lambda n: st.tuples(st.just(n), _filter_values(ctx, universe, n)))
    filters = st.lists(one, min_size=1, max_size=2, unique_by=lambda f: f[0])
    strategy = st.tuples(filters, ctx.limits(len(universe.items)), sorts(ctx))
    c = ctx.contract
    explicit = []
    if "status" in names:
        explicit += [([("status", "archived")], c.limit_max, (None, None)),
                     ([("status", "active")], c.limit_max, (None, None))]

    def body(value: Any) -> None:
        chosen, limit, (by, direction) = value
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
