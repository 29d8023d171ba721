"""The adapter properties ``check_adapter`` runs, each one function registered in ADAPTER_PROPERTIES.

The mock serves the same customers in every platform's dialect *and* in the canonical one, so
the right answer of an adapter reading ``/<flavour>`` is what ``/canonical`` answers for the same
request. They run on the server checks' harness (:func:`~contracts.properties.runner.run_property`),
in the order registered here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from contracts.adapters import AdapterError, Sort
from contracts.adapters.toolkit import FILTER_KEYS, SORT_FIELDS
from contracts.properties.adapter_invariants import (
    FILTER_PATHS,
    LIMITS,
    call_text,
    compare_walk,
    crash,
    customers_path,
    expect_error,
    fail,
    filter_value,
    query,
    walk_adapter,
)
from contracts.properties.adapter_world import AdapterHarness
from contracts.properties.runner import Property, Skip, prop
from contracts.strategies import field_selections, foreign_cursors

__all__ = ["ADAPTER_PROPERTIES", "filter_keys"]

ADAPTER_PROPERTIES: dict[str, Property] = {}
"""The adapter properties, in the order they run (``adapter.<name>``, ``adapter.errors.<name>``)."""

Built = tuple[st.SearchStrategy[Any], list[Any], Callable[[Any], None]]


def filter_keys(ctx: AdapterHarness) -> list[str]:
    blocked = {p.split("[")[0] for p in ctx.excluded if "[" not in p}
    return [k for k in FILTER_KEYS
            if FILTER_PATHS[k] not in blocked and FILTER_PATHS[k].split(".")[0] not in blocked]


@prop("adapter.walk", cost=3, registry=ADAPTER_PROPERTIES)
def walks_equal_the_ground_truth(ctx: AdapterHarness) -> Built:
    def body(value: tuple[int | None, int]) -> None:
        world = ctx.worlds.get(value[0])
        world.calls.clear()
        truth = world.truth_walk({})
        got = walk_adapter(world, "adapter.walk", value[1], None, {}, Sort(), len(truth))
        compare_walk(world, ctx.excluded, "adapter.ground_truth", truth, got, customers_path({}))

    return st.tuples(ctx.worlds.seeds, LIMITS), [], body


@prop("adapter.fields", registry=ADAPTER_PROPERTIES)
def fields_give_the_projection(ctx: AdapterHarness) -> Built:
    def body(value: tuple[int | None, int, list[str]]) -> None:
        world = ctx.worlds.get(value[0])
        world.calls.clear()
        _seed, limit, paths = value
        truth = world.truth_walk({"fields": ",".join(paths)})
        got = walk_adapter(world, "adapter.fields", limit, paths, {}, Sort(), len(truth), max_pages=2)
        compare_walk(world, ctx.excluded, "adapter.fields", truth[:len(got)], got,
                     customers_path(query(limit, paths)))
        if len(got) < min(len(truth), 1):
            raise fail(world, "adapter.fields", "the first pages are empty while the ground truth has customers")

    return st.tuples(ctx.worlds.seeds, LIMITS, field_selections()), [], body


@prop("adapter.filters", cost=3, registry=ADAPTER_PROPERTIES)
def filtered_walks_equal_the_ground_truth(ctx: AdapterHarness) -> Built:
    keys = filter_keys(ctx)

    @st.composite
    def draw(draw: st.DrawFn) -> tuple[int | None, list[dict[str, str]], int, Sort]:
        seed = draw(ctx.worlds.seeds)
        everyone = ctx.worlds.get(seed).truth_walk({})
        values = {key: draw(filter_value(key, everyone)) for key in keys}
        pair = draw(st.lists(st.sampled_from(keys), min_size=2, max_size=2, unique=True)) if len(keys) > 1 else []
        # NOTE: every filter alone (so none is left unchecked), then two of them together.
        queries = [{key: values[key]} for key in keys] + ([{k: values[k] for k in pair}] if pair else [])
        sort = draw(st.sampled_from([Sort()] + [Sort(b, d) for b in SORT_FIELDS for d in (False, True)]))
        return seed, queries, draw(LIMITS), sort

    def body(value: tuple[int | None, list[dict[str, str]], int, Sort]) -> None:
        seed, queries, limit, sort = value
        world = ctx.worlds.get(seed)
        for filters in queries:
            world.calls.clear()
            params = query(filters=filters, sort=sort)
            truth = world.truth_walk(params)
            got = walk_adapter(world, "adapter.filters", limit, None, filters, sort, len(truth))
            compare_walk(world, ctx.excluded, "adapter.filters", truth, got, customers_path(params))

    return draw(), [], body


@prop("adapter.sort", cost=3, registry=ADAPTER_PROPERTIES)
def sorted_walks_equal_the_ground_truth(ctx: AdapterHarness) -> Built:
    def body(value: tuple[int | None, Sort, int]) -> None:
        seed, sort, limit = value
        world = ctx.worlds.get(seed)
        world.calls.clear()
        params = query(sort=sort)
        truth = world.truth_walk(params)
        got = walk_adapter(world, "adapter.sort", limit, None, {}, sort, len(truth))
        compare_walk(world, ctx.excluded, "adapter.sort", truth, got, customers_path(params))

    sorts = st.builds(Sort, st.sampled_from(SORT_FIELDS), st.booleans())
    return st.tuples(ctx.worlds.seeds, sorts, LIMITS), [], body


@prop("adapter.get", registry=ADAPTER_PROPERTIES)
def get_equals_the_ground_truth(ctx: AdapterHarness) -> Built:
    def body(value: tuple[int | None, int]) -> None:
        world = ctx.worlds.get(value[0])
        world.calls.clear()
        everyone = world.truth_walk({})
        if not everyone:
            return
        customer_id = everyone[value[1] % len(everyone)]["id"]
        path = f"/customers/{customer_id}"
        want = world.canonical(path).json()["data"]
        world.calls.append(f"adapter.get_customer({customer_id!r})")
        try:
            got = world.adapter.get_customer(customer_id)
        except AdapterError as error:
            raise fail(world, "adapter.get", f"get_customer({customer_id!r}) raised {error.status} "
                                             f"{error.problem.get('type')} for an existing customer",
                       actual=error.problem, curl_path=path) from None
        except Exception as exc:  # noqa: BLE001
            raise crash(world, "adapter.get", f"get_customer({customer_id!r})", exc) from None
        compare_walk(world, ctx.excluded, "adapter.get", [want], [got], path)

    return st.tuples(ctx.worlds.seeds, st.integers(0, 10**6)), [], body


@prop("adapter.errors.not_found", registry=ADAPTER_PROPERTIES)
def unknown_id_is_the_canonical_404(ctx: AdapterHarness) -> Built:
    unknown = st.one_of(st.integers(100_000_000, 999_999_999).map(str), st.from_regex(r"\A[a-z]{1,12}\Z"),
                        st.sampled_from(["0", "-1", "1", "count", "00000000001", "a b", "%2F"]))

    def body(value: tuple[int | None, str]) -> None:
        world = ctx.worlds.get(value[0])
        world.calls.clear()
        customer_id = value[1]
        if customer_id in {c["id"] for c in world.truth_walk({})}:
            return
        from urllib.parse import quote

        path = f"/customers/{quote(customer_id, safe='')}"
        expected = world.canonical(path)
        world.calls.append(f"adapter.get_customer({customer_id!r})")
        expect_error(world, "adapter.errors.not_found", expected, lambda: world.adapter.get_customer(customer_id),
                     path)

    return st.tuples(ctx.worlds.seeds, unknown), [], body


@prop("adapter.errors.bad_request", registry=ADAPTER_PROPERTIES)
def bad_input_is_the_canonical_400(ctx: AdapterHarness) -> Built:
    cases = st.one_of(
        st.sampled_from([0, -1, 201, 10**6]).map(lambda n: {"limit": n}),
        st.sampled_from([["nope"], ["id", "emails.nope"], ["addresses.city.x"]]).map(lambda f: {"fields": f}),
        st.sampled_from([{"status": "bogus"}, {"created_since": "yesterday"}, {"updated_since": "2020-13-01"},
                         {"unknown": "x"}, {"customer_ids": " , "}, {"email": "  "}, {"phone_number": " "}])
        .map(lambda f: {"filters": f}),
        st.sampled_from(["bogus", "email"]).map(lambda b: {"sort": Sort(b)}),
        foreign_cursors().map(lambda c: {"cursor": c}),
    )

    def body(value: tuple[int | None, dict[str, Any]]) -> None:
        world = ctx.worlds.get(value[0])
        world.calls.clear()
        case = value[1]
        limit, fields = case.get("limit", 5), case.get("fields")
        filters, sort, cursor = case.get("filters", {}), case.get("sort", Sort()), case.get("cursor")
        params = query(limit, fields, filters, sort, cursor)
        expected = world.canonical("/customers", params)
        world.calls.append(call_text(cursor, limit, fields, filters, sort))
        expect_error(world, "adapter.errors.bad_request", expected,
                     lambda: world.adapter.list_customers(cursor, limit, fields, filters, sort), customers_path(params))

    return st.tuples(ctx.worlds.seeds, cases), [], body


@prop("adapter.errors.unauthorized", registry=ADAPTER_PROPERTIES)
def missing_credentials_are_the_canonical_401(ctx: AdapterHarness) -> Built:
    if ctx.worlds.factory is None:
        raise Skip("an adapter instance cannot be rebuilt without credentials; pass its class to check "
                   "the 401 mapping")

    def body(value: tuple[int | None, str]) -> None:
        world = ctx.worlds.get(value[0])
        world.calls.clear()
        assert world.build is not None
        everyone = world.truth_walk({})
        customer_id = everyone[0]["id"] if everyone else "100000000"
        path = "/customers" if value[1] == "list" else f"/customers/{customer_id}"
        expected = world.canonical(path, auth=False)
        world.calls.append(f"adapter = {ctx.worlds.name}(upstream, token=None)")
        try:
            anonymous = world.build(None)
        except Exception as exc:  # noqa: BLE001
            raise crash(world, "adapter.errors.unauthorized", "building the adapter with token=None", exc) from None
        try:
            if value[1] == "list":
                world.calls.append(call_text(None, 5, None, {}, Sort()))
                call: Callable[[], Any] = lambda: anonymous.list_customers(None, 5, None, {}, Sort())
            else:
                world.calls.append(f"adapter.get_customer({customer_id!r})")
                call = lambda: anonymous.get_customer(customer_id)
            expect_error(world, "adapter.errors.unauthorized", expected, call, path, auth=False)
        finally:
            close = getattr(anonymous, "close", None)
            if callable(close):
                close()

    return st.tuples(ctx.worlds.seeds, st.sampled_from(["list", "get"])), [], body
