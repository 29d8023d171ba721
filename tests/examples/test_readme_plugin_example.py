"""Testing your own code against the mock with the pytest plugin (the README's example).

Installing the kit (``pip install "unified-customers-mock[contracts]"``) registers the plugin; no
conftest is needed. Run ``pytest`` as usual; ``pytest --mockserver-seed 7`` (or
``MOCKSERVER_SEED=7``) changes the dataset, and ``pytest --contract-base-url https://staging.example.com``
points ``contract.check_server()`` at a deployed service.
"""

import httpx
import pytest

from contracts.adapters.ecwid import EcwidAdapter  # your own adapter class goes here


def test_first_page_is_the_ground_truth(mock_client, mock_dataset):
    """mock_client calls the in-process mock (fresh data for every test); mock_dataset knows the answer."""
    body = mock_client.get("/customers", params={"limit": 5}).json()
    assert [c["id"] for c in body["data"]] == [mock_dataset.id_of(i) for i in range(5)]
    assert body["data"][0] == mock_dataset.customer(0)


@pytest.mark.mockserver(flavour="ecwid", seed=7, count=50)
def test_code_reading_ecwid_sees_the_same_customers(mock_client, mock_dataset):
    """The marker picks the dataset and the flavour served at the root (every flavour is also under /<name>)."""
    body = mock_client.get("/api/v3/1003/customers", params={"limit": 10, "sortBy": "REGISTERED_DATE_ASC"}).json()
    assert body["total"] == 50
    assert body["items"][0]["billingPerson"]["name"] == mock_dataset.customer(0)["name"]


def test_my_adapter_keeps_the_contract(contract):
    """Fails with a readable report (property, minimal requests, expected vs actual) if the adapter is wrong."""
    contract.check_adapter(EcwidAdapter, max_examples=10)


@pytest.mark.mockserver(count=200)
def test_the_service_keeps_the_contract(contract):
    """The in-process mock here; with --contract-base-url, the deployed service instead."""
    report = contract.check_server(checks=["pagination", "errors"])
    assert "pagination.walk" in report.passed


def test_against_a_real_server(mock_server):
    """A real gunicorn process on a free port, started once per session and settings."""
    response = httpx.get(mock_server.url_for("/customers"), params={"limit": 1},
                         headers={"Authorization": f"Bearer {mock_server.token}"})
    assert response.json()["data"][0]["id"] == mock_server.dataset.id_of(0)


def test_my_client_pages_through_generated_data(generated_api):
    """Mock mode: unicode and 1,000-character names, nulls, empty arrays, 200-item pages."""
    client = httpx.Client(transport=httpx.WSGITransport(app=generated_api), base_url="http://api",
                          headers={"Authorization": "Bearer any"})
    seen, params = [], {"limit": 200}
    while True:
        body = client.get("/customers", params=params).json()
        seen += [c["id"] for c in body["data"]]
        if body["meta"]["cursors"]["next"] is None:
            break
        params["cursor"] = body["meta"]["cursors"]["next"]
    assert seen == [c["id"] for c in generated_api.customers]
