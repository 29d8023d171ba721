"""Bugs in filters, one per filter kind: each documented filter, several values, filters combined,
unknown and malformed keys, unusable values, a repeated key.

The matching bugs answer the list themselves (:class:`OffsetServer` pagination) over the customers
the correct inner server lists without that filter, and apply the filter wrongly; the inner
server still validates every parameter. The refusal bugs rewrite the request before the inner
server sees it. All of them use only what the contract states, so they wrap any correct server.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tests.contracts.broken import Middleware, WSGIApp, bug, query, with_query
from tests.contracts.broken.offset import OffsetServer, Params, Records

Record = dict[str, Any]


class _WrongFilter(OffsetServer):
    """Applies ``filter[name]`` with ``keep(record, value)`` instead of the inner server's meaning."""

    def __init__(self, app: WSGIApp, name: str, keep: Callable[[Record, str], bool]) -> None:
        super().__init__(app)
        self.key, self.keep = f"filter[{name}]", keep

    def collection(self, environ: dict[str, Any], rest: Params) -> Records:
        value = dict(rest).get(self.key)
        if value is None:
            return super().collection(environ, rest)
        unfiltered = super().collection(environ, [(k, v) for k, v in rest if k != self.key])
        return [record for record in unfiltered if self.keep(record, value)]


def _digits(value: Any) -> str:
    return re.sub(r"\D", "", str(value or ""))


def _instant(text: str, *, ignore_offset: bool = False) -> datetime:
    moment = datetime.fromisoformat(text.upper()).replace(microsecond=0)
    return moment.replace(tzinfo=UTC) if ignore_offset else moment


@bug("email_filter_case_sensitive", flags="filters.complete")
def email_filter_case_sensitive(inner: WSGIApp) -> WSGIApp:
    """filter[email] compares the value as sent: no trimming, case-sensitive."""
    return _WrongFilter(inner, "email", lambda r, v: any(e.get("email") == v for e in r.get("emails") or ()))


@bug("phone_filter_number_only", flags="filters.complete")
def phone_filter_number_only(inner: WSGIApp) -> WSGIApp:
    """filter[phone_number] matches only the local number, never with area or country code."""
    return _WrongFilter(inner, "phone_number", lambda r, v: bool(_digits(v)) and any(
        _digits(p.get("number")) == _digits(v) for p in r.get("phone_numbers") or ()))


@bug("customer_ids_first_only", flags="filters.complete")
def customer_ids_first_only(inner: WSGIApp) -> WSGIApp:
    """filter[customer_ids] with several ids uses only the first one (a multi-valued bug)."""
    return _WrongFilter(inner, "customer_ids", lambda r, v: str(r.get("id")) == v.split(",")[0].strip())


@bug("created_since_exclusive", flags="filters.complete")
def created_since_exclusive(inner: WSGIApp) -> WSGIApp:
    """filter[created_since] keeps created_at > value, not >= (the boundary customer is lost)."""
    return _WrongFilter(inner, "created_since", lambda r, v: _instant(r["created_at"]) > _instant(v))


@bug("updated_since_ignores_offset", flags="filters.complete")
def updated_since_ignores_offset(inner: WSGIApp) -> WSGIApp:
    """filter[updated_since] reads 10:00+02:00 as 10:00 UTC (the offset is dropped)."""
    return _WrongFilter(inner, "updated_since",
                        lambda r, v: _instant(r["updated_at"]) >= _instant(v[:19], ignore_offset=True))


class _FiltersOred(OffsetServer):
    """Several filters select the union of what each selects (OR instead of AND)."""

    def collection(self, environ: dict[str, Any], rest: Params) -> Records:
        filters = [(k, v) for k, v in rest if k.startswith("filter[")]
        if len(filters) < 2:
            return super().collection(environ, rest)
        others = [(k, v) for k, v in rest if not k.startswith("filter[")]
        everyone = super().collection
        chosen = {str(r.get("id")) for f in filters for r in everyone(environ, others + [f])}
        return [r for r in everyone(environ, others) if str(r.get("id")) in chosen]


@bug("filters_combined_with_or", flags="filters.match")
def filters_combined_with_or(inner: WSGIApp) -> WSGIApp:
    """Two filters combine with OR instead of AND."""
    return _FiltersOred(inner)


class _DropParams(Middleware):
    """Drops the query parameters ``drop(key, value)`` selects before the inner server sees them."""

    def __init__(self, app: WSGIApp, drop: Callable[[str, str], bool]) -> None:
        super().__init__(app)
        self.drop = drop

    def request(self, environ: dict[str, Any]) -> dict[str, Any]:
        return with_query(environ, [(k, v) for k, v in query(environ) if not self.drop(k, v)])


_DOCUMENTED = {"filter[email]", "filter[phone_number]", "filter[status]", "filter[customer_ids]",
               "filter[created_since]", "filter[updated_since]"}


@bug("unknown_filter_ignored", flags="filters.invalid")
def unknown_filter_ignored(inner: WSGIApp) -> WSGIApp:
    """An unknown filter[...] key is ignored (all customers listed) instead of a 400."""
    return _DropParams(inner, lambda k, v: bool(re.fullmatch(r"filter\[[^\[\]]+\]", k)) and k not in _DOCUMENTED)


@bug("malformed_filter_key_ignored", flags="filters.invalid")
def malformed_filter_key_ignored(inner: WSGIApp) -> WSGIApp:
    """A malformed key (filter[status, filters[...], filter[]) is ignored instead of a 400."""
    return _DropParams(inner, lambda k, v: k.startswith(("filter", "sort"))
                       and not re.fullmatch(r"(filter|sort)\[[^\[\]]+\]", k))


def _unusable(key: str, value: str) -> bool:
    if key in ("filter[email]", "filter[phone_number]"):
        return not value.strip()
    if key == "filter[status]":
        return value not in ("active", "archived")
    if key == "filter[customer_ids]":
        return not value.replace(",", "").strip()
    if key in ("filter[created_since]", "filter[updated_since]"):
        try:
            _instant(value)
        except ValueError:
            return True
        return "T" not in value.upper() or value[-1:].upper() != "Z" and value[-6:-5] not in "+-"
    return False


@bug("bad_filter_value_ignored", flags="filters.invalid")
def bad_filter_value_ignored(inner: WSGIApp) -> WSGIApp:
    """A filter value the server cannot use (blank, not in the enum, not a date) is ignored instead of a 400."""
    return _DropParams(inner, _unusable)


class _LastWins(Middleware):
    def request(self, environ: dict[str, Any]) -> dict[str, Any]:
        params = query(environ)
        last = {k: v for k, v in params if k.startswith("filter[")}
        seen: set[str] = set()
        kept = []
        for k, v in params:
            if k in last:
                if k in seen:
                    continue
                seen.add(k)
                v = last[k]
            kept.append((k, v))
        return with_query(environ, kept)


@bug("repeated_filter_last_wins", flags="filters.invalid")
def repeated_filter_last_wins(inner: WSGIApp) -> WSGIApp:
    """A filter given twice silently uses its last value instead of a 400."""
    return _LastWins(inner)
