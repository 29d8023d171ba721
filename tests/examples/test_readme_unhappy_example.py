"""Unhappy paths from a test with the pytest plugin (the README's example, copied there verbatim)."""

import httpx


def get(server, path="/customers", **headers):
    return httpx.get(server.url_for(path), headers={"Authorization": f"Bearer {server.token}", **headers})


def test_my_sync_reports_a_disabled_connection(mock_server):
    """A tenant's connection state: every request of Apideck consumer job-42 is answered 403."""
    mock_server.tenant("job-42", state="disabled")  # also mode="isolated", count=50, faults={...}
    apideck = "/apideck/ecommerce/customers"
    assert get(mock_server, apideck, **{"x-apideck-app-id": "a", "x-apideck-consumer-id": "job-42"}).status_code == 403
    assert get(mock_server, apideck, **{"x-apideck-app-id": "a", "x-apideck-consumer-id": "job-43"}).status_code == 200


def test_my_client_sees_a_503(mock_server):
    """A fault profile for the length of a with block (tenant="job-42": that tenant's requests only)."""
    with mock_server.faults({"errors": [{"status": 503, "rate": 1, "retry_after": 1}]}):
        answer = get(mock_server)
        assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
    assert get(mock_server).status_code == 200


def test_my_client_backs_off_on_429(mock_server):
    """Rate limits on, 2 requests a minute for the flavour at the root; the clock moves past the window."""
    mock_server.clock(frozen_at=1_767_225_600)
    mock_server.rate_limit(limit=2, seconds=60)  # rate_limit("shopify", ...) for another flavour
    assert [get(mock_server).status_code for _ in range(3)] == [200, 200, 429]
    mock_server.clock(advance_seconds=60)
    assert get(mock_server).status_code == 200


def test_one_forced_answer(mock_server):
    """Prefer: code= (a status the operation documents, or 429), delay= (ms) or fault=reset|empty|..."""
    assert get(mock_server, Prefer="code=429").status_code == 429


def test_the_same_in_process(mock_admin, mock_client):
    """mock_admin drives mock_app, the app mock_client calls; every test starts from the server's controls."""
    with mock_admin.faults({"errors": [{"status": 500, "rate": 1}]}):
        assert mock_client.get("/customers").status_code == 500
    assert mock_client.get("/customers").status_code == 200
