"""The official ``apideck-unify`` SDK (0.52.0, unchanged) against a real mock server process."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mockserver import Dataset, ServerProcess, Settings

if TYPE_CHECKING:
    from apideck_unify import Apideck

# NOTE: the SDK is imported where it is used, not at module level: importing it takes seconds, and
# collection (even `-m "not integration"`) would pay for it on every run.
pytestmark = pytest.mark.integration
KEY = "sdk-live-key"
SEED, COUNT = 11, 230


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    state = str(tmp_path_factory.mktemp("apideck-sdk") / "state.sqlite3")
    with ServerProcess(Settings(seed=SEED, count=COUNT, workers=2, token=KEY, state=state)) as running:
        yield running


@pytest.fixture
def sent() -> list[httpx.Request]:
    return []


@pytest.fixture
def sdk(server: ServerProcess, sent: list[httpx.Request]) -> Iterator[Apideck]:
    from apideck_unify import Apideck

    client = httpx.Client(event_hooks={"request": [sent.append]})
    with Apideck(api_key=KEY, consumer_id="test-consumer", app_id="test-app", server_url=f"{server.url}/apideck",
                 client=client) as apideck:
        yield apideck


def canonical_walk(server: ServerProcess) -> list[str]:
    """The canonical flavour's ids, paged with its own cursors."""
    ids: list[str] = []
    url: str | None = f"{server.url}/customers?limit=100"
    while url:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {KEY}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.loads(response.read())
        ids.extend(c["id"] for c in body["data"])
        url = body["links"]["next"]
    return ids


def test_list_paged_to_the_end_with_next_equals_the_canonical_walk(server: ServerProcess, sdk: Apideck,
                                                                   sent: list[httpx.Request]) -> None:
    res = sdk.ecommerce.customers.list()
    seen: list[str] = []
    pages = 0
    while res is not None:
        body = res.get_ecommerce_customers_response
        assert body is not None and body.service == "ecwid" and body.operation == "all"
        assert body.meta is not None and body.meta.total_count == COUNT
        seen.extend(c.id for c in body.data)
        pages += 1
        res = res.next()
    assert seen == canonical_walk(server) == [Dataset(SEED, COUNT).id_of(i) for i in range(COUNT)]
    assert pages == -(-COUNT // 20)
    # what the generated SDK puts on the wire: limit=20&raw=false always, bearer key, consumer/app ids
    first = sent[0]
    assert parse_qs(urlsplit(str(first.url)).query) == {"limit": ["20"], "raw": ["false"]}
    assert first.headers["authorization"] == f"Bearer {KEY}"
    assert first.headers["x-apideck-consumer-id"] == "test-consumer"
    assert first.headers["x-apideck-app-id"] == "test-app"


def test_records_parse_into_the_sdk_models(sdk: Apideck) -> None:
    ds = Dataset(SEED, COUNT)
    res = sdk.ecommerce.customers.list(limit=5, raw=True)
    assert res is not None and res.get_ecommerce_customers_response is not None
    body = res.get_ecommerce_customers_response
    for i, customer in enumerate(body.data):
        record = ds.customer(i)
        assert customer.name == record["name"] and customer.status == record["status"]
        assert customer.created_at == datetime.fromtimestamp(ds.created_of(i), tz=UTC)
        assert [e.email for e in customer.emails or []] == [e["email"] for e in record["emails"]]
        assert [a.city for a in customer.addresses or []] == [a["city"] for a in record["addresses"]]
    assert body.raw is not None and [item["id"] for item in body.raw["items"]] == [int(ds.id_of(i)) for i in range(5)]


def test_filters_fields_and_service_through_the_sdk(sdk: Apideck, sent: list[httpx.Request]) -> None:
    ds = Dataset(SEED, COUNT)
    target = ds.customer(77)
    res = sdk.ecommerce.customers.list(filter_={"email": target["emails"][0]["email"]}, fields="id,emails.email",
                                       service_id="shopify", pass_through={"search": "leads"})
    assert res is not None and res.get_ecommerce_customers_response is not None
    body = res.get_ecommerce_customers_response
    assert body.service == "shopify" and [c.id for c in body.data] == [target["id"]]
    assert body.data[0].model_fields_set == {"id", "emails"}  # fields=: only those keys came back
    query = parse_qs(urlsplit(str(sent[-1].url)).query)
    assert query["filter[email]"] == [target["emails"][0]["email"]] and query["pass_through[search]"] == ["leads"]
    since = datetime.fromtimestamp(ds.created_of(200), tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    later = sdk.ecommerce.customers.list(limit=100, filter_={"created_since": since})
    assert later is not None and later.get_ecommerce_customers_response is not None
    assert [c.id for c in later.get_ecommerce_customers_response.data] == [ds.id_of(i) for i in range(200, COUNT)]


def test_get_and_typed_errors(server: ServerProcess, sdk: Apideck) -> None:
    from apideck_unify import Apideck, models

    ds = Dataset(SEED, COUNT)
    one = sdk.ecommerce.customers.get(id=ds.id_of(42))
    assert one.get_ecommerce_customer_response is not None
    data = one.get_ecommerce_customer_response.data
    assert data.id == ds.id_of(42) and data.first_name == ds.customer(42)["first_name"]
    with pytest.raises(models.NotFoundResponse) as missing:
        sdk.ecommerce.customers.get(id="123456789")
    assert missing.value.data.type_name == "EntityNotFoundError"
    assert missing.value.data.status_code == 404
    with pytest.raises(models.BadRequestResponse) as bad:
        sdk.ecommerce.customers.list(cursor="bm90LWEtY3Vyc29y")
    assert bad.value.data.type_name == "InvalidCursorError"
    stranger = Apideck(api_key="wrong", consumer_id="c", app_id="a", server_url=f"{server.url}/apideck")
    with stranger, pytest.raises(models.UnauthorizedResponse) as denied:
        stranger.ecommerce.customers.list()
    assert denied.value.data.type_name == "UnauthorizedError"
    no_consumer = Apideck(api_key=KEY, app_id="a", server_url=f"{server.url}/apideck")
    with no_consumer, pytest.raises(models.BadRequestResponse) as headers:
        no_consumer.ecommerce.customers.list()
    assert headers.value.data.type_name == "RequestHeadersValidationError"
    assert headers.value.data.detail == "Missing Header: x-apideck-consumer-id"


def test_raw_http_answers_are_application_json(server: ServerProcess) -> None:
    request = urllib.request.Request(f"{server.url}/apideck/ecommerce/customers?limit=1", headers={
        "Authorization": f"Bearer {KEY}", "x-apideck-consumer-id": "c", "x-apideck-app-id": "a"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Type"] == "application/json"
        body: dict[str, Any] = json.loads(response.read())
    assert urlsplit(body["links"]["next"]).netloc == urlsplit(server.url).netloc
