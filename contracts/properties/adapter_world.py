"""What adapter properties run against: one adapter and its ground truth per dataset seed.

A :class:`World` is an adapter reading ``/<flavour>`` of a mock and a client of the same mock's
``/canonical`` (the ground truth); :class:`Worlds` creates and caches one per drawn dataset seed
(or the single one the caller gave). :class:`AdapterHarness` is what
:func:`~contracts.properties.runner.run_property` runs adapter properties with.
"""

from __future__ import annotations

import json
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import strategies as st

from contracts.adapters import ADAPTERS, Adapter
from contracts.failures import ContractFailure, UsageError

__all__ = ["MAX_TRUTH", "MOUNT", "AdapterHarness", "World", "Worlds"]

MAX_TRUTH = 2000
"""Most customers a ground-truth walk may hold (adapters are checked against small datasets)."""
MOUNT = "http://mockserver"
"""Base URL of an in-process mock (only its host appears in the reports)."""


@dataclass
class World:
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


class Worlds:
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
        self._cache: OrderedDict[int | None, World] = OrderedDict()
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

    def get(self, dataset_seed: int | None) -> World:
        if dataset_seed in self._cache:
            self._cache.move_to_end(dataset_seed)
            return self._cache[dataset_seed]
        world = self._create(dataset_seed)
        self._cache[dataset_seed] = world
        while len(self._cache) > 6:
            self._cache.popitem(last=False)[1].close()
        return world

    def _create(self, dataset_seed: int | None) -> World:
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
        return World(adapter, client, f"{root}/canonical", self.truth_token, upstream, dataset_seed, build,
                     client if self.instance is None else None)

    def close(self) -> None:
        for world in self._cache.values():
            world.close()
        self._cache.clear()
        self._tmp.cleanup()


@dataclass
class AdapterHarness:
    """The :class:`~contracts.properties.runner.Harness` adapter properties run with."""

    worlds: Worlds
    seed: int
    max_examples: int

    @property
    def excluded(self) -> frozenset[str]:
        return self.worlds.excluded

    def before_example(self) -> None:
        """Nothing: each property clears the log of the world its drawn dataset seed picks."""

    def failure_for(self, name: str, error: Exception, *, building: bool) -> ContractFailure | None:
        # NOTE: adapter crashes are reported where the adapter is called (``crash``); anything
        # else (a ground truth that cannot be read...) is a usage problem and propagates.
        return None

    def not_repeated(self) -> str:
        return "The failure did not repeat for the same input: the adapter is not deterministic."
