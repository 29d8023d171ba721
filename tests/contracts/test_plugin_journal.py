"""The plugin's journal helpers: ``requests()`` and ``assert_called()`` on ``mock_server`` (real gunicorn,
2 workers) and ``mock_admin`` (in-process), and the message a missed verification fails with."""

from __future__ import annotations

import textwrap

import httpx
import pytest

from contracts.admin_client import AdminClient, AdminError
from contracts.plugin import MockServer

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.mockserver(seed=11, count=40)


def test_assert_called_counts_what_the_client_sent_to_the_real_server(mock_server: MockServer) -> None:
    headers = {"Authorization": f"Bearer {mock_server.token}"}
    for limit in (1, 2, 2):
        httpx.get(mock_server.url_for("/customers"), params={"limit": limit}, headers=headers)
    created = httpx.post(mock_server.url_for("/customers"), json={"first_name": "Ada"},
                         headers={**headers, "Idempotency-Key": "k-1"})
    assert mock_server.assert_called("GET", "/customers", times=2, query={"limit": "2"})[0]["status"] == 200
    mock_server.assert_called("POST", "/customers", json={"first_name": "Ada"}, headers={"idempotency-key": "k-1"},
                              status=created.status_code)
    mock_server.assert_called("GET", "/customers", times=None, query={"cursor": None})
    assert [e["query"] for e in mock_server.requests(method="GET")] == ["limit=1", "limit=2", "limit=2"]


def test_a_miss_says_what_was_expected_how_many_matched_and_what_differed(mock_server: MockServer) -> None:
    httpx.post(mock_server.url_for("/customers"), json={"first_name": "Ada"},
               headers={"Authorization": f"Bearer {mock_server.token}", "Idempotency-Key": "k-1"})
    with pytest.raises(AssertionError) as caught:
        mock_server.assert_called("POST", "/customers", headers={"Idempotency-Key": "k-2"})
    message = str(caught.value)
    assert message.startswith('Expected a request matching {"headers": {"Idempotency-Key": {"equalTo": "k-2"}}, '
                              '"method": "POST", "urlPath": "/customers"} exactly 1 time; 0 matched.')
    assert "Closest requests that did not match:\n  #" in message
    assert '    - headers.Idempotency-Key: expected equalTo "k-2", got "k-1"' in message.splitlines()


def test_too_many_calls_fail_and_list_the_matches(mock_server: MockServer) -> None:
    for _ in range(2):
        httpx.get(mock_server.url_for("/customers"), headers={"Authorization": f"Bearer {mock_server.token}"})
    with pytest.raises(AssertionError, match=r"exactly 1 time; 2 matched\.\nMatching requests:\n  #\d+ GET /customers -> 200"):
        mock_server.assert_called("GET", "/customers")


def test_the_in_process_admin_verifies_too(mock_client: httpx.Client, mock_admin: AdminClient) -> None:
    mock_client.get("/customers", params={"limit": 3})
    assert mock_admin.assert_called("GET", "/customers", query={"limit": {"matches": "[0-9]"}})[0]["tenant"] == "default"
    assert mock_admin.count_requests({"method": "GET"}) == 1
    with pytest.raises(AssertionError, match="queryParameters.limit: expected equalTo \"4\", got \"3\""):
        mock_admin.assert_called("GET", "/customers", query={"limit": "4"})
    mock_admin.clear_requests()
    assert mock_admin.requests() == []
    with pytest.raises(AdminError, match="urlPathPattern: is not a valid regular expression"):
        mock_admin.assert_called("GET", path_pattern="(")


def test_journal_turns_response_capture_on(mock_client: httpx.Client, mock_admin: AdminClient) -> None:
    assert mock_admin.journal(True, max_response_bytes=10) == {"responses": True, "max_response_bytes": 10}
    answer = mock_client.get("/customers", params={"limit": 1})
    (entry,) = mock_admin.requests()
    assert entry["response"]["body"] == answer.text[:10] and entry["response"]["body_truncated"]
    assert mock_admin.journal(False)["responses"] is False


def test_a_users_test_gets_the_message_through_pytester(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=textwrap.dedent("""
        import httpx

        def test_client_sends_the_key(mock_server):
            httpx.get(mock_server.url_for("/customers"), headers={"Authorization": "Bearer t"})
            mock_server.assert_called("GET", "/customers", headers={"X-Request-Id": {"matches": ".+"}})
    """))
    result = pytester.runpytest("-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: Expected a request matching*exactly 1 time; 0 matched.",
                                 "*Closest requests that did not match:",
                                 "*- headers.X-Request-Id: expected matches \".+\", got null"])
