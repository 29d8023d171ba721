"""The one request pipeline: entry-point registry, dialect operations, the Authenticate stage."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import falcon
import falcon.testing
import pytest

from mockserver import Settings, create_app
from mockserver.dialect import DialectBase, Operation
from mockserver.errors import UnknownFlavour
from mockserver.flavours import ENTRY_POINT_GROUP, FLAVOURS, FlavourRegistry

PLUGIN = '''
"""A platform shipped by another package: one module, found through the entry-point group."""
from mockserver.dialect import Caller, DialectBase, Example, Listing, Operation, Rendered, Reply
from mockserver.resources import check_token, dumps, int_param


class Tiny(DialectBase):
    name = "tiny"
    title = "Tiny platform"
    spec = "canonical.yaml"
    operations = (Operation("list", "GET", "/people", "listPeople"),
                  Operation("get", "GET", "/people/{id}", "getPerson"))
    example = Example("/people", "/people/{id}", token_header="X-Tiny-Key", token_scheme="")

    def authenticate(self, req, operation, params, settings):
        return Caller(check_token(req.get_header("X-Tiny-Key"), settings), tenant="tiny-shop")

    def parse_list(self, req, params, secret):
        return Listing(__import__("mockserver.catalog").catalog.ListQuery(), int_param(req, "n", 2, 1, 5))

    def render_page(self, req, listing, page, records, secret):
        return Reply(dumps({"people": [r["name"] for r in page.records], "more": page.has_next}))

    def render_record(self, req, view, found, records):
        return Reply(records.bytes("person", found.ordinal, lambda: dumps({"person": found.record["name"]})))

    def unwrap_record(self, body):
        return body["person"]

    def from_native(self, native, current=None):
        return {"name": native}

    def render_error(self, error):
        return Rendered(error.status, dumps({"oops": error.detail}))
'''


def _install_plugin(root: Path) -> Path:
    """A package that is not this repository: its module and its dist-info with the entry point."""
    site = root / "site"
    (site / "tiny_platform-1.0.dist-info").mkdir(parents=True)
    (site / "tiny_platform.py").write_text(PLUGIN)
    (site / "tiny_platform-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: tiny-platform\n"
                                                                   "Version: 1.0\n")
    (site / "tiny_platform-1.0.dist-info" / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\ntiny = tiny_platform:Tiny\n")
    return site


def test_a_separate_package_adds_a_platform_through_the_entry_point_group(tmp_path: Path) -> None:
    site = _install_plugin(tmp_path)
    script = textwrap.dedent("""
        import json, sys
        from falcon.testing import TestClient
        from mockserver import Dataset, Settings, create_app
        from mockserver.flavours import FLAVOURS
        client = TestClient(create_app(Settings(seed=3, count=10)))
        listed = client.simulate_get("/tiny/people", query_string="n=3", headers={"X-Tiny-Key": "k"})
        one = client.simulate_get("/tiny/people/" + Dataset(3, 10).id_of(4), headers={"X-Tiny-Key": "k"})
        refused = client.simulate_get("/tiny/people")
        missing = client.simulate_get("/tiny/people/nope", headers={"X-Tiny-Key": "k"})
        print(json.dumps({"names": FLAVOURS.names(), "listed": [listed.status_code, listed.json],
                          "one": [one.status_code, one.json], "refused": [refused.status_code, refused.json],
                          "missing": [missing.status_code, missing.json]}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    from mockserver import Dataset

    names = [Dataset(3, 10).customer(i)["name"] for i in range(3)]
    assert "tiny" in seen["names"] and set(FLAVOURS.names()) <= set(seen["names"])
    assert seen["listed"] == [200, {"people": names, "more": True}]
    assert seen["one"] == [200, {"person": Dataset(3, 10).customer(4)["name"]}]
    assert seen["refused"][0] == 401 and "oops" in seen["refused"][1]  # its own error body, from the stage
    assert seen["missing"][0] == 404 and "oops" in seen["missing"][1]


class _Named(DialectBase):
    title = spec = "x"
    operations = ()

    def __init__(self, name: str) -> None:
        self.name = name  # type: ignore[misc]


def test_registry_is_sorted_by_name_and_refuses_two_flavours_with_one_name() -> None:
    registry = FlavourRegistry(lambda: [("b", lambda: _Named("b")), ("a", lambda: _Named("a"))])
    assert registry.names() == ["b", "a"]  # the discovery order is the registry's: discovery sorts
    twice = FlavourRegistry(lambda: [("a", lambda: _Named("a")), ("a", lambda: _Named("a"))])
    with pytest.raises(ValueError, match="two"):
        twice.names()
    mismatched = FlavourRegistry(lambda: [("a", lambda: _Named("z"))])
    with pytest.raises(ValueError, match="must be equal"):
        mismatched.names()
    with pytest.raises(UnknownFlavour):
        registry.get("c")


def test_bundled_flavours_come_from_entry_points_in_name_order() -> None:
    from importlib.metadata import entry_points

    declared = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)
                      if ep.value.startswith("mockserver."))
    assert [n for n in FLAVOURS.names() if n in declared] == declared
    assert FLAVOURS.names() == sorted(FLAVOURS.names())


def test_every_flavour_declares_operations_its_document_names() -> None:
    from tests.fixtures.documents import document

    for flavour in FLAVOURS:
        paths = document(flavour.name).spec["paths"]
        declared = getattr(flavour, "operations", None)
        assert declared, f"{flavour.name} declares no operations"
        assert {"list", "get"} <= {op.name for op in declared}, flavour.name
        for operation in declared:
            if not operation.operation_id:  # served but not documented (ecartAPI's "not available" paths)
                assert operation.name not in ("list", "get", "create", "update", "delete"), (flavour.name, operation)
                continue
            documented = paths.get(operation.path, {}).get(operation.method.lower(), {})
            assert documented.get("operationId") == operation.operation_id, (flavour.name, operation)


def test_authentication_runs_as_a_stage_before_the_operation(tmp_path: Path) -> None:
    """A refused request never reaches the catalog: the stage answers in the flavour's own format."""
    app = create_app(Settings(seed=1, count=5, state=str(tmp_path / "s.db"), token="right"))
    client = falcon.testing.TestClient(app)
    wrong = client.simulate_delete("/customers/whatever", headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401 and wrong.headers["content-type"] == "application/problem+json"
    missing = client.simulate_delete("/customers/whatever", headers={"Authorization": "Bearer right"})
    assert missing.status_code == 404  # past the stage, the operation looks the customer up


def test_an_undeclared_method_is_405_with_allow_naming_the_declared_ones(tmp_path: Path) -> None:
    client = falcon.testing.TestClient(create_app(Settings(seed=1, count=5, state=str(tmp_path / "s.db"))))
    answer = client.simulate_put("/customers", headers={"Authorization": "Bearer t"})
    assert answer.status_code == 405
    assert {m.strip() for m in answer.headers["allow"].split(",")} >= {"GET", "POST"}


def test_operation_resources_refuse_two_operations_on_one_method() -> None:
    from mockserver.pipeline import operation_resources

    class Twice(DialectBase):
        name, title, spec = "twice", "Twice", "canonical.yaml"
        operations = (Operation("list", "GET", "/c", "a"), Operation("count", "GET", "/c", "b"))

    with pytest.raises(ValueError, match="two operations"):
        operation_resources(Twice(), _context(Settings(seed=1, count=1)))  # type: ignore[arg-type]


def _context(settings: Settings) -> Any:
    from mockserver.app import context_of

    return context_of(create_app(settings))
