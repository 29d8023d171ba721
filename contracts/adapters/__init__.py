"""Adapters: the code that turns one platform's customers into canonical ones.

::

    Adapter (Protocol)          list_customers(...) -> AdapterPage, get_customer(id) -> dict
    AdapterFactory (Protocol)   how the kit builds one: factory(base_url, client=..., token=...)
    AdapterPage                 canonical customers of one page, the next cursor, the total
    AdapterError (Exception)    a platform error as the canonical problem (status + problem+json body)
    ADAPTERS                    name -> adapter class; ``@ADAPTERS.register`` adds one

A team's adapter reads a platform (Ecwid, Apideck, ...) and answers in the canonical
vocabulary of ``openapi.yaml``: canonical filters and sort in, canonical customer dicts out,
canonical problems for errors. :func:`contracts.check_adapter` checks any adapter against the
mock's ground truth; :mod:`contracts.gateway` serves the canonical API on top of one.

The bundled reference adapters (one per platform flavour of the mock) register themselves
here, in the import list at the bottom; :mod:`contracts.adapters.toolkit` holds the helpers
they share (validation, cursors, local filtering, paging).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ADAPTERS",
    "Adapter",
    "AdapterError",
    "AdapterFactory",
    "AdapterPage",
    "AdapterRegistry",
    "Sort",
    "UnknownAdapter",
]


class Sort(NamedTuple):
    """The canonical order: ``sort[by]`` and ``sort[direction]``."""

    by: str = "created_at"
    """``created_at``, ``updated_at`` or ``name``."""
    descending: bool = False


@dataclass(frozen=True)
class AdapterPage:
    """One page of canonical customers."""

    customers: list[dict[str, Any]]
    """Canonical customers (projected when ``fields`` was given), at most ``limit`` of them."""
    next_cursor: str | None
    """Opaque cursor of the next page; ``None`` exactly on the last page."""
    total: int | None = None
    """Customers matching the filters over all pages, or ``None`` when the platform cannot tell cheaply."""


class AdapterError(Exception):
    """A platform error, mapped to the canonical problem the canonical API would answer.

    Args:
        status: the canonical HTTP status (400, 401, 404, 500...).
        problem: the RFC 9457 body: ``type``, ``title``, ``status``, ``detail``, ``errors[]``
            (see the ``Problem`` schema of ``openapi.yaml``).

    Example:
        >>> raise AdapterError.not_found("123")  # doctest: +SKIP
    """

    def __init__(self, status: int, problem: Mapping[str, Any]) -> None:
        super().__init__(f"{status} {problem.get('type')}: {problem.get('detail')}")
        self.status = status
        self.problem: dict[str, Any] = dict(problem)

    @classmethod
    def build(cls, status: int, kind: str, title: str, detail: str,
              errors: Sequence[tuple[str, str, str]] = ()) -> AdapterError:
        """An error whose body is ``/problems/<kind>`` with ``errors`` as ``(in, name, detail)``."""
        return cls(status, {"type": f"/problems/{kind}", "title": title, "status": status, "detail": detail,
                            "errors": [{"in": where, "name": name, "detail": why} for where, name, why in errors]})

    @classmethod
    def invalid_parameter(cls, name: str, detail: str) -> AdapterError:
        """400 ``/problems/invalid-parameter`` naming one query parameter."""
        return cls.build(400, "invalid-parameter", "Bad Request", f"Invalid query parameter {name!r}: {detail}",
                         [("query", name, detail)])

    @classmethod
    def invalid_cursor(cls, detail: str) -> AdapterError:
        """400 ``/problems/invalid-cursor``."""
        return cls.build(400, "invalid-cursor", "Bad Request", f"Invalid query parameter 'cursor': {detail}",
                         [("query", "cursor", detail)])

    @classmethod
    def not_found(cls, customer_id: str) -> AdapterError:
        """404 ``/problems/not-found`` for an unknown customer id."""
        detail = f"Could not find customer with id: {customer_id!r}"
        return cls.build(404, "not-found", "Not Found", detail, [("path", "id", detail)])

    @classmethod
    def unauthorized(cls, detail: str = "The platform rejected the credentials.") -> AdapterError:
        """401 ``/problems/unauthorized``."""
        return cls.build(401, "unauthorized", "Unauthorized", detail)

    @classmethod
    def internal(cls, detail: str) -> AdapterError:
        """500 ``/problems/internal``: the platform failed in a way the adapter cannot map."""
        return cls.build(500, "internal", "Internal Server Error", detail)


@runtime_checkable
class Adapter(Protocol):
    """What the kit and the gateway need from an adapter.

    Filters are the canonical ones without the ``filter[...]`` wrapper (``email``,
    ``phone_number``, ``status``, ``customer_ids``, ``created_since``, ``updated_since``),
    with the canonical meaning (see ``openapi.yaml``). Invalid input raises
    :class:`AdapterError` with status 400, exactly as the canonical API would answer.
    """

    name: ClassVar[str]
    """Registry key, e.g. ``ecwid``."""
    flavour: ClassVar[str]
    """The mock flavour it reads: the kit points it at ``{server}/{flavour}``."""
    excluded_fields: ClassVar[frozenset[str]]
    """Canonical field paths the platform cannot provide; they are left out of comparisons."""

    def list_customers(self, cursor: str | None, limit: int, fields: Sequence[str] | None,
                       filters: Mapping[str, str], sort: Sort = Sort()) -> AdapterPage:  # noqa: B008 (immutable)
        """One page: ``cursor`` ``None`` for the first; ``limit`` 1..200; ``fields`` canonical paths."""
        ...

    def get_customer(self, id: str) -> dict[str, Any]:
        """The full canonical customer, or :class:`AdapterError` 404."""
        ...


class AdapterFactory(Protocol):
    """How the kit builds an adapter against an upstream (an adapter class usually is one).

    ``base_url`` is the platform's base URL (``http://127.0.0.1:8000/ecwid``); ``client`` an
    ``httpx.Client`` to send requests with (the kit passes one bound to an in-process mock);
    ``token=None`` means "send no credentials" (used to check the 401 mapping). Without
    ``token`` the adapter uses credentials that the mock accepts.
    """

    def __call__(self, base_url: str, *, client: httpx.Client | None = ..., token: str | None = ...) -> Adapter:
        ...


class UnknownAdapter(LookupError):
    """No adapter is registered under this name."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"unknown adapter {name!r}; registered adapters: {', '.join(known) or 'none'}")
        self.name = name
        self.known = known


A = TypeVar("A")


@dataclass
class AdapterRegistry:
    """Name -> adapter class; registering a name twice is an error."""

    _adapters: dict[str, Any] = field(default_factory=dict)

    def register(self, cls: type[A]) -> type[A]:
        """Class decorator: register an adapter class under its ``name``.

        Raises:
            ValueError: the name is already registered.
        """
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not name:
            raise ValueError(f"{cls.__qualname__} needs a non-empty class attribute 'name' to be registered")
        if name in self._adapters:
            raise ValueError(f"an adapter named {name!r} is already registered")
        self._adapters[name] = cls
        return cls

    def get(self, name: str) -> Any:
        """The adapter class called ``name``.

        Raises:
            UnknownAdapter: listing the registered names.
        """
        try:
            return self._adapters[name]
        except KeyError:
            raise UnknownAdapter(name, self.names()) from None

    def names(self) -> list[str]:
        return list(self._adapters)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._adapters.values())

    def __contains__(self, name: object) -> bool:
        return name in self._adapters

    def __len__(self) -> int:
        return len(self._adapters)


ADAPTERS = AdapterRegistry()
"""The reference adapters, one per platform flavour of the mock."""

# The bundled reference adapters. Each module registers itself with ADAPTERS.
from contracts.adapters import apideck, ecartapi, ecwid, myboxx, truto  # noqa: F401
