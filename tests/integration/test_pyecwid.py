"""The real ``pyecwid`` client (0.1.1) against ``mockserver serve`` (gunicorn, sockets).

pyecwid authenticates with ``?token=`` only, checks ``/profile`` at start-up, pages with
``offset`` += 100 after reading ``total`` from a first request, sends ``limit=100`` (and, through
a mutable default argument, a stale ``offset``) on every GET, and expects 200 from ``add()``.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from pyecwid import Ecwid

from mockserver import Dataset, ServerProcess, Settings

pytestmark = pytest.mark.integration
COUNT = 250  # three pyecwid pages: 100, 100, 50
TOKEN = "secret_integration"


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Iterator[ServerProcess]:
    state = str(tmp_path_factory.mktemp("pyecwid") / "state.sqlite3")
    with ServerProcess(Settings(seed=7, count=COUNT, workers=2, state=state)) as running:
        yield running


@pytest.fixture
def ecwid(server: ServerProcess) -> Ecwid:
    # NOTE: without skip_test, pyecwid's constructor GETs /profile and raises unless it answers 200
    return Ecwid(TOKEN, 4870020, base_url=f"{server.url}/ecwid/api/v3/{{0}}/")


def canonical(server: ServerProcess, path: str) -> Any:
    url = path if path.startswith("http") else f"{server.url}{path}"  # links are absolute
    request = urllib.request.Request(url, headers={"Authorization": "Bearer integration"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_get_pages_to_the_end_and_returns_the_dataset(server: ServerProcess, ecwid: Ecwid) -> None:
    items = ecwid.customers.get()
    ids = [c["id"] for c in items]
    assert len(ids) == COUNT == len(set(ids))
    body = canonical(server, "/customers?limit=200")
    live = {int(c["id"]) for c in body["data"]}
    while body["links"]["next"]:
        body = canonical(server, body["links"]["next"])
        live |= {int(c["id"]) for c in body["data"]}
    ds = Dataset(7, COUNT)
    assert set(ids) == live == {int(ds.id_of(i)) for i in range(COUNT)}
    names = [c["name"] for c in items]
    assert names == sorted(names)  # Ecwid's default order, NAME_ASC


def test_get_by_id_matches_the_canonical_customer(server: ServerProcess, ecwid: Ecwid) -> None:
    ecwid.customers.get()  # leaves pyecwid's shared default payload with offset=200
    cid = Dataset(7, COUNT).id_of(42)
    customer = ecwid.customers.get_by_id(cid)
    expected = canonical(server, f"/customers/{cid}")["data"]
    assert customer["id"] == int(cid) and customer["name"] == expected["name"]
    assert customer["email"] == expected["emails"][0]["email"]
    assert customer["registered"] == expected["created_at"].replace("T", " ").replace("Z", " +0000")


def test_search_helpers(ecwid: Ecwid) -> None:
    target = ecwid.customers.get_by_id(Dataset(7, COUNT).id_of(7))
    assert [c["id"] for c in ecwid.customers.get_by_email(target["email"])] == [target["id"]]
    last_name = target["billingPerson"]["lastName"]
    found = ecwid.customers.get_by_keyword(last_name)
    assert target["id"] in {c["id"] for c in found}
    assert all(last_name.lower() in c["name"].lower() for c in found)
    assert target["id"] in {c["id"] for c in ecwid.customers.get_by_name(target["name"])}


def test_add_update_delete(server: ServerProcess, ecwid: Ecwid) -> None:
    new_id = ecwid.customers.add({"email": "pyecwid@example.com", "password": "x",
                                  "billingPerson": {"name": "Py Ecwid", "city": "Moscow", "countryCode": "US"}})
    assert isinstance(new_id, int)
    assert canonical(server, f"/customers/{new_id}")["data"]["name"] == "Py Ecwid"
    assert ecwid.customers.get_by_id(new_id)["billingPerson"]["city"] == "Moscow"

    response = ecwid.customers.update(new_id, {"billingPerson": {"city": "Samara"}, "email": "py2@example.com"})
    assert response.status_code == 200 and response.json() == {"updateCount": 1}
    updated = ecwid.customers.get_by_id(new_id)
    assert (updated["billingPerson"]["city"], updated["email"]) == ("Samara", "py2@example.com")

    assert ecwid.customers.delete(new_id) == 1
    with pytest.raises(requests.HTTPError) as raised:
        ecwid.customers.get_by_id(new_id)
    assert raised.value.response.status_code == 404
    with pytest.raises(UserWarning):  # pyecwid raises on a non-200 delete
        ecwid.customers.delete(new_id)


def test_bad_tokens_are_refused_at_start_up(server: ServerProcess) -> None:
    with pytest.raises(ValueError):
        Ecwid("not-a-token", 1, skip_test=True, base_url=f"{server.url}/ecwid/api/v3/{{0}}/")
    public = Ecwid("public_integration", 1, base_url=f"{server.url}/ecwid/api/v3/{{0}}/")  # profile: allowed
    with pytest.raises(requests.HTTPError) as raised:
        public.customers.get()
    assert raised.value.response.status_code == 403
    assert raised.value.response.json()["errorCode"] == "INSUFFICIENT_APP_SCOPE"
