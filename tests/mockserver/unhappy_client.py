"""Real-socket requests for the unhappy-path server tests (one fresh connection each, unless given one)."""

from __future__ import annotations

import http.client
import json
from typing import Any

from mockserver.server import ServerProcess

__all__ = ["ADMIN", "ECWID", "Answer", "admin", "call", "connect"]

ADMIN = {"Authorization": "Bearer any", "Content-Type": "application/json"}
ECWID = {"Authorization": "Bearer secret_x", "Content-Type": "application/json"}
Answer = tuple[int, dict[str, str], bytes]


def call(server: ServerProcess, method: str, path: str, headers: dict[str, str] | None = None,
         body: Any = None, conn: http.client.HTTPConnection | None = None) -> Answer:
    """One request over a fresh connection (so that every worker gets its share), or over ``conn``."""
    own = conn is None
    conn = conn or connect(server)
    try:
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        if own:
            conn.close()


def connect(server: ServerProcess, timeout: float = 10) -> http.client.HTTPConnection:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    return http.client.HTTPConnection(host, int(port), timeout=timeout)


def admin(server: ServerProcess, method: str, path: str, body: Any = None) -> Any:
    status, _, data = call(server, method, f"/__admin/{path}", ADMIN, body)
    assert status in (200, 204), (path, status, data)
    return json.loads(data) if data else None
