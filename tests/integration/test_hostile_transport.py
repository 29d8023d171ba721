"""Hostile transport over real sockets: chunked bodies, HEAD, and requests gunicorn itself refuses.

What only a real server shows: gunicorn decodes chunked bodies and refuses over-long request lines
and header blocks before the app runs. Every answer must still be the flavour's own error body.
The in-process breadth (every flavour, Unicode, depth) is ``tests/mockserver/test_hostile_input.py``.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver import ServerProcess, Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["canonical", "ecwid"])
def server(request: Any, tmp_path_factory: Any, server_kind: str) -> Iterator[ServerProcess]:
    state = str(tmp_path_factory.mktemp("transport") / "state.sqlite3")
    settings = Settings(seed=11, count=300, workers=2, state=state, flavour=request.param, server=server_kind)
    with ServerProcess(settings) as running:
        yield running


def raw_exchange(server: ServerProcess, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``data`` as is on a fresh connection; the response's status, headers and body."""
    with socket.create_connection((server.settings.host, server.settings.port), timeout=20) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
            head, sep, body = received.partition(b"\r\n\r\n")
            if sep:
                lines = head.decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
                if len(body) >= int(headers.get("content-length", "-1")) >= 0:
                    break
    status = int(lines[0].split()[1])
    return status, headers, body


def assert_root_flavour_error(server: ServerProcess, status: int, headers: dict[str, str], body: bytes) -> None:
    assert headers["content-type"].startswith("application/"), (headers, body[:300])
    parsed = json.loads(body)
    if server.settings.flavour == "canonical":
        assert parsed["status"] == status and parsed["detail"], parsed
    else:
        assert parsed["errorMessage"], parsed


def test_a_request_line_over_gunicorns_limit_is_a_414_in_the_flavours_format(server: ServerProcess) -> None:
    line = b"GET /customers?email=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    status, headers, body = raw_exchange(server, line)
    assert status == 414
    assert_root_flavour_error(server, status, headers, body)
    assert b"<html" not in body and b"request line" in body.lower()


@pytest.mark.parametrize("headers_block", [
    b"".join(b"X-Many-%d: v\r\n" % n for n in range(150)),  # over limit_request_fields
    b"X-Huge: " + b"h" * 9000 + b"\r\n",  # over limit_request_field_size
], ids=["too-many", "too-large"])
def test_a_header_block_over_gunicorns_limits_is_a_431_in_the_flavours_format(server: ServerProcess,
                                                                           headers_block: bytes) -> None:
    status, headers, body = raw_exchange(server, b"GET /customers HTTP/1.1\r\nHost: x\r\n" + headers_block + b"\r\n")
    if server.settings.server == "granian":  # the README's "Choosing the HTTP server"
        if headers_block.startswith(b"X-Huge"):  # let through (granian's limit is the whole head's 400 KiB)
            assert status == (401 if server.settings.flavour == "canonical" else 404)
            assert_root_flavour_error(server, status, headers, body)
        else:  # refused by granian before the app runs: its own answer, without a body
            assert (status, body) == (431, b"")
        return
    assert status in (400, 431)
    assert_root_flavour_error(server, status, headers, body)
    assert b"<html" not in body


def test_a_bad_chunk_size_is_a_400_in_the_flavours_format(server: ServerProcess) -> None:
    path = b"/customers" if server.settings.flavour == "canonical" else b"/api/v3/1/customers"
    request = (b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer secret_t\r\n"
               b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
    status, headers, body = raw_exchange(server, request)
    assert status == 400
    assert_root_flavour_error(server, status, headers, body)


def test_a_chunked_post_is_read_like_one_with_a_content_length(server: ServerProcess) -> None:
    body = json.dumps({"first_name": "Chunky", "last_name": "Bacon"}).encode()
    connection = http.client.HTTPConnection(server.settings.host, server.settings.port, timeout=20)
    try:
        # a generator body makes http.client send Transfer-Encoding: chunked, in three chunks here
        connection.request("POST", "/canonical/customers", body=iter([body[:5], body[5:17], body[17:]]),
                           headers={"Authorization": "Bearer t", "Content-Type": "application/json"},
                           encode_chunked=True)
        response = connection.getresponse()
        created = json.loads(response.read())
        assert response.status == 201, created
        assert created["data"]["first_name"] == "Chunky"
        connection.request("GET", f"/canonical/customers/{created['data']['id']}", headers={"Authorization": "Bearer t"})
        fetched = connection.getresponse()
        assert fetched.status == 200 and json.loads(fetched.read())["data"]["last_name"] == "Bacon"
    finally:
        connection.close()


def test_head_answers_like_get_on_a_kept_alive_connection(server: ServerProcess) -> None:
    connection = http.client.HTTPConnection(server.settings.host, server.settings.port, timeout=20)
    try:
        for path in ("/canonical/customers?limit=3", "/ecwid/api/v3/1/customers?limit=2", "/health"):
            auth = "Bearer secret_t" if path.startswith("/ecwid") else "Bearer t"
            connection.request("GET", path, headers={"Authorization": auth})
            got = connection.getresponse()
            got_body = got.read()
            connection.request("HEAD", path, headers={"Authorization": auth})
            head = connection.getresponse()
            assert head.status == got.status == 200, path
            assert head.read() == b""
            assert int(head.headers["Content-Length"]) == len(got_body)
            assert head.headers["Content-Type"] == got.headers["Content-Type"]
        connection.request("GET", "/health")  # the connection is still usable after the HEADs
        assert connection.getresponse().status == 200
    finally:
        connection.close()
