"""Hostile input, in-process: every flavour answers it with its own 4xx, never a 5xx or a wrong customer.

Each registered flavour is described once (``FLAVOURS``): how to authenticate and its list and
item routes come from what it declares (``Dialect.example``); its error body's look (``IS_ERROR``)
and its id filter, write routes and other gets (``MORE``) are kept here, so every case below runs
against all of them. The
Hypothesis tests draw ids, query values and bodies from all of Unicode (digits of every script,
surrogates, control characters) and nesting depths; the real-socket cases (chunked bodies, HEAD,
gunicorn's own limits) are in ``tests/integration/test_hostile_transport.py``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote

import falcon
import falcon.testing
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from mockserver import FLAVOURS as REGISTERED
from mockserver.app import context_of

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _canonical_error(body: dict[str, Any], status: int) -> bool:
    return body.get("status") == status and isinstance(body.get("type"), str) and "detail" in body


def _apideck_error(body: dict[str, Any], status: int) -> bool:
    return body.get("status_code") == status and isinstance(body.get("type_name"), str)


def _truto_error(body: dict[str, Any], status: int) -> bool:
    return body.get("statusCode") == status and isinstance(body.get("message"), str)


def _ecart_error(body: dict[str, Any], status: int) -> bool:
    return body.get("success") is False and body.get("error", {}).get("code") == status


def _ecwid_error(body: dict[str, Any], status: int) -> bool:
    return isinstance(body.get("errorMessage"), str)


def _myboxx_error(body: dict[str, Any], status: int) -> bool:
    return body.get("errors", {}).get("status") == status


def _shopify_error(body: dict[str, Any], status: int) -> bool:
    return isinstance(body.get("errors"), (str, dict))


IS_ERROR: dict[str, Callable[[dict[str, Any], int], bool]] = {
    "canonical": _canonical_error, "apideck": _apideck_error, "truto": _truto_error, "ecartapi": _ecart_error,
    "ecwid": _ecwid_error, "myboxx": _myboxx_error, "shopify": _shopify_error}
"""How each flavour's error body looks (a guard test fails for a registered flavour missing here)."""


@dataclass(frozen=True)
class Flavour:
    name: str
    headers: dict[str, str]
    list_path: str
    item_path: str  # with {id}
    is_error: Callable[[dict[str, Any], int], bool]
    params: dict[str, str] = field(default_factory=dict)
    id_param: tuple[str, str] | None = None  # (query name, separator) of an id filter
    id_param_status: int = 200  # what the id filter answers for an id in other digits (200: no customer)
    writes: tuple[tuple[str, str], ...] = ()  # (method, path with {id})
    extra_get_paths: tuple[str, ...] = ()


SHOPIFY = "/shopify/admin/api/2024-10/customers"
MORE: dict[str, dict[str, Any]] = {  # what a flavour's example does not say: id filters, writes, other gets
    "canonical": {"id_param": ("filter[customer_ids]", ","), "writes": (("POST", "/customers"),
                                                                       ("PATCH", "/customers/{id}")),
                  "extra_get_paths": ("/customers/{id}",)},  # the root mount
    "apideck": {"id_param": ("filter[customer_ids]", ",")},
    "ecartapi": {"id_param": ("ids", ","),
                 "writes": (("POST", "/ecartapi/api/v2/customers"), ("PUT", "/ecartapi/api/v2/customers/{id}")),
                 "extra_get_paths": ("/ecartapi/api/v2/customers/{id}/orders",)},
    "ecwid": {"writes": (("POST", "/ecwid/api/v3/7/customers"), ("PUT", "/ecwid/api/v3/7/customers/{id}"))},
    "myboxx": {"writes": (("POST", "/myboxx/api/json/v1/ecwid/add_customer"),
                          ("POST", "/myboxx/api/json/v1/ecwid/update_customer/{id}"))},
    "shopify": {"id_param": ("ids", ","), "id_param_status": 400,  # its ids are ASCII numbers or a 400
                "writes": (("POST", f"{SHOPIFY}.json"), ("PUT", f"{SHOPIFY}/{{id}}.json"))},
}


def _never_an_error(body: dict[str, Any], status: int) -> bool:
    return False


def _described(name: str) -> Flavour:
    """A registered flavour as its example describes it (mount, credentials, list and get paths)."""
    example = REGISTERED.get(name).example
    return Flavour(name, dict(example.credentials("t")), f"/{name}{example.path}", f"/{name}{example.item_path}",
                   IS_ERROR.get(name, _never_an_error), params=dict(parse_qsl(example.item_query)),
                   **MORE.get(name, {}))


FLAVOURS = [_described(name) for name in REGISTERED.names()]
WRITE_ROUTES = [(f, method, path) for f in FLAVOURS for method, path in f.writes]
BY_NAME = {f.name: f for f in FLAVOURS}


@pytest.fixture
def api(app: falcon.App) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(app)


def real_id(app: falcon.App, i: int = 5) -> str:
    return context_of(app).catalog.dataset.id_of(i)


def call(api: falcon.testing.TestClient, flavour: Flavour, method: str, path: str, *,
         params: dict[str, str] | None = None, body: bytes | None = None) -> falcon.testing.Result:
    headers = dict(flavour.headers)
    if body is not None:
        headers["Content-Type"] = "application/json"
    return api.simulate_request(method, path, params={**flavour.params, **(params or {})}, headers=headers,
                                body=body)


def assert_flavour_error(flavour: Flavour, response: falcon.testing.Result, *statuses: int) -> None:
    assert response.status_code in statuses, (response.status_code, response.text)
    assert flavour.is_error(response.json, response.status_code), response.text


# ---- ids made of non-ASCII digits -------------------------------------------------------------


@pytest.mark.parametrize("flavour", FLAVOURS, ids=lambda f: f.name)
@pytest.mark.parametrize("script", [FULLWIDTH, SUPERSCRIPT, ARABIC_INDIC], ids=["fullwidth", "superscript", "arabic"])
def test_an_id_in_other_digits_names_no_customer(app: falcon.App, api: falcon.testing.TestClient, flavour: Flavour,
                                                  script: dict[int, str]) -> None:
    cid = real_id(app)
    assert call(api, flavour, "GET", flavour.item_path.format(id=cid)).status_code == 200
    alias = cid.translate(script)
    for path in (flavour.item_path, *flavour.extra_get_paths):
        assert_flavour_error(flavour, call(api, flavour, "GET", quote(path.format(id=alias))), 404)
    if flavour.id_param is not None:
        name, _ = flavour.id_param
        listed = call(api, flavour, "GET", flavour.list_path, params={name: alias})
        assert listed.status_code == flavour.id_param_status, listed.text
        assert cid not in listed.text
        if listed.status_code != 200:
            assert_flavour_error(flavour, listed, flavour.id_param_status)


def test_every_registered_flavour_says_how_its_errors_look_and_where_it_takes_writes() -> None:
    assert set(IS_ERROR) == set(REGISTERED.names())
    writing = {name for name in REGISTERED.names()
               if any(op.name in ("create", "update") for op in REGISTERED.get(name).operations)}
    assert {f.name for f in FLAVOURS if f.writes} == writing


def test_a_write_to_an_id_in_other_digits_changes_no_customer(app: falcon.App, api: falcon.testing.TestClient) -> None:
    flavour = BY_NAME["canonical"]
    cid = real_id(app)
    before = call(api, flavour, "GET", f"/customers/{cid}").json["data"]
    for script in (FULLWIDTH, SUPERSCRIPT):
        alias = quote(cid.translate(script))
        patched = call(api, flavour, "PATCH", f"/customers/{alias}", body=b'{"first_name": "Mallory"}')
        assert_flavour_error(flavour, patched, 404)
        assert_flavour_error(flavour, call(api, flavour, "DELETE", f"/customers/{alias}"), 404)
    assert call(api, flavour, "GET", f"/customers/{cid}").json["data"] == before
    found = call(api, flavour, "GET", "/customers", params={"filter[customer_ids]": cid}).json["data"]
    assert [c["id"] for c in found] == [cid]


# ---- bodies: depth, lone surrogates ---------------------------------------------------------------


def nested(depth: int) -> bytes:
    return b'{"first_name": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize(("flavour", "method", "path"), WRITE_ROUTES, ids=lambda v: getattr(v, "name", v))
@pytest.mark.parametrize("body", [nested(1_000), nested(100_000), b'{"a":' * 50_000 + b"1" + b"}" * 50_000],
                         ids=["1000-arrays", "100000-arrays", "50000-objects"])
def test_deeply_nested_json_is_a_400(app: falcon.App, api: falcon.testing.TestClient, flavour: Flavour, method: str,
                                     path: str, body: bytes) -> None:
    response = call(api, flavour, method, path.format(id=real_id(app)), body=body)
    assert_flavour_error(flavour, response, 400)
    assert "deeper than" in response.text


@pytest.mark.parametrize(("flavour", "method", "path"), WRITE_ROUTES, ids=lambda v: getattr(v, "name", v))
@pytest.mark.parametrize("text", ["\\ud800", "x\\udfffy", "\\udc00\\ud800"])
def test_a_lone_surrogate_in_a_body_is_a_400(app: falcon.App, api: falcon.testing.TestClient, flavour: Flavour,
                                             method: str, path: str, text: str) -> None:
    fields = ("first_name", "firstName", "name", "email", "note")
    body = "{" + ", ".join(f'"{name}": "{text}"' for name in fields) + f', "customer": {{"firstName": "{text}"}}}}'
    response = call(api, flavour, method, path.format(id=real_id(app)), body=body.encode())
    assert_flavour_error(flavour, response, 400)
    assert "surrogate" in response.text


def test_a_body_nested_as_deep_as_a_customer_and_a_surrogate_pair_are_accepted(
        app: falcon.App, api: falcon.testing.TestClient) -> None:
    flavour = BY_NAME["canonical"]
    body = json.dumps({"first_name": "\U0001f600 Ada", "addresses": [{"line1": "1 Main St", "city": "\u2603"}]})
    assert "\\ud83d\\ude00" in body  # ensure_ascii spells the emoji as a surrogate pair
    created = call(api, flavour, "POST", "/customers", body=body.encode())
    assert created.status_code == 201, created.text
    assert created.json["data"]["first_name"] == "\U0001f600 Ada"


def test_an_ecartapi_page_token_of_deep_json_is_a_400(api: falcon.testing.TestClient) -> None:
    flavour = BY_NAME["ecartapi"]
    for payload in (b"[" * 5_000 + b"]" * 5_000, b'[1, {"a": ' * 3_000 + b"0" + b"}]" * 3_000, b'"\\ud800"'):
        token = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        assert_flavour_error(flavour, call(api, flavour, "GET", flavour.list_path, params={"page": token}), 400)


# ---- HEAD ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", FLAVOURS, ids=lambda f: f.name)
def test_head_answers_like_get_without_a_body(app: falcon.App, api: falcon.testing.TestClient,
                                              flavour: Flavour) -> None:
    cid = real_id(app)
    paths = [flavour.list_path, flavour.item_path.format(id=cid), *(p.format(id=cid) for p in flavour.extra_get_paths),
             f"/{flavour.name}/openapi.yaml", flavour.item_path.format(id="999999999")]
    for path in paths:
        got = call(api, flavour, "GET", path)
        head = call(api, flavour, "HEAD", path)
        assert head.status_code == got.status_code, (path, head.status_code)
        assert head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"]
        assert int(head.headers["content-length"]) == len(got.content)
    assert api.simulate_head("/health").status_code == 200


# ---- fuzzing: all of Unicode in ids and query values, nesting depth, every flavour -----------------

UNICODE_TEXT = st.text(st.characters(exclude_categories=()), max_size=12)  # lone surrogates and controls too
DIGITS_OF_EVERY_SCRIPT = st.text(st.characters(categories=["Nd", "No", "Nl"]), min_size=9, max_size=9)
FUZZ = hypothesis_settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])


def no_5xx(flavour: Flavour, response: falcon.testing.Result) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert flavour.is_error(response.json, response.status_code), response.text


def encode_query(params: dict[str, str]) -> str:
    # NOTE: encoded by hand: a lone surrogate has no UTF-8 spelling, so it is sent as %ED%A0%80 bytes
    return "&".join(f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in params.items())


def _path_segment(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@pytest.mark.parametrize("flavour", FLAVOURS, ids=lambda f: f.name)
@FUZZ
@given(raw=st.one_of(DIGITS_OF_EVERY_SCRIPT, UNICODE_TEXT))
def test_fuzzed_ids_never_give_a_5xx(api: falcon.testing.TestClient, flavour: Flavour, raw: str) -> None:
    for path in (flavour.item_path, *flavour.extra_get_paths):
        response = call(api, flavour, "GET", path.format(id=_path_segment(raw)))
        no_5xx(flavour, response)
        if raw.isdigit() and not raw.isascii():
            assert response.status_code == 404, response.text
    if flavour.id_param is not None:
        no_5xx(flavour, api.simulate_get(flavour.list_path, headers=flavour.headers,
                                         query_string=encode_query({**flavour.params, flavour.id_param[0]: raw})))


QUERY_NAMES = ["limit", "offset", "page", "cursor", "sort", "sortBy", "fields", "responseFields", "email", "phone",
               "status", "keyword", "name", "search", "sinceId", "createdFrom", "updated_since", "filter[email]",
               "filter[phone_number]", "filter[updated_since]", "filter[created_since]", "sort[by]",
               "sort[direction]", "createdAtMin", "updatedAtMax", "ids", "created_from", "raw", "since_id",
               "page_info", "created_at_min", "updated_at_max", "ids[]"]


@pytest.mark.parametrize("flavour", FLAVOURS, ids=lambda f: f.name)
@FUZZ
@given(query=st.dictionaries(st.sampled_from(QUERY_NAMES), st.one_of(UNICODE_TEXT, DIGITS_OF_EVERY_SCRIPT),
                             max_size=4))
def test_fuzzed_query_values_never_give_a_5xx(api: falcon.testing.TestClient, flavour: Flavour,
                                             query: dict[str, str]) -> None:
    response = api.simulate_get(flavour.list_path, query_string=encode_query({**query, **flavour.params}),
                                headers=flavour.headers)
    no_5xx(flavour, response)


JSON_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), UNICODE_TEXT)


@pytest.mark.parametrize(("flavour", "method", "path"), WRITE_ROUTES, ids=lambda v: getattr(v, "name", v))
@FUZZ
@given(depth=st.integers(0, 3_000), leaf=JSON_LEAVES, key=st.sampled_from(["first_name", "firstName", "email",
                                                                           "customer", "billingPerson", "x"]),
       escaped=st.booleans())
def test_fuzzed_bodies_never_give_a_5xx(app: falcon.App, api: falcon.testing.TestClient, flavour: Flavour,
                                        method: str, path: str, depth: int, leaf: Any, key: str,
                                        escaped: bool) -> None:
    inner = json.dumps(leaf, ensure_ascii=escaped)  # unescaped lone surrogates become invalid UTF-8 bytes
    body = "{" + json.dumps(key) + ": " + "[" * depth + inner + "]" * depth + "}"
    response = call(api, flavour, method, path.format(id=real_id(app)),
                    body=body.encode("utf-8", "surrogatepass"))
    no_5xx(flavour, response)
