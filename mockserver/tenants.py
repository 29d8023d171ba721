"""Whose data a request reads: one shared dataset, or each isolated tenant's own.

A tenant is the id each platform already sends (Apideck's consumer id, Truto's integrated
account, Ecwid's store id, Shopify's shop, ecartAPI's account, canonical ``X-Tenant-Id``); the
dialect names it when it authenticates. In ``shared`` mode (the default) every tenant reads the
server's dataset and writes. An ``isolated`` tenant has its own dataset, seeded from the server's
seed and the tenant id (:func:`tenant_seed`: the same id gives the same customers in every
flavour, worker and run), with its own count if configured, and its own write log, a file in
``<state>-tenants/``: a write in one tenant is never visible in another, and resetting one
tenant leaves the others alone.

Each process keeps the catalogs of the tenants it served lately (:data:`OPEN_TENANTS`); the
write logs are shared files, so every worker sees every tenant's writes.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections import OrderedDict
from typing import TYPE_CHECKING

from mockserver.catalog import Catalog
from mockserver.dataset import Dataset
from mockserver.errors import Forbidden
from mockserver.store import Store

if TYPE_CHECKING:
    from mockserver.controls import Controls

__all__ = ["MAX_TENANTS", "OPEN_TENANTS", "TenantCatalogs", "tenant_seed"]

MAX_TENANTS = 2_000
"""Isolated tenants one server keeps write logs for: each new tenant id makes a file, and a client
must not fill the disk by sending ids; a server full of them refuses new ones until restarted."""
OPEN_TENANTS = 64
"""Isolated tenants whose catalog one process keeps open (the least recently used is closed)."""


def tenant_seed(seed: int, tenant: str) -> int:
    """The dataset seed of an isolated tenant: a stable function of the server's seed and the id."""
    digest = hashlib.blake2b(f"{seed}\0{tenant}".encode("utf-8", "surrogatepass"), digest_size=4).digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF


class TenantCatalogs:
    """The catalog each request reads: ``main`` for shared tenants, an isolated tenant's own otherwise."""

    def __init__(self, main: Catalog, directory: str) -> None:
        self.main = main
        self.directory = directory
        self._open: OrderedDict[tuple[str, int], Catalog] = OrderedDict()

    def catalog(self, tenant: str, controls: Controls) -> Catalog:
        if controls.one_dataset or not controls.isolated(tenant):
            return self.main
        own = controls.tenant(tenant)
        count = own.count if own is not None and own.count is not None else self.main.dataset.count
        key = (tenant, count)
        catalog = self._open.get(key)
        if catalog is not None:
            self._open.move_to_end(key)
            return catalog
        dataset = Dataset(tenant_seed(self.main.dataset.seed, tenant), count)
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        name = hashlib.blake2b(tenant.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
        # NOTE: one process at a time makes a tenant's file: two workers creating it at once (its
        # first requests) made SQLite answer "database is locked" at once to one of them, a 500.
        path = os.path.join(self.directory, f"{name}-{dataset.seed}-{count}.sqlite3")
        with open(os.path.join(self.directory, ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not os.path.exists(path) and sum(n.endswith(".sqlite3") for n in os.listdir(self.directory)) >= MAX_TENANTS:
                raise Forbidden(f"This mock server already keeps the data of {MAX_TENANTS:,} isolated tenants, its "
                                "limit; use a tenant id it knows, the shared mode, or restart it.")
            store = Store(path, dataset.fingerprint)
        catalog = self._open[key] = Catalog(dataset, store, self.main.clock)
        while len(self._open) > OPEN_TENANTS:
            _, closed = self._open.popitem(last=False)
            closed.store.close()
        return catalog

    def reset(self, tenant: str, controls: Controls) -> None:
        """Forget the tenant's writes (in every process: its write log is shared)."""
        self.catalog(tenant, controls).reset()

    def reset_all(self) -> None:
        """Forget every isolated tenant's writes."""
        if not os.path.isdir(self.directory):
            return
        for name in sorted(os.listdir(self.directory)):
            parts = name.removesuffix(".sqlite3").split("-")
            if not name.endswith(".sqlite3") or len(parts) != 3:
                continue
            store = Store(os.path.join(self.directory, name), f"{parts[1]}:{parts[2]}")
            try:
                store.reset()
            finally:
                store.close()
