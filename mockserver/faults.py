"""What goes wrong with a request, decided before it runs: from its ``Prefer`` header or a seeded profile.

A :class:`Decision` is a delay, and at most one of an error status or a connection fault. The
``Prefer`` header (as Prism has it) asks for one explicitly::

    Prefer: code=404                  the flavour's own 404 for this operation
    Prefer: code=503, delay=1000      wait a second, then the flavour's 503
    Prefer: fault=reset               no response: the connection is reset

A :class:`FaultProfile` draws one: **the n-th request with the same method,
path and query in a tenant** gets the faults drawn from ``(seed, tenant, request, n)``. ``n`` is
counted in the shared store, so the draws do not depend on which worker serves a request, nor on
how requests for *other* URLs interleave with it: two runs sending the same requests get the same
faults, and a client retrying a failed request draws again (its ``n`` moved on).

Pure: no web framework, no flavour.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from mockserver.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    ForcedError,
    InternalError,
    InvalidBody,
    InvalidParameter,
    InvalidSettings,
    MockServerError,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
)
from mockserver.reading import Reader

__all__ = [
    "CONNECTION_FAULTS", "LATENCY_KINDS", "MAX_DELAY_MS", "NOTHING", "Decision", "ErrorShare", "FaultProfile",
    "FaultRule", "FaultShare", "Latency", "draw", "error_for", "parse_prefer"
]

CONNECTION_FAULTS = ("reset", "empty", "malformed", "truncated")
"""``reset``: TCP reset, no response; ``empty``: the connection closes without a response;
``malformed``: the answer's body cut in half (valid HTTP, broken JSON); ``truncated``: the
connection closes after half the body its ``Content-Length`` announced. An answer without a body
(``HEAD``, ``204``) has nothing to cut: ``malformed`` and ``truncated`` leave it whole."""
LATENCY_KINDS = ("fixed", "uniform", "lognormal")
MAX_DELAY_MS = 60_000
"""Longest delay one request can be given (a worker's connections wait on their own greenlets)."""


@dataclass(frozen=True)
class Latency:
    """How long to wait before answering: ``fixed`` ``ms``, ``uniform`` in [``min_ms``, ``max_ms``],
    or ``lognormal`` around ``median_ms`` with shape ``sigma`` (capped at :data:`MAX_DELAY_MS`)."""

    kind: str = "fixed"
    ms: float = 0.0
    min_ms: float = 0.0
    max_ms: float = 0.0
    median_ms: float = 0.0
    sigma: float = 0.5

    @classmethod
    def read(cls, data: Any, where: str) -> Latency:
        r = Reader(data, where)
        r.only("distribution", "ms", "min_ms", "max_ms", "median_ms", "sigma")
        kind = r.choice("distribution", LATENCY_KINDS, "fixed")
        latency = cls(kind, r.number("ms", 0, high=MAX_DELAY_MS), r.number("min_ms", 0, high=MAX_DELAY_MS),
                      r.number("max_ms", 0, high=MAX_DELAY_MS), r.number("median_ms", 0, high=MAX_DELAY_MS),
                      r.number("sigma", 0.5, high=5))
        if kind == "uniform" and latency.max_ms < latency.min_ms:
            raise InvalidSettings(f"{r.at('max_ms')}: must be at least min_ms ({latency.min_ms:g})")
        return latency

    def draw(self, rng: random.Random) -> float:
        if self.kind == "fixed":
            return self.ms
        if self.kind == "uniform":
            return rng.uniform(self.min_ms, self.max_ms)
        return min(MAX_DELAY_MS, self.median_ms * math.exp(rng.gauss(0.0, self.sigma)))

    def as_json(self) -> dict[str, Any]:
        if self.kind == "fixed":
            return {"distribution": "fixed", "ms": self.ms}
        if self.kind == "uniform":
            return {"distribution": "uniform", "min_ms": self.min_ms, "max_ms": self.max_ms}
        return {"distribution": "lognormal", "median_ms": self.median_ms, "sigma": self.sigma}


@dataclass(frozen=True)
class ErrorShare:
    """Answer ``status`` (in the flavour's error format) to a ``rate`` share of requests."""

    status: int
    rate: float
    retry_after: int | None = None

    @classmethod
    def read(cls, data: Any, where: str) -> ErrorShare:
        r = Reader(data, where)
        r.only("status", "rate", "retry_after")
        if "status" not in r.data:
            raise InvalidSettings(f"{r.at('status')}: required (an HTTP error status, 400 to 599)")
        return cls(r.number("status", low=400, high=599, integer=True), r.number("rate", 0, high=1),
                   r.number("retry_after", None, high=86_400, integer=True))

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "rate": self.rate,
                **({} if self.retry_after is None else {"retry_after": self.retry_after})}


@dataclass(frozen=True)
class FaultShare:
    """Break the connection (``fault``, one of :data:`CONNECTION_FAULTS`) for a ``rate`` share of requests."""

    fault: str
    rate: float

    @classmethod
    def read(cls, data: Any, where: str) -> FaultShare:
        r = Reader(data, where)
        r.only("fault", "rate")
        if "fault" not in r.data:
            raise InvalidSettings(f"{r.at('fault')}: required, one of {', '.join(CONNECTION_FAULTS)}")
        return cls(r.choice("fault", CONNECTION_FAULTS), r.number("rate", 0, high=1))

    def as_json(self) -> dict[str, Any]:
        return {"fault": self.fault, "rate": self.rate}


@dataclass(frozen=True)
class FaultRule:
    """Latency, errors and connection faults for the requests it matches (``None``: any)."""

    flavour: str | None = None
    operation: str | None = None
    """An operation name (``list``, ``get``, ``create``, ``update``, ``delete``, or a flavour's own)."""
    latency: Latency | None = None
    errors: tuple[ErrorShare, ...] = ()
    connection: tuple[FaultShare, ...] = ()

    @classmethod
    def read(cls, data: Any, where: str, *, scoped: bool = True) -> FaultRule:
        r = Reader(data, where)
        keys = ("latency", "errors", "connection")
        r.only(*(("flavour", "operation", *keys) if scoped else ("seed", "rules", *keys)))
        latency = r.data.get("latency")
        rule = cls(r.text("flavour") if scoped else None, r.text("operation") if scoped else None,
                   None if latency is None else Latency.read(latency, r.at("latency")),
                   tuple(ErrorShare.read(item, at) for at, item in r.items("errors")),
                   tuple(FaultShare.read(item, at) for at, item in r.items("connection")))
        total = sum(share.rate for share in rule.errors) + sum(share.rate for share in rule.connection)
        if total > 1 + 1e-9:
            raise InvalidSettings(f"{where or 'faults'}: the error and connection rates add up to {total:g}; "
                                  "they are shares of one request and may add up to 1 at most")
        return rule

    def matches(self, flavour: str, operation: str) -> bool:
        return (self.flavour is None or self.flavour == flavour) and (
            self.operation is None or self.operation == operation)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.flavour is not None:
            body["flavour"] = self.flavour
        if self.operation is not None:
            body["operation"] = self.operation
        if self.latency is not None:
            body["latency"] = self.latency.as_json()
        if self.errors:
            body["errors"] = [share.as_json() for share in self.errors]
        if self.connection:
            body["connection"] = [share.as_json() for share in self.connection]
        return body


@dataclass(frozen=True)
class FaultProfile:
    """A seeded fault profile: the top level applies to every request, ``rules`` to the ones they match.

    Latency comes from the last matching rule that sets one (else the top level); errors and
    connection faults of the top level and of every matching rule are drawn together.
    """

    seed: int | None = None
    """Seed of the draws; ``None``: the dataset's seed."""
    base: FaultRule = field(default_factory=FaultRule)
    rules: tuple[FaultRule, ...] = ()

    @classmethod
    def read(cls, data: Any, where: str) -> FaultProfile:
        r = Reader(data, where)
        base = FaultRule.read(r.data, where, scoped=False)
        return cls(r.number("seed", None, high=2**63 - 1, integer=True), base,
                   tuple(FaultRule.read(item, at) for at, item in r.items("rules")))

    def as_json(self) -> dict[str, Any]:
        body = self.base.as_json()
        if self.seed is not None:
            body = {"seed": self.seed, **body}
        if self.rules:
            body["rules"] = [rule.as_json() for rule in self.rules]
        return body


class Decision(NamedTuple):
    delay_ms: float = 0.0
    status: int | None = None
    """An error status to answer instead of running the operation."""
    fault: str | None = None
    """A connection fault, one of :data:`CONNECTION_FAULTS`."""
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
