"""contracts.adapters and contracts.adapter_check: the registry, the toolkit, the reference adapters
passing their contract, and the check catching broken adapters with the right property.
"""

from __future__ import annotations

from typing import Any

import falcon.testing
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.adapter_check import check_adapter, strip_excluded
from contracts.adapters import ADAPTERS, AdapterError, AdapterPage, AdapterRegistry, Sort, UnknownAdapter
from contracts.adapters.ecwid import EcwidAdapter
from contracts.adapters.toolkit import CursorCodec, PlatformPage, collect, matcher, validate_request
from contracts.failures import UsageError
from mockserver import Dataset, Settings, create_app

AUTH = {"Authorization": "Bearer test-token"}


# ---- registry ------------------------------------------------------------------------------------


def test_every_reference_adapter_names_a_registered_flavour() -> None:
    """An adapter is optional (a flavour is served and tested without one), but never names a missing one."""
    from mockserver import FLAVOURS

    assert ADAPTERS.names() and set(ADAPTERS.names()) <= set(FLAVOURS.names()) - {"canonical"}
    for cls in ADAPTERS:
        assert cls.flavour in FLAVOURS and isinstance(cls.excluded_fields, frozenset)


def test_registry_rejects_duplicates_and_lists_names_for_unknown_ones() -> None:
    registry = AdapterRegistry()

    @registry.register
    class One:
        name = "one"

    with pytest.raises(ValueError, match="already registered"):
        registry.register(type("Again", (), {"name": "one"}))
    with pytest.raises(ValueError, match="needs a non-empty class attribute 'name'"):
        registry.register(type("Nameless", (), {}))
    with pytest.raises(UnknownAdapter, match="registered adapters: one") as caught:
        registry.get("two")
    assert isinstance(caught.value, LookupError) and registry.get("one") is One and "one" in registry


# ---- toolkit ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, name", [
    ((0, None, {}), "limit"), ((201, None, {}), "limit"), ((True, None, {}), "limit"),
    ((5, ["nope"], {}), "fields"), ((5, None, {"x": "1"}), "filter[x]"),
    ((5, None, {"status": "gone"}), "filter[status]"), ((5, None, {"created_since": "2020-01-01"}),
                                                        "filter[created_since]"),
    ((5, None, {"customer_ids": " ,, "}), "filter[customer_ids]"), ((5, None, {"email": " "}), "filter[email]"),
])
def test_validate_request_raises_the_canonical_problem(args: tuple[Any, ...], name: str) -> None:
    with pytest.raises(AdapterError) as caught:
        validate_request(*args)
    problem = caught.value.problem
    assert caught.value.status == 400 and problem["type"] == "/problems/invalid-parameter"
    assert problem["errors"] == [{"in": "query", "name": name, "detail": problem["errors"][0]["detail"]}]


def test_validate_request_rejects_an_unknown_sort_and_keeps_valid_input() -> None:
    with pytest.raises(AdapterError, match="sort"):
        validate_request(5, None, {}, Sort("email"))
    request = validate_request(5, [" id", "", "emails.email "], {"status": "active"}, Sort("name", True))
    assert request.fields == ("id", "emails.email") and request.sort == Sort("name", True)


@pytest.fixture(scope="module")
def canonical() -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(Settings(seed=9, count=80)), headers=AUTH)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(index=st.integers(0, 79), key=st.sampled_from(["email", "phone_number", "status", "customer_ids",
                                                      "created_since", "updated_since"]), form=st.integers(0, 2))
def test_matcher_agrees_with_the_mocks_filters(canonical: falcon.testing.TestClient, index: int, key: str,
                                               form: int) -> None:
    person = Dataset(9, 80).customer(index)
    phone = person["phone_numbers"][0]
    value = {
        "email": [person["emails"][0]["email"], person["emails"][0]["email"].upper(), " nobody@x.io "][form],
        "phone_number": [phone["number"], f"({phone['area_code']}) {phone['number']}",
                         f"+{phone['country_code']} {phone['area_code']} {phone['number']}"][form],
        "status": ["active", "archived", "active"][form],
        "customer_ids": [person["id"], f" {person['id']} , 123", "1,2"][form],
        "created_since": [person["created_at"], person["created_at"].replace("Z", "+02:00"), "2019-02-01T00:00:00.9Z"][form],
        "updated_since": [person["updated_at"], "2019-03-01T00:00:00Z", "2030-01-01T00:00:00Z"][form],
    }[key]
    everyone = canonical.simulate_get("/customers", params={"limit": "200"}).json["data"]
    expected = [c["id"] for c in canonical.simulate_get("/customers", params={"limit": "200",
                                                                             f"filter[{key}]": value}).json["data"]]
    keep = matcher({key: value})
    assert keep is not None and [c["id"] for c in everyone if keep(c)] == expected


def test_cursor_codec_rejects_foreign_edited_and_other_query_cursors() -> None:
    codec = CursorCodec("a")
    text = codec.encode([3, 1], "q")
    assert codec.decode(text, "q") == [3, 1]
    assert text.replace("-", "").replace("_", "").isalnum()
    for bad, query in [(CursorCodec("b").encode([3, 1], "q"), "q"), (text, "other"), (text[:-2], "q"),
                       ("%%%", "q"), ("", "q"), ("é", "q")]:
        with pytest.raises(AdapterError) as caught:
            codec.decode(bad, query)
        assert caught.value.problem["type"] == "/problems/invalid-cursor"


def test_collect_fills_pages_across_platform_pages_and_detects_loops() -> None:
    data = [{"id": str(n), "odd": n % 2} for n in range(10)]

    def fetch(position: Any, size: int) -> PlatformPage:
        start = position or 0
        end = min(start + min(size, 3), 10)
        return PlatformPage(data[start:end], end if end < 10 else None, 10)

    items, after, total = collect(fetch, None, 0, 4, None, 3)
    assert [c["id"] for c in items] == ["0", "1", "2", "3"] and after == (4, 0) and total == 10
    rest, after, _ = collect(fetch, 3, 1, 4, None, 3)
    assert [c["id"] for c in rest] == ["4", "5", "6", "7"] and after == (8, 0)
    odd, after, total = collect(fetch, None, 0, 4, lambda c: c["odd"] == 1, 3)
    assert [c["id"] for c in odd] == ["1", "3", "5", "7"] and after == (9, 0) and total is None
    with pytest.raises(AdapterError, match="leads back"):
        collect(lambda position, size: PlatformPage([data[0]], 0), None, 0, 5, None, 3)


def test_strip_excluded_removes_keys_nested_keys_and_trailing_items() -> None:
    record = {"id": "1", "status": "active", "emails": [{"id": "e1", "email": "a@b.c"}, {"id": "e2", "email": "x@y.z"}]}
    assert strip_excluded(record, {"status", "emails.id", "emails[1:]"}) == {"id": "1", "emails": [{"email": "a@b.c"}]}
    assert record["status"] == "active", "the input is not changed"


# ---- the reference adapters against their contract ---------------------------------------------------


@pytest.mark.parametrize("name", ADAPTERS.names())
def test_reference_adapter_passes_its_contract(name: str) -> None:
    report = check_adapter(name, max_examples=8, seed=1)
    assert report.ok, report.render()
    assert len(report.passed) == 8


def test_an_adapter_instance_is_checked_against_the_app_it_reads() -> None:
    app = create_app(Settings(seed=4, count=30))
    client = httpx.Client(transport=httpx.WSGITransport(app=app))
    report = check_adapter(EcwidAdapter("http://mockserver/ecwid", client=client), ground_truth=app, max_examples=4)
    assert report.ok, report.render()
    unauthorized = next(r for r in report.results if r.name == "adapter.errors.unauthorized")
    assert unauthorized.skipped and "class" in unauthorized.skipped


def test_usage_errors() -> None:
    with pytest.raises(UnknownAdapter):
        check_adapter("shopify")
    with pytest.raises(UsageError, match="ground_truth"):
        check_adapter(EcwidAdapter("http://mockserver/ecwid"))
    with pytest.raises(UsageError, match="unknown adapter check"):
        check_adapter("ecwid", checks=["adapter.nope"])
    with pytest.raises(UsageError, match="neither"):
        check_adapter(42)


# ---- broken adapters are caught, with the property that broke ------------------------------------


class DropsSecondPhone(EcwidAdapter):
    """Keeps only the first phone number."""

    def fetch_page(self, *args: Any) -> PlatformPage:
        page = super().fetch_page(*args)
        for customer in page.customers:
            customer["phone_numbers"] = customer["phone_numbers"][:1]
        return page


class ReadsDatesAsLocalTime(EcwidAdapter):
    """Treats Ecwid's ``+0000`` dates as local time (UTC+1)."""

    def fetch_page(self, *args: Any) -> PlatformPage:
        page = super().fetch_page(*args)
        for customer in page.customers:
            hour = int(customer["created_at"][11:13])
            customer["created_at"] = f"{customer['created_at'][:11]}{(hour + 23) % 24:02d}{customer['created_at'][13:]}"
        return page


class LosesLastOfEachPage(EcwidAdapter):
    """Drops the last customer of every page but the last one."""

    def list_customers(self, cursor: Any, limit: int, fields: Any, filters: Any, sort: Sort = Sort()) -> AdapterPage:
        page = super().list_customers(cursor, limit, fields, filters, sort)
        return AdapterPage(page.customers[:-1] if page.next_cursor else page.customers, page.next_cursor, page.total)


class RepeatsTheFirstPage(EcwidAdapter):
    """Ignores the cursor once: page two is page one again."""

    def list_customers(self, cursor: Any, limit: int, fields: Any, filters: Any, sort: Sort = Sort()) -> AdapterPage:
        page = super().list_customers(cursor, limit, fields, filters, sort)
        if cursor is not None:
            first = super().list_customers(None, limit, fields, filters, sort)
            return AdapterPage(first.customers, page.next_cursor, page.total)
        return page


class EmptyDictForUnknownId(EcwidAdapter):
    """Answers an unknown id with an empty customer instead of a 404."""

    def get_customer(self, id: str) -> dict[str, Any]:
        try:
            return super().get_customer(id)
        except AdapterError as error:
            if error.status == 404:
                return {}
            raise


class ForbiddenIsAServerError(EcwidAdapter):
    """Maps Ecwid's 403 for a missing token to a 500."""

    def raise_for(self, response: httpx.Response, *, customer_id: str | None = None) -> None:
        if response.status_code == 403:
            raise AdapterError.internal("Ecwid said 403")
        super().raise_for(response, customer_id=customer_id)


class IgnoresStatusFilter(EcwidAdapter):
    """Claims Ecwid filters status and ids, which it does not."""

    native_filters = EcwidAdapter.native_filters | {"status", "customer_ids"}


class IgnoresFields(EcwidAdapter):
    """Always answers full records."""

    def list_customers(self, cursor: Any, limit: int, fields: Any, filters: Any, sort: Sort = Sort()) -> AdapterPage:
        return super().list_customers(cursor, limit, None, filters, sort)


class CrashesOnGarbageCursor(EcwidAdapter):
    """Lets a bad cursor escape as a ValueError."""

    def list_customers(self, cursor: Any, limit: int, fields: Any, filters: Any, sort: Sort = Sort()) -> AdapterPage:
        if cursor is not None and not cursor.startswith(tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")):
            raise ValueError("bad cursor")
        try:
            return super().list_customers(cursor, limit, fields, filters, sort)
        except AdapterError as error:
            if error.problem["type"] == "/problems/invalid-cursor":
                raise ValueError("bad cursor") from None
            raise


@pytest.mark.parametrize("broken, prop", [
    (DropsSecondPhone, "adapter.ground_truth"),
    (ReadsDatesAsLocalTime, "adapter.ground_truth"),
    (LosesLastOfEachPage, "adapter.paging.complete"),
    (RepeatsTheFirstPage, "adapter.paging.no_duplicates"),
    (EmptyDictForUnknownId, "adapter.errors.not_found"),
    (ForbiddenIsAServerError, "adapter.errors.unauthorized"),
    (IgnoresStatusFilter, "adapter.filters"),
    (IgnoresFields, "adapter.fields"),
    (CrashesOnGarbageCursor, "adapter.errors.bad_request"),
], ids=lambda value: value.__name__ if isinstance(value, type) else value)
def test_a_broken_adapter_fails_the_right_property(broken: type, prop: str) -> None:
    report = check_adapter(broken, max_examples=8, seed=2)
    assert prop in report.failed_properties, report.render()
    failure = next(f for f in report.failures if f.prop == prop)
    text = failure.render()
    assert "dataset seed" in text and "seed: 2" in text and failure.requests, text
