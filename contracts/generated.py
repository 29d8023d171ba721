"""Mock mode: a canonical API serving *generated* customers, to property-test API clients.

The mock server always serves the same realistic dataset; a client must also survive what
real data does now and then: unicode and 1,000-character names, ``null`` everywhere it is
allowed, empty arrays, an empty first page, 200 customers on a page, an error in the middle
of a walk. :class:`GeneratedAPI` is a small WSGI app serving a given list of customers with
the canonical envelope, cursors, ``fields``, ``filter[...]`` and ``sort[...]``;
:func:`generated_apis` draws one from :mod:`contracts.strategies` (so Hypothesis shrinks a
failing client test to the smallest API that breaks it), and :func:`generated_api` draws one
deterministically from a seed, for plain tests and fixtures.

Example:
    >>> import httpx
    >>> from hypothesis import given
    >>> @given(api=generated_apis())
    ... def test_client_reads_every_customer(api):
    ...     client = httpx.Client(transport=httpx.WSGITransport(app=api), base_url="http://api")
    ...     assert [c["id"] for c in my_client.walk(client)] == [c["id"] for c in api.customers]
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from contracts.adapters import AdapterError, Sort
from contracts.adapters.toolkit import CursorCodec, matcher, validate_request
from contracts.strategies import _fill, customers, error_bodies

__all__ = ["GeneratedAPI", "generated_api", "generated_apis"]

PROBLEM_JSON = "application/problem+json"
_DEFAULT_LIMIT = 20


class GeneratedAPI:
    """The canonical read API (``GET /customers``, ``GET /customers/{id}``) over a fixed list.

    Args:
        customers: full canonical customers with unique ids; listed by ``created_at`` (ties in list
            order) unless ``sort[...]`` says otherwise, as the contract orders them.
        faults: request number (0 for the first request this app receives) -> error body
            (a problem with a ``status``) to answer instead of the normal response.
        token: the only accepted bearer token; ``None`` accepts any non-empty one.

    It is a WSGI callable: hand it to ``httpx.WSGITransport(app=api)``,
    ``falcon.testing.TestClient(api)`` or ``wsgiref``. :attr:`requests` records each request
    as ``"GET /customers?limit=5"``.
    """

    def __init__(self, customers: Iterable[Mapping[str, Any]], *, faults: Mapping[int, Mapping[str, Any]] | None = None,
                 token: str | None = None) -> None:
        self.customers: list[dict[str, Any]] = [dict(c) for c in customers]
        ids = [c.get("id") for c in self.customers]
        if len(set(ids)) != len(ids) or None in ids:
            raise ValueError("every customer needs a unique 'id'")
        self.faults = {int(n): dict(body) for n, body in (faults or {}).items()}
        self.token = token
        self.requests: list[str] = []
        self._codec = CursorCodec(f"generated|{json.dumps(ids)}")
        self._by_id = {c["id"]: c for c in self.customers}

    def __repr__(self) -> str:
        return f"GeneratedAPI({len(self.customers)} customers, faults at requests {sorted(self.faults)})"

    # ---- WSGI --------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        from urllib.parse import parse_qs

        path = environ.get("PATH_INFO", "") or "/"
        query = environ.get("QUERY_STRING", "")
        method = environ.get("REQUEST_METHOD", "GET")
        number = len(self.requests)
        self.requests.append(f"{method} {path}" + (f"?{query}" if query else ""))
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "localhost")
        base = f"{environ.get('wsgi.url_scheme', 'http')}://{host}"
        try:
            self._authenticate(environ.get("HTTP_AUTHORIZATION", ""))
            if number in self.faults:
                body = self.faults[number]
                return self._send(start_response, int(body.get("status", 500)), body, PROBLEM_JSON)
            params = parse_qs(query, keep_blank_values=True)
            parts = [p for p in path.split("/") if p]
            if method != "GET" or not parts or parts[0] != "customers" or len(parts) > 2:
                raise AdapterError.build(404 if method == "GET" else 405,
                                         "not-found" if method == "GET" else "method-not-allowed",
                                         "Not Found" if method == "GET" else "Method Not Allowed",
                                         f"{method} {path} is not served by this generated API.")
            if len(parts) == 2:
                return self._send(start_response, 200, {"data": self._get(parts[1], params)})
            return self._send(start_response, 200, self._list(params, base + path))
        except AdapterError as error:
            headers = [("WWW-Authenticate", 'Bearer realm="generated"')] if error.status == 401 else []
            return self._send(start_response, error.status, error.problem, PROBLEM_JSON, headers)

    def _authenticate(self, header: str) -> None:
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or (self.token is not None and token != self.token):
            raise AdapterError.unauthorized("Missing or rejected bearer token.")

    @staticmethod
    def _send(start_response: Any, status: int, body: Any, content_type: str = "application/json",
              headers: Sequence[tuple[str, str]] = ()) -> list[bytes]:
        import http

        data = json.dumps(body, ensure_ascii=False).encode()
        start_response(f"{status} {http.HTTPStatus(status).phrase}",
                       [("Content-Type", content_type), ("Content-Length", str(len(data))), *headers])
        return [data]

    # ---- resources -------------------------------------------------------------------------

    @staticmethod
    def _one(params: Mapping[str, list[str]], name: str) -> str | None:
        values = params.get(name)
        if values is None:
            return None
        if len(values) > 1:
            raise AdapterError.invalid_parameter(name, "must be given at most once")
        return values[0]

    def _get(self, customer_id: str, params: Mapping[str, list[str]]) -> dict[str, Any]:
        from urllib.parse import unquote

        fields = self._one(params, "fields")
        request = validate_request(1, fields.split(",") if fields else None, {})
        customer = self._by_id.get(unquote(customer_id))
        if customer is None:
            raise AdapterError.not_found(unquote(customer_id))
        return request.project(customer)

    def _list(self, params: Mapping[str, list[str]], url: str) -> dict[str, Any]:
        raw_limit = self._one(params, "limit")
        if raw_limit is not None and not (raw_limit.strip().isdigit() and raw_limit.strip().isascii()):
            raise AdapterError.invalid_parameter("limit", f"must be an integer, got {raw_limit!r}")
        limit = int(raw_limit) if raw_limit is not None else _DEFAULT_LIMIT
        fields = self._one(params, "fields")
        filters: dict[str, str] = {}
        by, direction = "created_at", "asc"
        for name in params:
            value = self._one(params, name) or ""
            if name.startswith("filter[") and name.endswith("]"):
                filters[name[7:-1]] = value
            elif name == "sort[by]":
                by = value
            elif name == "sort[direction]":
                if value not in ("asc", "desc"):
                    raise AdapterError.invalid_parameter(name, "must be asc or desc")
                direction = value
            elif name.startswith(("filter", "sort")):
                raise AdapterError.invalid_parameter(name, "unknown parameter; use filter[<name>], sort[by] "
                                                           "or sort[direction]")
        request = validate_request(limit, fields.split(",") if fields else None, filters,
                                   Sort(by, direction == "desc"))
        cursor = self._one(params, "cursor")
        offset = int(self._codec.decode(cursor, request.signature)) if cursor is not None else 0
        keep = matcher(request.filters)
        matched = [c for c in self._ordered(request.sort) if keep is None or keep(c)]
        page = matched[offset:offset + limit]
        nxt = self._codec.encode(offset + limit, request.signature) if offset + limit < len(matched) else None
        prev = self._codec.encode(max(0, offset - limit), request.signature) if offset > 0 else None
        keep_params = [(k, v) for k, vs in params.items() if k != "cursor" for v in vs]

        def link(value: str | None) -> str:
            query = urlencode(keep_params + ([("cursor", value)] if value else []))
            return url + (f"?{query}" if query else "")

        return {
            "data": [request.project(c) for c in page],
            "meta": {"items_on_page": len(page), "total_count": len(matched),
                     "cursors": {"previous": prev, "current": cursor, "next": nxt}},
            "links": {"previous": link(prev) if prev else None,
                      "current": link(cursor), "next": link(nxt) if nxt else None},
        }

    def _ordered(self, sort: Sort) -> list[dict[str, Any]]:
        def key(pair: tuple[int, dict[str, Any]]) -> tuple[str, int]:
            n, customer = pair
            return (customer.get(sort.by) or "", n)

        return [c for _, c in sorted(enumerate(self.customers), key=key, reverse=sort.descending)]


@st.composite
def _apis(draw: st.DrawFn, min_size: int, max_size: int, faults: bool, token: str | None) -> GeneratedAPI:
    count = draw(st.integers(min_size, max_size))
    templates = draw(st.lists(customers(), min_size=1, max_size=4)) if count else []
    people = _fill(templates, count, draw(st.integers(100_000_000, 999_999_999)))
    # NOTE: the list is the creation order, which the default sort (created_at) must agree with.
    people = [c for _, c in sorted(enumerate(people), key=lambda pair: (pair[1]["created_at"], pair[0]))]
    injected = draw(st.dictionaries(st.integers(0, 8), error_bodies(), max_size=2)) if faults else {}
    return GeneratedAPI(people, faults=injected, token=token)


def generated_apis(*, min_size: int = 0, max_size: int = 450, faults: bool = False,
                   token: str | None = None) -> st.SearchStrategy[GeneratedAPI]:
    """Generated canonical APIs holding ``min_size`` to ``max_size`` customers.

    Customers come from :func:`contracts.strategies.customers` (a few drawn ones repeated with
    distinct ids, so hundreds cost little). With ``faults=True`` up to two of the first nine
    requests are answered with an error body from :func:`contracts.strategies.error_bodies`.
    Examples shrink towards an API with ``min_size`` customers (none by default) and no faults.

    Raises:
        InvalidArgument: sizes out of order or negative.
    """
    if not isinstance(min_size, int) or not isinstance(max_size, int) or not 0 <= min_size <= max_size:
        raise InvalidArgument(f"need 0 <= min_size <= max_size, got min_size={min_size!r}, max_size={max_size!r}")
    return _apis(min_size, max_size, bool(faults), token)


def generated_api(seed: int = 0, *, min_size: int = 1, max_size: int = 450, faults: bool = False,
                  token: str | None = None) -> GeneratedAPI:
    """One generated API, the same for the same ``seed`` (and Hypothesis version).

    Example:
        >>> api = generated_api(7)
        >>> api is not None
        True
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise InvalidArgument(f"seed must be an integer, got {seed!r}")
    strategy = generated_apis(min_size=min_size, max_size=max_size, faults=faults, token=token)
    api: GeneratedAPI = draw_example(strategy, seed)
    return api


def draw_example(strategy: st.SearchStrategy[Any], seed: int, *, index: int = 2) -> Any:
    """The ``index``-th example Hypothesis generates for ``strategy`` with ``seed`` (deterministic).

    NOTE: the first example Hypothesis tries is the simplest one, whatever the seed; a later
    one is a real draw.
    """
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as seeded

    found: list[Any] = []

    @seeded(seed)
    @settings(max_examples=index + 1, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(value: Any) -> None:
        found.append(value)

    run()
    return found[-1]
