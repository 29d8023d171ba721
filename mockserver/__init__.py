"""Mock unified e-commerce Customers API: deterministic customers in every platform's flavour.

Build the app with :func:`create_app` (``Settings`` for seed, count, token...), run it with
``mockserver serve``, and read ground truth from :class:`Dataset`.

NOTE: names are imported lazily, on first use (PEP 562 ``__getattr__``): client-side code that
needs only ``format_timestamp`` or ``Dataset`` must not pay for Falcon and every flavour.
"""

from __future__ import annotations

import importlib
import typing

if typing.TYPE_CHECKING:
    from mockserver.app import create_app
    from mockserver.catalog import Catalog, Filters, ListQuery, Page
    from mockserver.dataset import Dataset, format_timestamp, parse_timestamp
    from mockserver.dialect import Caller, Dialect, DialectBase, Example, Listing, Operation, Reply, Write
    from mockserver.errors import (
        BadRequest,
        InvalidBody,
        InvalidCursor,
        InvalidParameter,
        InvalidSettings,
        MockServerError,
        NotFound,
        Unauthorized,
        UnknownFlavour,
    )
    from mockserver.fields import parse_fields, project
    from mockserver.flavours import FLAVOURS, Flavour, Rendered
    from mockserver.model import CUSTOMER_PATHS
    from mockserver.server import ServerProcess, serve
    from mockserver.settings import Settings

from mockserver.version import __version__ as __version__  # re-exported: mockserver.__version__

_LAZY = {
    # the pure core: no Falcon
    "Catalog": "mockserver.catalog",
    "Filters": "mockserver.catalog",
    "ListQuery": "mockserver.catalog",
    "Page": "mockserver.catalog",
    "Dataset": "mockserver.dataset",
    "format_timestamp": "mockserver.dataset",
    "parse_timestamp": "mockserver.dataset",
    "BadRequest": "mockserver.errors",
    "InvalidBody": "mockserver.errors",
    "InvalidCursor": "mockserver.errors",
    "InvalidParameter": "mockserver.errors",
    "InvalidSettings": "mockserver.errors",
    "MockServerError": "mockserver.errors",
    "NotFound": "mockserver.errors",
    "Unauthorized": "mockserver.errors",
    "UnknownFlavour": "mockserver.errors",
    "parse_fields": "mockserver.fields",
    "project": "mockserver.fields",
    "CUSTOMER_PATHS": "mockserver.model",
    "Settings": "mockserver.settings",
    # what a platform declares (no Falcon at import)
    "Caller": "mockserver.dialect",
    "Dialect": "mockserver.dialect",
    "DialectBase": "mockserver.dialect",
    "Example": "mockserver.dialect",
    "Listing": "mockserver.dialect",
    "Operation": "mockserver.dialect",
    "Reply": "mockserver.dialect",
    "Write": "mockserver.dialect",
    # the server: Falcon, gunicorn and every flavour
    "create_app": "mockserver.app",
    "FLAVOURS": "mockserver.flavours",
    "Flavour": "mockserver.flavours",
    "Rendered": "mockserver.flavours",
    "ServerProcess": "mockserver.server",
    "serve": "mockserver.server",
}

__all__ = [
    "BadRequest",
    "Caller",
    "Catalog",
    "create_app",
    "CUSTOMER_PATHS",
    "Dataset",
    "Dialect",
    "DialectBase",
    "Example",
    "Filters",
    "Flavour",
    "FLAVOURS",
    "format_timestamp",
    "InvalidBody",
    "InvalidCursor",
    "InvalidParameter",
    "InvalidSettings",
    "Listing",
    "ListQuery",
    "MockServerError",
    "NotFound",
    "Operation",
    "Page",
    "parse_fields",
    "parse_timestamp",
    "project",
    "Rendered",
    "Reply",
    "serve",
    "ServerProcess",
    "Settings",
    "Unauthorized",
    "UnknownFlavour",
    "Write",
]


def __getattr__(name: str) -> typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mockserver' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
