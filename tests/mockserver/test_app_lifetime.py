"""An app built by ``create_app`` takes its context (catalog, SQLite store, caches) and its temporary
state directory with it when it is dropped: a test session builds hundreds of apps."""

from __future__ import annotations

import gc
import os
import weakref

import falcon.testing

from mockserver import Settings, create_app
from mockserver.app import APP_CONTEXTS, context_of
from tests.fixtures.apps import AUTH


def test_dropped_apps_free_their_contexts_and_temporary_state() -> None:
    contexts: list[weakref.ref[object]] = []
    state_dirs: list[str] = []
    registered = len(APP_CONTEXTS)
    for seed in (1, 2, 3):
        app = create_app(Settings(seed=seed, count=50))  # no state file: a temporary directory
        context = context_of(app)
        contexts.append(weakref.ref(context))
        state_dirs.append(os.path.dirname(context.catalog.store.path))
        client = falcon.testing.TestClient(app, headers=AUTH)
        page = client.simulate_get("/customers", params={"limit": "5"})  # fills the caches
        assert page.status_code == 200
        assert client.simulate_get(f"/customers/{context.catalog.dataset.id_of(3)}").status_code == 200
        assert client.simulate_post("/customers", json={"first_name": "Ada"}).status_code == 201
        del app, context, client, page
    gc.collect()  # Falcon apps hold reference cycles (its compiled router): only the collector frees them
    assert [ref() for ref in contexts] == [None, None, None]
    assert [path for path in state_dirs if os.path.exists(path)] == []
    assert len(APP_CONTEXTS) <= registered


def test_dropped_apps_close_every_file_they_opened() -> None:
    """Each app opens its state files (write log, shared controls, journal and its id counters, webhook
    outbox); a dropped app must close them all. The journal's counters file was once opened with a bare
    descriptor that nothing closed: a test session leaked two per app until select() failed above 1023."""

    def open_files() -> int:
        return len(os.listdir("/proc/self/fd"))

    gc.collect()
    before = open_files()
    for seed in range(20):
        app = create_app(Settings(seed=seed, count=20))
        client = falcon.testing.TestClient(app, headers=AUTH)
        assert client.simulate_get("/customers", params={"limit": "2"}).status_code == 200
        assert client.simulate_post("/customers", json={"first_name": "Ada"}).status_code == 201
        del app, client
    gc.collect()
    assert open_files() - before <= 2, "dropped apps left files open"
