"""What a platform declares to be served: a dialect of the one request pipeline.

Every request of every flavour takes the same path (see :mod:`mockserver.pipeline`):

    routing -> authenticate (the dialect names the caller and its tenant) -> [later stages]
            -> the operation over the catalog (list, get, create, update, delete)
            -> the dialect renders the page, the record or the error

A dialect says only how its platform differs: its operations (paths, methods, ``operationId``),
how it authenticates, how its query becomes a canonical :class:`~mockserver.catalog.ListQuery` and a
page position, how it renders pages and records (the mapping to its native record), how it reads
a write body back into canonical fields, and its error bodies. :class:`DialectBase` gives the
defaults a platform without writes or extra operations needs.

This module imports no web framework at run time: requests are only passed through.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Protocol

import orjson

from mockserver.controls import Quota
from mockserver.errors import MethodNotAllowed, MockServerError
from mockserver.fields import FieldSet, project

if TYPE_CHECKING:
    import falcon

    from mockserver.catalog import Catalog, ListQuery, Page
    from mockserver.pagination import Position
    from mockserver.ratelimit import Usage
    from mockserver.settings import Settings
    from mockserver.store import Entry
    from mockserver.webhooks import WebhookFormat

__all__ = [
    "CORE_OPERATIONS",
    "DEFAULT_TENANT",
    "Caller",
    "Dialect",
    "DialectBase",
    "Example",
    "Found",
    "Listing",
    "Operation",
    "RecordCache",
    "Rendered",
    "Reply",
    "Write",
]

CORE_OPERATIONS = ("list", "get", "create", "update", "delete")
"""Operations the pipeline runs over the catalog itself; any other name goes to :meth:`Dialect.handle`."""
DEFAULT_TENANT = "default"
_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


class Operation(NamedTuple):
    """One operation of a flavour's API, as its OpenAPI document names it."""

    name: str
    """``list``, ``get``, ``create``, ``update``, ``delete``, or the dialect's own (``count``...)."""
    method: str
    path: str
    """Falcon URI template relative to the flavour's mount (``/customers/{id}``)."""
    operation_id: str
    """The ``operationId`` in the flavour's document (the contract kit finds operations by it)."""


class Example(NamedTuple):
    """How a client reaches a flavour: its first list request, its credentials and one customer's path.

    The landing page and ``mockserver serve`` print it; tests and the contract kit read every
    flavour through it (no hand-kept table per flavour).
    """

    path: str
    """A list request's path, relative to the mount."""
    item_path: str
    """The get path of one customer, with ``{id}`` for its canonical id."""
    query: str = "limit=2"
    headers: tuple[tuple[str, str], ...] = ()
    """Headers every request needs besides the token (Apideck's consumer and app ids...)."""
    item_query: str = ""
    token_header: str = "Authorization"
    token_scheme: str = "Bearer "
    token_prefix: str = ""
    """Prefix the flavour requires of a token (Ecwid's ``secret_``)."""

    def url(self, base: str) -> str:
        return f"{base}{self.path}" + (f"?{self.query}" if self.query else "")

    def credentials(self, token: str) -> tuple[tuple[str, str], ...]:
        """Every header a request sends: the token as the flavour expects it, then :attr:`headers`."""
        return ((self.token_header, f"{self.token_scheme}{self.token_prefix}{token}"), *self.headers)


class Caller(NamedTuple):
    """Who sent a request, as the dialect's authentication found it."""

    token: str
    tenant: str = DEFAULT_TENANT
    """The account whose data the request reads: a store, a shop, a consumer... (one dataset for now)."""


class Reply(NamedTuple):
    """A response as bytes: what the page cache keeps and the pipeline sends."""

    body: bytes
    status: int = 200
    headers: Mapping[str, str] = _NO_HEADERS
    content_type: str = "application/json"


class Rendered(NamedTuple):
    """An error as the platform would send it."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: Mapping[str, str] = _NO_HEADERS
    """Extra response headers; read-only (a ``{}`` default would be one dict shared by every instance)."""


class Listing(NamedTuple):
    """A list request in canonical terms: which customers, from where, and how to show them."""

    query: ListQuery
    limit: int
    position: Position | None = None
    """Keyset paging: the page after (or before) this position (a decoded cursor)."""
    offset: int | None = None
    """Offset paging: the page starting at this offset (``position`` is then ``None``)."""
    view: Any = None
    """The dialect's own rendering options (selected fields, raw payloads...), read back by its renderer."""


class Write(NamedTuple):
    """A write body read into canonical fields."""

    fields: dict[str, Any] | None
    """Canonical input; ``None`` on update means "nothing to change" (no new version is written)."""
    check: Callable[[Catalog], None] | None = None
    """Runs inside the write transaction before it commits, given the catalog written to (uniqueness
    rules across workers: the dialect has no catalog of its own when it reads the body)."""


class Found:
    """A customer looked up by id: its ordinal (``None`` for one written by another worker a moment
    ago), and its record, built only when a renderer needs it (cached bytes need none).

    Raises:
        NotFound: from the constructor, when no live customer has the id.
    """

    def __init__(self, catalog: Catalog, customer_id: str) -> None:
        self.id = customer_id
        self.state: Mapping[int, Entry] = catalog.state()
        self.ordinal = catalog.ordinal_of(customer_id, self.state)
        self._catalog = catalog
        if self.ordinal is None:
            self.__dict__["record"] = catalog.get(customer_id)  # NotFound, unless created a moment ago

    @cached_property
    def record(self) -> dict[str, Any]:
        assert self.ordinal is not None
        return self._catalog.record(self.ordinal, self.state)

    def record_json(self, fields: FieldSet | None = None) -> bytes:
        """The canonical record as JSON, projected to ``fields``: ``dumps(project(record, fields))``.

        # PERF: an untouched base customer is written straight from the dataset (as list pages are),
        # without building its dict and serializing it again.
        """
        ordinal = self.ordinal
        dataset = self._catalog.dataset
        if ordinal is not None and ordinal < dataset.count and ordinal not in self.state:
            return dataset.customer_json(ordinal) if fields is None else dataset.customer_json_fields(ordinal, fields)
        return orjson.dumps(project(self.record, fields))


class RecordCache(Protocol):
    """Serialized records shared by every request of a worker (see :class:`mockserver.pipeline.Records`)."""

    def bytes(self, variant: Hashable, ordinal: int | None, build: Callable[[], bytes]) -> bytes:
        """``build()``, kept per ``(dialect, variant, ordinal)`` for untouched base customers."""
        ...


class Dialect(Protocol):
    """What the pipeline needs from a platform."""

    name: str
    """Registry key (its entry point's name) and mount prefix (``/apideck``)."""
    title: str
    """Human-readable platform name for logs and ``mockserver routes``."""
    spec: str
    """File name of its OpenAPI document in ``mockserver/specs`` (or a path a plugin package ships)."""
    operations: tuple[Operation, ...]
    example: Example

    def authenticate(self, req: falcon.Request, operation: Operation, params: Mapping[str, str],
                     settings: Settings) -> Caller:
        """The caller of a request, or the platform's refusal (Unauthorized, Forbidden, MissingHeader...)."""
        ...

    def page_variant(self, req: falcon.Request, caller: Caller) -> Hashable:
        """What besides the URL changes a list page (a header...): part of the page cache key."""
        ...

    def parse_list(self, req: falcon.Request, params: Mapping[str, str], secret: str) -> Listing:
        """The list request in canonical terms; ``secret`` signs and checks cursors."""
        ...

    def fetch(self, catalog: Catalog, listing: Listing, version: int) -> Page:
        """The page a listing asks for (the default reads keyset or offset pages of the catalog)."""
        ...

    def render_page(self, req: falcon.Request, listing: Listing, page: Page, records: RecordCache,
                    secret: str) -> Reply:
        ...

    def customer_id(self, params: Mapping[str, str]) -> str:
        """The canonical customer id named by an item path (raises NotFound when it names none)."""
        ...

    def parse_get(self, req: falcon.Request, params: Mapping[str, str]) -> Any:
        """A get request's view (fields...), checked before the customer is looked up."""
        ...

    def render_record(self, req: falcon.Request, view: Any, found: Found, records: RecordCache) -> Reply:
        ...

    def parse_create(self, req: falcon.Request, params: Mapping[str, str]) -> Write: ...

    def render_created(self, req: falcon.Request, record: dict[str, Any]) -> Reply: ...

    def parse_update(self, req: falcon.Request, params: Mapping[str, str], current: dict[str, Any]) -> Write: ...

    def render_updated(self, req: falcon.Request, record: dict[str, Any]) -> Reply: ...

    def render_deleted(self, req: falcon.Request, customer_id: str) -> Reply: ...

    def handle(self, operation: Operation, req: falcon.Request, caller: Caller, params: Mapping[str, str],
               catalog: Catalog) -> Reply:
        """An operation that is not one of :data:`CORE_OPERATIONS` (a count, a store profile...)."""
        ...

    def native(self, record: dict[str, Any]) -> dict[str, Any]:
        """The platform's own customer for a canonical record (what a unified API's ``raw`` carries)."""
        ...

    def unwrap_record(self, body: Any) -> dict[str, Any]:
        """The customer inside the parsed body of a get answer (its envelope removed)."""
        ...

    def from_native(self, native: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
        """Canonical fields for one of its own customers: the mapping writes use, and readers of any flavour."""
        ...

    def render_error(self, error: MockServerError) -> Rendered:
        """The platform's status, body and headers for an error.

        Besides request errors this renders a :class:`~mockserver.errors.RateLimited` (429), a
        :class:`~mockserver.errors.ConnectionProblem` (``error.state``: the tenant's connection is
        ``unauthorized``, ``disabled``, ``not_found`` or ``downstream_error``) and a
        :class:`~mockserver.errors.ForcedError` (any status a ``Prefer`` header or fault profile asked for).
        """
        ...

    rate_quota: Quota
    """The platform's rate-limit model, enforced with ``--rate-limits`` (the config file can change it)."""
    rate_scope: str
    """What the quota counts: ``tenant`` (the account, store, shop...) or ``token``."""

    def rate_headers(self, usage: Usage) -> Mapping[str, str]:
        """The headers that tell a client how its quota stands, sent with every counted answer."""
        ...


class DialectBase:
    """Defaults for the parts of :class:`Dialect` a platform may leave out.

    A dialect without writes declares no write operations (the pipeline answers 405 for them);
    ``fetch`` reads keyset pages (``position``) or offset pages (``offset``) of the catalog.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    spec: ClassVar[str]
    operations: ClassVar[tuple[Operation, ...]]
    example: ClassVar[Example]
    rate_quota: ClassVar[Quota] = Quota("window", 100, 60.0)
    """UNCONFIRMED default for a platform that documents no limit: 100 requests a minute."""
    rate_scope: ClassVar[str] = "tenant"
    webhooks: ClassVar[WebhookFormat | None] = None
    """How the platform sends webhooks (:mod:`mockserver.webhooks`); ``None``: it cannot be subscribed to."""

    def rate_headers(self, usage: Usage) -> Mapping[str, str]:
        return _NO_HEADERS

    def page_variant(self, req: falcon.Request, caller: Caller) -> Hashable:
        return None

    def fetch(self, catalog: Catalog, listing: Listing, version: int) -> Page:
        if listing.offset is not None:
            return catalog.list_at_offset(listing.query, listing.offset, listing.limit)
        return catalog.list(listing.query, listing.limit, listing.position, latest=version)

    def customer_id(self, params: Mapping[str, str]) -> str:
        return params["id"]

    def parse_get(self, req: falcon.Request, params: Mapping[str, str]) -> Any:
        return None

    def handle(self, operation: Operation, req: falcon.Request, caller: Caller, params: Mapping[str, str],
               catalog: Catalog) -> Reply:
        raise MethodNotAllowed(f"{self.title} does not serve {operation.name!r} here.")

    def native(self, record: dict[str, Any]) -> dict[str, Any]:
        return record

    def operation(self, name: str) -> Operation:
        """The operation called ``name``.

        Raises:
            KeyError: the dialect declares none.
        """
        for operation in self.operations:
            if operation.name == name:
                return operation
        raise KeyError(f"{self.name} declares no {name!r} operation")
