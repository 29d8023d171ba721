"""Single-customer and repeatability properties: get equals list, unknown ids 404, same request same body."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from contracts.properties.fields import field_lists
from contracts.properties.invariants import expect_problem
from contracts.properties.registry import Context, need_items, prop, sort_params, sorts


@prop("get.matches_list")
def _get_matches_list(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """GET /customers/{id} returns exactly the list entry with that id."""
    universe = need_items(ctx)

    def body(index: int) -> None:
        listed = universe.items[index]
        reply = ctx.target.get(ctx.contract.item_url(listed.get("id")))
        body_ = reply.json()
        got = body_.get("data") if isinstance(body_, dict) else None
        if reply.status != 200 or got != listed:
            raise ctx.target.fail("get.matches_list", f"GET of customer {listed.get('id')!r} must return the "
                                                      f"customer the list shows with that id.",
                                  expected=listed, actual=got if reply.status == 200 else
                                  f"{reply.status} {reply.excerpt()}", reply=reply)

    return st.integers(0, len(universe.items) - 1), [0, len(universe.items) - 1], body


@prop("get.unknown_id")
def _get_unknown_id(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """An id no customer has is a 404 not-found problem."""
    universe = ctx.universe()
    known = {str(i) for i in universe.ids}
    alien = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20).map(lambda s: "no-such-" + s)
    numeric = st.integers(1, 10**9 - 1).map(str).filter(lambda s: s not in known)
    strategy = st.one_of(alien, numeric) if universe.complete else alien

    def body(customer: str) -> None:
        reply = ctx.target.get(ctx.contract.item_url(customer))
        expect_problem(ctx.target, reply, status=404, problem_type="/problems/not-found", prop="get.unknown_id",
                       why=f"customer {customer!r} does not exist")

    return strategy, ["no-such-customer"], body


@prop("determinism.same_body")
def _determinism(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """The same request twice gives the same body (lists, projections and gets)."""
    universe = need_items(ctx)
    c = ctx.contract
    listing = st.tuples(st.just("list"), st.integers(1, c.limit_max), sorts(ctx),
                        st.one_of(st.none(), field_lists(ctx)))
    getting = st.tuples(st.just("get"), st.integers(0, len(universe.items) - 1), st.just((None, None)),
                        st.one_of(st.none(), field_lists(ctx)))
    strategy = st.one_of(listing, getting)

    def body(value: Any) -> None:
        kind, number, (by, direction), paths = value
        extra = {"fields": ",".join(paths)} if paths else {}
        if kind == "list":
            path, params = c.list_path, {**universe.params, **sort_params(by, direction), "limit": number, **extra}
        else:
            path, params = c.item_url(universe.ids[number]), extra
        first = ctx.target.get(path, params=params)
        second = ctx.target.get(path, params=params)
        a, b = first.json(), second.json()
        if first.status != second.status or (a if a is not None else first.content) != (
                b if b is not None else second.content):
            raise ctx.target.fail("determinism.same_body", "the same request sent twice got different answers.",
                                  expected=_first_difference(a, b)[0], actual=_first_difference(a, b)[1],
                                  reply=second)

    return strategy, [("list", c.limit_default, (None, None), None), ("get", 0, (None, None), None)], body


def _first_difference(a: Any, b: Any, path: str = "$") -> tuple[Any, Any]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{path}.{key}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for n, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return _first_difference(x, y, f"{path}[{n}]")
    return {path: a}, {path: b}
