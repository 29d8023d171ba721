"""Each flavour's OpenAPI document as the server reads it: its text, and the statuses each operation declares."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.dialect import Dialect, Operation

__all__ = ["documented_statuses", "package_spec", "spec_text"]


def package_spec(name: str) -> bytes:
    """A document of ``mockserver/specs`` (every bundled flavour's, and the admin API's)."""
    return resources.files("mockserver").joinpath(f"specs/{name}").read_bytes()


def spec_text(dialect: Dialect) -> bytes:
    """The document's bytes: a file of ``mockserver/specs``, or a path a plugin package ships."""
    if Path(dialect.spec).is_absolute():
        return Path(dialect.spec).read_bytes()
    return package_spec(dialect.spec)


_READ: dict[str, dict[str, frozenset[int]]] = {}


def _statuses_by_operation(text: bytes) -> dict[str, frozenset[int]]:
    import yaml

    try:
        loader: Any = yaml.CSafeLoader
    except AttributeError:  # PyYAML without its C extension
        loader = yaml.SafeLoader
    document = yaml.load(text, Loader=loader)
    found: dict[str, frozenset[int]] = {}
    for item in (document.get("paths") or {}).values():
        for operation in (item or {}).values():
            if isinstance(operation, dict) and operation.get("operationId"):
                found[operation["operationId"]] = frozenset(
                    int(code) for code in operation.get("responses") or {} if str(code).isdigit())
    return found


def documented_statuses(dialect: Dialect, operation: Operation) -> frozenset[int]:
    """The statuses ``operation`` declares in the dialect's document (read once per process)."""
    statuses = _READ.get(dialect.spec)
    if statuses is None:
        statuses = _READ[dialect.spec] = _statuses_by_operation(spec_text(dialect))
    return statuses.get(operation.operation_id, frozenset())
