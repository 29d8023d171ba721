"""Bugs in what the server says: fields, gets, types and formats, filters, sort, counts, headers."""

from __future__ import annotations

import functools
import json
import random
import zlib
from datetime import UTC, datetime
from typing import Any

from contracts.schema import Contract, load_spec
from tests.contracts.broken import JSONRewrite, Middleware, WSGIApp, bug, call, query, records, with_query

ITEM_PREFIX = "/customers/"


def _is_item(environ: dict[str, Any]) -> bool:
    path = environ.get("PATH_INFO", "")
    return path.startswith(ITEM_PREFIX) and len(path) > len(ITEM_PREFIX)


class _DropParam(Middleware):
    def __init__(self, app: WSGIApp, name: str) -> None:
        super().__init__(app)
        self.name = name

    def request(self, environ: dict[str, Any]) -> dict[str, Any]:
        return with_query(environ, [(k, v) for k, v in query(environ) if k != self.name])


@bug("fields_ignored", flags="fields.projection")
def fields_ignored(inner: WSGIApp) -> WSGIApp:
    """fields is accepted but ignored: every property is always returned."""
    return _DropParam(inner, "fields")


class _TopLevelFields(Middleware):
    def request(self, environ: dict[str, Any]) -> dict[str, Any]:
        params = [(k, ",".join(p.split(".")[0] for p in v.split(",")) if k == "fields" else v)
                  for k, v in query(environ)]
        return with_query(environ, params)


@bug("fields_top_level_only", flags="fields.projection")
def fields_top_level_only(inner: WSGIApp) -> WSGIApp:
    """Dot notation is cut at the first dot: addresses.city returns whole addresses."""
    return _TopLevelFields(inner)


@functools.lru_cache(maxsize=1)
def _field_paths() -> tuple[str, ...]:
    return Contract.from_document(load_spec()).field_paths


class _UnknownFieldsDropped(Middleware):
    def request(self, environ: dict[str, Any]) -> dict[str, Any]:
        known = _field_paths()
        params = [(k, ",".join(p for p in v.split(",") if p.strip() in known) if k == "fields" else v)
                  for k, v in query(environ)]
        return with_query(environ, params)


@bug("unknown_field_ignored", flags="fields.unknown")
def unknown_field_ignored(inner: WSGIApp) -> WSGIApp:
    """Unknown fields entries are silently dropped instead of a 400."""
    return _UnknownFieldsDropped(inner)


class _NeighbourLookup(Middleware):
    """GET /customers/{id} answers the customer listed right after it (an index off by one)."""

    def request(self, environ: dict[str, Any]) -> dict[str, Any]:
        if environ.get("REQUEST_METHOD") != "GET" or not _is_item(environ):
            return environ
        wanted = environ["PATH_INFO"][len(ITEM_PREFIX):]
        listing = {**environ, "PATH_INFO": "/customers", "QUERY_STRING": "limit=200&fields=id"}
        _, _, body = call(self.app, listing)
        ids = [r["id"] for r in json.loads(body).get("data", [])] if body.startswith(b"{") else []
        if wanted in ids and len(ids) > 1:
            environ["PATH_INFO"] = ITEM_PREFIX + ids[(ids.index(wanted) + 1) % len(ids)]
        return environ


@bug("wrong_customer_for_id", flags="get.matches_list")
def wrong_customer_for_id(inner: WSGIApp) -> WSGIApp:
    """GET /customers/{id} returns the next customer in the list (index off by one)."""
    return _NeighbourLookup(inner)


class _NotFoundAsEmpty(Middleware):
    def response(self, environ: dict[str, Any], status: str, headers: list[tuple[str, str]],
                 body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
        if status.startswith("404") and _is_item(environ) and environ.get("REQUEST_METHOD") == "GET":
            return "200 OK", [("Content-Type", "application/json")], b'{"data":{}}'
        return status, headers, body


@bug("unknown_id_200", flags="get.unknown_id")
def unknown_id_200(inner: WSGIApp) -> WSGIApp:
    """An unknown id answers 200 with an empty customer instead of 404."""
    return _NotFoundAsEmpty(inner)


def _ids_as_int(environ: dict[str, Any], body: Any) -> Any:
    for record in records(body):
        if isinstance(record.get("id"), str):  # the database key leaks out: a number, not the string id
            record["id"] = int(record["id"]) if record["id"].isdigit() else zlib.crc32(record["id"].encode())
    return body


@bug("id_as_integer", flags="schemathesis.response_schema_conformance")
def id_as_integer(inner: WSGIApp) -> WSGIApp:
    """Customer ids are serialized as JSON numbers, not strings."""
    return JSONRewrite(inner, _ids_as_int)


def _naive_dates(environ: dict[str, Any], body: Any) -> Any:
    for record in records(body):
        if isinstance(record.get("created_at"), str):
            record["created_at"] = record["created_at"].replace("T", " ").rstrip("Z")
    return body


@bug("created_at_not_rfc3339", flags="schemathesis.response_schema_conformance")
def created_at_not_rfc3339(inner: WSGIApp) -> WSGIApp:
    """created_at is rendered as str(datetime) ('2019-01-01 00:00:00'), not RFC 3339."""
    return JSONRewrite(inner, _naive_dates)


@bug("status_filter_ignored", flags="filters.match")
def status_filter_ignored(inner: WSGIApp) -> WSGIApp:
    """filter[status] is accepted but not applied."""
    return _DropParam(inner, "filter[status]")


@bug("sort_direction_ignored", flags="sort.order")
def sort_direction_ignored(inner: WSGIApp) -> WSGIApp:
    """sort[direction]=desc is accepted but everything is sorted ascending."""
    return _DropParam(inner, "sort[direction]")


def _read_time(environ: dict[str, Any], body: Any) -> Any:
    now = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    for record in records(body):
        if "updated_at" in record:
            record["updated_at"] = now
    return body


@bug("nondeterministic_updated_at", flags="determinism.same_body")
def nondeterministic_updated_at(inner: WSGIApp) -> WSGIApp:
    """updated_at is stamped with the time of the read, so the same request never answers the same."""
    return JSONRewrite(inner, _read_time)


class _Shuffled(Middleware):
    def __init__(self, app: WSGIApp) -> None:
        super().__init__(app)
        self.random = random.Random()

    def response(self, environ: dict[str, Any], status: str, headers: list[tuple[str, str]],
                 body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
        if status.startswith("200") and environ.get("PATH_INFO") == "/customers" and body.startswith(b"{"):
            page = json.loads(body)
            self.random.shuffle(page["data"])
            body = json.dumps(page).encode()
        return status, headers, body


@bug("page_order_unstable", flags="sort.order")
def page_order_unstable(inner: WSGIApp) -> WSGIApp:
    """Customers within a page come in hash order (shuffled per request), not sorted."""
    return _Shuffled(inner)


class _TextPlain(Middleware):
    def response(self, environ: dict[str, Any], status: str, headers: list[tuple[str, str]],
                 body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
        if status.startswith("2"):
            headers = [(k, "text/plain; charset=utf-8" if k.lower() == "content-type" else v) for k, v in headers]
        return status, headers, body


@bug("wrong_content_type", flags="schemathesis.content_type_conformance")
def wrong_content_type(inner: WSGIApp) -> WSGIApp:
    """Successful responses are labelled text/plain instead of application/json."""
    return _TextPlain(inner)


def _page_total(environ: dict[str, Any], body: Any) -> Any:
    if isinstance(body, dict) and isinstance(body.get("meta"), dict):
        body["meta"]["total_count"] = len(body.get("data") or [])
    return body


@bug("total_count_of_page", flags="pagination.complete")
def total_count_of_page(inner: WSGIApp) -> WSGIApp:
    """meta.total_count counts the customers on this page, not in the whole result."""
    return JSONRewrite(inner, _page_total)


def _limit_as_count(environ: dict[str, Any], body: Any) -> Any:
    if isinstance(body, dict) and isinstance(body.get("meta"), dict):
        limit = dict(query(environ)).get("limit", "20")
        body["meta"]["items_on_page"] = int(limit) if limit.isdigit() else 20
    return body


@bug("items_on_page_is_limit", flags="pagination.items_on_page")
def items_on_page_is_limit(inner: WSGIApp) -> WSGIApp:
    """meta.items_on_page echoes limit instead of counting data (wrong on the last page)."""
    return JSONRewrite(inner, _limit_as_count)
