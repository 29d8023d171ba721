"""Shared test setup: Hypothesis profiles and in-process app fixtures.

Profiles: ``dev`` (default, random) and ``ci`` (selected when ``CI`` is set, derandomized so a CI
run is reproducible and cannot flake on a lucky draw): both have no
deadline (a 2-core CI machine is noisy) and print the reproduction blob on failure. ``soak``
(``HYPOTHESIS_PROFILE=soak``, 2000 examples) is for long local runs.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=50, deadline=None, print_blob=True)
settings.register_profile("ci", max_examples=50, deadline=None, print_blob=True, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
# Long local runs of the property tests, e.g. ``HYPOTHESIS_PROFILE=soak pytest tests/mockserver/flavours``.
settings.register_profile("soak", max_examples=2000, deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

pytest_plugins = ["tests.fixtures.apps", "tests.fixtures.servers"]

