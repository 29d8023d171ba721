"""The server under test as the properties see it: a recording HTTP client.

Every request a property sends goes through :class:`Target`, which keeps the current example's
exchanges, so a failure carries the request sequence and a curl line for the decisive one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from contracts.failures import ContractFailure, curl_line

__all__ = ["DEFAULT_TOKEN", "PROBLEM_JSON", "TOKEN_VARIABLE", "Reply", "Target", "masked_curl"]

PROBLEM_JSON = "application/problem+json"
TOKEN_VARIABLE = "CONTRACTS_TOKEN"
"""Environment variable that curl lines read a non-default token from (it is never printed)."""
DEFAULT_TOKEN = "contract-token"


@dataclass
class Reply:
    """One request and its response, as the target answered it."""

    method: str
    url: str
    status: int
    headers: httpx.Headers
    content: bytes
    request_headers: dict[str, str]
    request_body: str | None = None
    _json: Any = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)

    @property
    def content_type(self) -> str:
        return str(self.headers.get("content-type", "")).split(";")[0].strip().lower()

    def json(self) -> Any:
        """The parsed body, or ``None`` when it is not JSON."""
        if not self._parsed:
            self._parsed = True
            try:
                self._json = json.loads(self.content) if self.content else None
            except ValueError:
                self._json = None
        return self._json

    def line(self) -> str:
        return f"{self.method} {self.url} -> {self.status}"

    def excerpt(self, limit: int = 300) -> str:
        text = self.content.decode("utf-8", "replace")
        return text if len(text) <= limit else text[: limit - 3] + "..."


def masked_curl(method: str, url: str, headers: dict[str, str], body: str | None, token: str) -> str:
    """A curl line; a token other than the default is read from ``$CONTRACTS_TOKEN``, never printed."""
    headers = dict(headers)
    secret = headers.get("Authorization") == f"Bearer {token}" and token != DEFAULT_TOKEN
    if secret:
        headers["Authorization"] = "Bearer __TOKEN__"
    line = curl_line(method, url, headers, body)
    if secret:
        line = line.replace("'Authorization: Bearer __TOKEN__'", f'"Authorization: Bearer ${TOKEN_VARIABLE}"')
    return line


class Target:
    """The server under test: an ``httpx.Client`` that records every exchange.

    Args:
        client: with ``base_url`` set (and a ``WSGITransport`` for in-process apps).
        token: the bearer token sent unless a request says ``auth=False``.
    """

    def __init__(self, client: httpx.Client, token: str) -> None:
        self.client = client
        self.token = token
        self.log: list[Reply] = []
        self.count = 0
        """Requests sent so far (the log only keeps the current example's)."""

    def request(self, method: str, path: str, *, params: dict[str, Any] | list[tuple[str, str]] | None = None,
                body: Any = None, auth: bool = True, headers: dict[str, str] | None = None) -> Reply:
        sent = dict(headers or {})
        if auth:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        content = None
        if body is not None:
            content = json.dumps(body, ensure_ascii=False)
            sent.setdefault("Content-Type", "application/json")
        query: list[tuple[str, str | int | float | bool | None]] = [(k, str(v)) for k, v in (params.items() if isinstance(params, dict) else params or [])]
        response = self.client.request(method, path, params=query, content=content, headers=sent)
        reply = Reply(method, str(response.url), response.status_code, response.headers, response.content,
                      sent, content)
        self.log.append(reply)
        self.count += 1
        return reply

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def curl(self, reply: Reply) -> str:
        """A curl line for ``reply``'s request (see :func:`masked_curl`)."""
        return masked_curl(reply.method, reply.url, reply.request_headers, reply.request_body, self.token)

    def fail(self, prop: str, message: str, *, expected: Any = None, actual: Any = None,
             reply: Reply | None = None) -> ContractFailure:
        """A failure carrying this example's requests and a curl line for ``reply`` (default: the last one)."""
        reply = reply or (self.log[-1] if self.log else None)
        return ContractFailure(prop=prop, message=message, expected=expected, actual=actual,
                               requests=[r.line() for r in self.log], curl=self.curl(reply) if reply else None)
