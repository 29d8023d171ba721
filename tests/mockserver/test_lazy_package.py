"""``import mockserver`` is cheap: client-side code that formats a timestamp or computes a customer
does not load Falcon or the flavours (the package ``__init__`` imports names on first use)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import mockserver

PROBE = """
import sys
{code}
heavy = sorted(name for name in ("falcon", "gunicorn", "mockserver.app", "mockserver.flavours") if name in sys.modules)
print(",".join(heavy))
"""


@pytest.mark.parametrize("code", [
    "import mockserver; assert mockserver.format_timestamp(0) == '1970-01-01T00:00:00Z'",
    "from mockserver import format_timestamp, parse_timestamp; assert parse_timestamp(format_timestamp(5)) == 5",
    "from mockserver import Dataset; assert Dataset(1, 10).customer(3)['id']",
    "import mockserver.dataset",
    "from mockserver import Catalog, Filters, ListQuery, Page, Settings, NotFound, parse_fields",
])
def test_the_pure_core_loads_without_falcon_or_any_flavour(code: str) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE.format(code=code)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_every_exported_name_is_there_and_listed() -> None:
    for name in mockserver.__all__:
        assert getattr(mockserver, name) is not None
    assert set(mockserver.__all__) <= set(dir(mockserver))
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        mockserver.nothing_here  # type: ignore[attr-defined]  # noqa: B018
