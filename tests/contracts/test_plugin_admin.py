"""The plugin's unhappy-path helpers: ``mock_server.tenant/faults/rate_limit/clock`` and ``mock_admin``.

The real server (gunicorn, 2 workers) is the session's shared one; each helper is checked by what
the API then answers, not by what the admin API says back.
"""

from __future__ import annotations

import httpx
import pytest

from contracts.admin_client import AdminClient, AdminError
from contracts.plugin import MockServer

pytestmark = pytest.mark.mockserver(seed=11, count=40)


def apideck(server: MockServer, consumer: str, limit: int = 20) -> httpx.Response:
    return httpx.get(server.url_for("/ecommerce/customers", flavour="apideck"), params={"limit": limit},
                     headers={"Authorization": f"Bearer {server.token}", "x-apideck-app-id": "app",
                              "x-apideck-consumer-id": consumer})


def canonical(server: MockServer) -> httpx.Response:
    return httpx.get(server.url_for("/customers"), params={"limit": 1},
                     headers={"Authorization": f"Bearer {server.token}"})


def test_tenant_sets_one_tenants_connection_state_and_reset_forgets_it(mock_server: MockServer) -> None:
    answer = mock_server.tenant("c-off", state="disabled")
    assert (answer["id"], answer["state"], answer["configured"]) == ("c-off", "disabled", True)
    assert apideck(mock_server, "c-off").status_code == 403
    assert apideck(mock_server, "c-on").status_code == 200
    mock_server.reset()  # what the mock_server fixture does before each test
    assert apideck(mock_server, "c-off").status_code == 200


def test_an_isolated_tenant_gets_its_own_count(mock_server: MockServer) -> None:
    assert mock_server.tenant("job-42", mode="isolated", count=5)["mode"] == "isolated"
    assert len(apideck(mock_server, "job-42").json()["data"]) == 5
    assert len(apideck(mock_server, "someone-else").json()["data"]) == 20


def test_faults_in_a_with_block_are_undone_at_its_end(mock_server: MockServer) -> None:
    mock_server.faults({"latency": {"ms": 1}})
    with mock_server.faults({"errors": [{"status": 503, "rate": 1}]}):
        assert canonical(mock_server).status_code == 503
    assert canonical(mock_server).status_code == 200
    assert mock_server.admin.get_faults() == {"latency": {"distribution": "fixed", "ms": 1}}


def test_a_tenants_own_faults_touch_only_its_requests(mock_server: MockServer) -> None:
    with mock_server.faults({"errors": [{"status": 500, "rate": 1}]}, tenant="flaky"):
        assert apideck(mock_server, "flaky").status_code == 500
        assert apideck(mock_server, "steady").status_code == 200
    assert apideck(mock_server, "flaky").status_code == 200


def test_rate_limit_turns_a_quota_on_and_the_clock_moves_past_it(mock_server: MockServer) -> None:
    limits = mock_server.rate_limit(limit=2, seconds=60)  # the root flavour: canonical
    assert limits == {"enabled": True, "flavours": {"canonical": {"limit": 2, "seconds": 60}}}
    mock_server.clock(frozen_at=1_800_000_000)  # not at a window's edge
    assert [canonical(mock_server).status_code for _ in range(3)] == [200, 200, 429]
    assert mock_server.clock(advance_seconds=60)["now"] == 1_800_000_060
    assert canonical(mock_server).status_code == 200


def test_a_refused_change_raises_with_the_servers_problem(mock_server: MockServer) -> None:
    with pytest.raises(AdminError) as caught:
        mock_server.tenant("t", state="asleep")
    assert caught.value.status == 422 and "asleep" in str(caught.value)
    assert caught.value.problem["errors"][0]["name"] == "tenants.accounts.t.state"


def test_the_in_process_admin_drives_mock_app(mock_admin: AdminClient, mock_client: httpx.Client) -> None:
    assert mock_client.get("/customers").status_code == 200
    with mock_admin.faults({"errors": [{"status": 502, "rate": 1}]}):
        assert mock_client.get("/customers").status_code == 502
    assert mock_client.get("/customers").status_code == 200
    mock_admin.rate_limit("canonical", limit=1, seconds=30)
    mock_admin.clock(frozen_at=1_700_000_000)
    assert [mock_client.get("/customers").status_code for _ in range(2)] == [200, 429]
    mock_admin.tenant("job-1", mode="isolated")
    assert mock_admin.controls()["tenants"]["accounts"] == {"job-1": {"state": "ok", "mode": "isolated"}}
    mock_admin.reset()
    assert mock_admin.controls()["rate_limits"]["enabled"] is False
    assert mock_client.get("/customers").status_code == 200


def test_every_test_starts_with_the_controls_as_the_server_started(mock_server: MockServer) -> None:
    mock_server.rate_limit(limit=1, seconds=60)
    mock_server.tenant("x", state="unauthorized")
    mock_server.reset()
    controls = mock_server.admin.controls()
    assert controls["rate_limits"] == {"enabled": False, "flavours": {}}
    assert controls["tenants"]["accounts"] == {} and controls["clock"] == {"offset_seconds": 0.0}
