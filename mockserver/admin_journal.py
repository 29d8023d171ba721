"""The journal's admin routes: what requests the server received, and verifications over them.

==========================================  =====================================================
``GET /__admin/requests``                   journaled requests, oldest first, filtered and paged
``DELETE /__admin/requests[?tenant=]``      forget them (or one tenant's)
``POST /__admin/requests/count``            how many match a matcher: ``{"count": N}``
``POST /__admin/requests/find``             the ones that match: ``{"requests": [...]}``
``POST /__admin/requests/near-misses``      the closest ones, with what differs
==========================================  =====================================================

A server started with ``--journal-size 0`` keeps no journal: these routes answer 404 saying so.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import falcon

from mockserver.admin import AdminResource
from mockserver.answers import send_bytes
from mockserver.errors import InvalidParameter, NotFound, UnusableParameter
from mockserver.journal import MAX_PAGE, JournalFilter, RequestJournal
from mockserver.matching import Matcher, near_misses, parse_matcher
from mockserver.resources import dumps, read_json, single_param

if TYPE_CHECKING:
    from mockserver.resources import ServerContext

__all__ = ["JOURNAL_FILTERS", "NEAR_MISS_SCAN", "JournalAdmin", "Requests", "Verify", "check_pattern", "journal_routes", "parse_filter", "parse_time"]

JOURNAL_FILTERS = ("method", "path", "path_pattern", "flavour", "tenant", "status", "since", "after", "limit")
"""The query parameters ``GET /__admin/requests`` takes."""

_METHOD = re.compile(r"[A-Za-z]{1,20}")


def parse_time(value: str, name: str = "since") -> float:
    """An ISO 8601 time (``2026-12-03T18:00:00Z``; without a zone: UTC) as Unix time.

    Raises:
        InvalidParameter: naming ``name``.
    """
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidParameter(name, f"must be an ISO 8601 time like 2026-12-03T18:00:00Z, got {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _integer(name: str, raw: str, low: int, high: int) -> int:
    if not re.fullmatch(r"[0-9]{1,19}", raw.strip()):
        raise InvalidParameter(name, f"must be an integer between {low} and {high}, got {raw!r}")
    value = int(raw)
    if not low <= value <= high:
        raise InvalidParameter(name, f"must be between {low} and {high}, got {value}")
    return value


def parse_filter(params: dict[str, str]) -> JournalFilter:
    """``GET /__admin/requests``'s query as a :class:`JournalFilter`.

    Raises:
        InvalidParameter: an unknown parameter or a bad value, naming it.
    """
    unknown = sorted(set(params) - set(JOURNAL_FILTERS))
    if unknown:
        raise InvalidParameter(unknown[0], f"unknown filter; filters: {', '.join(JOURNAL_FILTERS)}")
    values: dict[str, Any] = {}
    for name in ("path", "flavour", "tenant"):
        if name in params:
            values[name] = params[name]
    if "method" in params:
        if not _METHOD.fullmatch(params["method"]):
            raise InvalidParameter("method", f"must be an HTTP method like GET, got {params['method']!r}")
        values["method"] = params["method"].upper()
    if "path_pattern" in params:
        values["path_pattern"] = check_pattern(params["path_pattern"], "path_pattern")
    if "status" in params:
        values["status"] = _integer("status", params["status"], 100, 599)
    if "since" in params:
        values["since"] = parse_time(params["since"])
    if "after" in params:
        values["after"] = _integer("after", params["after"], 0, 2**62)
    if "limit" in params:
        values["limit"] = _integer("limit", params["limit"], 1, MAX_PAGE)
    return JournalFilter(**values)


def check_pattern(pattern: str, name: str) -> str:
    """``pattern`` when it is a usable regular expression.

    Raises:
        InvalidParameter: naming ``name``: too long (400, the document's bound), or
            UnusableParameter: a string that does not compile (422: no schema can say so).
    """
    if len(pattern) > 1000:
        raise InvalidParameter(name, "must be a regular expression of at most 1000 characters")
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise UnusableParameter(name, f"is not a valid regular expression: {exc}") from None
    return pattern


class JournalAdmin(AdminResource):
    """Base of the journal's admin resources: the journal, or a 404 when the server keeps none."""

    @property
    def journal(self) -> RequestJournal:
        journal = self.context.journal
        if journal is None:
            raise NotFound("This server keeps no request journal (it runs with --journal-size 0).")
        return journal


class Requests(JournalAdmin):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        params = {}
        for name in req.params:
            params[name] = single_param(req, name) or ""
        entries, following = self.journal.page(parse_filter(params))
        send_bytes(resp, dumps({"requests": entries, "next": following}))

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        params = {name: single_param(req, name) or "" for name in req.params}
        unknown = sorted(set(params) - {"tenant"})
        if unknown:
            raise InvalidParameter(unknown[0], "unknown parameter; DELETE takes only tenant")
        self.journal.clear(params.get("tenant"))
        resp.status = falcon.HTTP_204


NEAR_MISS_SCAN = 10_000
"""The newest entries a near-miss search ranks (the ring may be larger)."""


class Verify(JournalAdmin):
    """``POST /__admin/requests/count|find|near-misses``: a matcher (:mod:`mockserver.matching`) as the body."""

    def _matched(self, req: falcon.Request) -> tuple[Matcher, list[dict[str, Any]]]:
        _no_params(req, ())
        matcher = parse_matcher(read_json(req))
        entries = self.journal.entries(JournalFilter(**matcher.prefilter))
        return matcher, [entry for entry in entries if matcher.matches(entry)]

    def on_post_count(self, req: falcon.Request, resp: falcon.Response) -> None:
        send_bytes(resp, dumps({"count": len(self._matched(req)[1])}))

    def on_post_find(self, req: falcon.Request, resp: falcon.Response) -> None:
        send_bytes(resp, dumps({"requests": self._matched(req)[1]}))

    def on_post_near_misses(self, req: falcon.Request, resp: falcon.Response) -> None:
        _no_params(req, ("limit",))
        raw = single_param(req, "limit")
        limit = 5 if raw is None else _integer("limit", raw, 1, 100)
        matcher = parse_matcher(read_json(req))
        entries = self.journal.entries(JournalFilter(), newest=NEAR_MISS_SCAN)
        misses = near_misses(matcher, entries, limit)
        send_bytes(resp, dumps({"near_misses": [miss.as_json() for miss in misses]}))


def _no_params(req: falcon.Request, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(req.params) - set(allowed))
    if unknown:
        raise InvalidParameter(unknown[0], "unknown parameter" + (f"; this route takes {', '.join(allowed)}"
                                                                   if allowed else "; the matcher is the body"))


def journal_routes(context: ServerContext) -> list[tuple[str, Any, str | None]]:
    """``(path, resource, suffix)`` of each journal route (the admin module guards and adds them)."""
    requests, verify = Requests(context), Verify(context)
    return [("/requests", requests, None), ("/requests/count", verify, "count"),
            ("/requests/find", verify, "find"), ("/requests/near-misses", verify, "near_misses")]
