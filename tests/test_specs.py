"""Every OpenAPI document of the project passes tools this project did not write.

``openapi.yaml`` and ``mockserver/specs/*.yaml`` are read by Schemathesis, validating proxies,
doc renderers and linters: each must be valid OpenAPI 3.1 (openapi-spec-validator), lint clean
(Redocly CLI, pinned in ``tools/lint``), free of keys no JSON Schema keyword explains (an
unquoted comma in a YAML flow mapping makes one), and served with the address it is reached at.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import falcon.testing
import pytest
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from mockserver import FLAVOURS, Settings, create_app

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted({p.resolve() for p in [ROOT / "openapi.yaml", *(ROOT / "mockserver" / "specs").glob("*.yaml")]})
LINT = ROOT / "tools" / "lint"

# JSON Schema 2020-12 (every vocabulary) plus what OpenAPI 3.1 adds to a Schema Object.
SCHEMA_KEYWORDS = frozenset({
    "$schema", "$id", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary", "$comment", "$defs",
    "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas", "prefixItems", "items", "contains",
    "properties", "patternProperties", "additionalProperties", "propertyNames", "unevaluatedItems",
    "unevaluatedProperties", "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxContains",
    "minContains", "maxProperties", "minProperties", "required", "dependentRequired", "format", "contentEncoding",
    "contentMediaType", "contentSchema", "title", "description", "default", "deprecated", "readOnly", "writeOnly",
    "examples", "discriminator", "xml", "externalDocs", "example",
})
SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
SCHEMA_SINGLES = ("items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
                  "unevaluatedItems", "unevaluatedProperties", "contentSchema")
NOT_OPENAPI_OBJECTS = ("example", "examples", "value", "default")
"""Values that are data, not OpenAPI objects: a ``schema`` key inside one is not a schema."""


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def subschemas(schema: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """``schema`` and every schema inside it, with JSON-pointer-like locations."""
    if not isinstance(schema, dict):
        return
    yield where, schema
    for key in SCHEMA_MAPS:
        for name, sub in (schema.get(key) or {}).items():
            yield from subschemas(sub, f"{where}/{key}/{name}")
    for key in SCHEMA_LISTS:
        for i, sub in enumerate(schema.get(key) or []):
            yield from subschemas(sub, f"{where}/{key}/{i}")
    for key in SCHEMA_SINGLES:
        yield from subschemas(schema.get(key), f"{where}/{key}")


def schemas_of(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema of the document: components and each ``schema`` of a parameter, header or media type."""
    for name, schema in ((document.get("components") or {}).get("schemas") or {}).items():
        yield from subschemas(schema, f"#/components/schemas/{name}")

    def visit(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "schema":
                    yield from subschemas(value, f"{where}/schema")
                elif key not in NOT_OPENAPI_OBJECTS and key != "schemas":
                    yield from visit(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from visit(value, f"{where}/{i}")

    yield from visit(document.get("paths"), "#/paths")
    yield from visit(document.get("components"), "#/components")


def document_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", DOCUMENTS, ids=document_id)
def test_every_schema_key_is_a_keyword(path: Path) -> None:
    """A description with an unquoted comma in a flow mapping (``{description: a, b}``) adds a key ``b``."""
    unknown = [f"{where}: {key!r}" for where, schema in schemas_of(load(path))
               for key in schema if key not in SCHEMA_KEYWORDS and not str(key).startswith("x-")]
    assert not unknown, "keys that are no JSON Schema keyword (quote the description?):\n" + "\n".join(unknown)


@pytest.mark.parametrize("path", DOCUMENTS, ids=document_id)
def test_every_array_says_what_its_items_are(path: Path) -> None:
    def types(schema: dict[str, Any]) -> list[Any]:
        declared = schema.get("type")
        return declared if isinstance(declared, list) else [declared]

    untyped = [where for where, schema in schemas_of(load(path))
               if "array" in types(schema) and "items" not in schema and "prefixItems" not in schema]
    assert not untyped, f"arrays without items: {untyped}"


@pytest.mark.parametrize("path", DOCUMENTS, ids=document_id)
def test_openapi_spec_validator_accepts_the_document(path: Path) -> None:
    document, base_uri = read_from_filename(str(path))
    validate(document, base_uri=base_uri)


def redocly() -> Path:
    """The pinned Redocly CLI, installed from ``tools/lint/package-lock.json`` on first use."""
    binary = LINT / "node_modules" / ".bin" / "redocly"
    if binary.exists():
        return binary
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        pytest.fail("the OpenAPI lint needs Node.js 20+ and npm on PATH (Debian: apt-get install nodejs npm); "
                    f"the test then installs the pinned linter with `npm ci` in {LINT}")
    done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=LINT,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0 and binary.exists(), f"npm ci in {LINT} failed:\n{done.stdout}\n{done.stderr}"
    return binary


def test_redocly_lint_finds_no_problem_in_any_document() -> None:
    """Every rule of Redocly's strict recommended set (each one turned off says why in redocly.yaml)."""
    env = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
    done = subprocess.run([str(redocly()), "lint", "--config", str(LINT / "redocly.yaml"), "--format", "json",
                           *map(str, DOCUMENTS)], cwd=LINT, capture_output=True, text=True, timeout=300, env=env,
                          check=False)
    reports, text, at = [], done.stdout, done.stdout.find("{")
    while at != -1:  # one JSON report per document, one after the other
        report, end = json.JSONDecoder().raw_decode(text, at)
        reports.append(report)
        at = text.find("{", end)
    assert len(reports) == len(DOCUMENTS), f"unexpected Redocly output:\n{done.stdout}\n{done.stderr}"
    problems = [f"{p['location'][0]['source']['ref']} {p['location'][0].get('pointer')}: {p['ruleId']}: "
                f"{p['message']}" for report in reports for p in report["problems"]]
    assert not problems, "\n".join(problems)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("flavour", [f.name for f in FLAVOURS])
@pytest.mark.parametrize("mounted_at_root", [False, True], ids=["mount", "root"])
def test_each_document_is_served_with_the_base_url_it_is_reached_at(flavour: str, mounted_at_root: bool,
                                                                    tmp_path: Path) -> None:
    # The public base URL (--public-url, else the bound address) plus the mount; never the Host header.
    app = create_app(Settings(seed=7, count=20, flavour=flavour, state=str(tmp_path / "state.sqlite3"),
                              public_url="http://mock.example:8123"))
    client = falcon.testing.TestClient(app, headers={"Authorization": "Bearer t"})
    prefix = "" if mounted_at_root else f"/{flavour}"
    served = client.simulate_get(f"{prefix}/openapi.yaml", headers={"Host": "evil.example"})
    document = yaml.safe_load(served.text)
    assert [server["url"] for server in document["servers"]] == [f"http://mock.example:8123{prefix}"]
    # The server URL plus a documented collection path (any store id) reaches an operation.
    path = next(p for p, item in document["paths"].items() if "{" not in p.rsplit("/", 1)[-1] and "get" in item)
    base = urlsplit(document["servers"][0]["url"]).path
    answer = client.simulate_get(base + re.sub(r"\{[^}]+\}", "1", path), headers={"Authorization": "Bearer t"})
    assert answer.status_code not in (404, 405), (base + path, answer.status_code)
    # The document is otherwise the file: only its servers were replaced.
    spec = next(f for f in FLAVOURS if f.name == flavour).spec
    on_disk = load(ROOT / "mockserver" / "specs" / spec)
    assert {k: v for k, v in document.items() if k != "servers"} == {k: v for k, v in on_disk.items() if k != "servers"}


def test_the_canonical_document_on_disk_names_no_host() -> None:
    """The contract is served by many servers: its own ``servers`` is relative, not one mock's port."""
    assert load(ROOT / "openapi.yaml")["servers"][0]["url"] == "/"


METHODS = ("get", "put", "post", "patch", "delete")


def test_the_canonical_document_says_where_the_server_answers_405(client: falcon.testing.TestClient) -> None:
    """Every path says that its undocumented methods get 405, and the server does exactly that.

    (A 405-only operation would claim the method is supported: ``Allow`` could not agree with it.)
    """
    document = load(ROOT / "openapi.yaml")
    some_id = client.simulate_get("/customers", params={"limit": 1}).json["data"][0]["id"]
    for path, item in document["paths"].items():
        assert "`405`" in item.get("description", ""), path
        documented = {method for method in METHODS if method in item}
        for method in sorted(set(METHODS) - documented) + sorted(documented - {"delete"}):
            answer = client.simulate_request(method.upper(), path.replace("{id}", some_id),
                                             json={} if method in ("post", "put", "patch") else None)
            assert (answer.status_code == 405) == (method not in documented), (method, path, answer.status_code)
            if answer.status_code == 405:
                assert answer.json["type"] == "/problems/method-not-allowed"
                assert {m.strip() for m in answer.headers["allow"].split(",")} >= {m.upper() for m in documented}


@pytest.mark.parametrize("flavour", [f.name for f in FLAVOURS])
def test_every_documented_get_without_parameters_answers_under_its_mount(flavour: str, tmp_path: Path) -> None:
    # Found by the Schemathesis CLI: /canonical/openapi.yaml names /canonical as its server and lists
    # /health, which answered 404 there.
    app = create_app(Settings(seed=7, count=20, state=str(tmp_path / "state.sqlite3")))
    client = falcon.testing.TestClient(app, headers={"Authorization": "Bearer secret_t"})
    document = yaml.safe_load(client.simulate_get(f"/{flavour}/openapi.yaml").text)
    plain = [p for p, item in document["paths"].items() if "{" not in p and "get" in item
             and not any(q.get("required") for q in item["get"].get("parameters") or [] if isinstance(q, dict))]
    assert flavour != "canonical" or "/health" in plain
    for path in plain:
        assert client.simulate_get(f"/{flavour}{path}").status_code != 404, path
