"""An independent implementation of ``GET /customers`` with *offset* cursors, and its bugs.

:class:`OffsetServer` is correct: it answers the list from its own offset arithmetic over the
inner app's full collection, with cursors of its own format (``base64url({"o": offset,
"q": [filters and sort]})``). The kit must pass it (another cursor format than the mock's),
and its subclasses each change one line of the arithmetic: the classic pagination bugs.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import urlencode

from tests.contracts.broken import WSGIApp, bug, call, problem, query, respond, with_query

LIST_PATH = "/customers"
Records = list[dict[str, Any]]  # NOTE: inside OffsetServer `list` names its list() method
Params = list[tuple[str, str]]


class CursorError(ValueError):
    """A cursor this server did not issue, or issued for another query (a 400)."""


class OffsetServer:
    """The canonical app with the list served by offset pagination (a second, correct implementation)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    # ---- the arithmetic the bugs change -------------------------------------------------
    def page_size(self, limit: int) -> int:
        return limit

    def next_offset(self, offset: int, size: int, total: int, page_number: int) -> int | None:
        end = offset + size
        return end if end < total else None

    def decode(self, cursor: str, signature: list[list[str]]) -> int:
        """The offset in ``cursor``.

        Raises:
            CursorError: it is not one of ours, or it is for another query.
        """
        try:
            raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise CursorError("the cursor is malformed") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("o"), int) or raw["o"] < 0:
            raise CursorError("the cursor is malformed")
        if raw.get("q") != signature:
            raise CursorError("the cursor belongs to another query")
        return int(raw["o"])

    # ---- plumbing -----------------------------------------------------------------------
    @staticmethod
    def encode(offset: int, signature: list[list[str]]) -> str:
        text = json.dumps({"o": offset, "q": signature}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(text).decode().rstrip("=")

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("PATH_INFO", "").rstrip("/") != LIST_PATH:
            return respond(start_response, *call(self.app, environ))
        return respond(start_response, *self.list(environ))

    def list(self, environ: dict[str, Any]) -> tuple[str, Params, bytes]:
        params = query(environ)
        cursors = [v for k, v in params if k == "cursor"]
        rest = [(k, v) for k, v in params if k != "cursor"]
        # The inner app validates auth, limit, fields, filters and sort (in the contract's order).
        status, headers, body = call(self.app, with_query(environ, rest))
        if not status.startswith("200"):
            return status, headers, body
        if len(cursors) > 1:
            return problem(400, "invalid-parameter", "Invalid query parameter 'cursor': must be given at most once",
                           "cursor")
        limit = int(dict(rest).get("limit", "20").strip())
        signature = sorted([k, v] for k, v in rest if k.startswith(("filter", "sort")))
        offset = 0
        if cursors:
            try:
                offset = self.decode(cursors[0], signature)
            except CursorError as exc:
                return problem(400, "invalid-cursor", f"Invalid query parameter 'cursor': {exc}", "cursor")
        everything = self.collection(environ, rest)
        size = self.page_size(limit)
        page = everything[offset:offset + size]
        nxt = self.next_offset(offset, size, len(everything), offset // max(size, 1) + 1)
        prev = max(0, offset - size) if offset > 0 else None
        next_cursor = self.encode(nxt, signature) if nxt is not None else None
        prev_cursor = self.encode(prev, signature) if prev is not None else None
        base = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', 'localhost')}" \
               f"{environ.get('SCRIPT_NAME', '')}{environ.get('PATH_INFO', '')}"

        def link(cursor: str | None) -> str:
            return f"{base}?{urlencode(rest + ([('cursor', cursor)] if cursor else []))}"

        out = {
            "data": page,
            "meta": {"items_on_page": len(page), "total_count": len(everything),
                     "cursors": {"previous": prev_cursor, "current": cursors[0] if cursors else None,
                                 "next": next_cursor}},
            "links": {"previous": link(prev_cursor) if prev_cursor else None, "current": link(cursors[0] if cursors
                                                                                             else None),
                      "next": link(next_cursor) if next_cursor else None},
        }
        return "200 OK", [("Content-Type", "application/json")], json.dumps(out).encode()

    def collection(self, environ: dict[str, Any], rest: Params) -> Records:
        """Every customer of the query, in order (walks the inner app with its largest pages)."""
        base = [(k, v) for k, v in rest if k != "limit"] + [("limit", "200")]
        items: Records = []
        cursor = None
        while True:
            _, _, body = call(self.app, with_query(environ, base + ([("cursor", cursor)] if cursor else [])))
            page = json.loads(body)
            items += page["data"]
            cursor = page["meta"]["cursors"]["next"]
            if not cursor:
                return items


def offset_server(inner: WSGIApp) -> OffsetServer:
    """The correct offset-cursor implementation (the kit must pass it)."""
    return OffsetServer(inner)


class _SkipsOne(OffsetServer):
    def next_offset(self, offset: int, size: int, total: int, page_number: int) -> int | None:
        end = offset + size + 1
        return end if end < total else None


@bug("off_by_one_pages", flags="pagination.complete")
def off_by_one_pages(inner: WSGIApp) -> OffsetServer:
    """The next page starts one customer too late: one customer is skipped at every page boundary."""
    return _SkipsOne(inner)


class _RepeatsLast(OffsetServer):
    def next_offset(self, offset: int, size: int, total: int, page_number: int) -> int | None:
        end = offset + size
        return offset + max(1, size - 1) if end < total else None


@bug("item_repeated_across_pages", flags="pagination.no_duplicates")
def item_repeated_across_pages(inner: WSGIApp) -> OffsetServer:
    """The next page starts at the last customer of this one (>= instead of >): it is listed twice."""
    return _RepeatsLast(inner)


class _LoopsBack(OffsetServer):
    def next_offset(self, offset: int, size: int, total: int, page_number: int) -> int | None:
        end = offset + size
        if end >= total:
            return None
        return 0 if page_number >= 2 else end


@bug("cursor_loops_back", flags="pagination.terminates")
def cursor_loops_back(inner: WSGIApp) -> OffsetServer:
    """From the second page on, next points back to the first page: the walk never ends."""
    return _LoopsBack(inner)


class _StopsEarly(OffsetServer):
    def next_offset(self, offset: int, size: int, total: int, page_number: int) -> int | None:
        end = offset + size
        return end if end + size < total else None


@bug("next_null_too_early", flags="pagination.last_page")
def next_null_too_early(inner: WSGIApp) -> OffsetServer:
    """next is null on the second-to-last page (an off-by-one page in has_more)."""
    return _StopsEarly(inner)


class _FixedPageSize(OffsetServer):
    def page_size(self, limit: int) -> int:
        return 20


@bug("limit_ignored", flags="pagination.limit")
def limit_ignored(inner: WSGIApp) -> OffsetServer:
    """limit is validated but every page holds 20 customers."""
    return _FixedPageSize(inner)


class _Clamped(OffsetServer):
    def page_size(self, limit: int) -> int:
        return min(limit, 50)


@bug("limit_clamped", flags="pagination.limit")
def limit_clamped(inner: WSGIApp) -> OffsetServer:
    """limit is silently capped at 50 though the contract allows up to 200."""
    return _Clamped(inner)


class _CursorCrash(OffsetServer):
    def decode(self, cursor: str, signature: list[list[str]]) -> int:
        # The bug: decoding is not guarded, so a malformed cursor raises whatever base64/json raise.
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if raw.get("q") != signature:
            raise CursorError("the cursor belongs to another query")
        return int(raw["o"])

    def list(self, environ: dict[str, Any]) -> tuple[str, Params, bytes]:
        try:
            return super().list(environ)
        except Exception:  # noqa: BLE001 - the bug: a decoding error escapes as a bare 500
            return "500 Internal Server Error", [("Content-Type", "text/html")], b"<h1>Internal Server Error</h1>"


@bug("bad_cursor_500", flags="pagination.bad_cursor")
def bad_cursor_500(inner: WSGIApp) -> OffsetServer:
    """Decoding a cursor is not guarded: a malformed cursor crashes the request with a 500."""
    return _CursorCrash(inner)


class _ForeignCursorAccepted(OffsetServer):
    def decode(self, cursor: str, signature: list[list[str]]) -> int:
        try:
            return super().decode(cursor, signature)
        except CursorError as exc:
            if "another query" in str(exc):
                raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
                return int(raw["o"])
            return 0  # the bug: an unreadable cursor silently restarts at page one


@bug("bad_cursor_restarts", flags="pagination.bad_cursor")
def bad_cursor_restarts(inner: WSGIApp) -> OffsetServer:
    """A garbage or foreign cursor is not rejected: it silently serves page one (or another query's offset)."""
    return _ForeignCursorAccepted(inner)
