"""Contract test kit for the unified Customers API.

Check servers (``contracts check``), adapters (:func:`check_adapter`, ``contracts gateway``)
and clients (:mod:`contracts.strategies`, :mod:`contracts.generated`) against the contract.

NOTE: pytest loads ``contracts.plugin`` in every run (``pytest11`` entry point), which imports
this package first; so names are imported lazily, on first use (PEP 562 ``__getattr__``), and
``import contracts`` stays as cheap as the standard library.
"""

from __future__ import annotations

import importlib
import typing

if typing.TYPE_CHECKING:
    from contracts.adapter_check import check_adapter
    from contracts.adapters import ADAPTERS, Adapter, AdapterError, AdapterPage, Sort
    from contracts.check import check_server
    from contracts.failures import CheckReport, CheckResult, ContractFailure, UsageError
    from contracts.gateway import create_gateway
    from contracts.generated import GeneratedAPI, generated_api, generated_apis
    from contracts.report import ConsoleHandler, JUnitHandler

_LAZY = {
    # adapters
    "ADAPTERS": "contracts.adapters",
    "Adapter": "contracts.adapters",
    "AdapterError": "contracts.adapters",
    "AdapterPage": "contracts.adapters",
    "Sort": "contracts.adapters",
    "check_adapter": "contracts.adapter_check",
    "create_gateway": "contracts.gateway",
    # server checks, failures and reports
    "check_server": "contracts.check",
    "CheckReport": "contracts.failures",
    "CheckResult": "contracts.failures",
    "ContractFailure": "contracts.failures",
    "UsageError": "contracts.failures",
    "ConsoleHandler": "contracts.report",
    "JUnitHandler": "contracts.report",
    # clients
    "GeneratedAPI": "contracts.generated",
    "generated_api": "contracts.generated",
    "generated_apis": "contracts.generated",
}

__all__ = [
    "Adapter",
    "AdapterError",
    "AdapterPage",
    "ADAPTERS",
    "check_adapter",
    "check_server",
    "CheckReport",
    "CheckResult",
    "ConsoleHandler",
    "ContractFailure",
    "create_gateway",
    "generated_api",
    "generated_apis",
    "GeneratedAPI",
    "JUnitHandler",
    "Sort",
    "UsageError",
]


def __getattr__(name: str) -> typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'contracts' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
