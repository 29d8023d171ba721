"""What goes wrong with a request, decided before it runs: from its ``Prefer`` header or a seeded profile.

A :class:`Decision` is a delay, and at most one of an error status or a connection fault. The
``Prefer`` header (as Prism has it) asks for one explicitly::

    Prefer: code=404                  the flavour's own 404 for this operation
    Prefer: code=503, delay=1000      wait a second, then the flavour's 503
    Prefer: fault=reset               no response: the connection is reset

A :class:`~mockserver.controls.FaultProfile` draws one: **the n-th request with the same method,
path and query in a tenant** gets the faults drawn from ``(seed, tenant, request, n)``. ``n`` is
counted in the shared store, so the draws do not depend on which worker serves a request, nor on
how requests for *other* URLs interleave with it: two runs sending the same requests get the same
faults, and a client retrying a failed request draws again (its ``n`` moved on).

Pure: no web framework, no flavour.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Collection
from typing import NamedTuple

from mockserver.controls import CONNECTION_FAULTS, MAX_DELAY_MS, FaultProfile
from mockserver.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    ForcedError,
    InternalError,
    InvalidBody,
    InvalidParameter,
    MockServerError,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
)

__all__ = ["NOTHING", "Decision", "draw", "error_for", "parse_prefer"]


class Decision(NamedTuple):
    delay_ms: float = 0.0
    status: int | None = None
    """An error status to answer instead of running the operation."""
    fault: str | None = None
    """A connection fault, one of :data:`~mockserver.controls.CONNECTION_FAULTS`."""
    retry_after: int | None = None
    source: str = "prefer"
    """``prefer`` or ``profile``: named in the error's detail, so nobody mistakes it for a bug."""

    @property
    def idle(self) -> bool:
        return not self.delay_ms and self.status is None and self.fault is None


NOTHING = Decision()


# NOTE: ASCII digits only: str.isdigit(), int() and float() also take other scripts' digits,
# superscripts (int() then raises) and underscores, none of which is an HTTP number.
_STATUS = re.compile(r"[0-9]{3}")
_MILLISECONDS = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?")


def parse_prefer(header: str, documented: Collection[int]) -> Decision:
    """The preferences of a ``Prefer`` header this server acts on (others are ignored, as RFC 7240 says).

    Args:
        documented: the statuses the operation's document declares; ``code=`` must be one of them or 429.

    Raises:
        InvalidParameter: a ``code``, ``delay`` or ``fault`` that cannot be honoured (location ``header``).
    """
    delay, status, fault = 0.0, None, None
    for preference in header.split(","):
        # RFC 7240: a preference may carry parameters after ";" (``code=404; lang=en``); none matter here
        name, _, value = preference.partition(";")[0].strip().partition("=")
        name, value = name.strip().lower(), value.strip().strip('"')
        if name == "code":
            if not _STATUS.fullmatch(value):
                raise _bad(f"code must be an HTTP status such as 404, got {value!r}")
            code = int(value)
            if code != 429 and code not in documented:
                listed = ", ".join(str(s) for s in sorted(documented))
                raise _bad(f"code={code} is not a status this operation documents (it documents {listed}, "
                           "and 429 is always allowed)")
            status = code if code >= 400 else None
        elif name == "delay":
            delay = float(value) if _MILLISECONDS.fullmatch(value) else -1.0
            if not 0 <= delay <= MAX_DELAY_MS:
                raise _bad(f"delay must be milliseconds from 0 to {MAX_DELAY_MS}, got {value!r}")
        elif name == "fault":
            if value not in CONNECTION_FAULTS:
                raise _bad(f"fault must be one of {', '.join(CONNECTION_FAULTS)}, got {value!r}")
            fault = value
    if status is not None and fault is not None:
        raise _bad("ask for a code or a fault, not both")
    return Decision(delay, status, fault)


def _bad(detail: str) -> InvalidParameter:
    return InvalidParameter("Prefer", detail, location="header")


def draw(profile: FaultProfile, seed: int, tenant: str, flavour: str, operation: str, request: str,
         n: int) -> Decision:
    """The faults of the ``n``-th occurrence of ``request`` (``"GET /path?query"``) in ``tenant``."""
    digest = hashlib.blake2b(f"{seed}\0{tenant}\0{request}\0{n}".encode("utf-8", "surrogatepass"),
                             digest_size=8).digest()
    rng = random.Random(int.from_bytes(digest, "big"))
    rules = [rule for rule in (profile.base, *profile.rules) if rule.matches(flavour, operation)]
    latency = next((rule.latency for rule in reversed(rules) if rule.latency is not None), None)
    delay = latency.draw(rng) if latency is not None else 0.0
    roll = rng.random()
    for rule in rules:
        for fault in rule.connection:
            roll -= fault.rate
            if roll < 0:
                return Decision(delay, fault=fault.fault, source="profile")
        for error in rule.errors:
            roll -= error.rate
            if roll < 0:
                return Decision(delay, error.status, retry_after=error.retry_after, source="profile")
    return Decision(delay, source="profile")


_BY_STATUS: dict[int, type[MockServerError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict,
    415: UnsupportedMediaType, 422: InvalidBody, 500: InternalError,
}


def error_for(status: int, source: str, retry_after: int | None = None) -> MockServerError:
    """The error a flavour renders for a forced ``status``: our own class for it where there is one
    (so the flavour writes exactly the body it writes for that error), else a :class:`ForcedError`.

    429 is not made here: the rate-limit stage answers it with the flavour's quota and headers.
    """
    detail = (f"Answered with {status} because the request's Prefer header asked for it." if source == "prefer"
              else f"Answered with {status} by the mock's fault profile (a simulated failure).")
    if status == 503:
        return ServiceUnavailable(detail, retry_after=retry_after or 1)
    if status == 404:
        return NotFound(detail)
    known = _BY_STATUS.get(status)
    if known is not None and retry_after is None:
        return known(detail)
    return ForcedError(status, detail, retry_after=retry_after)
