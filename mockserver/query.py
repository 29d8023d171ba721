"""What a list asks for and what it gets: :class:`ListQuery` (filters and order), :class:`Page`, and
the matching of canonical records against :class:`Filters` (pure, no HTTP, no platform).

Flavours translate their own parameters into a :class:`ListQuery`; :class:`mockserver.catalog.Catalog`
answers it with a :class:`Page`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import orjson

from mockserver.dataset import Dataset
from mockserver.fields import FieldSet, project
from mockserver.store import Entry

__all__ = [
    "FILTER_FIELDS", "NO_FILTERS", "SORT_FIELDS", "Filters", "Item", "ListQuery", "Page", "entry_matches",
    "record_matches"
]

SORT_FIELDS = ("created_at", "updated_at", "name")

_DIGITS = re.compile(r"\D+", re.ASCII)
Item = tuple[tuple[Any, ...], Any]  # (sort key, payload: base index or Entry)


@dataclass(frozen=True)
class Filters:
    """Conditions on canonical customers; ``None`` means "no condition"."""

    email: str | None = None
    """Exact, case-insensitive match against any email."""
    phone: str | None = None
    """Digits equal to number, area code + number or country code + area code + number."""
    status: str | None = None
    ids: tuple[str, ...] | None = None
    created_from: int | None = None
    """UNIX seconds, inclusive bounds (as are the three below)."""
    created_to: int | None = None
    updated_from: int | None = None
    updated_to: int | None = None
    name_contains: str | None = None
    """Case-insensitive substring of the name."""

    @property
    def explicit(self) -> bool:
        return self.ids is not None or self.email is not None or self.phone is not None

    def as_list(self) -> list[Any]:
        """The filters as a JSON-ready list (the order of :data:`FILTER_FIELDS`): what page tokens carry."""
        return [list(self.ids) if name == "ids" and self.ids is not None else getattr(self, name)
                for name in FILTER_FIELDS]

    @classmethod
    def from_list(cls, values: Any) -> Filters:
        """The inverse of :meth:`as_list`, for a list read back from untrusted text.

        Raises:
            ValueError: not a list of :data:`FILTER_FIELDS` values of the right types.
        """
        if not isinstance(values, list) or len(values) != len(FILTER_FIELDS):
            raise ValueError("filters")
        kwargs: dict[str, Any] = {}
        for name, value in zip(FILTER_FIELDS, values):
            if value is None:
                continue
            if name == "ids":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ValueError(name)
                value = tuple(value)
            elif name.endswith(("_from", "_to")):
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ValueError(name)
            elif not isinstance(value, str):
                raise ValueError(name)
            kwargs[name] = value
        return cls(**kwargs)


FILTER_FIELDS = ("email", "phone", "status", "ids", "created_from", "created_to", "updated_from", "updated_to",
                 "name_contains")


NO_FILTERS = Filters()


@dataclass(frozen=True)
class ListQuery:
    filters: Filters = field(default_factory=Filters)
    sort: str = "created_at"
    descending: bool = False

    @property
    def signature(self) -> str:
        """Stable text naming filters and order: cursors are only valid for it."""
        f = self.filters
        parts = [self.sort, "d" if self.descending else "a", f.email or "", f.phone or "", f.status or "",
                 ",".join(f.ids) if f.ids is not None else "~", *(str(v) if v is not None else "" for v in (
                     f.created_from, f.created_to, f.updated_from, f.updated_to)), f.name_contains or ""]
        return "|".join(parts)


@dataclass
class Page:
    """One page of a walk. Records are built only when asked for, in dict or JSON form."""

    items: list[int | Entry]
    """Each customer on the page, in order: a base index, or the overlay entry that replaced it."""
    first_key: tuple[Any, ...] | None
    last_key: tuple[Any, ...] | None
    has_next: bool
    has_previous: bool
    total: int | None
    version: int
    dataset: Dataset | None = field(default=None, repr=False, compare=False)

    @cached_property
    def records(self) -> list[dict[str, Any]]:
        """Canonical dicts (shared and cached: do not mutate)."""
        customer = self.dataset.customer if self.dataset is not None else None
        return [item.record or {} if isinstance(item, Entry) else customer(item)  # type: ignore[misc]
                for item in self.items]

    @cached_property
    def ordinals(self) -> list[int]:
        return [item.ordinal if isinstance(item, Entry) else item for item in self.items]

    def records_json(self, fields: FieldSet | None = None) -> list[bytes]:
        """Each record as canonical JSON, projected to ``fields`` when given.

        Equal to ``dumps(project(record, fields))`` for each of :attr:`records`.

        # PERF: base customers are written straight to JSON (``Dataset.customer_json``), so a
        # cold canonical page builds no customer dicts.
        """
        dataset = self.dataset
        written = []
        for item in self.items:
            if isinstance(item, Entry):
                written.append(orjson.dumps(project(item.record or {}, fields)))
            elif fields is None:
                written.append(dataset.customer_json(item))  # type: ignore[union-attr]
            else:
                written.append(dataset.customer_json_fields(item, fields))  # type: ignore[union-attr]
        return written


def _phone_digits(phone: dict[str, Any]) -> tuple[str, ...]:
    number = _DIGITS.sub("", phone.get("number") or "")
    area = _DIGITS.sub("", phone.get("area_code") or "")
    country = _DIGITS.sub("", phone.get("country_code") or "")
    return number, area + number, country + area + number


def entry_matches(entry: Entry, f: Filters) -> bool:
    """Whether a live overlay entry satisfies the filters: :func:`record_matches` on its record, with
    the record parsed only for filters on emails, phones or ids."""
    if entry.text is None:
        return False
    if f.status is not None and entry.status != f.status:
        return False
    if f.created_from is not None and entry.created_ts < f.created_from:
        return False
    if f.created_to is not None and entry.created_ts > f.created_to:
        return False
    if f.updated_from is not None and entry.updated_ts < f.updated_from:
        return False
    if f.updated_to is not None and entry.updated_ts > f.updated_to:
        return False
    if f.name_contains is not None and f.name_contains.lower() not in entry.name.lower():
        return False
    if f.explicit:
        return record_matches(entry.record or {}, entry.created_ts, entry.updated_ts,
                              Filters(email=f.email, phone=f.phone, ids=f.ids))
    return True


def record_matches(record: dict[str, Any], created_ts: int, updated_ts: int, f: Filters) -> bool:
    """Whether a canonical record satisfies the filters (used for overlay entries)."""
    if f.status is not None and record.get("status") != f.status:
        return False
    if f.ids is not None and record.get("id") not in f.ids:
        return False
    if f.created_from is not None and created_ts < f.created_from:
        return False
    if f.created_to is not None and created_ts > f.created_to:
        return False
    if f.updated_from is not None and updated_ts < f.updated_from:
        return False
    if f.updated_to is not None and updated_ts > f.updated_to:
        return False
    if f.name_contains is not None and f.name_contains.lower() not in (record.get("name") or "").lower():
        return False
    if f.email is not None:
        wanted = f.email.strip().lower()
        if not any((e.get("email") or "").lower() == wanted for e in record.get("emails") or ()):
            return False
    if f.phone is not None:
        wanted = _DIGITS.sub("", f.phone)
        if not wanted or not any(wanted in _phone_digits(p) for p in record.get("phone_numbers") or ()):
            return False
    return True
