"""What the mock does to a client while it runs: the profiles of ``contracts check-client --profile``.

::

    pagination    nothing goes wrong: the walk itself is judged
    rate-limits   a tight quota for the flavour (5 requests per 1 s window by default): a walk meets
                  429s with Retry-After
    faults        a seeded fault profile for the flavour: list requests answer 500, 503 (with
                  Retry-After: 1) or lose their connection, one in ten each; creates and updates
                  answer 503 (one in five) or run and have their answer cut (truncated, one in
                  five). The n-th identical
                  request always draws the same fault, so the same client meets the same faults
                  with the same --seed

Each profile is a change of the mock's controls through its admin API (``PUT /__admin/faults``,
``PUT /__admin/rate-limits``); :func:`apply_profile` makes it and :func:`clear_profile` undoes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts.admin_client import AdminClient

__all__ = ["PROFILES", "Quota", "apply_profile", "clear_profile", "fault_profile"]

PROFILES = ("pagination", "rate-limits", "faults")

LIST_FAULTS = {"errors": [{"status": 500, "rate": 0.1}, {"status": 503, "rate": 0.1, "retry_after": 1}],
               "connection": [{"fault": "reset", "rate": 0.1}]}
WRITE_FAULTS = {"errors": [{"status": 503, "rate": 0.2, "retry_after": 1}],
                "connection": [{"fault": "truncated", "rate": 0.2}]}
"""NOTE: ``truncated``, not ``reset``: the write runs and its answer is cut, the case where a retry
creates a second customer; and the journal then has the request's body to compare retries with."""


@dataclass(frozen=True)
class Quota:
    """``limit`` requests per fixed window of ``seconds`` (``--rate-limit 5/1``)."""

    limit: int = 5
    seconds: float = 1.0

    @classmethod
    def parse(cls, text: str) -> Quota:
        """``"5/1"`` -> 5 requests per 1 s.

        Raises:
            ValueError: not ``N/SECONDS`` with N >= 1 and SECONDS > 0.
        """
        count, slash, seconds = text.partition("/")
        try:
            quota = cls(int(count), float(seconds) if slash else 1.0)
        except ValueError:
            raise ValueError(f"expected REQUESTS/SECONDS such as 5/1, got {text!r}") from None
        if quota.limit < 1 or not quota.seconds > 0:
            raise ValueError(f"expected at least 1 request per a positive number of seconds, got {text!r}")
        return quota


def fault_profile(flavour: str, seed: int, writes: bool = True) -> dict[str, Any]:
    """The ``faults`` profile for ``flavour`` (JSON for ``PUT /__admin/faults``); ``writes``: the
    flavour has create and update operations."""
    rules: list[dict[str, Any]] = [{"flavour": flavour, "operation": "list", **LIST_FAULTS}]
    if writes:
        rules += [{"flavour": flavour, "operation": operation, **WRITE_FAULTS} for operation in ("create", "update")]
    return {"seed": seed, "rules": rules}


def apply_profile(admin: AdminClient, profile: str, flavour: str, seed: int, quota: Quota,
                  writes: bool = True) -> str:
    """Make the mock behave as ``profile`` for ``flavour``; a sentence saying what it now does."""
    if profile == "rate-limits":
        admin.rate_limit(flavour, model="window", limit=quota.limit, seconds=quota.seconds)
        return f"rate limits on: {quota.limit} requests per {quota.seconds:g} s for {flavour}"
    if profile == "faults":
        admin.set_faults(fault_profile(flavour, seed, writes))
        return (f"faults on for {flavour} (seed {seed}): lists 10% 500, 10% 503, 10% reset"
                + ("; creates and updates 20% 503, 20% cut after they ran" if writes else ""))
    return "nothing goes wrong (pagination only)"


def clear_profile(admin: AdminClient) -> None:
    """No fault profile and no rate limits (what the reference walks need)."""
    admin.set_faults(None)
    admin.rate_limit(enabled=False)
