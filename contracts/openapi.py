"""The one OpenAPI reader of the kit: ``$ref`` resolution, ``allOf`` folding, operations, parameters.

:mod:`contracts.schema` (the facts the server checks read), :mod:`contracts.strategies` (the
client-side generators) and the tests read documents through it, so a document is understood
the same way everywhere.

Operations are found by ``operationId``: the caller names them (``contracts check
--list-operation``, a flavour's declared operations), or :func:`find_operations` falls back to
the path shape for a document without hints (``GET .../customers`` or ``.../customers.json`` is
the list, ``GET .../customers/{id}``, ``.../customers/{id}.json`` or ``.../customer/{id}`` the item).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from contracts.failures import InvalidSpec

__all__ = [
    "HTTP_METHODS",
    "Operation",
    "bundled_document",
    "find_operations",
    "flavour_operation_ids",
    "json_schema",
    "merged",
    "operations",
    "options",
    "parameters",
    "parse_document",
    "resolve",
]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
"""The keys of a path item that are operations (others: parameters, summary, description, servers)."""

_MAX_REF_HOPS = 32


def parse_document(text: str, source: str) -> dict[str, Any]:
    """Parse YAML or JSON text as an OpenAPI 3 document.

    Raises:
        InvalidSpec: not YAML/JSON, or not an OpenAPI 3 document.
    """
    import yaml

    try:
        # PERF: the C loader parses the 2,000-line contract ~10x faster than the pure-Python one.
        document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise InvalidSpec(f"{source} is not valid YAML or JSON: {exc}") from None
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise InvalidSpec(f"{source} is not an OpenAPI 3 document (no 'openapi: 3.x' key)")
    return document


def bundled_document(spec: str) -> dict[str, Any]:
    """A document shipped in ``mockserver/specs`` (``canonical.yaml``, ``ecwid.yaml``...)."""
    from importlib import resources

    text = resources.files("mockserver").joinpath(f"specs/{spec}").read_text("utf-8")
    return parse_document(text, f"mockserver:specs/{spec}")


# ---- references and schemas ----------------------------------------------------------------


def resolve(document: Mapping[str, Any], node: Any) -> Any:
    """``node`` with its local ``$ref`` followed (to a node that is not a reference).

    Raises:
        InvalidSpec: a reference that is not local (``#/...``), points nowhere, or loops.
    """
    hops = 0
    while isinstance(node, Mapping) and "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise InvalidSpec(f"only local $ref are supported, got {ref!r}")
        node = document
        try:
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        except (KeyError, TypeError, IndexError):
            raise InvalidSpec(f"$ref {ref} points to nothing in the document") from None
        hops += 1
        if hops > _MAX_REF_HOPS:
            raise InvalidSpec(f"$ref cycle at {ref}")
    return node


def merged(document: Mapping[str, Any], schema: Any) -> dict[str, Any]:
    """``schema`` with ``$ref`` resolved and ``allOf`` folded in (properties merged, required united).

    A ``$ref`` with sibling keywords (allowed in OpenAPI 3.1) counts as one more ``allOf`` part.
    """
    if not isinstance(schema, Mapping):
        return {}
    schema = dict(schema)
    if "$ref" in schema:
        target = resolve(document, {"$ref": schema.pop("$ref")})
        if not schema:
            return merged(document, target)
        schema["allOf"] = [target, *schema.get("allOf", [])]
    for part in schema.pop("allOf", []):
        part = merged(document, part)
        props = dict(part.get("properties") or {})
        for name, sub in (schema.get("properties") or {}).items():
            both = name in props and sub is not False and props[name] is not False
            props[name] = {"allOf": [props[name], sub]} if both else sub
        required = list(dict.fromkeys(list(part.get("required") or []) + list(schema.get("required") or [])))
        schema = {**part, **schema}
        if props:
            schema["properties"] = props
        if required:
            schema["required"] = required
    return dict(schema)


def options(document: Mapping[str, Any], schema: Any) -> list[dict[str, Any]]:
    """``schema`` and the branches of its ``oneOf``/``anyOf``, resolved."""
    if not isinstance(schema, Mapping):
        return []
    schema = merged(document, schema)
    return [schema, *(merged(document, b) for b in (schema.get("oneOf") or []) + (schema.get("anyOf") or []))]


def json_schema(document: Mapping[str, Any], response: Any) -> Any:
    """The schema of a response's JSON content (``None`` when it has none).

    NOTE: returned unresolved: a ``$ref`` may carry sibling keywords.
    """
    response = resolve(document, response)
    for media, content in ((response or {}).get("content") or {}).items():
        if "json" in media and isinstance(content, Mapping) and "schema" in content:
            return content["schema"]
    return None


# ---- operations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """One operation of a document: where it is and its (unresolved) OpenAPI object."""

    path: str
    method: str
    """Upper case: ``GET``."""
    operation_id: str | None
    spec: Mapping[str, Any]

    def response_schema(self, document: Mapping[str, Any], status: str | int) -> Any:
        """The JSON schema of the response to ``status`` (``None`` when it has none)."""
        responses = self.spec.get("responses") or {}
        # NOTE: YAML reads an unquoted status code as an integer key.
        response = responses.get(str(status), responses.get(int(status)) if str(status).isdigit() else None)
        return json_schema(document, response)


def operations(document: Mapping[str, Any]) -> Iterator[Operation]:
    """Every operation of the document, in document order."""
    for path, item in (document.get("paths") or {}).items():
        item = resolve(document, item) or {}
        for method in item:
            spec = item[method]
            if method in HTTP_METHODS and isinstance(spec, Mapping):
                operation_id = spec.get("operationId")
                yield Operation(path, method.upper(), operation_id if isinstance(operation_id, str) else None, spec)


def parameters(document: Mapping[str, Any], operation: Operation, where: str | None = None) -> dict[str, dict[str, Any]]:
    """The operation's parameters by name (path-level ones first, the operation's own override them).

    ``where`` keeps only one location (``"query"``, ``"header"``...).
    """
    item = resolve(document, (document.get("paths") or {}).get(operation.path)) or {}
    found: dict[str, dict[str, Any]] = {}
    for param in list(item.get("parameters") or []) + list(operation.spec.get("parameters") or []):
        param = resolve(document, param)
        if isinstance(param, Mapping) and "name" in param and (where is None or param.get("in") == where):
            found[str(param["name"])] = dict(param)
    return found


def _segments(path: str) -> list[str]:
    """Path segments with a file extension stripped (``customers.json`` -> ``customers``)."""
    out = []
    for part in path.strip("/").split("/"):
        stem, dot, extension = part.rpartition(".")
        out.append(stem if dot and stem and extension.isalnum() else part)
    return out


def _looks_like(operation: Operation, role: str, collection: str) -> bool:
    if operation.method != "GET":
        return False
    parts = _segments(operation.path)
    if role == "list":
        return parts[-1] == collection
    # NOTE: some platforms name the item path in the singular (``/customer/{customer_id}``).
    return len(parts) > 1 and parts[-2] in (collection, collection.removesuffix("s")) \
        and parts[-1].startswith("{") and parts[-1].endswith("}")


def find_operations(document: Mapping[str, Any], *, list_id: str | None = None, get_id: str | None = None,
                    collection: str = "customers") -> tuple[Operation, Operation | None]:
    """The list operation and the get operation (``None`` when the document has none).

    An ``operationId`` given is looked up and must exist; without one, the first ``GET`` on a
    collection path (last segment ``collection``, an extension such as ``.json`` stripped) is
    the list and the first ``GET`` on a placeholder under it (or under its singular) the get.

    Raises:
        InvalidSpec: a named operation is missing, or no list operation can be found.
    """
    every = list(operations(document))

    def pick(role: str, operation_id: str | None) -> Operation | None:
        if operation_id is not None:
            found = next((op for op in every if op.operation_id == operation_id), None)
            if found is None:
                raise InvalidSpec(f"the document has no {operation_id} operation; is it the Customers contract?")
            return found
        return next((op for op in every if _looks_like(op, role, collection)), None)

    listing = pick("list", list_id)
    if listing is None:
        raise InvalidSpec(f"the document has no GET .../{collection} operation; name the list operation by its "
                          f"operationId")
    return listing, pick("get", get_id)


def flavour_operation_ids(flavour: str) -> tuple[str | None, str | None]:
    """The ``operationId`` of the list and get operations a bundled mock flavour declares.

    ``(None, None)`` when the flavour declares no operations (then :func:`find_operations`
    falls back to the path shape). ``mockserver`` is imported here, lazily: it never imports
    the kit.
    """
    from mockserver import FLAVOURS

    declared = getattr(FLAVOURS.get(flavour), "operations", None) or ()
    by_name = {getattr(op, "name", None): getattr(op, "operation_id", None) for op in declared}
    return by_name.get("list"), by_name.get("get")
