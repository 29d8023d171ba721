"""``__all__`` of each package is sorted, complete and importable."""

from __future__ import annotations

import ast
import importlib
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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


def _all_of(path: Path) -> set[str] | None:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    return None


def _module_path(module: str) -> Path:
    base = ROOT / module.replace(".", "/")
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def test_every_name_a_module_imports_from_another_is_in_that_modules_all() -> None:
    """``__all__`` is each module's real interface: what other modules (and tests) import from it is listed."""
    unlisted = []
    for path in sorted([*ROOT.glob("mockserver/**/*.py"), *ROOT.glob("contracts/**/*.py"), *ROOT.glob("tests/**/*.py"),
                        *ROOT.glob("bench/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                    and node.module.split(".")[0] in ("mockserver", "contracts")):
                continue
            target = _module_path(node.module)
            exported = _all_of(target) if target.exists() else None
            if exported is None:
                continue
            for alias in node.names:
                submodule = target.parent / alias.name
                if (alias.name.startswith("_") or alias.name in exported or submodule.with_suffix(".py").exists()
                        or submodule.is_dir()):
                    continue
                unlisted.append(f"{path.relative_to(ROOT)}: {node.module}.{alias.name}")
    assert not unlisted, "imported but missing from the module's __all__:\n" + "\n".join(unlisted)
