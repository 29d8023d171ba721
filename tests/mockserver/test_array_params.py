"""Array query parameters: every form a client sends means what the comma-separated form means.

For each array parameter of each flavour, the same request is sent in every form of
:mod:`mockserver.array_params` and must get the answer the comma-separated form gets (links,
which repeat the request's own query string, aside); the comma form itself must change the
answer, so a form that is ignored cannot pass for one that works.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import falcon.testing
import pytest
import yaml

from mockserver import FLAVOURS, Dataset, Settings, create_app
from mockserver.array_params import array_items, array_key, array_values
from tests.fixtures.documents import document

SEED, COUNT = 7, 60
IDS = [Dataset(SEED, COUNT).id_of(i) for i in (3, 41, 17)]
BEARER = {"Authorization": "Bearer t"}


@dataclass(frozen=True)
class ArrayParam:
    flavour: str
    path: str
    name: str
    values: list[str]
    headers: dict[str, str] = field(default_factory=lambda: dict(BEARER))
    params: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.flavour}:{self.name}"


APIDECK = {**BEARER, "x-apideck-consumer-id": "c", "x-apideck-app-id": "a"}
TRUTO = {"integrated_account_id": "account"}
ECWID = {"Authorization": "Bearer secret_t"}
SHOPIFY = {"X-Shopify-Access-Token": "t"}
PARAMS = [
    ArrayParam("canonical", "/customers", "filter[customer_ids]", IDS),
    ArrayParam("canonical", "/customers", "fields", ["id", "emails.email", "name"]),
    ArrayParam("canonical", f"/customers/{IDS[0]}", "fields", ["id", "addresses.city"]),
    ArrayParam("apideck", "/apideck/ecommerce/customers", "filter[customer_ids]", IDS, APIDECK),
    ArrayParam("apideck", "/apideck/ecommerce/customers", "fields", ["id", "emails.email"], APIDECK),
    ArrayParam("apideck", f"/apideck/ecommerce/customers/{IDS[0]}", "fields", ["id", "name"], APIDECK),
    ArrayParam("truto", "/truto/unified/ecommerce/customers", "truto_exclude_fields", ["emails", "remote_data"],
               params=TRUTO),
    ArrayParam("truto", f"/truto/unified/ecommerce/customers/{IDS[0]}", "truto_exclude_fields",
               ["addresses", "remote_data"], params=TRUTO),
    ArrayParam("ecartapi", "/ecartapi/api/v2/customers", "ids", IDS, {"Authorization": "t"}),
    ArrayParam("ecartapi", "/ecartapi/api/v2/customers/count", "ids", IDS, {"Authorization": "t"}),
    ArrayParam("ecwid", "/ecwid/api/v3/1/customers", "responseFields", ["total", "items(id,email)"], ECWID),
    ArrayParam("ecwid", f"/ecwid/api/v3/1/customers/{IDS[0]}", "responseFields", ["id", "billingPerson(name)"],
               ECWID),
    ArrayParam("myboxx", "/myboxx/api/json/v1/ecwid/customers", "responseFields", ["count", "items(id)"],
               {"Authorization": "Bearer partner"}),
    ArrayParam("myboxx", f"/myboxx/api/json/v1/ecwid/customer/{IDS[0]}", "responseFields", ["id", "email"],
               {"Authorization": "Bearer partner"}),
    ArrayParam("shopify", "/shopify/admin/api/2024-10/customers.json", "ids", IDS, SHOPIFY),
    ArrayParam("shopify", "/shopify/admin/api/2024-10/customers.json", "fields", ["id", "email"], SHOPIFY),
    ArrayParam("shopify", "/shopify/admin/api/2024-10/customers/search.json", "fields", ["id", "phone"], SHOPIFY,
               {"query": "state:enabled"}),
    ArrayParam("shopify", f"/shopify/admin/api/2024-10/customers/{IDS[0]}.json", "fields", ["id", "first_name"],
               SHOPIFY),
]


def _pairs(name: str, values: list[str], key: Callable[[int], str]) -> list[tuple[str, str]]:
    return [(key(i), value) for i, value in enumerate(values)]


def _encoded(key: str) -> str:
    return quote(key, safe="")


FORMS: dict[str, Callable[[str, list[str]], list[tuple[str, str]]]] = {
    "repeated": lambda n, v: _pairs(n, v, lambda i: n),
    "brackets": lambda n, v: _pairs(n, v, lambda i: f"{n}[]"),
    "indexed": lambda n, v: _pairs(n, v, lambda i: f"{n}[{i}]"),
    "indexed-out-of-order": lambda n, v: list(reversed(_pairs(n, v, lambda i: f"{n}[{i}]"))),
    "comma-then-repeated": lambda n, v: [(n, ",".join(v[:-1])), (n, v[-1])],
}
"""Each form as (name, value) pairs; the names are sent raw or percent-encoded."""


def query(pairs: list[tuple[str, str]], extra: dict[str, str], *, encode_names: bool) -> str:
    """A query string; names keep their brackets unless ``encode_names`` (values are always encoded)."""
    name = _encoded if encode_names else (lambda key: quote(key, safe="[]"))
    return "&".join(f"{name(k)}={quote(v, safe='')}" for k, v in [*extra.items(), *pairs])


def answer(client: falcon.testing.TestClient, param: ArrayParam, query_string: str) -> Any:
    response = client.simulate_get(param.path, query_string=query_string, headers=param.headers)
    assert response.status_code == 200, (query_string, response.text)
    body = response.json
    if isinstance(body, dict):
        body.pop("links", None)  # NOTE: links repeat the request's query string, which differs by form
        if param.flavour == "myboxx":
            body["data"].pop("id")  # NOTE: myBoxx's request id is a UUID of the query string
    return body


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> falcon.testing.TestClient:
    state = str(tmp_path_factory.mktemp("arrays") / "state.sqlite3")
    return falcon.testing.TestClient(create_app(Settings(seed=SEED, count=COUNT, state=state)))


@pytest.mark.parametrize("encode_names", [False, True], ids=["raw-brackets", "encoded-brackets"])
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("param", PARAMS, ids=str)
def test_every_form_means_what_the_comma_form_means(client: falcon.testing.TestClient, param: ArrayParam,
                                                    form: str, encode_names: bool) -> None:
    comma = answer(client, param, query([(param.name, ",".join(param.values))], param.params, encode_names=False))
    assert comma != answer(client, param, query([], param.params, encode_names=False)), "the parameter changed nothing"
    pairs = FORMS[form](param.name, param.values)
    assert answer(client, param, query(pairs, param.params, encode_names=encode_names)) == comma


def test_the_filter_keeps_only_the_listed_customers_in_every_form(client: falcon.testing.TestClient) -> None:
    for form, build in FORMS.items():
        pairs = build("filter[customer_ids]", IDS)
        body = client.simulate_get("/customers", query_string=query(pairs, {}, encode_names=True),
                                   headers={"Authorization": "Bearer t"}).json
        assert sorted(c["id"] for c in body["data"]) == sorted(IDS), form


def test_a_cursor_from_one_form_continues_the_walk_in_another(client: falcon.testing.TestClient) -> None:
    auth = {"Authorization": "Bearer t"}
    first = client.simulate_get("/customers", query_string=f"limit=1&filter[customer_ids]={','.join(IDS)}",
                                headers=auth).json
    cursor = first["meta"]["cursors"]["next"]
    indexed = query(FORMS["indexed"]("filter[customer_ids]", IDS), {"limit": "1", "cursor": cursor},
                    encode_names=True)
    second = client.simulate_get("/customers", query_string=indexed, headers=auth)
    assert second.status_code == 200 and second.json["data"][0]["id"] not in [c["id"] for c in first["data"]]


@pytest.mark.parametrize("query_string", ["filter[customer_ids][]=", "filter[customer_ids][0]=,"])
def test_a_blank_id_list_is_the_same_400_in_every_form(client: falcon.testing.TestClient, query_string: str) -> None:
    body = client.simulate_get("/customers", query_string=query_string, headers={"Authorization": "Bearer t"}).json
    assert body["status"] == 400 and body["errors"][0]["name"] == "filter[customer_ids]"


def test_an_unknown_filter_with_an_array_suffix_is_still_unknown(client: falcon.testing.TestClient) -> None:
    body = client.simulate_get("/customers", query_string="filter[nope][]=1", headers={"Authorization": "Bearer t"}).json
    assert body["status"] == 400 and body["errors"][0]["name"] == "filter[nope][]"


@pytest.mark.parametrize("param", sorted({(p.flavour, p.name) for p in PARAMS}), ids="{0[0]}:{0[1]}".format)
def test_each_document_says_which_forms_its_array_parameters_take(client: falcon.testing.TestClient,
                                                                   param: tuple[str, str]) -> None:
    flavour, name = param
    text = client.simulate_get(f"/{flavour}/openapi.yaml").text
    yaml.safe_load(text)
    for form in (f"{name}=a,b", f"{name}=a&{name}=b", f"{name}[]=a&{name}[]=b", f"{name}[0]=a&{name}[1]=b"):
        assert f"`{form}`" in text, (flavour, form)


def _declared_arrays(flavour: str) -> set[tuple[str, str]]:
    """(operationId, name) of each parameter whose document says it takes the array forms."""
    doc = document(flavour)
    declared = set()
    for item in doc.at("paths").values():
        for operation in item.values():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            for param in [*item.get("parameters", []), *operation.get("parameters", [])]:
                while "$ref" in param:
                    param = doc.at("components", "parameters", param["$ref"].split("/")[-1])
                name = param["name"].removesuffix("[]")
                if f"`{name}[]=a&{name}[]=b`" in " ".join(param.get("description", "").split()):
                    declared.add((operation["operationId"], name))
    return declared


@pytest.mark.parametrize("flavour", FLAVOURS.names())
def test_every_array_parameter_a_document_declares_is_checked_here(flavour: str) -> None:
    """A flavour registered later, or a new array parameter, fails here until it has a row in ``PARAMS``."""
    doc = document(flavour)
    checked = {(doc.operation("GET", p.path.removeprefix(f"/{flavour}") or "/")["operationId"], p.name)
               for p in PARAMS if p.flavour == flavour}
    assert _declared_arrays(flavour) <= checked


# ---- the parsing itself (pure) -----------------------------------------------------------


def test_values_come_plain_then_brackets_then_by_index() -> None:
    params: dict[str, str | list[str]] = {"a[2]": "z", "a": ["p", "q"], "a[]": "r", "a[0]": "x", "ab": "no",
                                          "a[x]": "no", "b[0]": "no"}
    assert array_values(params, "a") == ["p", "q", "r", "x", "z"]
    assert array_values({"b": "1"}, "a") is None


def test_items_split_commas_and_drop_blanks() -> None:
    assert array_items({"ids": " 1, ,2", "ids[]": ["3,", ""]}, "ids") == ("1", "2", "3")
    assert array_items({"ids": ""}, "ids") == ()
    assert array_items({}, "ids") is None


@pytest.mark.parametrize(("key", "expected"), [
    ("filter[customer_ids][]", "filter[customer_ids]"), ("filter[customer_ids][12]", "filter[customer_ids]"),
    ("filter[customer_ids]", "filter[customer_ids]"), ("filter[email][]", "filter[email][]"),
    ("filter[customer_ids][x]", "filter[customer_ids][x]"), ("fields[0]", "fields"),
])
def test_array_key_strips_the_suffix_of_array_parameters_only(key: str, expected: str) -> None:
    assert array_key(key, ("filter[customer_ids]", "fields")) == expected
