"""Canonical flavour: the contract in ``openapi.yaml``.

``/customers`` with cursor pagination (``limit`` 1..200, default 20), ``fields`` with dot
notation, ``filter[...]`` and ``sort[...]``, reads and writes, and RFC 9457
``application/problem+json`` errors whose ``errors[]`` name the offending input.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import falcon

from mockserver.array_params import array_items, array_key, array_text
from mockserver.catalog import SORT_FIELDS, Filters, ListQuery
from mockserver.dataset import parse_timestamp
from mockserver.errors import InvalidParameter, MockServerError, UnsupportedFilter
from mockserver.fields import FieldSet, parse_fields, project
from mockserver.flavours import FLAVOURS, Rendered, Route
from mockserver.model import CUSTOMER_PATHS, STATUSES, validate_customer_input
from mockserver.pagination import Position, decode_cursor, encode_cursor
from mockserver.resources import (
    ServerContext,
    bearer_token,
    dumps,
    int_param,
    read_json,
    send_bytes,
    single_param,
)

FILTER_KEYS = ("email", "phone_number", "status", "customer_ids", "created_since", "updated_since")
ARRAY_PARAMS = ("filter[customer_ids]", "fields")
"""Parameters taking a list, in any form of :mod:`mockserver.array_params`."""
PROBLEM_JSON = "application/problem+json"


def _problem_type(error: MockServerError) -> str:
    if error.status == 400 and error.kind not in ("invalid-cursor", "malformed-body"):
        return "/problems/invalid-parameter"
    return f"/problems/{error.kind}"


def parse_list_query(req: falcon.Request) -> ListQuery:
    """Filters and sort of a canonical list request.

    Raises:
        UnsupportedFilter: an unknown ``filter[...]`` or ``sort[...]`` key.
        InvalidParameter: a filter or sort value that cannot be used.
    """
    values: dict[str, Any] = {}
    sort, direction = "created_at", "asc"
    for key in dict.fromkeys(array_key(k, ARRAY_PARAMS) for k in req.params):
        if key.startswith("filter[") and key.endswith("]"):
            name = key[7:-1]
            if name not in FILTER_KEYS:
                raise UnsupportedFilter(key, f"unknown filter; supported filters: "
                                             f"{', '.join(f'filter[{k}]' for k in FILTER_KEYS)}")
            raw = "" if name == "customer_ids" else single_param(req, key) or ""
            if name == "status":
                if raw not in STATUSES:
                    raise InvalidParameter(key, f"must be one of: {', '.join(STATUSES)}")
                values["status"] = raw
            elif name in ("created_since", "updated_since"):
                try:
                    values[name.replace("_since", "_from")] = parse_timestamp(raw)
                except ValueError:
                    raise InvalidParameter(key, f"must be an RFC 3339 date-time with offset, got {raw!r}") from None
            elif name == "customer_ids":
                ids = array_items(req.params, key) or ()
                if not ids:
                    raise InvalidParameter(key, "must list at least one id")
                values["ids"] = ids
            elif not raw.strip():
                raise InvalidParameter(key, "must not be empty")
            else:
                values["email" if name == "email" else "phone"] = raw
        elif key.startswith(("filter", "sort")):
            if key == "sort[by]":
                sort = single_param(req, key) or ""
                if sort not in SORT_FIELDS:
                    raise InvalidParameter(key, f"must be one of: {', '.join(SORT_FIELDS)}")
            elif key == "sort[direction]":
                direction = single_param(req, key) or ""
                if direction not in ("asc", "desc"):
                    raise InvalidParameter(key, "must be asc or desc")
            else:
                raise UnsupportedFilter(key, "unknown parameter; use filter[<name>], sort[by] or sort[direction]")
    return ListQuery(Filters(**values), sort, direction == "desc")


def fields_param(req: falcon.Request) -> tuple[str, FieldSet | None]:
    raw = array_text(req.params, "fields") or ""
    return raw, parse_fields(raw, CUSTOMER_PATHS)


class CustomersResource:
    """``/customers`` (list, create) and ``/customers/{id}`` (get, update, delete)."""

    def __init__(self, context: ServerContext, name: str = "canonical") -> None:
        self.context = context
        self.catalog = context.catalog
        self.name = name

    def _auth(self, req: falcon.Request) -> None:
        self.context.check_token(bearer_token(req))

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._auth(req)
        version = self.catalog.store.refresh()
        cache_key = (self.name, req.prefix, req.path, req.query_string, version)
        cached = self.context.pages.get(cache_key)
        if cached is None:
            cached = self.context.pages.put(cache_key, self._list(req, version))
        send_bytes(resp, cached)

    def _list(self, req: falcon.Request, latest: int) -> bytes:
        limit = int_param(req, "limit", 20, 1, 200)
        _, fields = fields_param(req)
        query = parse_list_query(req)
        signature = query.signature
        secret = self.catalog.dataset.fingerprint
        cursor = single_param(req, "cursor")
        position = decode_cursor(cursor, secret, signature) if cursor is not None else None
        page = self.catalog.list(query, limit, position, latest=latest)
        # PERF: records are written straight to JSON, without dicts (the page itself is cached in on_get).
        next_cursor = prev_cursor = None
        if page.has_next and page.last_key is not None:
            next_cursor = encode_cursor(Position(page.last_key, False, page.version, signature), secret)
        if page.has_previous and page.first_key is not None:
            prev_cursor = encode_cursor(Position(page.first_key, True, page.version, signature), secret)
        meta = {
            "items_on_page": len(page.items),
            "total_count": page.total,
            "cursors": {"previous": prev_cursor, "current": cursor, "next": next_cursor},
        }
        # PERF: one join copies the ~18 KB page once; chained + would copy it five times.
        return b"".join((b'{"data":[', b",".join(page.records_json(fields)), b'],"meta":', dumps(meta),
                         b',"links":', dumps(_page_links(req, prev_cursor, next_cursor)), b"}"))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._auth(req)
        body = validate_customer_input(read_json(req), creating=True)
        record = self.catalog.create(body)
        send_bytes(resp, b'{"data":' + dumps(record) + b"}", status=201,
                   headers={"Location": f"{req.path.rstrip('/')}/{record['id']}"})

    def on_get_item(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self._auth(req)
        fields_raw, fields = fields_param(req)
        catalog = self.catalog
        state = catalog.state()
        ordinal = catalog.ordinal_of(id, state)
        if ordinal is None:  # NotFound, unless another worker created it a moment ago
            send_bytes(resp, b'{"data":' + dumps(project(catalog.get(id), fields)) + b"}")
            return
        # PERF: one overlay refresh per get, and the dict is built only when the bytes are not cached.
        body = self.context.record_bytes(self.name, fields_raw, ordinal,
                                         lambda: dumps(project(catalog.record(ordinal, state), fields)))
        send_bytes(resp, b'{"data":' + body + b"}")

    def on_patch_item(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self._auth(req)
        self.catalog.get(id)  # 404 before 415/422: the resource is checked first
        body = validate_customer_input(read_json(req), creating=False)
        record = self.catalog.update(id, body)
        send_bytes(resp, b'{"data":' + dumps(record) + b"}")

    def on_delete_item(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self._auth(req)
        self.catalog.delete(id)
        resp.status = 204


_URL_SAFE = re.compile(r"[A-Za-z0-9_.~-]*")
"""Characters ``quote_plus`` never changes: such a value encodes as itself (cursors are base64url)."""


def _encoded(key: str, value: str) -> str:
    """``urlencode([(key, value)])``."""
    if _URL_SAFE.fullmatch(key) and _URL_SAFE.fullmatch(value):
        return f"{key}={value}"
    return urlencode([(key, value)])


def _page_links(req: falcon.Request, previous: str | None, following: str | None) -> dict[str, str | None]:
    """``links``: the request's URL, and with ``cursor`` replaced by each cursor given.

    Equal to ``link_with(req, {"cursor": ...})`` and ``link_with(req, {})``: ``urlencode`` of
    pairs is the ``&``-join of each pair's encoding, so the pairs other than ``cursor`` are
    encoded once for the three links (PERF: ``urlencode`` was a tenth of a cold page).
    """
    base = f"{req.prefix}{req.path}"
    current, others = [], []
    for key, value in req.params.items():
        for v in value if isinstance(value, list) else (value,):
            encoded = _encoded(key, v)
            current.append(encoded)
            if key != "cursor":
                others.append(encoded)

    def with_cursor(value: str) -> str:
        return f"{base}?{'&'.join([*others, _encoded('cursor', value)])}"

    return {
        "previous": with_cursor(previous) if previous else None,
        "current": f"{base}?{'&'.join(current)}" if current else base,
        "next": with_cursor(following) if following else None,
    }


@FLAVOURS.register
class Canonical:
    """The project's own contract (``openapi.yaml``)."""

    name = "canonical"
    title = "Canonical unified Customers API"
    spec = "canonical.yaml"

    def routes(self, context: ServerContext) -> list[Route]:
        resource = CustomersResource(context)
        return [Route("/customers", resource), Route("/customers/{id}", resource, "item")]

    def render_error(self, error: MockServerError) -> Rendered:
        body = {
            "type": _problem_type(error),
            "title": error.title,
            "status": error.status,
            "detail": error.detail,
            "errors": [{"in": p.location, "name": p.name, "detail": p.detail} for p in error.problems],
        }
        headers = dict(error.headers)
        if error.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="mockserver"'
        return Rendered(error.status, dumps(body), PROBLEM_JSON, headers)
