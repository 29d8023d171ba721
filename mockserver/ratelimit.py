"""Rate-limit arithmetic: fixed windows and leaky buckets, as pure functions of a stored state.

The shared store (:mod:`mockserver.shared`) runs :func:`advance` inside one transaction per
request, so workers never both take the last slot: with a quota of N, exactly N requests of a
window succeed, however many workers serve them.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from mockserver.controls import Quota

__all__ = ["Usage", "advance"]


class Usage(NamedTuple):
    """Where a caller stands after one request, in the terms every platform's headers use."""

    allowed: bool
    limit: int
    used: int
    """Requests counted in the current window (or in the bucket), this one included when allowed."""
    remaining: int
    reset_seconds: float
    """Until the window restarts (or the bucket is empty)."""
    retry_after: float
    """Until a refused request would be allowed (0 when allowed)."""


def advance(quota: Quota, level: float, stamp: float, now: float) -> tuple[Usage, float, float]:
    """Count one request at ``now`` against ``(level, stamp)``; the usage and the new state.

    A window's state is ``(requests, window start)``; a bucket's is ``(fill, last update)``.
    """
    if quota.kind == "bucket":
        fill = max(0.0, level - max(0.0, now - stamp) * quota.leak_per_second)
        allowed = fill + 1 <= quota.limit + 1e-9
        if allowed:
            fill += 1
        used = math.ceil(fill - 1e-9)
        retry = 0.0 if allowed else (fill + 1 - quota.limit) / quota.leak_per_second
        usage = Usage(allowed, quota.limit, used, max(0, quota.limit - used), fill / quota.leak_per_second, retry)
        return usage, fill, now
    start = math.floor(now / quota.seconds) * quota.seconds
    count = int(level) if stamp == start else 0
    allowed = count < quota.limit
    if allowed:
        count += 1
    reset = start + quota.seconds - now
    usage = Usage(allowed, quota.limit, count, quota.limit - count, reset, 0.0 if allowed else reset)
    return usage, float(count), start
