"""The install is locked: bounded requirements, and a constraints file the README's commands install from.

A new release of any dependency must not turn a fresh install red: every requirement carries an
upper bound, ``constraints.txt`` pins the whole installed closure, and the environment running this
suite is exactly that lock (so the suite exercised what a newcomer gets).
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SELF = canonicalize_name(PYPROJECT["project"]["name"])


def declared() -> list[Requirement]:
    project = PYPROJECT["project"]
    texts = list(PYPROJECT["build-system"]["requires"]) + list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        texts += extra
    return [Requirement(text) for text in texts]


def pins() -> dict[str, str]:
    found = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            found[canonicalize_name(name)] = version
    return found


def installed_closure(extras: frozenset[str] = frozenset({"test", "contracts"})) -> dict[str, str]:
    """Every distribution ``unified-customers-mock[<extras>]`` pulls in, with the installed version."""
    seen: dict[str, str] = {}
    todo = [(SELF, extras)]
    while todo:
        name, extras = todo.pop()
        dist = metadata.distribution(name)
        for text in dist.requires or []:
            requirement = Requirement(text)
            wanted = canonicalize_name(requirement.name)
            if requirement.marker is not None and not any(
                    requirement.marker.evaluate({**default_environment(), "extra": extra}) for extra in extras or {""}):
                continue
            if wanted == SELF:
                todo.append((SELF, frozenset(requirement.extras)))
            elif wanted not in seen:
                seen[wanted] = metadata.version(wanted)
                todo.append((wanted, frozenset(requirement.extras)))
    return seen


def test_every_requirement_has_an_upper_bound() -> None:
    unbounded = [str(r) for r in declared() if canonicalize_name(r.name) != SELF
                 and not any(s.operator in ("<", "<=", "==", "~=") for s in r.specifier)]
    assert unbounded == []


def test_the_constraints_pin_every_installed_dependency_within_its_bounds() -> None:
    locked = pins()
    closure = installed_closure()
    assert sorted(set(closure) - set(locked)) == [], "run tools/refresh-constraints"
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        if name in locked:
            assert requirement.specifier.contains(locked[name], prereleases=True), (str(requirement), locked[name])


def test_this_environment_was_installed_from_the_constraints() -> None:
    locked = pins()
    drift = {name: (version, locked[name]) for name, version in installed_closure().items()
             if name in locked and version != locked[name]}
    assert drift == {}, 'install with: pip install -c constraints.txt -e ".[test]"  (installed, locked)'



SERVER_MODULES = ("mockserver.cli", "mockserver.server", "mockserver.worker", "mockserver.app", "mockserver.wsgi")
"""What ``mockserver serve`` imports in gunicorn's master and workers."""


def test_the_server_imports_only_what_a_plain_install_brings() -> None:
    """``pip install -e .`` (no extras) then ``mockserver serve``: every distribution the server's modules
    load must be in the closure of the plain requirements. gunicorn's gevent worker imports ``packaging``,
    which gunicorn declares only in its ``gevent`` extra: the README's first command failed with
    ModuleNotFoundError on a fresh machine while the suite (test extras installed) passed."""
    import json
    import subprocess
    import sys

    def top_modules(imports: tuple[str, ...]) -> set[str]:
        script = (f"import json, sys\nfor m in {imports!r}: __import__(m)\n"
                  "print(json.dumps(sorted({n.split('.')[0] for n in sys.modules})))")
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
        return set(json.loads(done.stdout))

    loaded = top_modules(SERVER_MODULES) - top_modules(())  # not what the interpreter loads at start (.pth hooks)
    owners = metadata.packages_distributions()
    distributions = {canonicalize_name(d) for module in loaded for d in owners.get(module, [])}
    plain = set(installed_closure(frozenset())) | {SELF}
    assert distributions - plain == set(), "imported by the server but not required without extras"
