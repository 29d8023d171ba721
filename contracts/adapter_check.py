"""Adapter contracts: check an adapter against the mock's ground truth with Hypothesis.

The mock serves the same customers in every platform's dialect *and* in the canonical one,
so for any dataset seed the right answer of an adapter reading ``/<flavour>`` is known: it is
what the canonical flavour answers for the same request. :func:`check_adapter` draws dataset
seeds, page sizes, field sets, filters, sorts and ids and checks, in property terms:

===========================  ======================================================================
``adapter.walk``             walking every page visits each customer once, in order, at most
                             ``limit`` per page, ends, and equals the ground truth record by record
``adapter.fields``           ``fields`` gives the canonical projection
``adapter.filters``          filtered walks equal the canonical filtered walks
``adapter.sort``             every canonical order equals the canonical walk in that order
``adapter.get``              ``get_customer(id)`` equals the canonical ``GET /customers/{id}``
``adapter.errors.*``         an unknown id, bad input and missing credentials give the canonical
                             problem (status, ``type``, ``title``, the inputs named in ``errors``)
===========================  ======================================================================

Fields the adapter declares in ``excluded_fields`` are removed from both sides before
comparing: ``status`` (a key), ``emails.id`` (a key of every item), ``emails[1:]`` (items after
the first). Filters on excluded fields are not generated.
"""

from __future__ import annotations

import json
import tempfile
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import Flaky

from contracts.adapters import ADAPTERS, Adapter, AdapterError, AdapterPage, Sort
from contracts.adapters.toolkit import FILTER_KEYS, SORT_FIELDS
from contracts.failures import CheckReport, CheckResult, ContractFailure, UsageError, curl_line
from contracts.strategies import field_selections, foreign_cursors

__all__ = ["ADAPTER_CHECKS", "check_adapter", "strip_excluded"]

ADAPTER_CHECKS = ("adapter.walk", "adapter.fields", "adapter.filters", "adapter.sort", "adapter.get",
                  "adapter.errors.not_found", "adapter.errors.bad_request", "adapter.errors.unauthorized")
"""The properties :func:`check_adapter` runs, in order (``checks=`` takes these or ``adapter.errors``)."""

_COST = {"adapter.walk": 3, "adapter.filters": 3, "adapter.sort": 3}
FILTER_PATHS = {"email": "emails.email", "phone_number": "phone_numbers.number", "status": "status",
                "customer_ids": "id", "created_since": "created_at", "updated_since": "updated_at"}
"""The canonical field each filter reads (a filter on an excluded field is not checked)."""
MAX_TRUTH = 2000
MOUNT = "http://mockserver"
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


# ---- the worlds: one adapter + its ground truth per dataset seed ---------------------------------------


@dataclass
class _World:
    adapter: Adapter
    truth: httpx.Client
    truth_url: str
    truth_token: str
    upstream: str
    dataset_seed: int | None
    build: Callable[..., Adapter] | None
    """Builds another adapter for the same upstream (``token=None`` for the 401 check)."""
    client: httpx.Client | None
    calls: list[str] = field(default_factory=list)
    _walks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def canonical(self, path: str, params: Mapping[str, Any] | None = None, *, auth: bool = True) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.truth_token}"} if auth else {}
        self.calls.append(f"ground truth: GET {self.truth_url}{path}" + (f" {dict(params)}" if params else ""))
        return self.truth.get(self.truth_url + path, params=dict(params or {}), headers=headers)

    def truth_walk(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        key = json.dumps(sorted(params.items()))
        if key not in self._walks:
            items: list[dict[str, Any]] = []
            query = {**params, "limit": "200"}
            for _ in range(MAX_TRUTH // 200 + 2):
                body = self.canonical("/customers", query).json()
                items.extend(body["data"])
                nxt = body["meta"]["cursors"]["next"]
                if nxt is None:
                    break
                query["cursor"] = nxt
            if len(items) > MAX_TRUTH:
                raise UsageError(f"the ground truth has more than {MAX_TRUTH} customers; check adapters against a "
                                 f"mock with a small dataset (e.g. mockserver serve --count 200)")
            self._walks[key] = items
        return self._walks[key]

    def close(self) -> None:
        close = getattr(self.adapter, "close", None)
        if callable(close):
            close()
        if self.client is not None:
            self.client.close()


class _Worlds:
    """Creates (and caches) the adapter and its ground truth for each dataset seed."""

    def __init__(self, adapter: Any, ground_truth: Any, count: int, token: Any, truth_token: str,
                 dataset_seeds: Sequence[int] | None) -> None:
        self.factory: Callable[..., Adapter] | None = None
        self.instance: Adapter | None = None
        if isinstance(adapter, str):
            adapter = ADAPTERS.get(adapter)
        if isinstance(adapter, type) or (callable(adapter) and not hasattr(adapter, "list_customers")):
            self.factory = adapter
        elif hasattr(adapter, "list_customers") and hasattr(adapter, "get_customer"):
            self.instance = adapter
        else:
            raise UsageError(f"{adapter!r} is neither an adapter, an adapter class or factory, nor a registered "
                             f"adapter name ({', '.join(ADAPTERS.names())})")
        self.flavour = str(getattr(adapter, "flavour", "") or "")
        self.name = str(getattr(adapter, "name", "") or type(adapter).__name__)
        self.excluded = frozenset(getattr(adapter, "excluded_fields", frozenset()) or ())
        self.ground_truth = ground_truth
        self.count = count
        self.token = token
        self.truth_token = truth_token
        self._tmp = tempfile.TemporaryDirectory(prefix="adapter-check-")
        self._cache: OrderedDict[int | None, _World] = OrderedDict()
        if self.instance is not None and ground_truth is None:
            raise UsageError("an adapter instance reads an upstream the kit does not know: pass ground_truth= (the "
                             "mock server's base URL or app it reads), or pass the adapter class instead")
        if self.factory is not None and not self.flavour and ground_truth is None:
            raise UsageError(f"{self.name} has no 'flavour' attribute: the kit cannot tell which mock flavour it reads")
        self.generated = ground_truth is None
        if self.generated:
            self.seeds: st.SearchStrategy[int | None] = (
                st.sampled_from(list(dataset_seeds)) if dataset_seeds else st.integers(0, 2**16))
        else:
            self.seeds = st.just(None)

    def _build(self, base_url: str, client: httpx.Client, token: Any) -> Adapter:
        assert self.factory is not None
        if token is ...:
            return self.factory(base_url, client=client)
        return self.factory(base_url, client=client, token=token)

    def get(self, dataset_seed: int | None) -> _World:
        if dataset_seed in self._cache:
            self._cache.move_to_end(dataset_seed)
            return self._cache[dataset_seed]
        world = self._create(dataset_seed)
        self._cache[dataset_seed] = world
        while len(self._cache) > 6:
            self._cache.popitem(last=False)[1].close()
        return world

    def _create(self, dataset_seed: int | None) -> _World:
        if self.generated:
            from mockserver import Settings, create_app

            state = f"{self._tmp.name}/state-{dataset_seed}.sqlite3"
            app = create_app(Settings(seed=dataset_seed or 0, count=self.count, state=state))
            client = httpx.Client(transport=httpx.WSGITransport(app=app), timeout=30.0)
            root = MOUNT
        elif isinstance(self.ground_truth, str):
            client = httpx.Client(timeout=30.0)
            root = self.ground_truth.rstrip("/")
        else:
            client = httpx.Client(transport=httpx.WSGITransport(app=self.ground_truth), timeout=30.0)
            root = MOUNT
        upstream = f"{root}/{self.flavour}" if self.flavour else root
        build = (lambda token: self._build(upstream, client, token)) if self.factory is not None else None
        adapter = self.instance if self.instance is not None else self._build(upstream, client, self.token)
        return _World(adapter, client, f"{root}/canonical", self.truth_token, upstream, dataset_seed, build,
                      client if self.instance is None else None)

    def close(self) -> None:
        for world in self._cache.values():
            world.close()
        self._cache.clear()
        self._tmp.cleanup()


# ---- calling the adapter ------------------------------------------------------------------------------


def _call_text(cursor: str | None, limit: int, fields: Sequence[str] | None, filters: Mapping[str, str],
               sort: Sort) -> str:
    return (f"adapter.list_customers(cursor={cursor!r}, limit={limit}, fields={list(fields) if fields else None}, "
            f"filters={dict(filters)}, sort=Sort({sort.by!r}, descending={sort.descending}))")


def _list(world: _World, prop: str, cursor: str | None, limit: int, fields: Sequence[str] | None,
          filters: Mapping[str, str], sort: Sort) -> AdapterPage:
    world.calls.append(_call_text(cursor, limit, fields, filters, sort))
    try:
        page = world.adapter.list_customers(cursor, limit, fields, filters, sort)
    except AdapterError as error:
        raise _fail(world, prop, f"list_customers raised the canonical error {error.status} "
                                 f"{error.problem.get('type')} for a valid request: {error.problem.get('detail')}",
                    actual=error.problem) from None
    except Exception as exc:  # noqa: BLE001 - any crash is a finding, reported with its origin
        raise _crash(world, prop, "list_customers", exc) from None
    if not isinstance(page, AdapterPage) and not hasattr(page, "customers"):
        raise _fail(world, prop, f"list_customers returned {type(page).__name__}, not an AdapterPage")
    return page


def _crash(world: _World, prop: str, what: str, exc: BaseException) -> ContractFailure:
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    origin = f" at {where.filename}:{where.lineno}" if where else ""
    return _fail(world, prop, f"{what} raised {type(exc).__name__}: {exc}{origin}. An adapter answers with "
                              f"canonical data or raises AdapterError, never another exception.")


def _fail(world: _World, prop: str, message: str, *, expected: Any = None, actual: Any = None,
          curl_path: str | None = None) -> ContractFailure:
    curl = None
    if curl_path is not None:
        curl = curl_line("GET", f"{world.truth_url}{curl_path}", {"Authorization": f"Bearer {world.truth_token}"})
    if world.dataset_seed is not None:
        message += f" (dataset seed {world.dataset_seed})"
    return ContractFailure(prop=prop, message=message, expected=expected, actual=actual,
                           requests=list(world.calls[-12:]), curl=curl)


def _walk(world: _World, prop: str, limit: int, fields: Sequence[str] | None, filters: Mapping[str, str],
          sort: Sort, expected_count: int, max_pages: int | None = None) -> list[dict[str, Any]]:
    """Every customer the adapter lists, checking the paging properties on the way."""
    items: list[dict[str, Any]] = []
    seen: dict[Any, int] = {}
    cursor: str | None = None
    budget = max_pages if max_pages is not None else expected_count + 2
    for number in range(budget):
        page = _list(world, prop, cursor, limit, fields, filters, sort)
        if len(page.customers) > limit:
            raise _fail(world, "adapter.paging.limit", f"page {number + 1} holds {len(page.customers)} customers "
                                                       f"for limit={limit}", expected=limit,
                        actual=len(page.customers))
        if page.total is not None and page.total != expected_count and fields is None:
            raise _fail(world, "adapter.filters" if filters else "adapter.paging.total",
                        f"the adapter reports total={page.total} but "
                                                       f"{expected_count} customers match", expected=expected_count,
                        actual=page.total)
        for customer in page.customers:
            cid = customer.get("id") if isinstance(customer, dict) else None
            if cid is not None and cid in seen:
                raise _fail(world, "adapter.paging.no_duplicates",
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
    raise _fail(world, "adapter.paging.termination",
                f"the walk did not end after {budget} pages for {expected_count} customers (limit={limit}): "
                f"next_cursor never became None", expected=expected_count, actual=len(items))


def _compare_walk(world: _World, excluded: frozenset[str], prop: str, expected: list[dict[str, Any]],
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
        raise _fail(world, prop, f"the adapter listed {len(got_ids)} customers where the canonical API lists "
                                 f"{len(want_ids)}: {detail}", expected=want_ids[:20], actual=got_ids[:20],
                    curl_path=path)
    for n, (want, got) in enumerate(zip(expected, actual)):
        want_s, got_s = strip_excluded(want, excluded), strip_excluded(got, excluded)
        if want_s != got_s:
            keys = _differences(want_s, got_s)
            which = f"customer {want['id']!r}" if "id" in want else f"customer #{n + 1} of the walk"
            raise _fail(world, prop, f"{which} differs from the ground truth in "
                                     f"{', '.join(keys)} (fields the platform cannot provide belong in "
                                     f"excluded_fields)",
                        expected={k: want_s.get(k) for k in keys}, actual={k: got_s.get(k, '<missing>') for k in keys},
                        curl_path=path)


# ---- the properties ------------------------------------------------------------------------------------


def _query(limit: int | None = None, fields: Sequence[str] | None = None, filters: Mapping[str, str] | None = None,
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


def _path(params: Mapping[str, str]) -> str:
    from urllib.parse import urlencode

    return "/customers" + (f"?{urlencode(params)}" if params else "")


class _Check:
    def __init__(self, worlds: _Worlds) -> None:
        self.worlds = worlds
        self.excluded = worlds.excluded

    def filter_keys(self) -> list[str]:
        blocked = {p.split("[")[0] for p in self.excluded if "[" not in p}
        return [k for k in FILTER_KEYS
                if FILTER_PATHS[k] not in blocked and FILTER_PATHS[k].split(".")[0] not in blocked]

    # adapter.walk
    def walk(self) -> tuple[st.SearchStrategy[Any], Callable[[Any], None]]:
        def body(value: tuple[int | None, int]) -> None:
            world = self.worlds.get(value[0])
            world.calls.clear()
            truth = world.truth_walk({})
            got = _walk(world, "adapter.walk", value[1], None, {}, Sort(), len(truth))
            _compare_walk(world, self.excluded, "adapter.ground_truth", truth, got, _path({}))

        return st.tuples(self.worlds.seeds, LIMITS), body

    # adapter.fields
    def fields(self) -> tuple[st.SearchStrategy[Any], Callable[[Any], None]]:
        def body(value: tuple[int | None, int, list[str]]) -> None:
            world = self.worlds.get(value[0])
            world.calls.clear()
            _seed, limit, paths = value
            truth = world.truth_walk({"fields": ",".join(paths)})
            got = _walk(world, "adapter.fields", limit, paths, {}, Sort(), len(truth), max_pages=2)
            _compare_walk(world, self.excluded, "adapter.fields", truth[:len(got)], got,
                          _path(_query(limit, paths)))
            if len(got) < min(len(truth), 1):
                raise _fail(world, "adapter.fields", "the first pages are empty while the ground truth has customers")

        return st.tuples(self.worlds.seeds, LIMITS, field_selections()), body

    # adapter.filters
    def filters(self) -> tuple[st.SearchStrategy[Any], Callable[[Any], None]]:
        keys = self.filter_keys()

        @st.composite
        def draw(draw: st.DrawFn) -> tuple[int | None, list[dict[str, str]], int, Sort]:
            seed = draw(self.worlds.seeds)
            everyone = self.worlds.get(seed).truth_walk({})
            values = {key: draw(_filter_value(key, everyone)) for key in keys}
            pair = draw(st.lists(st.sampled_from(keys), min_size=2, max_size=2, unique=True)) if len(keys) > 1 else []
            # NOTE: every filter alone (so none is left unchecked), then two of them together.
            queries = [{key: values[key]} for key in keys] + ([{k: values[k] for k in pair}] if pair else [])
            sort = draw(st.sampled_from([Sort()] + [Sort(b, d) for b in SORT_FIELDS for d in (False, True)]))
            return seed, queries, draw(LIMITS), sort

        def body(value: tuple[int | None, list[dict[str, str]], int, Sort]) -> None:
            seed, queries, limit, sort = value
            world = self.worlds.get(seed)
            for filters in queries:
                world.calls.clear()
                params = _query(filters=filters, sort=sort)
                truth = world.truth_walk(params)
                got = _walk(world, "adapter.filters", limit, None, filters, sort, len(truth))
                _compare_walk(world, self.excluded, "adapter.filters", truth, got, _path(params))

        return draw(), body

    # adapter.sort
    def sort(self) -> tuple[st.SearchStrategy[Any], Callable[[Any], None]]:
        def body(value: tuple[int | None, Sort, int]) -> None:
            seed, sort, limit = value
            world = self.worlds.get(seed)
            world.calls.clear()
            params = _query(sort=sort)
            truth = world.truth_walk(params)
            got = _walk(world, "adapter.sort", limit, None, {}, sort, len(truth))
            _compare_walk(world, self.excluded, "adapter.sort", truth, got, _path(params))

        sorts = st.builds(Sort, st.sampled_from(SORT_FIELDS), st.booleans())
        return st.tuples(self.worlds.seeds, sorts, LIMITS), body

    # adapter.get
    def get(self) -> tuple[st.SearchStrategy[Any], Callable[[Any], None]]:
        def body(value: tuple[int | None, int]) -> None:
            world = self.worlds.get(value[0])
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
                raise _fail(world, "adapter.get", f"get_customer({customer_id!r}) raised {error.status} "
                                                  f"{error.problem.get('type')} for an existing customer",
                            actual=error.problem, curl_path=path) from None
            except Exception as exc:  # noqa: BLE001
                raise _crash(world, "adapter.get", f"get_customer({customer_id!r})", exc) from None
            _compare_walk(world, self.excluded, "adapter.get", [want], [got], path)

        return st.tuples(self.worlds.seeds, st.integers(0, 10**6)), body

    # adapter.errors.not_found
    def not_found(self) -> tuple[st.SearchStrategy[Any], Callable[[Any], None]]:
        unknown = st.one_of(st.integers(100_000_000, 999_999_999).map(str), st.from_regex(r"\A[a-z]{1,12}\Z"),
                            st.sampled_from(["0", "-1", "1", "count", "00000000001", "a b", "%2F"]))

        def body(value: tuple[int | None, str]) -> None:
            world = self.worlds.get(value[0])
            world.calls.clear()
            customer_id = value[1]
            if customer_id in {c["id"] for c in world.truth_walk({})}:
                return
            from urllib.parse import quote

            path = f"/customers/{quote(customer_id, safe='')}"
            expected = world.canonical(path)
            world.calls.append(f"adapter.get_customer({customer_id!r})")
            _expect_error(world, "adapter.errors.not_found", expected, lambda: world.adapter.get_customer(customer_id),
                          path)

        return st.tuples(self.worlds.seeds, unknown), body

    # adapter.errors.bad_request
    def bad_request(self) -> tuple[st.SearchStrategy[Any], Callable[[Any], None]]:
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
            world = self.worlds.get(value[0])
            world.calls.clear()
            case = value[1]
            limit, fields = case.get("limit", 5), case.get("fields")
            filters, sort, cursor = case.get("filters", {}), case.get("sort", Sort()), case.get("cursor")
            params = _query(limit, fields, filters, sort, cursor)
            expected = world.canonical("/customers", params)
            world.calls.append(_call_text(cursor, limit, fields, filters, sort))
            _expect_error(world, "adapter.errors.bad_request", expected,
                          lambda: world.adapter.list_customers(cursor, limit, fields, filters, sort), _path(params))

        return st.tuples(self.worlds.seeds, cases), body

    # adapter.errors.unauthorized
    def unauthorized(self) -> tuple[st.SearchStrategy[Any], Callable[[Any], None]]:
        if self.worlds.factory is None:
            raise _Skip("an adapter instance cannot be rebuilt without credentials; pass its class to check "
                        "the 401 mapping")

        def body(value: tuple[int | None, str]) -> None:
            world = self.worlds.get(value[0])
            world.calls.clear()
            assert world.build is not None
            everyone = world.truth_walk({})
            customer_id = everyone[0]["id"] if everyone else "100000000"
            path = "/customers" if value[1] == "list" else f"/customers/{customer_id}"
            expected = world.canonical(path, auth=False)
            world.calls.append(f"adapter = {self.worlds.name}(upstream, token=None)")
            try:
                anonymous = world.build(None)
            except Exception as exc:  # noqa: BLE001
                raise _crash(world, "adapter.errors.unauthorized", "building the adapter with token=None", exc) from None
            try:
                if value[1] == "list":
                    world.calls.append(_call_text(None, 5, None, {}, Sort()))
                    call: Callable[[], Any] = lambda: anonymous.list_customers(None, 5, None, {}, Sort())
                else:
                    world.calls.append(f"adapter.get_customer({customer_id!r})")
                    call = lambda: anonymous.get_customer(customer_id)
                _expect_error(world, "adapter.errors.unauthorized", expected, call, path, auth=False)
            finally:
                close = getattr(anonymous, "close", None)
                if callable(close):
                    close()

        return st.tuples(self.worlds.seeds, st.sampled_from(["list", "get"])), body


class _Skip(Exception):
    pass


def _filter_value(key: str, everyone: list[dict[str, Any]]) -> st.SearchStrategy[str]:
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


def _expect_error(world: _World, prop: str, expected: httpx.Response, call: Callable[[], Any], path: str,
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
        problems = _problem_shape(got)
        if error.status != expected.status_code or problems or _key(got) != _key(want):
            why = "; ".join(problems) if problems else "it is not the canonical problem"
            raise _fail(world, prop, f"the adapter raised {error.status} {got.get('type')} where the canonical API "
                                     f"answers {expected.status_code} {want.get('type')}: {why}",
                        expected=_key(want) | {"status": expected.status_code},
                        actual=_key(got) | {"status": error.status}, curl_path=path if auth else None) from None
        return
    except Exception as exc:  # noqa: BLE001
        raise _crash(world, prop, world.calls[-1] if world.calls else "the adapter", exc) from None
    raise _fail(world, prop, f"the adapter answered instead of raising AdapterError({expected.status_code}, "
                             f"{want.get('type')})", expected=_key(want), actual=repr(result)[:300],
                curl_path=path if auth else None)


def _key(problem: Mapping[str, Any]) -> dict[str, Any]:
    found = problem.get("errors")
    errors: list[Any] = found if isinstance(found, list) else []
    return {"type": problem.get("type"), "title": problem.get("title"),
            "errors": sorted((e.get("in"), e.get("name")) for e in errors if isinstance(e, dict))}


def _problem_shape(problem: Mapping[str, Any]) -> list[str]:
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


# ---- running ---------------------------------------------------------------------------------------


def _run(name: str, build: Callable[[], tuple[st.SearchStrategy[Any], Callable[[Any], None]]], *, seed: int,
         max_examples: int) -> CheckResult:
    started = time.perf_counter()
    runs = 0
    try:
        strategy, body = build()
    except _Skip as why:
        return CheckResult(name, skipped=str(why))

    def test(value: Any) -> None:
        nonlocal runs
        runs += 1
        body(value)

    wrapped = settings(max_examples=max(2, max_examples // _COST.get(name, 1)), deadline=None, database=None,
                       print_blob=False, report_multiple_bugs=False, verbosity=Verbosity.quiet,
                       suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink])(
        given(strategy)(test))
    failures: list[ContractFailure] = []
    try:
        hypothesis_seed(seed)(wrapped)()
    except ContractFailure as caught:
        failures.append(caught)
    except Flaky as flaky:
        inner = next((e for e in _leaves(flaky) if isinstance(e, ContractFailure)), None)
        if inner is None:
            raise
        inner.message += " The failure did not repeat for the same input: the adapter is not deterministic."
        failures.append(inner)
    for failure in failures:
        failure.seed = seed
    return CheckResult(name, failures, time.perf_counter() - started, detail=f"{runs} examples")


def _leaves(error: BaseException) -> list[BaseException]:
    found = [error]
    for inner in getattr(error, "exceptions", ()) or ():
        found.extend(_leaves(inner))
    if error.__cause__ is not None:
        found.extend(_leaves(error.__cause__))
    return found


def check_adapter(adapter: Any, *, ground_truth: Any = None, count: int = 60,
                  dataset_seeds: Sequence[int] | None = None, seed: int = 0, max_examples: int = 25,
                  token: Any = ..., truth_token: str = "contract-token", checks: Sequence[str] | None = None,
                  progress: Callable[[str], None] | None = None, handlers: Sequence[Any] = ()) -> CheckReport:
    """Check an adapter against the ground truth of the mock.

    Args:
        adapter: an adapter class or factory (``factory(base_url, client=..., token=...)``, see
            :class:`~contracts.adapters.AdapterFactory`), a registered adapter name
            (``"ecwid"``), or an instance already reading the mock given as ``ground_truth``.
        ground_truth: ``None``: in-process mocks, one per drawn dataset seed (the default);
            a mock server's base URL, or a mock WSGI app: the one the adapter reads.
        count: customers per in-process dataset.
        dataset_seeds: dataset seeds to draw from (default: any).
        seed: the Hypothesis seed (same seed, same examples).
        max_examples: Hypothesis examples per property (walk-heavy ones run a third).
        token: credentials for the adapter (default: the adapter's own).
        truth_token: bearer token for the canonical ground truth.
        checks: property names (:data:`ADAPTER_CHECKS`) or ``adapter.errors``; default: all.
        progress: called with one line per property as it finishes.
        handlers: more :class:`~contracts.report.Handler` s (e.g. a JUnit writer).

    Returns:
        the :class:`~contracts.failures.CheckReport` (``ok``, ``failed_properties``, ``render()``).

    Raises:
        UsageError: an adapter the kit cannot build or reach, or unknown ``checks``.

    Example:
        >>> report = check_adapter("ecwid", max_examples=5)  # doctest: +SKIP
        >>> report.ok  # doctest: +SKIP
        True
    """
    from contracts.report import ConsoleHandler, notify

    if max_examples < 1:
        raise UsageError(f"max_examples must be at least 1, got {max_examples}")
    if count < 0:
        raise UsageError(f"count must be at least 0, got {count}")
    chosen = list(ADAPTER_CHECKS) if checks is None else []
    for name in checks or ():
        matches = [c for c in ADAPTER_CHECKS if c == name or c.startswith(name + ".")]
        if not matches:
            raise UsageError(f"unknown adapter check {name!r}; choose from {', '.join(ADAPTER_CHECKS)}")
        chosen.extend(m for m in matches if m not in chosen)
    worlds = _Worlds(adapter, ground_truth, count, token, truth_token, dataset_seeds)
    everyone = ([ConsoleHandler(progress)] if progress else []) + list(handlers)
    report = CheckReport(target=f"adapter {worlds.name}")
    started = time.perf_counter()
    check = _Check(worlds)
    builders = {"adapter.walk": check.walk, "adapter.fields": check.fields, "adapter.filters": check.filters,
                "adapter.sort": check.sort, "adapter.get": check.get, "adapter.errors.not_found": check.not_found,
                "adapter.errors.bad_request": check.bad_request, "adapter.errors.unauthorized": check.unauthorized}
    try:
        for name in ADAPTER_CHECKS:
            if name not in chosen:
                continue
            result = _run(name, builders[name], seed=seed, max_examples=max_examples)
            report.results.append(result)
            report.failures.extend(result.failures)
            if result.ok and result.skipped is None:
                report.passed.append(name)
            notify(everyone, result)
    finally:
        worlds.close()
    report.stats["excluded_fields"] = ",".join(sorted(worlds.excluded)) or "none"
    report.duration = time.perf_counter() - started
    for handler in everyone:
        handler.on_finish(report)
    return report
