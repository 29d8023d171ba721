"""A small client of the mock server's admin API (``/__admin``), for tests and fixtures.

One implementation for the real server and the in-process app: :class:`AdminClient` takes a
``send`` callable (method, path with query, JSON body bytes or ``None``, headers) that returns
``(status, body bytes)``. :func:`urllib_sender` sends to a base URL with the standard library;
:func:`wsgi_sender` calls a WSGI app in-process (through Falcon's test helpers, imported when used).

Standard library only at import time: the pytest plugin imports this module in every run.

Example::

    admin.tenant("job-42", mode="isolated", state="disabled", count=50)
    with admin.faults({"errors": [{"status": 503, "rate": 1}]}):
        ...                            # every request answers 503 here
    admin.rate_limit("shopify", limit=2, seconds=60)
    admin.clock(advance_seconds=60)    # the next rate-limit window
    admin.assert_called("POST", "/customers", json={"email": "ada@example.com"})
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Protocol, Self

__all__ = ["AdminClient", "AdminError", "AdminShortcuts", "Send", "urllib_sender", "wsgi_sender"]

Send = Callable[[str, str, bytes | None, Mapping[str, str]], tuple[int, bytes]]
"""``send(method, path_and_query, body, headers) -> (status, body)``."""

PREFIX = "/__admin"
_UNSET: Any = object()


class AdminError(RuntimeError):
    """The admin API refused a request: ``status`` and the problem+json ``problem`` it answered."""

    def __init__(self, method: str, path: str, status: int, problem: Any) -> None:
        detail = problem.get("detail") if isinstance(problem, dict) else problem
        super().__init__(f"{method} {path} answered {status}: {detail}")
        self.status = status
        self.problem = problem


def urllib_sender(base_url: str, timeout: float = 10.0) -> Send:
    """Send to a real server at ``base_url`` (``http://127.0.0.1:8000``) with :mod:`urllib`."""
    base = base_url.rstrip("/")

    def send(method: str, path: str, body: bytes | None, headers: Mapping[str, str]) -> tuple[int, bytes]:
        request = urllib.request.Request(base + path, data=body, method=method, headers=dict(headers))
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as error:  # a 4xx/5xx answer is an answer, not a failure to send
            with error:
                return int(error.code), bytes(error.read())

    return send


def wsgi_sender(app: Any) -> Send:
    """Call the WSGI ``app`` in-process (no socket)."""
    from falcon import testing

    def send(method: str, path: str, body: bytes | None, headers: Mapping[str, str]) -> tuple[int, bytes]:
        route, _, query = path.partition("?")
        result = testing.simulate_request(app, method, route, query_string=query or None, body=body,
                                          headers=dict(headers))
        return int(result.status_code), bytes(result.content)

    return send


class AdminClient:
    """The admin API of one mock server.

    Args:
        send: how a request reaches the server (:func:`urllib_sender`, :func:`wsgi_sender`).
        token: the admin token (the server's ``--admin-token``, else its ``--token``, else any).
        flavour: the flavour :meth:`rate_limit` changes when given none (the server's root flavour).
    """

    def __init__(self, send: Send, token: str, flavour: str = "canonical") -> None:
        self._send = send
        self.token = token
        self.flavour = flavour

    def request(self, method: str, path: str, body: Any = _UNSET, **params: str | None) -> Any:
        """``method`` ``/__admin<path>`` with a JSON ``body``; the decoded answer (``None`` for 204).

        Raises:
            AdminError: the server answered an error.
        """
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        target = f"{PREFIX}{path}" + (f"?{query}" if query else "")
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not _UNSET:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        status, raw = self._send(method, target, data, headers)
        try:
            answer = json.loads(raw) if raw else None
        except ValueError:
            answer = raw.decode("utf-8", "replace")
        if status >= 400:
            raise AdminError(method, target, status, answer)
        return answer

    # ---- the server ------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return self.request("GET", "/health")  # type: ignore[no-any-return]

    def controls(self) -> dict[str, Any]:
        """The controls in force (``GET /__admin/config``'s ``controls``)."""
        return self.request("GET", "/config")["controls"]  # type: ignore[no-any-return]

    def configure(self, **controls: Any) -> dict[str, Any]:
        """Change top-level controls (``tenants=``, ``faults=``, ``rate_limits=``, ``prefer=``, ``clock=``)."""
        return self.request("PUT", "/config", controls)["controls"]  # type: ignore[no-any-return]

    def reset(self) -> None:
        """Forget every write in every tenant and put the controls back as the server started."""
        self.request("POST", "/reset")

    # ---- tenants -----------------------------------------------------------------------------------

    def tenant(self, tenant: str, *, mode: str | None = None, state: str = "ok", count: int | None = None,
               faults: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Configure one tenant (``PUT /__admin/tenants/<id>``); what it now gets.

        Args:
            mode: ``isolated`` (its own dataset and writes) or ``shared``; default the server's.
            state: its connection state: ``ok``, ``unauthorized``, ``disabled``, ``not_found``,
                ``downstream_error``.
            count: customers in its own dataset (isolated); default the server's count.
            faults: its own fault profile (replacing the server's for its requests).

        Returns:
            the tenant as the server now sees it: ``id``, ``mode``, ``state``, ``configured``...
        """
        body: dict[str, Any] = {"state": state}
        for key, value in (("mode", mode), ("count", count), ("faults", faults)):
            if value is not None:
                body[key] = value
        return self.request("PUT", f"/tenants/{_segment(tenant)}", body)  # type: ignore[no-any-return]

    def forget_tenant(self, tenant: str) -> None:
        """The tenant gets the server's defaults again (``DELETE /__admin/tenants/<id>``)."""
        self.request("DELETE", f"/tenants/{_segment(tenant)}")

    def reset_tenant(self, tenant: str) -> None:
        """Forget an isolated tenant's writes only."""
        self.request("POST", f"/tenants/{_segment(tenant)}/reset")

    # ---- faults, rate limits, clock ----------------------------------------------------------

    def get_faults(self, tenant: str | None = None) -> dict[str, Any] | None:
        """The fault profile in force (the server's, or ``tenant``'s own); ``None`` when there is none."""
        return self.request("GET", "/faults", tenant=tenant)["faults"]  # type: ignore[no-any-return]

    def set_faults(self, profile: Mapping[str, Any] | None, tenant: str | None = None) -> dict[str, Any] | None:
        """Replace the fault profile (``None`` removes it); the profile now in force."""
        if profile is None:
            answer = self.request("DELETE", "/faults", tenant=tenant)
        else:
            answer = self.request("PUT", "/faults", dict(profile), tenant=tenant)
        return answer["faults"]  # type: ignore[no-any-return]

    def faults(self, profile: Mapping[str, Any] | None, tenant: str | None = None) -> _Restoring:
        """Set the fault profile now; as a ``with`` block, put the previous one back at its end.

        ``profile`` is the JSON ``PUT /__admin/faults`` takes: ``{"seed", "latency", "errors",
        "connection", "rules"}``. ``tenant``: that tenant's own profile instead of the server's.
        """
        before = self.get_faults(tenant)
        self.set_faults(profile, tenant)
        return _Restoring(lambda: self.set_faults(before, tenant))

    def rate_limits(self) -> dict[str, Any]:
        """``{"enabled": ..., "flavours": {name: quota keys}}``."""
        return self.request("GET", "/rate-limits")  # type: ignore[no-any-return]

    def rate_limit(self, flavour: str | None = None, *, limit: int | None = None, seconds: float | None = None,
                   model: str | None = None, leak_per_second: float | None = None,
                   enabled: bool = True) -> dict[str, Any]:
        """Turn rate limits on (or off with ``enabled=False``) and, with quota keys, set one flavour's quota.

        Without ``limit``/``seconds``/``model``/``leak_per_second`` every flavour keeps its own
        platform's model. With them, ``flavour`` (default: the flavour served at the root) gets
        those keys over its own model; other flavours' quotas stay.

        Returns:
            the rate limits now in force.
        """
        quota = {k: v for k, v in (("model", model), ("limit", limit), ("seconds", seconds),
                                   ("leak_per_second", leak_per_second)) if v is not None}
        if not quota:
            return self.request("PUT", "/rate-limits", enabled)  # type: ignore[no-any-return]
        flavours = dict(self.rate_limits()["flavours"])
        flavours[flavour or self.flavour] = quota
        return self.request("PUT", "/rate-limits", {"enabled": enabled, "flavours": flavours})  # type: ignore[no-any-return]

    def clock(self, *, offset_seconds: float | None = None, frozen_at: float | None = None,
              advance_seconds: float | None = None) -> dict[str, Any]:
        """Shift (``offset_seconds``), freeze (``frozen_at``) or move (``advance_seconds``) the clock
        rate limits run on; with no argument, read it. Returns ``{"offset_seconds", "now", ...}``."""
        if advance_seconds is not None:
            if offset_seconds is not None or frozen_at is not None:
                raise ValueError("advance_seconds moves the clock as it is: give it alone")
            return self.request("PUT", "/clock", {"advance_seconds": advance_seconds})  # type: ignore[no-any-return]
        if offset_seconds is None and frozen_at is None:
            return self.request("GET", "/clock")  # type: ignore[no-any-return]
        body = {k: v for k, v in (("offset_seconds", offset_seconds), ("frozen_at", frozen_at)) if v is not None}
        return self.request("PUT", "/clock", body)  # type: ignore[no-any-return]

    # ---- the request journal -----------------------------------------------------------------------

    def requests(self, **filters: Any) -> list[dict[str, Any]]:
        """Every journaled request the filters select, oldest first (``GET /__admin/requests``, every page).

        Filters: ``method``, ``path``, ``path_pattern`` (a regular expression), ``flavour``, ``tenant``,
        ``status``, ``since`` (ISO 8601 time), ``after`` (an id), ``limit`` (page size, up to 1000).
        """
        params = {k: str(v) for k, v in filters.items() if v is not None}
        params.setdefault("limit", "1000")
        entries: list[dict[str, Any]] = []
        while True:
            # NOTE: the query built here: a ``method`` filter would collide with request()'s own argument
            answer = self.request("GET", "/requests?" + urllib.parse.urlencode(params))
            entries.extend(answer["requests"])
            if answer["next"] is None:
                return entries
            params["after"] = str(answer["next"])

    def count_requests(self, matcher: Mapping[str, Any]) -> int:
        """How many journaled requests match (``POST /__admin/requests/count``); exact across workers."""
        return int(self.request("POST", "/requests/count", dict(matcher))["count"])

    def find_requests(self, matcher: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The journaled requests that match, oldest first."""
        return self.request("POST", "/requests/find", dict(matcher))["requests"]  # type: ignore[no-any-return]

    def near_misses(self, matcher: Mapping[str, Any], limit: int = 5) -> list[dict[str, Any]]:
        """The closest journaled requests: ``[{"request", "distance", "differences"}]``, closest first."""
        answer = self.request("POST", "/requests/near-misses", dict(matcher), limit=str(limit))
        return answer["near_misses"]  # type: ignore[no-any-return]

    def clear_requests(self, tenant: str | None = None) -> None:
        """Forget the journaled requests (every one, or ``tenant``'s)."""
        self.request("DELETE", "/requests", tenant=tenant)

    def journal(self, responses: bool, max_response_bytes: int | None = None) -> dict[str, Any]:
        """Keep each answer's headers and body in the journal too (``responses=True``), or stop; the
        journal controls now in force (``{"responses", "max_response_bytes"}``)."""
        body: dict[str, Any] = {"responses": responses}
        if max_response_bytes is not None:
            body["max_response_bytes"] = max_response_bytes
        return self.configure(journal=body)["journal"]  # type: ignore[no-any-return]

    def assert_called(self, method: str | None, path: str | None = None, times: int | None = 1,
                      **matchers: Any) -> list[dict[str, Any]]:
        """Fail unless the journal holds ``times`` requests (``None``: at least one) matching; the matches.

        ``matchers``: the keyword arguments of :func:`contracts.verification.build_matcher` (``query=``,
        ``headers=``, ``json=``, ``json_paths=``, ``body_contains=``, ``flavour=``, ``tenant=``,
        ``status=``, ``path_pattern=``, ``url=``).

        Raises:
            AssertionError: what was expected, how many matched, and the near misses with what differs.

        Example::

            mock_server.assert_called("POST", "/customers", json={"email": "ada@example.com"},
                                      headers={"Idempotency-Key": {"matches": ".+"}})
        """
        __tracebackhide__ = True
        from contracts.verification import build_matcher, explain_miss

        matcher = build_matcher(method, path, **matchers)
        found = self.find_requests(matcher)
        if (len(found) == times) if times is not None else bool(found):
            return found
        raise AssertionError(explain_miss(matcher, times, found, self.near_misses(matcher)))


class _HasAdmin(Protocol):
    @property
    def admin(self) -> AdminClient: ...


class AdminShortcuts:
    """``tenant``, ``faults``, ``rate_limit``, ``clock``, ``requests`` and ``assert_called`` of the ``admin`` (an :class:`AdminClient`) of
    the class that mixes them in (the pytest plugin's ``MockServer``)."""

    def tenant(self: _HasAdmin, tenant: str, **settings: Any) -> dict[str, Any]:
        """See :meth:`AdminClient.tenant`."""
        return self.admin.tenant(tenant, **settings)

    def faults(self: _HasAdmin, profile: Mapping[str, Any] | None, tenant: str | None = None) -> _Restoring:
        """See :meth:`AdminClient.faults`."""
        return self.admin.faults(profile, tenant)

    def rate_limit(self: _HasAdmin, flavour: str | None = None, **quota: Any) -> dict[str, Any]:
        """See :meth:`AdminClient.rate_limit`."""
        return self.admin.rate_limit(flavour, **quota)

    def clock(self: _HasAdmin, **change: Any) -> dict[str, Any]:
        """See :meth:`AdminClient.clock`."""
        return self.admin.clock(**change)

    def requests(self: _HasAdmin, **filters: Any) -> list[dict[str, Any]]:
        """See :meth:`AdminClient.requests`."""
        return self.admin.requests(**filters)

    def assert_called(self: _HasAdmin, method: str | None, path: str | None = None, times: int | None = 1,
                      **matchers: Any) -> list[dict[str, Any]]:
        """See :meth:`AdminClient.assert_called`."""
        __tracebackhide__ = True
        return self.admin.assert_called(method, path, times, **matchers)


class _Restoring:
    """A change already made; as a context manager, undone at the end of the ``with`` block."""

    def __init__(self, undo: Callable[[], Any]) -> None:
        self._undo = undo

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._undo()


def _segment(tenant: str) -> str:
    return urllib.parse.quote(tenant, safe="")
