"""A second implementation of the canonical Customers API, written from ``openapi.yaml`` alone.

It shares no code with ``mockserver``: its own data (:mod:`.data`, UUID ids), its own storage
(copy-on-write snapshots in memory, one per write), its own cursors (``<version>-<offset>-<mac>``),
absolute problem ``type`` URIs and ``Location`` headers, and its own ``WWW-Authenticate`` realm.
Request bodies are validated with the contract's own JSON Schemas (``NewCustomerInput``,
``CustomerInput``), as a schema-driven implementation would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

import yaml  # type: ignore[import-untyped]

from tests.contracts.independent.data import TOP_FIELDS, customers, stamp

__all__ = ["IndependentServer"]

PROBLEM_BASE = "https://customers.example/problems/"
_NESTED = {"emails": ("id", "email", "type"),
           "phone_numbers": ("id", "country_code", "area_code", "number", "extension", "type"),
           "addresses": ("id", "type", "line1", "line2", "city", "state", "postal_code", "country"),
           "orders": ("id", "total", "status")}
_PREFIX = {"emails": "em", "phone_numbers": "ph", "addresses": "ad", "orders": "ord"}
FIELD_PATHS = frozenset(TOP_FIELDS) | {f"{k}.{c}" for k, cs in _NESTED.items() for c in cs}
FILTERS = ("email", "phone_number", "status", "customer_ids", "created_since", "updated_since")
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")
_CURSOR = re.compile(r"([0-9]+)-([0-9]+)-([0-9a-f]{16})")
_MAX_BODY = 1 << 20
_REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
            404: "Not Found", 405: "Method Not Allowed", 415: "Unsupported Media Type",
            422: "Unprocessable Entity", 500: "Internal Server Error"}

Record = dict[str, Any]
Entry = tuple[int, Record]  # (creation sequence: the tie-break, record)


class Problem(Exception):
    """An RFC 9457 problem to answer with."""

    def __init__(self, status: int, kind: str, detail: str, errors: list[dict[str, str]] | None = None,
                 headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.status, self.kind, self.detail = status, kind, detail
        self.errors, self.headers = errors or [], headers or []


def _bad_param(name: str, detail: str) -> Problem:
    return Problem(400, "invalid-parameter", f"query parameter {name}: {detail}",
                   [{"in": "query", "name": name, "detail": detail}])


def _validators(spec_path: str) -> dict[str, Any]:
    import jsonschema_rs

    with open(spec_path, encoding="utf-8") as handle:
        components = yaml.safe_load(handle)["components"]
    return {name: jsonschema_rs.validator_for({"$ref": f"#/components/schemas/{name}", "components": components})
            for name in ("NewCustomerInput", "CustomerInput")}


class IndependentServer:
    """The canonical API as a plain WSGI app. Thread-safe: writes swap an immutable snapshot."""

    def __init__(self, spec_path: str, *, seed: int = 11, count: int = 80) -> None:
        self._schemas = _validators(spec_path)
        self._secret = hashlib.sha256(f"independent:{seed}:{uuid.uuid4()}".encode()).digest()
        self._lock = threading.Lock()
        self._snapshots: list[tuple[Entry, ...]] = [tuple(enumerate(customers(seed, count)))]
        self._sequence = count

    # ------------------------------------------------------------------ WSGI
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            status, headers, body = self._dispatch(environ)
        except Problem as problem:
            status, headers = problem.status, [("Content-Type", "application/problem+json"), *problem.headers]
            body = json.dumps({"type": PROBLEM_BASE + problem.kind, "title": _REASONS[problem.status],
                               "status": problem.status, "detail": problem.detail,
                               "errors": problem.errors}).encode()
        start_response(f"{status} {_REASONS[status]}", [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _dispatch(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        allowed: tuple[str, ...]
        customer: str | None
        if path == "/customers":
            allowed, customer = ("GET", "POST"), None
        elif path.startswith("/customers/") and len(path) > len("/customers/"):
            allowed, customer = ("GET", "PATCH", "DELETE"), path[len("/customers/"):]
        else:
            raise Problem(404, "not-found", f"there is nothing at {path}")
        if method not in allowed:
            raise Problem(405, "method-not-allowed", f"{path} supports {', '.join(allowed)}, not {method}",
                          headers=[("Allow", ", ".join(allowed))])
        self._authenticate(environ)
        self._check_tenant(environ)
        params = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if customer is None:
            return self._list(environ, params) if method == "GET" else self._create(environ)
        customer = unquote(customer)
        if method == "GET":
            return self._get(customer, params)
        if method == "PATCH":
            return self._update(environ, customer)
        return self._delete(customer)

    @staticmethod
    def _authenticate(environ: dict[str, Any]) -> None:
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(401, "unauthorized", "send Authorization: Bearer <token>",
                          headers=[("WWW-Authenticate", 'Bearer realm="independent-customers"')])

    @staticmethod
    def _check_tenant(environ: dict[str, Any]) -> None:
        # This server has one tenant; the contract still says which X-Tenant-Id values are refused.
        raw = environ.get("HTTP_X_TENANT_ID")
        if raw is None:
            return
        value = raw.rstrip(" \t")
        if not value or value[0] == " " or len(raw) > 200 or not value.isprintable():
            detail = "must be 1 to 200 printable characters"
            raise Problem(400, "invalid-parameter", f"header X-Tenant-Id: {detail}",
                          [{"in": "header", "name": "X-Tenant-Id", "detail": detail}])

    # ------------------------------------------------------------------ reads
    def _list(self, environ: dict[str, Any], params: list[tuple[str, str]]) -> tuple[int, list[tuple[str, str]], bytes]:
        single = _single(params)
        limit = _limit(single("limit"))
        paths = _fields(single("fields"))
        keep = _filters(params, single)
        by, direction = single("sort[by]") or "created_at", single("sort[direction]") or "asc"
        if by not in ("created_at", "updated_at", "name"):
            raise _bad_param("sort[by]", "must be one of created_at, updated_at, name")
        if direction not in ("asc", "desc"):
            raise _bad_param("sort[direction]", "must be asc or desc")
        query = json.dumps(sorted((k, v) for k, v in params if k.startswith(("filter", "sort"))))
        cursor = single("cursor")
        version, offset = len(self._snapshots) - 1, 0
        if cursor is not None:
            version, offset = self._open_cursor(cursor, query)
        entries = [e for e in self._snapshots[version] if all(test(e[1]) for test in keep)]
        entries.sort(key=lambda e: ((e[1]["name"] or "") if by == "name" else e[1][by], e[0]),
                     reverse=direction == "desc")
        if offset > len(entries):
            raise Problem(400, "invalid-cursor", "the cursor points past the end",
                          [{"in": "query", "name": "cursor", "detail": "points past the end"}])
        page = entries[offset:offset + limit]
        following = self._cursor(version, offset + limit, query) if offset + limit < len(entries) else None
        previous = self._cursor(version, max(0, offset - limit), query) if offset > 0 else None
        base = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', 'localhost')}/customers"
        rest = [(k, v) for k, v in params if k != "cursor"]

        def link(value: str | None) -> str:
            return f"{base}?{urlencode(rest + [('cursor', value)] if value else rest, quote_via=quote)}"

        body = {"data": [_project(record, paths) for _, record in page],
                "meta": {"items_on_page": len(page), "total_count": len(entries),
                         "cursors": {"previous": previous, "current": cursor, "next": following}},
                "links": {"previous": link(previous) if previous else None, "current": link(cursor),
                          "next": link(following) if following else None}}
        return _json(200, body)

    def _cursor(self, version: int, offset: int, query: str) -> str:
        mac = hmac.new(self._secret, f"{version}|{offset}|{query}".encode(), "sha256").hexdigest()[:16]
        return f"{version}-{offset}-{mac}"

    def _open_cursor(self, cursor: str, query: str) -> tuple[int, int]:
        found = _CURSOR.fullmatch(cursor)
        if found is None or len(cursor) > 64:
            raise Problem(400, "invalid-cursor", "the cursor is not one this server issues",
                          [{"in": "query", "name": "cursor", "detail": "malformed"}])
        version, offset = int(found[1]), int(found[2])
        if version >= len(self._snapshots) or not hmac.compare_digest(self._cursor(version, offset, query), cursor):
            raise Problem(400, "invalid-cursor", "the cursor was issued for another query (or not by this server)",
                          [{"in": "query", "name": "cursor", "detail": "keep filter and sort unchanged while paging"}])
        return version, offset

    def _get(self, customer: str, params: list[tuple[str, str]]) -> tuple[int, list[tuple[str, str]], bytes]:
        paths = _fields(_single(params)("fields"))
        return _json(200, {"data": _project(self._find(customer)[1], paths)})

    def _find(self, customer: str) -> Entry:
        for entry in self._snapshots[-1]:
            if entry[1]["id"] == customer:
                return entry
        raise Problem(404, "not-found", f"no customer has the id {customer!r}",
                      [{"in": "path", "name": "id", "detail": "no such customer"}])

    # ------------------------------------------------------------------ writes
    def _create(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        body = self._body(environ, "NewCustomerInput")
        now = stamp(datetime.now(UTC))
        record: Record = {key: [] if key in _NESTED else None for key in TOP_FIELDS}
        record.update(id=str(uuid.uuid4()), status="active", created_at=now, updated_at=now)
        _apply(record, body)
        with self._lock:
            self._snapshots.append((*self._snapshots[-1], (self._sequence, record)))
            self._sequence += 1
        host = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', 'localhost')}"
        return _json(201, {"data": record}, [("Location", f"{host}/customers/{quote(record['id'], safe='')}")])

    def _update(self, environ: dict[str, Any], customer: str) -> tuple[int, list[tuple[str, str]], bytes]:
        self._find(customer)
        body = self._body(environ, "CustomerInput")
        with self._lock:
            sequence, old = self._find(customer)
            record = {**old, "updated_at": max(old["created_at"], stamp(datetime.now(UTC)))}
            _apply(record, body)
            self._snapshots.append(tuple((n, record if n == sequence else r) for n, r in self._snapshots[-1]))
        return _json(200, {"data": record})

    def _delete(self, customer: str) -> tuple[int, list[tuple[str, str]], bytes]:
        with self._lock:
            sequence, _ = self._find(customer)
            self._snapshots.append(tuple(e for e in self._snapshots[-1] if e[0] != sequence))
        return 204, [], b""

    def _body(self, environ: dict[str, Any], schema: str) -> Any:
        kind = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if not (kind == "application/json" or re.fullmatch(r"application/[^/]+\+json", kind)):
            raise Problem(415, "unsupported-media-type", f"send the body as application/json, not {kind or 'nothing'}")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > _MAX_BODY:
            raise _malformed("the body is larger than 1 MiB")
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        if not raw.strip():
            raise _malformed("the body is empty; send a JSON object")
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise _malformed(f"the body is not JSON: {exc}") from None
        errors = [{"in": "body", "name": ".".join(str(p) for p in error.instance_path),
                   "detail": error.message[:300]} for error in self._schemas[schema].iter_errors(body)]
        if errors:
            raise Problem(422, "invalid-body", f"the customer is invalid: {errors[0]['detail']}", errors)
        return body


def _malformed(detail: str) -> Problem:
    return Problem(400, "malformed-body", detail, [{"in": "body", "name": "", "detail": detail}])


def _json(status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
    return status, [("Content-Type", "application/json"), *(headers or [])], json.dumps(body).encode()


def _single(params: list[tuple[str, str]]) -> Callable[[str], str | None]:
    def value(name: str) -> str | None:
        found = [v for k, v in params if k == name]
        if len(found) > 1:
            raise _bad_param(name, "give it at most once")
        return found[0] if found else None

    return value


def _limit(text: str | None) -> int:
    if text is None:
        return 20
    if not re.fullmatch(r"[0-9]{1,6}", text):
        raise _bad_param("limit", f"must be an integer, got {text!r}")
    if not 1 <= int(text) <= 200:
        raise _bad_param("limit", f"must be from 1 to 200, got {text}")
    return int(text)


def _fields(text: str | None) -> set[str] | None:
    if text is None:
        return None
    paths = {part.strip() for part in text.split(",")} - {""}
    unknown = sorted(paths - FIELD_PATHS)
    if unknown:
        raise _bad_param("fields", f"unknown field {unknown[0]!r}")
    return paths or None


def _project(record: Record, paths: set[str] | None) -> Record:
    if paths is None:
        return record
    out: Record = {}
    for key, value in record.items():
        children = {p.split(".", 1)[1] for p in paths if p.startswith(key + ".")}
        if key in paths:
            out[key] = value
        elif children:
            out[key] = [{k: v for k, v in item.items() if k in children} for item in value]
    return out


def _instant(name: str, text: str) -> datetime:
    if not _RFC3339.fullmatch(text):
        raise _bad_param(name, "must be an RFC 3339 date-time with an offset")
    try:
        return datetime.fromisoformat(text.upper()).replace(microsecond=0)
    except ValueError:
        raise _bad_param(name, "must be an RFC 3339 date-time with an offset") from None


def _digits(value: Any) -> str:
    return re.sub(r"[^0-9]", "", str(value or ""))


def _filters(params: list[tuple[str, str]], single: Callable[[str], str | None]) -> list[Callable[[Record], bool]]:
    known = {f"filter[{f}]" for f in FILTERS} | {"sort[by]", "sort[direction]"}
    for key, _ in params:
        if key.startswith(("filter", "sort")) and key not in known:
            raise _bad_param(key, "unknown filter or sort key")
    tests = []
    for name in FILTERS:
        text = single(f"filter[{name}]")
        if text is not None:
            tests.append(_filter(name, text))
    return tests


def _filter(name: str, text: str) -> Callable[[Record], bool]:
    """The test ``filter[name]=text`` stands for (the contract's meaning of each filter)."""
    key = f"filter[{name}]"
    if name in ("email", "phone_number") and not text.strip():
        raise _bad_param(key, "must not be blank")
    if name == "email":
        wanted = text.strip().lower()
        return lambda r: any((e.get("email") or "").lower() == wanted for e in r["emails"])
    if name == "phone_number":
        digits = _digits(text)
        return lambda r: bool(digits) and any(digits in {
            _digits(p["number"]), _digits(p["area_code"]) + _digits(p["number"]),
            _digits(p["country_code"]) + _digits(p["area_code"]) + _digits(p["number"])} for p in r["phone_numbers"])
    if name == "status":
        if text not in ("active", "archived"):
            raise _bad_param(key, "must be active or archived")
        return lambda r: bool(r["status"] == text)
    if name == "customer_ids":
        ids = {part.strip() for part in text.split(",")} - {""}
        if not ids:
            raise _bad_param(key, "name at least one id")
        return lambda r: r["id"] in ids
    since, field = _instant(key, text), name.replace("_since", "_at")
    return lambda r: datetime.fromisoformat(r[field]) >= since


def _apply(record: Record, body: dict[str, Any]) -> None:
    """Write ``body``'s properties into ``record`` (the contract's create/update rules)."""
    for key, value in body.items():
        if key in _NESTED:
            record[key] = _items(key, value)
        elif key == "status":
            record[key] = value or "active"
        else:
            record[key] = value
    named = isinstance(body.get("name"), str) and body["name"] != ""
    if not named and ("first_name" in body or "last_name" in body or "name" in body):
        parts = [p.strip() for p in (record["first_name"], record["last_name"]) if isinstance(p, str) and p.strip()]
        record["name"] = " ".join(parts) or None


def _items(key: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    taken = {item.get("id") for item in items if item.get("id")}
    out, n = [], 0
    for item in items:
        item_id = item.get("id")
        while not item_id:
            n += 1
            item_id = f"{_PREFIX[key]}_{n}" if f"{_PREFIX[key]}_{n}" not in taken else None
        out.append({k: item_id if k == "id" else item.get(k) for k in _NESTED[key]})
    return out
