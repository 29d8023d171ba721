"""Every `pattern` means the same in the documents (ECMA-262) and in the server (Python `re`).

The documents are judged by jsonschema_rs (ECMA-262 `pattern`, as JSON Schema tools read it); the
server by its answer. Strings are drawn from each document's own pattern, from arbitrary text, and
from pattern matches with a character inserted on which the two regex flavours used to disagree.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from typing import Any

import falcon.testing
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mockserver import FLAVOURS, Settings, create_app
from mockserver.dataset import Dataset
from mockserver.flavours.shopify.records import PHONE_PATTERN as SHOPIFY_PHONE_PATTERN
from mockserver.model import EMAIL_PATTERN, EMAIL_RE, NONBLANK_PATTERN, NONBLANK_RE, TOTAL_PATTERN
from tests.fixtures.documents import document

HEADERS = {"Authorization": "Bearer secret_test-token"}
SEED, COUNT = 7, 20
CUSTOMER = Dataset(SEED, COUNT).id_of(3)
SHOPIFY = "/admin/api/2024-10/customers"
SHOPIFY_INPUT = ("components", "schemas", "CustomerInput", "properties")
SHOPIFY_NAMED = ("components", "schemas", "NamedCustomerInput", "allOf", "1", "anyOf")
# NOTE: where `re` and ECMA-262 disagree on `\s`, `\S`, `\d` and `$`: U+001C-U+001F and U+0085 are
# whitespace only to `re`, U+FEFF only to ECMA-262; `re` digits include Arabic-Indic ones; `$` in `re`
# also matches before a final newline.
TRICKY = "\x1c\x1d\x1e\x1f\x85\ufeff\xa0\u2028\u180e\u200b\u0661\n\t\x00 "

# (doc keys of the pattern, the server's pattern text): one source of truth for each.
SHARED = [
    ("canonical", ("components", "schemas", "EmailInput", "properties", "email", "pattern"), EMAIL_PATTERN),
    ("canonical", ("components", "schemas", "Email", "properties", "email", "pattern"), EMAIL_PATTERN),
    ("canonical", ("components", "schemas", "LinkedOrderInput", "properties", "total", "pattern"), TOTAL_PATTERN),
    ("canonical", ("components", "schemas", "LinkedOrder", "properties", "total", "pattern"), TOTAL_PATTERN),
    ("ecartapi", ("components", "schemas", "Email", "pattern"), EMAIL_PATTERN),
    ("ecartapi", ("components", "schemas", "NonBlank", "pattern"), NONBLANK_PATTERN),
    ("ecartapi", ("components", "schemas", "Phone", "pattern"), NONBLANK_PATTERN),
    ("ecwid", ("components", "schemas", "CustomerUpdate", "properties", "email", "pattern"), EMAIL_PATTERN),
    ("myboxx", ("components", "schemas", "CustomerUpdate", "properties", "email", "pattern"), EMAIL_PATTERN),
    ("shopify", (*SHOPIFY_INPUT, "email", "pattern"), EMAIL_PATTERN),
    ("shopify", (*SHOPIFY_INPUT, "phone", "pattern"), SHOPIFY_PHONE_PATTERN),
] + [("canonical", ("components", "schemas", "NewCustomerInput", "anyOf", str(n), "properties", key, "pattern"),
      NONBLANK_PATTERN) for n, key in enumerate(("name", "first_name", "last_name"))] + [
    ("shopify", (*SHOPIFY_NAMED, str(n), "properties", key, "pattern"), NONBLANK_PATTERN)
    for n, key in enumerate(("first_name", "last_name"))]


def _at(flavour: str, keys: tuple[str, ...]) -> Any:
    node: Any = document(flavour).spec
    for key in keys:
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


def _schema_names(flavour: str) -> set[str]:
    return set(document(flavour).at("components", "schemas"))


@pytest.mark.parametrize(("flavour", "keys", "server"), SHARED, ids=lambda v: "/".join(v) if isinstance(v, tuple)
                         else None)
def test_the_server_validates_with_the_documents_pattern_text(flavour: str, keys: tuple[str, ...],
                                                              server: str) -> None:
    assert _at(flavour, keys) == server
    assert server in (EMAIL_RE.pattern, NONBLANK_RE.pattern, TOTAL_PATTERN, SHOPIFY_PHONE_PATTERN)


def _patterns(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return found + [p for value in node.values() for p in _patterns(value)]
    if isinstance(node, list):
        return [p for value in node for p in _patterns(value)]
    return []


@pytest.mark.parametrize("flavour", FLAVOURS.names())
def test_no_pattern_uses_a_class_escape_whose_meaning_differs_between_ecma_and_python(flavour: str) -> None:
    differing = re.compile(r"(?<!\\)(?:\\\\)*\\[sSdDwWbB]")
    assert [p[:80] for p in _patterns(document(flavour).spec) if differing.search(p)] == []


# ---- the server agrees with the document, both ways -------------------------------------------

Body = Callable[[str], Any]
# flavour -> (method, path under the mount, status of a rejected body)
WRITES = {
    "canonical": ("POST", "/customers", 422),
    "ecartapi": ("POST", "/api/v2/customers", 422),
    "ecwid": ("PUT", f"/api/v3/1/customers/{CUSTOMER}", 400),
    "myboxx": ("POST", f"/api/json/v1/ecwid/update_customer/{CUSTOMER}", 412),
    "shopify": ("POST", f"{SHOPIFY}.json", 422),
}
FIELDS: list[tuple[str, str, tuple[str, ...], Body]] = [
    ("canonical", "emails.email", ("components", "schemas", "EmailInput", "properties", "email", "pattern"),
     lambda s: {"name": "P", "emails": [{"email": s}]}),
    ("canonical", "orders.total", ("components", "schemas", "LinkedOrderInput", "properties", "total", "pattern"),
     lambda s: {"name": "P", "orders": [{"id": "o1", "total": s}]}),
    ("canonical", "name", ("components", "schemas", "NewCustomerInput", "anyOf", "0", "properties", "name", "pattern"),
     lambda s: {"name": s}),
    ("ecartapi", "firstName", ("components", "schemas", "NonBlank", "pattern"),
     lambda s: {"firstName": s, "lastName": "L"}),
    ("ecartapi", "lastName", ("components", "schemas", "NonBlank", "pattern"),
     lambda s: {"firstName": "F", "lastName": s}),
    ("ecartapi", "email", ("components", "schemas", "Email", "pattern"),
     lambda s: {"firstName": "F", "lastName": "L", "email": s}),
    ("ecartapi", "phone", ("components", "schemas", "Phone", "pattern"),
     lambda s: {"firstName": "F", "lastName": "L", "phone": s}),
    ("ecwid", "email", ("components", "schemas", "CustomerUpdate", "properties", "email", "pattern"),
     lambda s: {"email": s}),
    ("ecwid", "billingPerson.countryCode",
     ("components", "schemas", "PersonInput", "properties", "countryCode", "pattern"),
     lambda s: {"billingPerson": {"countryCode": s}}),
    ("myboxx", "email", ("components", "schemas", "CustomerUpdate", "properties", "email", "pattern"),
     lambda s: {"email": s}),
    ("shopify", "first_name", (*SHOPIFY_NAMED, "0", "properties", "first_name", "pattern"),
     lambda s: {"customer": {"first_name": s}}),
    ("shopify", "last_name", (*SHOPIFY_NAMED, "1", "properties", "last_name", "pattern"),
     lambda s: {"customer": {"last_name": s}}),
    ("shopify", "email", (*SHOPIFY_INPUT, "email", "pattern"), lambda s: {"customer": {"last_name": "L", "email": s}}),
    ("shopify", "phone", (*SHOPIFY_INPUT, "phone", "pattern"), lambda s: {"customer": {"last_name": "L", "phone": s}}),
    ("shopify", "currency", (*SHOPIFY_INPUT, "currency", "pattern"),
     lambda s: {"customer": {"last_name": "L", "currency": s}}),
    ("shopify", "addresses.country_code",
     ("components", "schemas", "AddressInput", "properties", "country_code", "pattern"),
     lambda s: {"customer": {"last_name": "L", "addresses": [{"country_code": s}]}}),
]


def test_every_flavour_that_takes_writes_has_its_patterns_checked() -> None:
    """A flavour registered with writes fails here until ``WRITES`` and ``FIELDS`` have its rows."""
    writing = {name for name in FLAVOURS.names()
               if any(op.name in ("create", "update") for op in FLAVOURS.get(name).operations)}
    assert set(WRITES) == writing
    assert {flavour for flavour, *_ in FIELDS} == writing


def _insert(parts: tuple[str, str, int]) -> str:
    text, char, at = parts
    at %= len(text) + 1
    return text[:at] + char + text[at:]


def _strings(pattern: str) -> st.SearchStrategy[str]:
    matches = st.from_regex(pattern)
    return st.one_of(matches, st.text(), st.tuples(matches, st.sampled_from(TRICKY), st.integers(0, 300)).map(_insert))


@pytest.mark.parametrize(("flavour", "field", "keys", "body"), FIELDS, ids=[f"{f[0]}-{f[1]}" for f in FIELDS])
def test_the_server_accepts_exactly_what_the_document_allows(flavour: str, field: str, keys: tuple[str, ...],
                                                              body: Body) -> None:
    doc = document(flavour)
    method, path, rejected = WRITES[flavour]
    credentials = dict(FLAVOURS.get(flavour).example.credentials("test-token"))
    with tempfile.TemporaryDirectory() as state:
        client = falcon.testing.TestClient(create_app(Settings(seed=SEED, count=COUNT, state=f"{state}/s.sqlite3")),
                                           headers=HEADERS)

        @settings(suppress_health_check=list(HealthCheck), deadline=None)
        @given(value=_strings(_at(flavour, keys)))
        # the strings that `re` and ECMA-262 used to read differently (issue 11, section 2)
        @example(value="\x85")
        @example(value="a@b.c\x1ed")
        @example(value="a@b.c\ufeffd")
        @example(value="a@b.c d")
        @example(value="US\n")
        @example(value="1.00\n")
        @example(value="\u0661.00")
        def check(value: str) -> None:
            payload = body(value)
            allowed = doc.request_valid(method, path, payload)
            result = client.simulate_request(method, f"/{flavour}{path}", json=payload, headers=credentials)
            if allowed:
                # 409: the value passed validation but another customer already has that email
                assert result.status_code < 300 or result.status_code == 409, (value, result.text)
            else:
                assert result.status_code == rejected, (value, result.status_code, result.text)
            doc.check_response(method, path, result.status_code, result.json)

        check()
