"""What to say when the ``contracts`` extra is not installed.

``pip install -e .`` installs the ``contracts`` command and the pytest plugin, but not the
libraries the kit runs on (they are the ``contracts`` extra). Both catch the import error and
name the one command that fixes it, instead of a traceback. Imports only the standard library.
"""

from __future__ import annotations

__all__ = ["EXTRA_MODULES", "INSTALL_COMMAND", "missing_extra"]

EXTRA_MODULES = frozenset({"httpx", "hypothesis", "schemathesis", "yaml"})
"""Top-level modules of the ``contracts`` extra's requirements (pyproject.toml)."""

INSTALL_COMMAND = 'pip install "unified-customers-mock[contracts]"'


def missing_extra(error: BaseException) -> str | None:
    """One line naming the extra to install, if ``error`` is a module of that extra missing; else None."""
    if not isinstance(error, ModuleNotFoundError) or not error.name:
        return None
    module = error.name.split(".")[0]
    if module not in EXTRA_MODULES:
        return None
    return (f"the contract kit needs the 'contracts' extra (module {module!r} is not installed): "
            f"run {INSTALL_COMMAND}")
