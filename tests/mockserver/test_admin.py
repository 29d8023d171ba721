"""``POST /__admin/reset``: forget every write, behind the API's own token."""

from __future__ import annotations

from falcon.testing import TestClient

from mockserver import Dataset, Settings, create_app

SECRET = {"Authorization": "Bearer s3cret"}


def test_reset_needs_the_servers_token_and_answers_in_the_api_error_format() -> None:
    client = TestClient(create_app(Settings(seed=2, count=50, token="s3cret")))
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = client.simulate_post("/__admin/reset", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json["status"] == 401
    assert client.simulate_get("/__admin/reset", headers=SECRET).status_code == 405


def test_reset_brings_back_the_seeded_data_for_every_flavour() -> None:
    ds = Dataset(2, 50)
    client = TestClient(create_app(Settings(seed=2, count=50, token="s3cret")))
    page = "/customers"
    created = client.simulate_post(page, json={"first_name": "Gone", "last_name": "Soon"}, headers=SECRET)
    assert created.status_code == 201
    assert client.simulate_delete(f"/customers/{ds.id_of(0)}", headers=SECRET).status_code == 204
    written = client.simulate_get(page, params={"limit": "50"}, headers=SECRET).json  # cached at this version
    assert ds.id_of(0) not in [c["id"] for c in written["data"]]

    response = client.simulate_post("/__admin/reset", headers=SECRET)
    assert response.status_code == 204 and response.content == b""

    assert client.simulate_get(page, params={"limit": "50"}, headers=SECRET).json["data"] == [
        ds.customer(i) for i in range(50)]
    assert client.simulate_get(f"/customers/{created.json['data']['id']}", headers=SECRET).status_code == 404
    ecwid = client.simulate_get("/ecwid/api/v3/1/customers", params={"token": "s3cret", "limit": "100"}).json
    assert ecwid["total"] == 50
