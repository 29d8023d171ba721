"""Flavours: the platforms the server speaks, each a dialect (:mod:`mockserver.dialect`) of one pipeline.

Flavours are found through the ``mockserver.flavours`` entry-point group, the bundled ones
included, so a separate package adds a platform without touching this repository::

    [project.entry-points."mockserver.flavours"]
    shopify = "mockserver.flavours.shopify:Shopify"

The entry point's name is the flavour's name (its mount prefix ``/<name>``) and its object a
dialect class (instantiated once) or instance. :data:`FLAVOURS` loads them on first use, sorted
by name, so the mount order does not depend on which module happened to be imported first.
A flavour reaches another platform's dialect (Apideck's ``raw`` payload of a connector) through
:data:`FLAVOURS`, never by importing its module.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Any

from mockserver.dialect import Dialect, Rendered
from mockserver.errors import UnknownFlavour

__all__ = ["ENTRY_POINT_GROUP", "FLAVOURS", "Flavour", "FlavourRegistry", "Rendered"]

ENTRY_POINT_GROUP = "mockserver.flavours"

Flavour = Dialect
"""The older name of :class:`~mockserver.dialect.Dialect`."""


def _discovered() -> list[tuple[str, Callable[[], Any]]]:
    return [(ep.name, ep.load) for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)]


class FlavourRegistry:
    """Name -> dialect, filled from an entry-point group on first use; a name given twice is an error."""

    def __init__(self, discover: Callable[[], list[tuple[str, Callable[[], Any]]]] = _discovered) -> None:
        self._discover = discover
        self._flavours: dict[str, Dialect] | None = None
        self._lock = threading.Lock()

    def _loaded(self) -> dict[str, Dialect]:
        flavours = self._flavours
        if flavours is None:
            with self._lock:
                if self._flavours is None:
                    found: dict[str, Dialect] = {}
                    for name, load in self._discover():
                        if name in found:
                            raise ValueError(f"two {ENTRY_POINT_GROUP} entry points are named {name!r}")
                        found[name] = _instance(name, load())
                    self._flavours = found
                flavours = self._flavours
        return flavours

    def get(self, name: str) -> Dialect:
        """The flavour called ``name``.

        Raises:
            UnknownFlavour: listing the valid names.
        """
        try:
            return self._loaded()[name]
        except KeyError:
            raise UnknownFlavour(name, self.names()) from None

    def names(self) -> list[str]:
        return list(self._loaded())

    def __iter__(self) -> Iterator[Dialect]:
        return iter(list(self._loaded().values()))

    def __contains__(self, name: object) -> bool:
        return name in self._loaded()

    def __len__(self) -> int:
        return len(self._loaded())


def _instance(name: str, loaded: Any) -> Dialect:
    dialect: Dialect = loaded() if isinstance(loaded, type) else loaded
    if getattr(dialect, "name", None) != name:
        raise ValueError(f"the {ENTRY_POINT_GROUP} entry point {name!r} loads a flavour named "
                         f"{getattr(dialect, 'name', None)!r}: the two names must be equal")
    return dialect


FLAVOURS = FlavourRegistry()
