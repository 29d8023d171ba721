"""Pagination properties: complete, disjoint, terminating, stable walks; bad cursors refused."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from contracts.properties.invariants import check_walk, expect_problem, key_of, page_of, walk
from contracts.properties.registry import (
    Context,
    after_last,
    id_sample,
    ids_param,
    need_items,
    prop,
    sort_params,
    sorts,
    walk_order,
)

_URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@prop("pagination.walk", cost=2)
def _pagination_walk(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """For any limit (and sort), following next from the first page ends, visits every customer
    exactly once (no duplicates, no gaps vs total_count), never returns more than limit items,
    keeps items_on_page honest and has next=null exactly on the last page."""
    universe = ctx.universe()
    size = len(universe.items)
    subset = st.tuples(st.just("subset"), id_sample(universe)) if universe.items else st.nothing()
    collection = st.one_of(subset, st.just(("all", None)))
    strategy = collection.flatmap(lambda col: st.tuples(
        st.just(col), ctx.limits(len(col[1]) if col[1] is not None else size), sorts(ctx)))
    c = ctx.contract
    smallest = max(c.limit_min, math.ceil(max(size, 1) / (ctx.budget.max_pages - 1)))
    explicit = [(("all", None), c.limit_max, (None, None))]
    if size > 2:
        explicit.append((("all", None), min(c.limit_max, max(smallest, size // 2 + 1)), (None, None)))
    explicit.append((("all", None), smallest, (None, None)))

    def body(value: Any) -> None:
        (_, ids), limit, (by, direction) = value
        params = {**universe.params, **sort_params(by, direction)}
        if ids is not None:
            params["filter[customer_ids]"] = ids_param(ids)
        result = walk(ctx.target, c, params, limit=limit, max_pages=ctx.budget.max_pages)
        check_walk(ctx.target, result, expected_order=walk_order(universe, ids, by, direction),
                   after_last=after_last(ctx, params))

    return strategy, explicit, body


@prop("pagination.stable", cost=5)
def _pagination_stable(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """The same walk twice gives the same pages, customers and order."""
    universe = ctx.universe()
    size = len(universe.items)
    strategy = st.tuples(ctx.limits(size), sorts(ctx))

    def body(value: Any) -> None:
        limit, (by, direction) = value
        params = {**universe.params, **sort_params(by, direction)}
        pages = ctx.budget.max_pages
        first = walk(ctx.target, ctx.contract, params, limit=limit, max_pages=pages)
        second = walk(ctx.target, ctx.contract, params, limit=limit, max_pages=pages)
        a = [[key_of(i) for i in p.items] for p in first.pages]
        b = [[key_of(i) for i in p.items] for p in second.pages]
        if a != b:
            n = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            raise ctx.target.fail("pagination.stable", f"walking the same query twice gave different pages "
                                                       f"(first difference on page {n + 1}, limit={limit}).",
                                  expected=a[n] if n < len(a) else None, actual=b[n] if n < len(b) else None)
        if first.items != second.items:
            raise ctx.target.fail("pagination.stable", "walking the same query twice returned the same customers "
                                                       "with different content.")

    return strategy, [(ctx.contract.limit_default, (None, None))], body


@prop("pagination.bad_cursor")
def _pagination_bad_cursor(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """A garbage cursor, or a cursor issued for another query, is a 400 invalid-cursor problem
    (not a 500, and not page one)."""
    c = ctx.contract
    garbage = st.text(alphabet=_URLSAFE, min_size=0, max_size=40).map(lambda s: "Zz" + s + "Q")
    foreign_queries = []
    if len(c.sort_keys) > 1:
        foreign_queries.append(sort_params(c.sort_keys[-1], c.sort_directions[-1] if c.sort_directions else None))
    if "status" in c.filters:
        foreign_queries.append({"filter[status]": "archived"})
    strategy = st.one_of(st.tuples(st.just("garbage"), garbage),
                         st.tuples(st.just("foreign"), st.sampled_from(foreign_queries or [{}])))

    def body(value: Any) -> None:
        kind, payload = value
        if kind == "garbage":
            cursor, why = payload, "a cursor the server never issued"
            reply = ctx.target.get(c.list_path, params={"limit": 2, "cursor": cursor})
        else:
            universe = need_items(ctx, 2)
            issued = ctx.target.get(c.list_path, params={**universe.params, **payload, "limit": 1})
            page = page_of(ctx.target, issued, limit=1, first=True)
            if page.next is None:
                return
            why = f"a cursor issued for another query ({', '.join(f'{k}={v}' for k, v in payload.items())})"
            reply = ctx.target.get(c.list_path, params={**universe.params, "limit": 1, "cursor": page.next})
        expect_problem(ctx.target, reply, status=400, problem_type="/problems/invalid-cursor",
                       prop="pagination.bad_cursor", why=f"the list was asked with {why}")

    explicit = [("garbage", "not-a-cursor"), ("foreign", foreign_queries[0])] if foreign_queries else []
    return strategy, explicit, body
