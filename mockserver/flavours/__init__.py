"""Flavours: one module per platform, each serving the same customers in its own dialect.

A flavour is a small object (see :class:`Flavour`) registered in :data:`FLAVOURS`. The app
mounts every registered flavour under ``/<name>`` (and one of them, canonical by default,
also at the root). Adding a platform is one module that does ``@FLAVOURS.register``, its
OpenAPI document in ``mockserver/specs/``, its tests, and one line in the import list
at the bottom of this file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from mockserver.errors import UnknownFlavour

if TYPE_CHECKING:
    from mockserver.errors import MockServerError
    from mockserver.resources import ServerContext

__all__ = ["FLAVOURS", "Flavour", "FlavourRegistry", "Rendered", "Route"]


class Route(NamedTuple):
    """A path (relative to the flavour's mount point) and the Falcon resource serving it."""

    path: str
    resource: Any
    suffix: str | None = None


class Rendered(NamedTuple):
    """An error as the platform would send it."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: Mapping[str, str] = MappingProxyType({})
    """Extra response headers; read-only (a ``{}`` default would be one dict shared by every instance)."""


class Flavour(Protocol):
    """What the app needs from a platform dialect."""

    name: str
    """Registry key and mount prefix (``/apideck``)."""
    title: str
    """Human-readable platform name for logs and ``mockserver routes``."""
    spec: str
    """File name of its OpenAPI document in ``mockserver/specs`` (canonical's links to ``openapi.yaml``)."""

    def routes(self, context: ServerContext) -> list[Route]:
        """The resources to mount, built around the shared server context."""
        ...

    def render_error(self, error: MockServerError) -> Rendered:
        """The platform's status, body and headers for an error."""
        ...


F = TypeVar("F")


class FlavourRegistry:
    """Name -> flavour instance; registering a name twice is an error."""

    def __init__(self) -> None:
        self._flavours: dict[str, Flavour] = {}

    def register(self, cls: type[F]) -> type[F]:
        """Class decorator: instantiate and register a flavour."""
        flavour: Flavour = cls()  # type: ignore[assignment]
        if flavour.name in self._flavours:
            raise ValueError(f"a flavour named {flavour.name!r} is already registered")
        self._flavours[flavour.name] = flavour
        return cls

    def get(self, name: str) -> Flavour:
        """The flavour called ``name``.

        Raises:
            UnknownFlavour: listing the valid names.
        """
        try:
            return self._flavours[name]
        except KeyError:
            raise UnknownFlavour(name, self.names()) from None

    def names(self) -> list[str]:
        return list(self._flavours)

    def __iter__(self) -> Iterator[Flavour]:
        return iter(self._flavours.values())

    def __contains__(self, name: object) -> bool:
        return name in self._flavours

    def __len__(self) -> int:
        return len(self._flavours)


FLAVOURS = FlavourRegistry()

# The bundled flavours, in mount order. Each module registers itself with FLAVOURS.
from mockserver.flavours import (
    apideck,  # noqa: F401
    canonical,  # noqa: F401
    ecartapi,  # noqa: F401
    ecwid,  # noqa: F401
    myboxx,  # noqa: F401
    truto,  # noqa: F401
)
