"""The contract as data: load the OpenAPI document and read what the checks need from it.

Properties never hard-code what the document states: the field paths, the ``limit`` bounds,
the filters and sort keys come from :class:`Contract`, so a contract change flows through.
:func:`schemathesis_schema` turns the same document into a Schemathesis schema aimed at a
base URL or at a WSGI app in-process.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.failures import InvalidSpec
from contracts.openapi import bundled_document, find_operations, operations, parameters, parse_document, resolve

__all__ = ["BUNDLED_SPEC", "SERVICE_TAG", "Contract", "customers_api", "load_spec", "schemathesis_schema"]

BUNDLED_SPEC = "mockserver:specs/canonical.yaml"
"""The canonical contract shipped with the package (``openapi.yaml``), the default ``--spec``."""


def load_spec(spec: str | None = None) -> dict[str, Any]:
    """Read an OpenAPI document from a file path, an ``http(s)://`` URL or the bundled contract.

    Raises:
        InvalidSpec: it cannot be read, is not YAML/JSON, or is not an OpenAPI 3 document.
    """
    spec = spec or BUNDLED_SPEC
    try:
        if spec == BUNDLED_SPEC:
            return bundled_document("canonical.yaml")
        if spec.startswith(("http://", "https://")):
            import httpx

            response = httpx.get(spec, timeout=10, follow_redirects=True)
            response.raise_for_status()
            text = response.text
        else:
            text = Path(spec).read_text("utf-8")
    except InvalidSpec:
        raise
    except (OSError, ValueError) as exc:  # httpx errors subclass neither; caught below
        raise InvalidSpec(f"cannot read the OpenAPI document {spec}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - httpx.HTTPError and friends
        raise InvalidSpec(f"cannot fetch the OpenAPI document {spec}: {exc}") from None
    return parse_document(text, spec)


@dataclass(frozen=True)
class Contract:
    """What the properties read from the document (paths, field paths, limits, filters, sorts)."""

    list_path: str
    """Path of ``listCustomers`` (``/customers``)."""
    item_path: str
    """Path of ``getCustomer`` with its placeholder (``/customers/{id}``)."""
    field_paths: tuple[str, ...]
    """Every valid ``fields`` entry, top level first, then ``parent.child`` paths."""
    top_fields: tuple[str, ...]
    """The properties of ``Customer`` in document order (the full record's key order)."""
    limit_min: int
    limit_max: int
    limit_default: int
    filters: tuple[str, ...]
    """Names of the ``filter[...]`` keys, e.g. ``("email", "status")``."""
    sort_keys: tuple[str, ...]
    sort_directions: tuple[str, ...]
    writes: tuple[str, ...]
    """Documented write methods among ``POST`` (list path), ``PATCH`` and ``DELETE`` (item path)."""
    list_operation: str | None = None
    """``operationId`` of the list operation (``None``: the document gives it none)."""

    @classmethod
    def from_document(cls, document: dict[str, Any], *, list_operation: str | None = None,
                      get_operation: str | None = None) -> Contract:
        """Read the facts from an OpenAPI document.

        Args:
            list_operation: ``operationId`` of the list operation (default ``listCustomers``, or, when the
                document has none, the ``GET`` on a ``customers`` collection path).
            get_operation: ``operationId`` of the get operation (default ``getCustomer``, or the path shape).

        Raises:
            InvalidSpec: a named operation is missing, there is no list or get operation, or no
                ``Customer`` schema.
        """
        listing, item = find_operations(document, list_id=list_operation or _named(document, "listCustomers"),
                                        get_id=get_operation or _named(document, "getCustomer"))
        if item is None:
            raise InvalidSpec("the document has no getCustomer operation; is it the Customers contract?")
        list_path, item_path = listing.path, item.path
        customer = resolve(document, ((document.get("components") or {}).get("schemas") or {}).get("Customer"))
        if not isinstance(customer, dict) or not customer.get("properties"):
            raise InvalidSpec("the document has no components.schemas.Customer with properties")
        top = tuple(customer["properties"])
        nested: list[str] = []
        for name, prop in customer["properties"].items():
            prop = resolve(document, prop)
            if isinstance(prop, dict) and prop.get("type") == "array":
                items = resolve(document, prop.get("items"))
                if isinstance(items, dict) and items.get("properties"):
                    nested.extend(f"{name}.{child}" for child in items["properties"])
        params = parameters(document, listing)
        limit = resolve(document, (params.get("limit") or {}).get("schema") or {})
        sort_by = resolve(document, (params.get("sort[by]") or {}).get("schema") or {})
        sort_dir = resolve(document, (params.get("sort[direction]") or {}).get("schema") or {})
        writes = []
        if "post" in document["paths"][list_path]:
            writes.append("POST")
        for method in ("patch", "delete"):
            if method in document["paths"][item_path]:
                writes.append(method.upper())
        return cls(
            list_path=list_path,
            item_path=item_path,
            field_paths=top + tuple(nested),
            top_fields=top,
            limit_min=int(limit.get("minimum", 1)),
            limit_max=int(limit.get("maximum", 100)),
            limit_default=int(limit.get("default", 20)),
            filters=tuple(n[7:-1] for n in params if n.startswith("filter[") and n.endswith("]")),
            sort_keys=tuple(sort_by.get("enum") or ()),
            sort_directions=tuple(sort_dir.get("enum") or ()),
            writes=tuple(writes),
            list_operation=listing.operation_id,
        )

    def item_url(self, customer_id: Any) -> str:
        """The item path for an id (any JSON value a server returned; it is rendered and escaped)."""
        from urllib.parse import quote

        return self.item_path.replace("{id}", quote(str(customer_id), safe=""))


def _named(document: dict[str, Any], operation_id: str) -> str | None:
    """``operation_id`` when the document has it (the canonical names), else ``None`` (find by path)."""
    return operation_id if any(op.operation_id == operation_id for op in operations(document)) else None


SERVICE_TAG = "Service"
"""Operations with this tag (``/health``, ``/openapi.yaml``) describe the mock itself, not the
Customers API a server implements; ``contracts check`` leaves them out."""


def customers_api(document: dict[str, Any], *, unsupported: tuple[str, ...] = ()) -> dict[str, Any]:
    """A copy of the document with only what a server must implement.

    Drops the ``Service``-tagged operations and the write methods in ``unsupported`` (a
    read-only server answers 405 to them, and its ``Allow`` headers do not list them), and
    the response links that pointed to a dropped operation.
    """
    document = copy.deepcopy(document)
    dropped: set[str] = set()
    for path in list(document.get("paths") or {}):
        item = document["paths"][path]
        for method in list(item):
            operation = item[method]
            if not isinstance(operation, dict) or method in ("parameters", "summary", "description", "servers"):
                continue
            if SERVICE_TAG in (operation.get("tags") or ()) or method.upper() in unsupported:
                dropped.add(str(operation.get("operationId")))
                del item[method]
        if not any(isinstance(v, dict) and k not in ("parameters", "servers") for k, v in item.items()):
            del document["paths"][path]
    for item in (document.get("paths") or {}).values():
        for method, operation in item.items():
            if not isinstance(operation, dict) or method in ("parameters", "servers"):
                continue
            for response in (operation.get("responses") or {}).values():
                links = response.get("links") if isinstance(response, dict) else None
                if isinstance(links, dict):
                    for name in [n for n, link in links.items() if isinstance(link, dict)
                                 and link.get("operationId") in dropped]:
                        del links[name]
    return document


def schemathesis_schema(document: dict[str, Any], *, base_url: str, token: str, seed: int, max_examples: int,
                        app: Any = None, phases: tuple[str, ...] = ("examples", "coverage", "fuzzing", "stateful"),
                        unsupported: tuple[str, ...] = (), list_operation: str | None = "listCustomers") -> Any:
    """The Customers API of the document as a Schemathesis schema aimed at ``base_url``.

    Args:
        document: the parsed OpenAPI document (copied; the caller's dict is not changed).
        base_url: replaces the document's ``servers``.
        token: sent as ``Authorization: Bearer <token>``.
        app: a WSGI app to call in-process instead of the network.
        phases: the Schemathesis phases to run.
        unsupported: write methods the server does not implement (left out, see :func:`customers_api`).
        list_operation: ``operationId`` of the list operation, whose schema-valid requests may be
            answered 400 (an unissued cursor); ``None`` when it has none.
    """
    import schemathesis
    from schemathesis.config import SchemathesisConfig

    every = ("examples", "coverage", "fuzzing", "stateful")
    config = SchemathesisConfig.from_dict({
        "seed": seed,
        # NOTE: no .schemathesis/ cache in the user's directory: a check run is self-contained.
        "cache": {"enabled": False},
        "base-url": base_url,
        "headers": {"Authorization": f"Bearer {token}"},
        "generation": {"max-examples": max_examples, "mode": "all", "database": "none"},
        "phases": {name: {"enabled": name in phases} for name in every} | {
            # NOTE: the check changes only customers it created: ids taken from list responses
            # (fuzzing's response data, links inferred by dependency analysis) would PATCH and
            # DELETE the server's own customers; Location headers lead to the check's own.
            **{name: {"enabled": name in phases, "extra-data-sources": {"responses": False}}
               for name in ("examples", "coverage", "fuzzing")},
            "stateful": {"enabled": "stateful" in phases, "inference": {"algorithms": ["location-headers"]}}},
        "checks": {
            # NOTE: the contract lets a server accept any non-empty token, so "invalid credentials
            # accepted" is no violation; missing or malformed credentials are the errors.missing_auth
            # property. (ignored_auth also crashes on WSGI apps in 4.32.5: it passes max_redirects to werkzeug.)
            "ignored_auth": {"enabled": False},
        },
        "operations": [{
            # NOTE: a cursor is any URL-safe string by schema, but only issued cursors are
            # usable; the contract documents 400 for the others, so 400 is an accepted answer
            # to schema-valid list requests.
            "include-operation-id": list_operation,
            "checks": {"positive_data_acceptance": {"expected-statuses": ["2XX", "400", "401"]}},
        }] if list_operation else [],
    })
    try:
        schema = schemathesis.openapi.from_dict(customers_api(document, unsupported=unsupported), config=config)
    except Exception as exc:  # noqa: BLE001 - LoaderError, InvalidSchema
        raise InvalidSpec(f"Schemathesis cannot use the document: {exc}") from None
    if app is not None:
        schema.app = app
    return schema
