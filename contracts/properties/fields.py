"""``fields`` properties: projections equal the full record cut down; unknown paths refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from contracts.properties.http import Reply
from contracts.properties.invariants import expect_problem, expected_projection, page_of
from contracts.properties.registry import Context, need_items, prop, sort_params, sorts


def field_lists(ctx: Context) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(list(ctx.contract.field_paths)), min_size=1, max_size=6)


def _fields_text(paths: list[str], spaced: bool) -> str:
    return (", " if spaced else ",").join(paths)


@prop("fields.projection")
def _fields_projection(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """For any subset of valid field paths (nested included), the response equals the projection
    of the full response, key order included, on lists and on gets."""
    universe = need_items(ctx)
    c = ctx.contract
    strategy = st.tuples(field_lists(ctx), st.booleans(), st.integers(1, min(10, c.limit_max)), sorts(ctx),
                         st.integers(0, len(universe.items) - 1))
    nested = [p for p in c.field_paths if "." in p]
    explicit = [(["id", "name"], False, 5, (None, None), 0)]
    explicit += [([c.field_paths[0], path], False, 5, (None, None), 0) for path in nested[:1]]
    explicit += [([nested[i]], True, 5, (None, None), 0) for i in range(1, min(len(nested), 12), 3)]

    def body(value: Any) -> None:
        paths, spaced, limit, (by, direction), index = value
        text = _fields_text(paths, spaced)
        params = {**universe.params, **sort_params(by, direction), "limit": limit}
        full = page_of(ctx.target, ctx.target.get(c.list_path, params=params), limit=limit, first=True)
        reply = ctx.target.get(c.list_path, params={**params, "fields": text})
        projected = page_of(ctx.target, reply, limit=limit, first=True)
        expected = [expected_projection(item, paths) for item in full.items]
        _same_projection(ctx, expected, projected.items, text, reply)
        customer = universe.ids[index]
        whole = ctx.target.get(c.item_url(customer))
        if whole.status != 200 or not isinstance(whole.json(), dict):
            raise ctx.target.fail("get.matches_list", f"GET of a listed customer answered {whole.status}.",
                                  expected=200, actual=whole.status)
        reply = ctx.target.get(c.item_url(customer), params={"fields": text})
        if reply.status != 200 or not isinstance(reply.json(), dict):
            raise ctx.target.fail("fields.projection", f"GET with fields={text!r} answered {reply.status}.",
                                  expected=200, actual=f"{reply.status} {reply.excerpt()}")
        _same_projection(ctx, [expected_projection(whole.json().get("data") or {}, paths)],
                         [reply.json().get("data")], text, reply)

    return strategy, explicit, body


def _same_projection(ctx: Context, expected: list[Any], actual: list[Any], text: str, reply: Reply) -> None:
    for want, got in zip(expected, actual):
        if json.dumps(want) != json.dumps(got):
            order = " (same keys, other order)" if want == got else ""
            raise ctx.target.fail("fields.projection", f"fields={text!r} must return exactly the selected "
                                                       f"properties of the full record{order}.",
                                  expected=want, actual=got, reply=reply)
    if len(expected) != len(actual):
        raise ctx.target.fail("fields.projection", f"fields={text!r} changed which customers are on the page.",
                              expected=len(expected), actual=len(actual), reply=reply)


@prop("fields.unknown")
def _fields_unknown(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """An unknown field path is a 400 invalid-parameter problem, on lists and gets."""
    c = ctx.contract
    valid = set(c.field_paths)
    unknown = st.one_of(
        st.sampled_from(["nope", "emails.nope", "id.value", "Name", "address", "meta"]),
        st.from_regex(r"[a-z]{2,10}(\.[a-z]{2,8})?", fullmatch=True),
    ).filter(lambda p: p not in valid)
    strategy = st.tuples(st.lists(st.sampled_from(list(c.field_paths)), max_size=3), unknown, st.booleans())

    def body(value: Any) -> None:
        paths, bad, on_get = value
        text = ",".join([*paths, bad])
        if on_get:
            universe = need_items(ctx)
            reply = ctx.target.get(c.item_url(universe.ids[0]), params={"fields": text})
        else:
            reply = ctx.target.get(c.list_path, params={"fields": text, "limit": 1})
        expect_problem(ctx.target, reply, status=400, problem_type="/problems/invalid-parameter",
                       prop="fields.unknown", why=f"fields={text!r} names an unknown field {bad!r}")

    return strategy, [([], "nope", False), (["id"], "emails.nope", True)], body
