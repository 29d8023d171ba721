"""Stateful: any sequence of valid writes through any writing flavour leaves every read valid.

A Hypothesis state machine writes customers through the canonical, ecartAPI, Ecwid, myBoxx and
Shopify APIs (creates, updates, deletes) with bodies at the edges of what each input document
allows (longest strings, largest and negative amounts, every optional field absent, non-ASCII),
and reads them back through every registered flavour: the list and get each flavour declares
(``Dialect.example``, so a new flavour is read the day it is registered), the larger pages and
variants below (Apideck ``raw=true``, Truto ``remote_data``) and field selections. No answer may be a 5xx, every write the document allows
must be accepted (or meet a documented conflict), and every response must validate against the
flavour's own document (tests/fixtures/documents.py, jsonschema_rs).

Runs under the active Hypothesis profile (``ci``: derandomized); ``HYPOTHESIS_PROFILE=soak``
runs thousands of examples.
"""

from __future__ import annotations

import tempfile
from typing import Any

import falcon.testing
import pytest
from hypothesis import HealthCheck, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, initialize, invariant, multiple, rule

from mockserver import FLAVOURS, Settings, create_app
from mockserver.dataset import Dataset
from mockserver.model import CUSTOMER_PATHS, EMAIL_PATTERN, EMAIL_TYPES, NONBLANK_RE, PHONE_TYPES, TOTAL_PATTERN
from tests.fixtures.documents import document

# NOTE: the longest bodies make Hypothesis warn that their repr is large; they are drawn on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

HEADERS = {"Authorization": "Bearer secret_test-token", "x-apideck-consumer-id": "c", "x-apideck-app-id": "a"}
SEED, COUNT = 7, 5
TRUTO = "integrated_account_id=acct"
SHOPIFY = "/admin/api/2024-10/customers"

# ---- values at the edges of the input documents ---------------------------------------------

EDGE_TEXT = ["é", "漢字 😀", "\u0085\u00a0x", "Ünïcødé Ñame", "a\nb", "\x00\x1f ctl"]


def text(max_size: int, *, nullable: bool = True) -> st.SearchStrategy[Any]:
    """Short arbitrary text, the longest strings allowed (ASCII and astral), edge characters, ``None``."""
    longest = st.sampled_from(["a" * max_size, "é" * max_size, "😀" * max_size])
    values = st.one_of(st.text(max_size=12), longest, st.sampled_from(EDGE_TEXT), st.just(""))
    return st.one_of(st.none(), values) if nullable else values


def nonempty(max_size: int) -> st.SearchStrategy[str]:
    return st.one_of(st.text(min_size=1, max_size=12), st.sampled_from(["a" * max_size, "😀" * max_size, " "]))


def nonblank(max_size: int) -> st.SearchStrategy[str]:
    return st.one_of(st.text(min_size=1, max_size=12).filter(lambda s: NONBLANK_RE.search(s) is not None),
                     st.sampled_from(["x" * max_size, "漢" * max_size, " \u3000名\u0085", "😀"]))


EMAILS = st.one_of(
    st.from_regex(EMAIL_PATTERN).filter(lambda s: len(s) <= 255 and "\n" not in s),
    st.sampled_from(["ü@b.cd", "a\x01b@c.de", "a..b@c.de", "x@" + "d" * 251 + ".c", "ok+tag@example.co.uk"]),
)
TOTALS = st.one_of(
    st.from_regex(TOTAL_PATTERN).filter(lambda s: len(s) <= 255 and "\n" not in s),
    st.sampled_from(["10000000000000000000000000000.00", "9" * 252 + ".99", "-" + "9" * 251 + ".99", "-0.01",
                     "0.00", "-25.00"]),
)
CURRENCY = st.from_regex(r"[A-Z]{3}", fullmatch=True)
COUNTRY = st.from_regex(r"[A-Z]{2}", fullmatch=True)


def items(item: st.SearchStrategy[Any], most: int = 20) -> st.SearchStrategy[list[Any]]:
    """A few items, or the most the documents allow."""
    return st.one_of(st.lists(item, max_size=3), st.lists(item, min_size=most, max_size=most))


def canonical_body(creating: bool) -> st.SearchStrategy[dict[str, Any]]:
    email = st.fixed_dictionaries({"email": EMAILS}, optional={"id": text(255), "type": st.sampled_from(
        (*EMAIL_TYPES, None))})
    phone = st.fixed_dictionaries({"number": nonempty(255)}, optional={
        "id": text(255), "country_code": text(255), "area_code": text(255), "extension": text(255),
        "type": st.sampled_from((*PHONE_TYPES, None))})
    address = st.fixed_dictionaries({}, optional={
        "id": text(255), "type": st.sampled_from(("billing", "shipping", "other", None)), "line1": text(255),
        "line2": text(255), "city": text(255), "state": text(255), "postal_code": text(255),
        "country": st.one_of(st.none(), COUNTRY)})
    order = st.fixed_dictionaries({"id": nonempty(255), "total": TOTALS}, optional={
        "status": st.sampled_from(("active", "completed", "cancelled", "archived", "unknown", "other", None))})
    optional = {"name": text(255), "first_name": text(255), "last_name": text(255), "company_name": text(255),
                "status": st.sampled_from(("active", "archived")), "currency": st.one_of(st.none(), CURRENCY),
                "notes": st.one_of(text(40), st.just("n" * 10_000)), "emails": items(email),
                "phone_numbers": items(phone), "addresses": items(address), "orders": items(order)}
    if not creating:
        return st.fixed_dictionaries({}, optional=optional)
    return st.sampled_from(("name", "first_name", "last_name")).flatmap(
        lambda key: st.fixed_dictionaries({key: nonblank(255)},
                                          optional={k: v for k, v in optional.items() if k != key}))


def ecartapi_body(creating: bool) -> st.SearchStrategy[dict[str, Any]]:
    place = st.one_of(st.none(), st.from_regex(r"[A-Za-z]{2}", fullmatch=True),
                      st.fixed_dictionaries({}, optional={"code": st.one_of(st.none(), COUNTRY),
                                                          "name": text(255), "codeIso3": text(255)}))
    flag = st.sampled_from((True, False, None, "true", "false"))
    address = st.fixed_dictionaries({}, optional={
        "id": text(255), "firstName": text(255), "lastName": text(255), "address1": text(255),
        "address2": text(255), "country": place, "state": st.one_of(text(255), st.fixed_dictionaries(
            {}, optional={"code": text(255), "name": text(255)})), "city": text(255), "postalCode": text(255),
        "phone": text(255), "company": text(255), "references": text(255), "defaultBilling": flag,
        "defaultShipping": flag})
    optional: dict[str, st.SearchStrategy[Any]] = {
        "email": st.one_of(st.none(), EMAILS), "phone": st.one_of(st.none(), nonblank(255)),
        "note": st.one_of(text(40), st.just("n" * 10_000)), "currency": st.one_of(st.none(), CURRENCY),
        "status": st.one_of(st.sampled_from(("enabled", "disabled")),
                            st.fixed_dictionaries({"status": st.sampled_from(("enabled", "disabled"))})),
        "addresses": items(address)}
    names = {"firstName": nonblank(255), "lastName": nonblank(255)}
    if creating:
        body = st.fixed_dictionaries(names, optional=optional)
    else:
        body = st.fixed_dictionaries({}, optional={**optional, "firstName": text(255), "lastName": text(255)})
    return st.one_of(body, body.map(lambda b: {"customer": b}))


def ecwid_body(creating: bool) -> st.SearchStrategy[dict[str, Any]]:
    person_fields = {key: text(255) for key in ("name", "firstName", "lastName", "companyName", "street", "city",
                                                "countryName", "postalCode", "stateOrProvinceCode",
                                                "stateOrProvinceName", "phone")}
    person_fields["countryCode"] = st.one_of(st.none(), st.just(""), COUNTRY)
    person = st.fixed_dictionaries({}, optional=person_fields)
    shipping = st.fixed_dictionaries({}, optional={**person_fields, "id": st.one_of(st.none(), st.integers(1, 2**31))})
    optional: dict[str, st.SearchStrategy[Any]] = {
        "billingPerson": st.one_of(st.none(), person), "shippingAddresses": st.one_of(st.none(), items(shipping)),
        "privateAdminNotes": st.one_of(text(40), st.just("n" * 10_000)),
        "b2b_b2c": st.sampled_from(("b2b", "b2c", None)), "acceptMarketing": st.sampled_from((True, False, None)),
        "customerGroupId": st.one_of(st.none(), st.integers(0, 10)), "lang": text(10), "password": text(20)}
    if creating:
        return st.fixed_dictionaries({"email": EMAILS}, optional=optional)
    return st.fixed_dictionaries({}, optional={**optional, "email": EMAILS})


def shopify_body(creating: bool) -> st.SearchStrategy[dict[str, Any]]:
    address = st.fixed_dictionaries({}, optional={
        **{key: text(255) for key in ("address1", "address2", "city", "province", "zip", "company", "country")},
        "country_code": st.one_of(st.none(), COUNTRY), "default": st.booleans()})
    optional: dict[str, st.SearchStrategy[Any]] = {
        "first_name": text(255), "last_name": text(255), "email": st.one_of(st.none(), EMAILS),
        "phone": st.one_of(st.none(), st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True)),
        "note": st.one_of(text(40), st.just("n" * 10_000)), "currency": st.one_of(st.none(), CURRENCY),
        "state": st.sampled_from(("enabled", "disabled")), "addresses": st.one_of(st.none(), items(address))}
    if not creating:
        customer = st.fixed_dictionaries({}, optional=optional)
    else:
        customer = st.sampled_from(("first_name", "last_name")).flatmap(
            lambda key: st.fixed_dictionaries({key: nonblank(255)},
                                              optional={k: v for k, v in optional.items() if k != key}))
    return customer.map(lambda c: {"customer": c})


# Written first in every example, so even a short derandomized run meets each edge at least once.
HUGE = "10000000000000000000000000000.00"
LONGEST = "9" * 252 + ".99"
EDGE_WRITES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("canonical", "POST", "/customers", {"first_name": "\u3000x"}),
    ("canonical", "POST", "/customers", {
        "name": "Edge Ünïcode", "orders": [{"id": "o1", "total": HUGE}, {"id": "o2", "total": "-" + LONGEST[1:]},
                                           {"id": "o3", "total": "-0.01"}],
        "addresses": [{"city": "Köln"}], "emails": [{"email": "ü@b.cd"}, {"email": "a\x01b@c.de"}]}),
    ("canonical", "POST", "/customers", {
        "name": "é" * 255, "first_name": "😀" * 255, "last_name": "a" * 255, "company_name": "漢" * 255,
        "status": "archived", "currency": "XTS", "notes": "n" * 10_000,
        "emails": [{"id": "e" * 255, "email": "x@" + "d" * 251 + ".c", "type": None}] * 20,
        "phone_numbers": [{"number": "9" * 255, "country_code": "1" * 255, "area_code": "2" * 255,
                           "extension": "3" * 255, "type": "fax"}] * 20,
        "addresses": [{"type": None, "line1": "l" * 255, "line2": "m" * 255, "city": "c" * 255, "state": "s" * 255,
                       "postal_code": "p" * 255, "country": "ZZ"}] * 20,
        "orders": [{"id": "o" * 255, "total": LONGEST, "status": None}] * 20}),
    ("ecartapi", "POST", "/api/v2/customers", {"firstName": "\x85x", "lastName": "é" * 255}),
    ("ecwid", "POST", "/api/v3/1/customers", {"email": "edge@example.com", "billingPerson": {
        "name": "n" * 255, "street": "a" * 255, "phone": "+1 2 3", "countryCode": ""}}),
    ("myboxx", "POST", "/api/json/v1/ecwid/add_customer", {"email": "ß@b.cd", "shippingAddresses": [{"city": "x"}]}),
    ("shopify", "POST", f"{SHOPIFY}.json", {"customer": {
        "first_name": "\u3000x", "last_name": "é" * 255, "email": "ß@b.cd", "phone": "+123456789012345",
        "note": "n" * 10_000, "addresses": [{"city": "c" * 255, "country_code": "ZZ", "default": False}] * 20}}),
]


# ---- reads ------------------------------------------------------------------------------------

LISTS = [  # default pages (the dataset is small enough that they hold every customer) and the largest ones
    ("canonical", "/customers", "limit=200&sort[by]=name"), ("ecartapi", "/api/v2/customers", "limit=250"),
    ("ecartapi", "/api/v2/customers/count", ""), ("ecwid", "/api/v3/1/customers", ""),
    ("myboxx", "/api/json/v1/ecwid/customers", ""), ("truto", "/unified/ecommerce/customers", f"{TRUTO}&limit=100"),
    ("apideck", "/ecommerce/customers", "raw=true&limit=200"), ("shopify", f"{SHOPIFY}.json", "limit=250"),
    ("shopify", f"{SHOPIFY}/count.json", ""),
] + [(name, FLAVOURS.get(name).example.path, FLAVOURS.get(name).example.query) for name in FLAVOURS.names()]
"""The pages above, then every registered flavour's own example list."""


def gets(cid: str) -> list[tuple[str, str, str]]:
    """The variants of gets below, then every registered flavour's own get (its ``example.item_path``)."""
    variants = [
        ("canonical", f"/customers/{cid}", ""), ("ecartapi", f"/api/v2/customers/{cid}", ""),
        ("ecartapi", f"/api/v2/customers/{cid}/orders", ""), ("ecwid", f"/api/v3/1/customers/{cid}", ""),
        ("myboxx", f"/api/json/v1/ecwid/customer/{cid}", ""),
        ("truto", f"/unified/ecommerce/customers/{cid}", TRUTO),
        ("apideck", f"/ecommerce/customers/{cid}", "raw=true"), ("apideck", f"/ecommerce/customers/{cid}", ""),
    ]
    examples = [(name, FLAVOURS.get(name).example.item_path.format(id=cid), FLAVOURS.get(name).example.item_query)
                for name in FLAVOURS.names()]
    return list(dict.fromkeys(variants + examples))


ECWID_TOP = ("id", "name", "email", "registered", "updated", "billingPerson", "shippingAddresses", "contacts",
             "stats", "privateAdminNotes", "lang", "b2b_b2c")
APIDECK_PATHS = sorted((CUSTOMER_PATHS - {"notes"}) | {"custom_mappings"})
SHOPIFY_TOP = tuple(document("shopify").at("components", "schemas", "Customer", "properties"))
WITHOUT_FIELD_SELECTION = {"ecartapi", "truto"}
"""Flavours whose reads select no fields (Truto's ``truto_exclude_fields`` is in test_array_params.py)."""


def field_reads(cid: str, picks: list[int]) -> list[tuple[str, str, str]]:
    def choose(names: Any) -> str:
        names = list(names)
        return ",".join(names[p % len(names)] for p in picks)
    ecwid = choose(ECWID_TOP)
    return [
        ("canonical", f"/customers/{cid}", f"fields={choose(sorted(CUSTOMER_PATHS))}"),
        ("canonical", "/customers", f"limit=200&fields={choose(sorted(CUSTOMER_PATHS))}"),
        ("apideck", f"/ecommerce/customers/{cid}", f"fields={choose(APIDECK_PATHS)}"),
        ("apideck", "/ecommerce/customers", f"limit=200&raw=true&fields={choose(APIDECK_PATHS)}"),
        ("ecwid", f"/api/v3/1/customers/{cid}", f"responseFields={ecwid}"),
        ("ecwid", "/api/v3/1/customers", f"responseFields=total,items({ecwid})"),
        ("myboxx", "/api/json/v1/ecwid/customers", f"responseFields=count,items({ecwid})"),
        ("shopify", f"{SHOPIFY}/{cid}.json", f"fields={choose(SHOPIFY_TOP)}"),
        ("shopify", f"{SHOPIFY}.json", f"limit=250&fields={choose(SHOPIFY_TOP)}"),
    ]


def test_every_flavour_is_read_listed_and_selected_from() -> None:
    """A flavour registered without field reads here must be added (or named as having no selection)."""
    names = set(FLAVOURS.names())
    assert {f for f, _, _ in LISTS} == names and {f for f, _, _ in gets("1")} == names
    assert {f for f, _, _ in field_reads("1", [0])} | WITHOUT_FIELD_SELECTION == names


# ---- the machine ----------------------------------------------------------------------------------


class Writes(RuleBasedStateMachine):
    customers = Bundle("customers")

    def __init__(self) -> None:
        super().__init__()
        self.state = tempfile.TemporaryDirectory()
        app = create_app(Settings(seed=SEED, count=COUNT, state=f"{self.state.name}/state.sqlite3"))
        self.client = falcon.testing.TestClient(app, headers=HEADERS)
        self.requests = 0

    def teardown(self) -> None:
        self.state.cleanup()

    def send(self, flavour: str, method: str, path: str, query: str = "", body: Any = None) -> Any:
        if body is not None:
            assert document(flavour).request_valid(method, path, body), f"the test drew an invalid body: {body!r}"
        result = self.client.simulate_request(method, f"/{flavour}{path}", query_string=query,
                                              headers=dict(FLAVOURS.get(flavour).example.credentials("test-token")),
                                              json=body if method in ("POST", "PUT", "PATCH") else None)
        self.requests += 1
        note(f"{method} /{flavour}{path}?{query} -> {result.status_code}")
        assert result.status_code < 500, (flavour, method, path, query, result.text)
        document(flavour).check_response(method, path, result.status_code, result.json if result.text else None)
        return result

    def write(self, flavour: str, method: str, path: str, body: Any, *, exists: bool = True) -> Any:
        result = self.send(flavour, method, path, body=body)
        allowed = (200, 201, 409) if exists else (200, 201, 404, 409)
        assert result.status_code in allowed, (flavour, method, path, body, result.text)
        return result

    @initialize(target=customers)
    def edge_customers(self) -> Any:
        ids = [Dataset(SEED, COUNT).id_of(0)]
        for flavour, method, path, body in EDGE_WRITES:
            data = self.write(flavour, method, path, body).json
            ids.append(str((data.get("data") or data.get("customer") or data)["id"]))
        return multiple(*ids)

    @rule(target=customers, body=canonical_body(creating=True))
    def create_canonical(self, body: dict[str, Any]) -> str:
        return str(self.write("canonical", "POST", "/customers", body).json["data"]["id"])

    @rule(target=customers, body=ecartapi_body(creating=True))
    def create_ecartapi(self, body: dict[str, Any]) -> str:
        return str(self.write("ecartapi", "POST", "/api/v2/customers", body).json["customer"]["id"])

    @rule(target=customers, body=ecwid_body(creating=True), myboxx=st.booleans())
    def create_ecwid(self, body: dict[str, Any], myboxx: bool) -> str:
        if myboxx:
            result = self.write("myboxx", "POST", "/api/json/v1/ecwid/add_customer", body)
            return str(result.json["data"]["id"]) if result.status_code == 200 else Dataset(SEED, COUNT).id_of(1)
        result = self.write("ecwid", "POST", "/api/v3/1/customers", body)
        return str(result.json["id"]) if result.status_code == 200 else Dataset(SEED, COUNT).id_of(1)

    @rule(target=customers, body=shopify_body(creating=True))
    def create_shopify(self, body: dict[str, Any]) -> str:
        return str(self.write("shopify", "POST", f"{SHOPIFY}.json", body).json["customer"]["id"])

    @rule(cid=customers, body=canonical_body(creating=False))
    def update_canonical(self, cid: str, body: dict[str, Any]) -> None:
        self.write("canonical", "PATCH", f"/customers/{cid}", body, exists=False)

    @rule(cid=customers, body=ecartapi_body(creating=False))
    def update_ecartapi(self, cid: str, body: dict[str, Any]) -> None:
        self.write("ecartapi", "PUT", f"/api/v2/customers/{cid}", body, exists=False)

    @rule(cid=customers, body=ecwid_body(creating=False), myboxx=st.booleans())
    def update_ecwid(self, cid: str, body: dict[str, Any], myboxx: bool) -> None:
        if myboxx:
            self.write("myboxx", "POST", f"/api/json/v1/ecwid/update_customer/{cid}", body, exists=False)
        else:
            self.write("ecwid", "PUT", f"/api/v3/1/customers/{cid}", body, exists=False)

    @rule(cid=customers, body=shopify_body(creating=False))
    def update_shopify(self, cid: str, body: dict[str, Any]) -> None:
        self.write("shopify", "PUT", f"{SHOPIFY}/{cid}.json", body, exists=False)

    @rule(cid=consumes(customers), via=st.sampled_from(["canonical", "ecartapi", "ecwid", "myboxx", "shopify"]))
    def delete(self, cid: str, via: str) -> None:
        method, path = {"canonical": ("DELETE", f"/customers/{cid}"),
                        "ecartapi": ("DELETE", f"/api/v2/customers/{cid}"),
                        "ecwid": ("DELETE", f"/api/v3/1/customers/{cid}"),
                        "myboxx": ("POST", f"/api/json/v1/ecwid/delete_customer/{cid}"),
                        "shopify": ("DELETE", f"{SHOPIFY}/{cid}.json")}[via]
        assert self.send(via, method, path).status_code in (200, 204, 404)

    @rule(cid=customers)
    def read_everywhere(self, cid: str) -> None:
        for flavour, path, query in gets(cid):
            assert self.send(flavour, "GET", path, query).status_code in (200, 404)

    @rule(cid=customers, picks=st.lists(st.integers(0, 10_000), min_size=1, max_size=4))
    def read_fields(self, cid: str, picks: list[int]) -> None:
        for flavour, path, query in field_reads(cid, picks):
            assert self.send(flavour, "GET", path, query).status_code in (200, 404)

    @invariant()
    def every_list_page_reads(self) -> None:
        for flavour, path, query in LISTS:
            assert self.send(flavour, "GET", path, query).status_code == 200


Writes.TestCase.settings = settings(settings.default, stateful_step_count=6, deadline=None,
                                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                           HealthCheck.data_too_large])
TestWrites = Writes.TestCase
