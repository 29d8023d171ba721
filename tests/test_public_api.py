"""``__all__`` of each package is sorted, complete and importable."""

from __future__ import annotations

import importlib
import types

import pytest


@pytest.mark.parametrize("package", ["mockserver", "contracts"])
def test_all_is_sorted_complete_and_real(package: str) -> None:
    module = importlib.import_module(package)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=str.lower), "keep __all__ sorted"
    assert len(exported) == len(set(exported))
    for name in exported:
        assert hasattr(module, name), f"{package}.__all__ names {name!r}, which does not exist"
    public = {name for name, value in vars(module).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)
              and name not in ("annotations",)}
    assert public <= set(exported), f"public names missing from {package}.__all__: {sorted(public - set(exported))}"
