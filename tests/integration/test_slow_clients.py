"""Slow and stuck clients against real servers (gunicorn and granian): they must never stop other clients.

Issue 12 §1: with gthread and one thread per worker, two half-sent requests stopped every
other client for as long as they stayed open. These tests hold hundreds of idle, silent and
half-sent connections (loopback only, every loop bounded) while a normal client is served.
The latency bound is the one the issue asks for; on this shared 2-core machine it is checked
as "median under 100 ms and every request under 1 s" (a stuck server answers in seconds or not
at all), not as a benchmark figure.
"""

from __future__ import annotations

import http.client
import json
import resource
import select
import socket
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockserver import ServerProcess, Settings

pytestmark = pytest.mark.integration

IDLE, SILENT, HALF_SENT = 200, 200, 50
HALF_REQUEST = b"GET /customers HTTP/1.1\r\nHost: x\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, server_kind: str) -> Iterator[ServerProcess]:
    state = str(tmp_path_factory.mktemp("slow") / "state.sqlite3")
    with ServerProcess(Settings(seed=5, count=300, workers=2, state=state, server=server_kind)) as running:
        yield running


def _address(server: ServerProcess) -> tuple[str, int]:
    return server.settings.host, server.settings.port


def _ensure_descriptors(needed: int) -> None:
    """This process holds every connection open: make sure it may open that many sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.fail(f"ulimit -n allows {hard} open files; this test needs {needed}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def _timed_get(server: ServerProcess, path: str) -> float:
    started = time.perf_counter()
    conn = http.client.HTTPConnection(*_address(server), timeout=10)
    try:
        conn.request("GET", path, headers={"Authorization": "Bearer slow"})
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200 and json.loads(body)["data"]
    finally:
        conn.close()
    return time.perf_counter() - started


def _still_open(sock: socket.socket) -> bool:
    """The server has neither answered nor closed this connection (nothing to read yet)."""
    # NOTE: poll, not select: select() refuses descriptors above 1023, and this test holds hundreds
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return not poller.poll(0)


def test_held_connections_do_not_delay_a_normal_client(server: ServerProcess) -> None:
    _ensure_descriptors(IDLE + SILENT + HALF_SENT + 200)
    idle: list[http.client.HTTPConnection] = []
    held: list[socket.socket] = []
    try:
        for _ in range(IDLE):  # each served once, then left open (keep-alive)
            conn = http.client.HTTPConnection(*_address(server), timeout=10)
            conn.request("GET", "/health")
            response = conn.getresponse()
            response.read()
            assert response.status == 200 and not response.will_close
            idle.append(conn)
        for _ in range(SILENT):
            held.append(socket.create_connection(_address(server), timeout=10))
        for _ in range(HALF_SENT):
            sock = socket.create_connection(_address(server), timeout=10)
            sock.sendall(HALF_REQUEST)
            held.append(sock)

        latencies = [_timed_get(server, f"/customers?limit=20&offset={i}") for i in range(20)]

        assert all(_still_open(sock) for sock in held), "the slow connections must still be held while measuring"
        assert max(latencies) < 1.0, f"a request waited behind the held connections: {latencies}"
        assert statistics.median(latencies) < 0.1, f"latencies (s): {latencies}"
    finally:
        for conn in idle:
            conn.close()
        for sock in held:
            sock.close()


def _read_until_closed(sock: socket.socket, limit: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took."""
    started = time.perf_counter()
    sock.settimeout(limit)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received, time.perf_counter() - started


def test_a_request_head_that_stalls_is_closed_within_seconds(server: ServerProcess) -> None:
    with socket.create_connection(_address(server), timeout=10) as sock:
        sock.sendall(HALF_REQUEST)
        received, elapsed = _read_until_closed(sock, 20)
    assert received == b"" and elapsed < 10


def test_a_body_that_stalls_is_answered_408_and_closed_within_seconds(server: ServerProcess) -> None:
    head = (b"POST /customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer slow\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n")
    with socket.create_connection(_address(server), timeout=10) as sock:
        sock.sendall(head + b'{"first_name": ')
        if server.settings.server == "granian":
            # NOTE: granian answers, but keeps the connection until the client sends the rest of the body or
            # leaves: it gives the app no way to close it (the README's "Choosing the HTTP server").
            received, elapsed = _read_answer(sock, 20)
            assert b"\r\nconnection: close\r\n" in received.lower()  # which it does once the client goes
        else:
            received, elapsed = _read_until_closed(sock, 20)
    status_line, _, rest = received.partition(b"\r\n")
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert status_line.split(b" ")[1] == b"408" and elapsed < 10
    assert body["status"] == 408 and body["type"] == "/problems/malformed-body"


def _read_answer(sock: socket.socket, limit: float) -> tuple[bytes, float]:
    """One whole answer (head and a body of its Content-Length), and how long it took to arrive."""
    started = time.perf_counter()
    sock.settimeout(limit)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        length = [line.split(b":")[1] for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")]
        if length and len(body) >= int(length[0]):
            break
    return received, time.perf_counter() - started


def test_serving_creates_no_control_socket_in_home(tmp_path: Path, server_kind: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "XDG_RUNTIME_DIR": ""}
    settings = Settings(count=10, workers=1, state=str(home / "s.sqlite3"), server=server_kind)
    with ServerProcess(settings, env=env) as running:
        assert _timed_get(running, "/customers?limit=1") < 10
    assert [p.name for p in home.iterdir() if not p.name.startswith("s.sqlite3")] == []  # the state files only


def test_stopping_does_not_wait_for_idle_keep_alive_connections(tmp_path: Path, server_kind: str) -> None:
    server = ServerProcess(Settings(count=10, workers=2, state=str(tmp_path / "s.sqlite3"), server=server_kind)).start()
    idle = []
    try:
        for _ in range(4):
            conn = http.client.HTTPConnection(*_address(server), timeout=10)
            conn.request("GET", "/health")
            conn.getresponse().read()
            idle.append(conn)
        started = time.perf_counter()
        server.stop()
        # keep-alive allows 5 s of idle time; a stopping server must not wait for it
        assert time.perf_counter() - started < 4
    finally:
        server.stop()
        for conn in idle:
            conn.close()
