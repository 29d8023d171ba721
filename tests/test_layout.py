"""The house rules that keep the layers apart, checked on the source itself (imports read with ``ast``).

- No flavour imports another flavour: another platform is reached through the registry.
- The pure core imports neither Falcon nor any flavour; ``mockserver`` never imports ``contracts``.
- No module over 500 lines without a reason written at its top (``LONG:`` in its first lines).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLAVOURS_DIR = ROOT / "mockserver" / "flavours"
CORE = ("array_params", "catalog", "config_file", "controls", "customer_json", "dataset", "documents", "errors",
        "faults", "fields", "formats", "journal", "journal_slots", "masking", "matching", "model", "outbox", "overlay",
        "pagination", "pools", "query", "ranking", "ratelimit", "reading", "shared", "side_files", "store", "tenants", "walks",
        "webhooks", "writer")
"""Modules of the pure core: no web framework, no platform."""
MAX_LINES = 500


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, relative imports resolved against its package."""
    tree = ast.parse(path.read_text("utf-8"))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def flavour_of(module: str) -> str | None:
    """``mockserver.flavours.ecwid.search`` -> ``ecwid``; the registry package and its names -> ``None``."""
    parts = module.split(".")
    if len(parts) < 3 or parts[:2] != ["mockserver", "flavours"]:
        return None
    is_flavour = (FLAVOURS_DIR / parts[2]).is_dir() or (FLAVOURS_DIR / f"{parts[2]}.py").is_file()
    return parts[2] if is_flavour else None


def flavour_files() -> list[Path]:
    return sorted(p for p in FLAVOURS_DIR.rglob("*.py") if p.name != "__init__.py" or p.parent != FLAVOURS_DIR)


@pytest.mark.parametrize("path", flavour_files(), ids=lambda p: str(p.relative_to(FLAVOURS_DIR)))
def test_no_flavour_imports_another_flavour(path: Path) -> None:
    own = flavour_of(".".join(path.relative_to(ROOT).with_suffix("").parts))
    others = {m for m in imported_modules(path) if flavour_of(m) not in (None, own)}
    assert not others, f"{path.name} imports another flavour: {sorted(others)}; use FLAVOURS.get(name)"


@pytest.mark.parametrize("name", CORE)
def test_the_core_imports_no_web_framework_and_no_flavour(name: str) -> None:
    imports = imported_modules(ROOT / "mockserver" / f"{name}.py")
    assert not {m for m in imports if m.split(".")[0] in ("falcon", "gunicorn", "contracts")}, imports
    assert not {m for m in imports if m.startswith(("mockserver.flavours", "mockserver.app", "mockserver.pipeline",
                                                    "mockserver.resources"))}, imports


def test_mockserver_never_imports_contracts() -> None:
    for path in (ROOT / "mockserver").rglob("*.py"):
        assert not {m for m in imported_modules(path) if m.split(".")[0] == "contracts"}, path


def test_the_rules_above_can_fail() -> None:
    """The import reader sees absolute, relative and ``from`` imports (else the rules pass vacuously)."""
    module = FLAVOURS_DIR / "ecwid" / "search.py"
    assert "mockserver.errors" in imported_modules(module)
    assert flavour_of("mockserver.flavours.ecwid.mapping") == "ecwid"
    assert flavour_of("mockserver.flavours") is None and flavour_of("mockserver.flavours.FLAVOURS") is None
    assert flavour_of("mockserver.flavours.truto") == "truto"


def python_files() -> list[Path]:
    return sorted(p for top in ("mockserver", "contracts", "bench", "tests", "tools") for p in (ROOT / top).rglob("*.py"))


def test_no_module_over_500_lines_without_a_reason_at_its_top() -> None:
    long = []
    for path in python_files():
        lines = path.read_text("utf-8").splitlines()
        if len(lines) > MAX_LINES and not any("LONG:" in line for line in lines[:30]):
            long.append(f"{path.relative_to(ROOT)} ({len(lines)} lines)")
    assert not long, f"split these by concern, or say at the top why not (a 'LONG:' line): {long}"
