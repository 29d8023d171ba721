"""Mock unified e-commerce Customers API: deterministic customers in every platform's flavour.

Build the app with :func:`create_app` (``Settings`` for seed, count, token...), run it with
``mockserver serve``, and read ground truth from :class:`Dataset`.
"""

from mockserver.app import create_app
from mockserver.catalog import Catalog, Filters, ListQuery, Page
from mockserver.dataset import Dataset, format_timestamp, parse_timestamp
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
from mockserver.flavours import FLAVOURS, Flavour, Rendered, Route
from mockserver.model import CUSTOMER_PATHS
from mockserver.server import ServerProcess, serve
from mockserver.settings import Settings

__version__ = "0.1.0"

__all__ = [
    "BadRequest",
    "Catalog",
    "create_app",
    "CUSTOMER_PATHS",
    "Dataset",
    "Filters",
    "Flavour",
    "FLAVOURS",
    "format_timestamp",
    "InvalidBody",
    "InvalidCursor",
    "InvalidParameter",
    "InvalidSettings",
    "ListQuery",
    "MockServerError",
    "NotFound",
    "Page",
    "parse_fields",
    "parse_timestamp",
    "project",
    "Rendered",
    "Route",
    "serve",
    "ServerProcess",
    "Settings",
    "Unauthorized",
    "UnknownFlavour",
]
