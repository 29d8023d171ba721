"""Verify what a client sent with the pytest plugin (the README's example, copied there verbatim)."""

import httpx


def test_my_client_creates_the_customer_once(mock_server):
    """assert_called: the method, the path, how many times (default 1) and any matchers."""
    auth = {"Authorization": f"Bearer {mock_server.token}"}
    httpx.post(mock_server.url_for("/customers"), json={"first_name": "Ada", "emails": [{"email": "ada@example.com"}]},
               headers={**auth, "Idempotency-Key": "k-1"})
    mock_server.assert_called("POST", "/customers", json_paths=["$.emails[0].email"],
                              headers={"Idempotency-Key": {"matches": "k-.+"}}, status=201)
    mock_server.assert_called("DELETE", "/customers/1", times=0)  # it never deleted anything


def test_my_client_pages_with_the_cursor_it_was_given(mock_server):
    """requests(): every journaled request, oldest first, filtered like GET /__admin/requests."""
    auth = {"Authorization": f"Bearer {mock_server.token}"}
    first = httpx.get(mock_server.url_for("/customers"), params={"limit": 2}, headers=auth).json()
    httpx.get(mock_server.url_for("/customers"), params={"limit": 2, "cursor": first["meta"]["cursors"]["next"]},
              headers=auth)
    pages = mock_server.requests(method="GET", path="/customers")
    assert [e["status"] for e in pages] == [200, 200]
    mock_server.assert_called("GET", "/customers", query={"cursor": first["meta"]["cursors"]["next"]})


def test_a_miss_shows_the_near_misses(mock_admin, mock_client):
    """The same in-process; a failed verification lists the closest requests and what differs."""
    mock_client.get("/customers", params={"limit": 5})
    try:
        mock_admin.assert_called("GET", "/customers", query={"limit": "50"})
    except AssertionError as miss:
        assert 'queryParameters.limit: expected equalTo "50", got "5"' in str(miss)
    else:
        raise AssertionError("the verification should have failed")
