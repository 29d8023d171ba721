"""What adapters share: canonical request validation, filters, signed cursors, paging, HTTP.

A reference adapter is an :class:`HttpAdapter` that says how to fetch one platform page
(:meth:`HttpAdapter.fetch_page`), which canonical filters the platform evaluates itself
(:attr:`HttpAdapter.native_filters`), how to read one customer, and how to map the
platform's errors. Everything else is here, once:

* :func:`validate_request` checks ``limit``, ``fields``, filters and sort with the canonical
  rules and raises the canonical 400 problem;
* :func:`matcher` evaluates canonical filters on canonical customers, for the filters a
  platform cannot evaluate (they are applied while paging, so pages stay gapless);
* :class:`CursorCodec` makes opaque, signed, URL-safe cursors bound to the filters and sort;
* :func:`collect` fills a canonical page from as many platform pages as it takes;
* :meth:`HttpAdapter.get_with_headers` gives a response's headers too, so an adapter can follow
  ``Link: <url>; rel="next"`` paging (:mod:`contracts.adapters.links`).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from types import EllipsisType
from typing import TYPE_CHECKING, Any, ClassVar, Self

from contracts.adapters import AdapterError, AdapterPage, Sort
from contracts.adapters.cursors import CursorCodec
from contracts.adapters.links import JsonResponse
from mockserver import CUSTOMER_PATHS, MockServerError, parse_fields, parse_timestamp, project

if TYPE_CHECKING:
    import httpx

__all__ = [
    "FILTER_KEYS",
    "MAX_LIMIT",
    "SORT_FIELDS",
    "CursorCodec",
    "HttpAdapter",
    "ListRequest",
    "PlatformPage",
    "collect",
    "error_json",
    "matcher",
    "since_seconds",
    "sort_customers",
    "validate_request",
]

FILTER_KEYS = ("email", "phone_number", "status", "customer_ids", "created_since", "updated_since")
SORT_FIELDS = ("created_at", "updated_at", "name")
STATUSES = ("active", "archived")
MAX_LIMIT = 200
_DIGITS = re.compile(r"\D+")
Customer = dict[str, Any]


@dataclass(frozen=True)
class ListRequest:
    """A validated canonical list request (what :func:`validate_request` returns)."""

    limit: int
    fields: tuple[str, ...] | None
    filters: dict[str, str]
    sort: Sort

    @property
    def signature(self) -> str:
        """What a cursor is bound to: filters and sort (``limit`` and ``fields`` may change)."""
        return json.dumps([sorted(self.filters.items()), self.sort.by, self.sort.descending], ensure_ascii=False)

    def project(self, customer: Customer) -> Customer:
        """The customer with only the selected fields (all of them without ``fields``)."""
        if self.fields is None:
            return customer
        return project(customer, parse_fields(",".join(self.fields), CUSTOMER_PATHS))  # type: ignore[no-any-return]


def validate_request(limit: int, fields: Sequence[str] | None, filters: Mapping[str, str],
                     sort: Sort = Sort()) -> ListRequest:
    """Check a canonical list request, in the canonical order (limit, fields, filters, sort).

    Raises:
        AdapterError: 400 ``/problems/invalid-parameter`` naming the first bad parameter.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise AdapterError.invalid_parameter("limit", f"must be between 1 and {MAX_LIMIT}, got {limit!r}")
    selected: tuple[str, ...] | None = None
    if fields is not None:
        if isinstance(fields, str):
            fields = fields.split(",")
        try:
            parse_fields(",".join(fields), CUSTOMER_PATHS)
        except MockServerError as exc:
            raise AdapterError.invalid_parameter("fields", exc.problems[0].detail if exc.problems else str(exc)) from None
        selected = tuple(f.strip() for f in fields if f.strip()) or None
    for key, value in filters.items():
        name = f"filter[{key}]"
        if key not in FILTER_KEYS:
            raise AdapterError.invalid_parameter(
                name, f"unknown filter; supported filters: {', '.join(f'filter[{k}]' for k in FILTER_KEYS)}")
        if not isinstance(value, str):
            raise AdapterError.invalid_parameter(name, f"must be a string, got {value!r}")
        if key == "status" and value not in STATUSES:
            raise AdapterError.invalid_parameter(name, f"must be one of: {', '.join(STATUSES)}")
        if key in ("created_since", "updated_since"):
            try:
                parse_timestamp(value)
            except ValueError:
                raise AdapterError.invalid_parameter(
                    name, f"must be an RFC 3339 date-time with offset, got {value!r}") from None
        if key == "customer_ids" and not _ids(value):
            raise AdapterError.invalid_parameter(name, "must list at least one id")
        if key in ("email", "phone_number") and not value.strip():
            raise AdapterError.invalid_parameter(name, "must not be empty")
    if sort.by not in SORT_FIELDS:
        raise AdapterError.invalid_parameter("sort[by]", f"must be one of: {', '.join(SORT_FIELDS)}")
    return ListRequest(limit, selected, dict(filters), Sort(sort.by, bool(sort.descending)))


def _ids(value: str) -> set[str]:
    return {part.strip() for part in value.split(",") if part.strip()}


def _phone_digits(phone: Mapping[str, Any]) -> tuple[str, ...]:
    number = _DIGITS.sub("", phone.get("number") or "")
    area = _DIGITS.sub("", phone.get("area_code") or "")
    country = _DIGITS.sub("", phone.get("country_code") or "")
    return number, area + number, country + area + number


def _since(key: str, bound: int) -> Callable[[Customer], bool]:
    def check(customer: Customer) -> bool:
        value = customer.get(key)
        return isinstance(value, str) and parse_timestamp(value) >= bound
    return check



def _has_email(wanted: str, c: Customer) -> bool:
    return any((e.get("email") or "").lower() == wanted for e in c.get("emails") or ())


def _has_phone_digits(digits: str, c: Customer) -> bool:
    return bool(digits) and any(digits in _phone_digits(p) for p in c.get("phone_numbers") or ())


def _has_status(status: str, c: Customer) -> bool:
    return c.get("status") == status


def _has_id_in(ids: set[str], c: Customer) -> bool:
    return c.get("id") in ids

def matcher(filters: Mapping[str, str]) -> Callable[[Customer], bool] | None:
    """A predicate evaluating canonical filters on full canonical customers (``None``: no filter).

    The meaning is the one ``openapi.yaml`` documents: email equal case-insensitively after
    trimming to any email; phone digits equal to ``number``, ``area_code + number`` or
    ``country_code + area_code + number`` of any phone; ``created_at``/``updated_at`` at or
    after the instant (truncated to the second).
    """
    checks: list[Callable[[Customer], bool]] = []
    for key, value in filters.items():
        if key == "email":
            checks.append(partial(_has_email, value.strip().lower()))
        elif key == "phone_number":
            checks.append(partial(_has_phone_digits, _DIGITS.sub("", value)))
        elif key == "status":
            checks.append(partial(_has_status, value))
        elif key == "customer_ids":
            checks.append(partial(_has_id_in, _ids(value)))
        elif key in ("created_since", "updated_since"):
            checks.append(_since(key.replace("_since", "_at"), parse_timestamp(value)))
    if not checks:
        return None
    return lambda customer: all(check(customer) for check in checks)


def sort_customers(customers: Sequence[Customer], sort: Sort) -> list[Customer]:
    """``customers`` (in creation order) in the canonical ``sort`` order.

    Ties keep creation order, in the sort's direction; a missing value sorts as ``""``.
    """
    ranked = sorted(enumerate(customers), key=lambda pair: (pair[1].get(sort.by) or "", pair[0]),
                    reverse=sort.descending)
    return [customer for _, customer in ranked]


def since_seconds(value: str) -> int:
    """UNIX seconds of a canonical ``*_since`` value (fractional seconds truncated, as canonical does)."""
    return parse_timestamp(value)


@dataclass(frozen=True)
class PlatformPage:
    """One platform page, already mapped to full canonical customers."""

    customers: list[Customer]
    next: Any | None
    """JSON-able position of the next platform page (an offset, a cursor...); ``None`` at the end."""
    total: int | None = None
    """The platform's count of matching customers, when it sends one."""


def collect(fetch: Callable[[Any, int], PlatformPage], position: Any, skip: int, limit: int,
            keep: Callable[[Customer], bool] | None, page_size: int
            ) -> tuple[list[Customer], tuple[Any, int] | None, int | None]:
    """Fill one canonical page from platform pages.

    Args:
        fetch: ``fetch(position, size)`` reads the platform page at ``position`` (``None``: the first).
        position, skip: where to start: a platform page and how many of its customers were consumed.
        limit: the canonical page size.
        keep: a local filter (customers it rejects are skipped), or ``None``.
        page_size: the platform's maximum page size.

    Returns:
        the customers, the ``(position, skip)`` of the next canonical page (``None`` when this
        one is the last), and the platform's total when no local filter applies.

    Raises:
        AdapterError: 500 when the platform's pages lead back to a page already visited.
    """
    out: list[Customer] = []
    seen: set[str] = set()
    total: int | None = None
    first = True
    while True:
        marker = json.dumps(position)
        if marker in seen:
            raise AdapterError.internal(f"the platform's next page {position!r} leads back to a page already read")
        seen.add(marker)
        size = page_size if keep is not None else min(page_size, skip + limit - len(out))
        page = fetch(position, max(size, 1))
        if first and keep is None:
            total = page.total
        first = False
        for k in range(skip, len(page.customers)):
            customer = page.customers[k]
            if keep is not None and not keep(customer):
                continue
            if len(out) == limit:
                return out, (position, k), total
            out.append(customer)
        if page.next is None:
            return out, None, total
        if len(out) == limit and keep is None:
            return out, (page.next, 0), total
        position, skip = page.next, 0


def error_json(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a platform's error response; ``{}`` when its body is not one."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class HttpAdapter:
    """Base of the reference adapters: an httpx client, credentials, validation and paging.

    Subclasses set ``name``, ``flavour``, ``excluded_fields``, ``native_filters`` and
    ``page_size``, and implement :meth:`fetch_page`, :meth:`get_customer` and :meth:`raise_for`.

    Args:
        base_url: the platform's base URL, e.g. ``http://127.0.0.1:8000/ecwid``.
        client: the ``httpx.Client`` to use (one is created, and closed by :meth:`close`, if omitted).
        token: the API token; ``None`` sends no credentials; omitted: ``default_token``.
    """

    name: ClassVar[str]
    flavour: ClassVar[str]
    excluded_fields: ClassVar[frozenset[str]] = frozenset()
    native_filters: ClassVar[frozenset[str]] = frozenset()
    """Canonical filters the platform evaluates; the others are evaluated here while paging."""
    native_sorts: ClassVar[frozenset[Sort]] = frozenset({Sort()})
    """Orders the platform can list in; others are sorted here over the whole (filtered) list.
    ``Sort()`` (creation order, oldest first) must be one of them."""
    page_size: ClassVar[int] = 100
    """The platform's maximum page size."""
    default_token: ClassVar[str] = "test-token"

    def __init__(self, base_url: str, *, client: httpx.Client | None = None,
                 token: str | None | EllipsisType = ...) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self.token: str | None = self.default_token if token is ... else token
        self._owns_client = client is None
        self.client = client if client is not None else httpx.Client(timeout=30.0)
        self.codec = CursorCodec(f"{self.name}|{self.base_url}")

    # ---- to implement -------------------------------------------------------------

    def fetch_page(self, position: Any, size: int, filters: Mapping[str, str], sort: Sort) -> PlatformPage:
        """The platform page at ``position`` (``None``: first) with native ``filters``, in ``sort`` order."""
        raise NotImplementedError

    def get_customer(self, id: str) -> Customer:
        raise NotImplementedError

    def raise_for(self, response: httpx.Response, *, customer_id: str | None = None) -> None:
        """Raise the canonical :class:`AdapterError` for a platform error response (no-op on success)."""
        raise NotImplementedError

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    # ---- shared -------------------------------------------------------------------

    def list_customers(self, cursor: str | None, limit: int, fields: Sequence[str] | None,
                       filters: Mapping[str, str], sort: Sort = Sort()) -> AdapterPage:
        request = validate_request(limit, fields, filters, sort)
        native = {k: v for k, v in request.filters.items() if k in self.native_filters}
        keep = matcher({k: v for k, v in request.filters.items() if k not in self.native_filters})
        state = None if cursor is None else self.codec.decode(cursor, request.signature)
        if request.sort in self.native_sorts:
            position, skip = (None, 0) if state is None else state
            customers, after, total = collect(
                lambda pos, size: self.fetch_page(pos, size, native, request.sort),
                position, int(skip), request.limit, keep, self.page_size)
            next_state: Any = list(after) if after is not None else None
        else:
            # NOTE: the platform cannot list in this order: read the whole filtered list in
            # creation order (which breaks ties the canonical way) and sort it here.
            everything, _, _ = collect(lambda pos, size: self.fetch_page(pos, size, native, Sort()),
                                       None, 0, sys.maxsize, keep, self.page_size)
            ordered = sort_customers(everything, request.sort)
            offset = 0 if state is None else int(state)
            customers, total = ordered[offset:offset + request.limit], len(ordered)
            next_state = offset + request.limit if offset + request.limit < len(ordered) else None
        next_cursor = self.codec.encode(next_state, request.signature) if next_state is not None else None
        return AdapterPage([request.project(c) for c in customers], next_cursor, total)

    def get(self, path: str, params: Mapping[str, Any] | None = None, *,
            customer_id: str | None = None) -> Any:
        """GET ``base_url + path`` and return its JSON, or raise the mapped error."""
        return self.get_with_headers(path, params, customer_id=customer_id).body

    def get_with_headers(self, path: str, params: Mapping[str, Any] | None = None, *,
                         customer_id: str | None = None) -> JsonResponse:
        """GET ``base_url + path`` (or ``path`` itself when it is an absolute URL, e.g. a ``Link``
        header's next page) and return its JSON with its headers, or raise the mapped error."""
        import httpx

        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        try:
            # NOTE: httpx replaces a URL's query with params={}: a next-page URL keeps its own.
            response = self.client.get(url, params=dict(params) if params else None, headers=self.auth_headers())
        except httpx.HTTPError as exc:
            raise AdapterError.internal(f"the platform at {url} did not answer: {exc}") from None
        self.raise_for(response, customer_id=customer_id)
        if response.status_code >= 400:
            raise AdapterError.internal(f"the platform answered {response.status_code} to GET {url}")
        try:
            body = response.json()
        except ValueError:
            raise AdapterError.internal(f"the platform answered GET {url} with a body that is not JSON") from None
        return JsonResponse(body, response.headers, str(response.url))

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
