"""What the unhappy-path stages obey: tenants, connection states, fault profiles, rate limits, clock.

The fault profile model lives in :mod:`mockserver.faults`, beside the draws made from it.

One model, three ways in: the config file (``mockserver serve --config``, see
:mod:`mockserver.config_file`), CLI flags / ``MOCKSERVER_*`` (the common cases, folded in by
:meth:`Controls.from_settings`), and the admin API at run time. Every way goes through
:meth:`Controls.from_mapping`, so one validator names the offending key (``faults.errors[1].rate``)
wherever a value came from. The shared store (:mod:`mockserver.shared`) holds the current
:class:`Controls` as JSON, so every worker sees an admin change on its next request.

Pure: no web framework, no flavour.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mockserver.errors import InvalidSettings
from mockserver.faults import FaultProfile
from mockserver.reading import Reader

__all__ = [
    "CONNECTION_STATES", "MAX_TENANT_ID", "TENANT_MODES", "Controls", "Quota", "TenantControls", "check_tenant_id"
]

TENANT_MODES = ("shared", "isolated")
CONNECTION_STATES = ("ok", "unauthorized", "disabled", "not_found", "downstream_error")
MAX_TENANT_ID = 200


@dataclass(frozen=True)
class Quota:
    """A rate limit: ``window`` (``limit`` requests per ``seconds``, fixed windows) or ``bucket``
    (a leaky bucket of ``limit`` requests leaking ``leak_per_second``)."""

    kind: str
    limit: int
    seconds: float = 60.0
    leak_per_second: float = 0.0

    @classmethod
    def read(cls, data: Any, where: str, default: Quota | None = None) -> Quota:
        r = Reader(data, where)
        r.only("model", "limit", "seconds", "leak_per_second")
        base = default or cls("window", 100, 60.0)
        kind = r.choice("model", ("window", "bucket"), base.kind)
        quota = cls(kind, r.number("limit", base.limit, low=1, high=10**9, integer=True),
                    float(r.number("seconds", base.seconds, low=0.001, high=86_400)),
                    float(r.number("leak_per_second", base.leak_per_second, high=10**6)))
        if "leak_per_second" in r.data and quota.leak_per_second <= 0:
            # NOTE: checked even for a window: the override may later apply over a flavour's bucket
            raise InvalidSettings(f"{r.at('leak_per_second')}: must be a positive number, got {quota.leak_per_second:g}")
        if kind == "bucket" and quota.leak_per_second <= 0:
            raise InvalidSettings(f"{r.at('leak_per_second')}: a bucket must leak (a positive number)")
        return quota

    def as_json(self) -> dict[str, Any]:
        if self.kind == "bucket":
            return {"model": "bucket", "limit": self.limit, "leak_per_second": self.leak_per_second}
        return {"model": "window", "limit": self.limit, "seconds": self.seconds}


@dataclass(frozen=True)
class TenantControls:
    """One tenant's settings: its data ``mode`` and ``count`` (``None``: the server's), its
    connection ``state``, and its own fault profile (replacing the server's for its requests)."""

    mode: str | None = None
    count: int | None = None
    state: str = "ok"
    faults: FaultProfile | None = None

    @classmethod
    def read(cls, data: Any, where: str) -> TenantControls:
        r = Reader(data if data is not None else {}, where)
        r.only("mode", "count", "state", "faults")
        faults = r.data.get("faults")
        from mockserver.settings import MAX_COUNT

        return cls(r.choice("mode", TENANT_MODES), r.number("count", None, high=MAX_COUNT, integer=True),
                   r.choice("state", CONNECTION_STATES, "ok"),
                   None if faults is None else FaultProfile.read(faults, r.at("faults")))

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"state": self.state}
        if self.mode is not None:
            body["mode"] = self.mode
        if self.count is not None:
            body["count"] = self.count
        if self.faults is not None:
            body["faults"] = self.faults.as_json()
        return body


def check_tenant_id(tenant: Any, where: str) -> str:
    # NOTE: the rule admin.yaml's TenantId pattern states; "/" cannot be addressed in /__admin/tenants/{tenant}
    if (not isinstance(tenant, str) or not tenant or len(tenant) > MAX_TENANT_ID or "/" in tenant
            or any(unicodedata.category(c) == "Cc" for c in tenant)):
        raise InvalidSettings(f"{where}: a tenant id is 1 to {MAX_TENANT_ID} characters, none a control "
                              f"character or /, got {tenant!r}")
    return tenant


@dataclass(frozen=True)
class Controls:
    """Everything the unhappy-path stages read, as one immutable snapshot."""

    tenants_mode: str = "shared"
    tenants: Mapping[str, TenantControls] = field(default_factory=dict)
    faults: FaultProfile | None = None
    rate_limits: bool = False
    quotas: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Per flavour, the quota keys that differ from the flavour's own model (see :class:`Quota`)."""
    prefer: bool = True
    clock_offset: float = 0.0
    """Seconds added to the real clock (rate-limit windows and buckets run on it)."""
    clock_frozen: float | None = None
    """When set, the clock stands still at this Unix time (plus nothing)."""
    journal_responses: bool = False
    """The request journal keeps each answer's headers and body too (``journal.responses``)."""
    journal_response_bytes: int = 1 << 20
    """Bytes of an answer's body the journal keeps (``journal.max_response_bytes``)."""

    # ---- reading ---------------------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, data: Any, where: str = "", base: Controls | None = None) -> Controls:
        """Controls from their JSON/YAML form; keys left out keep ``base``'s values.

        Raises:
            InvalidSettings: naming the key path of the first bad value.
        """
        base = base or cls()
        r = Reader(data, where)
        r.only("tenants", "faults", "rate_limits", "prefer", "clock", "journal")
        changes: dict[str, Any] = {}
        if "tenants" in r.data:
            t = Reader(_or_empty(r.data["tenants"]), r.at("tenants"))
            t.only("mode", "accounts")
            changes["tenants_mode"] = t.choice("mode", TENANT_MODES, base.tenants_mode)
            if "accounts" in t.data:
                changes["tenants"] = {check_tenant_id(k, t.at("accounts")): TenantControls.read(v, t.at(f"accounts.{k}"))
                                      for k, v in t.mapping("accounts").items()}
        if "faults" in r.data:
            raw = r.data["faults"]
            changes["faults"] = None if raw is None else FaultProfile.read(raw, r.at("faults"))
        if "rate_limits" in r.data:
            changes.update(_read_rate_limits(r.data["rate_limits"], r.at("rate_limits")))
        if "prefer" in r.data:
            changes["prefer"] = r.flag("prefer", base.prefer)
        if "clock" in r.data:
            c = Reader(_or_empty(r.data["clock"]), r.at("clock"))
            c.only("offset_seconds", "frozen_at")
            changes["clock_offset"] = float(c.number("offset_seconds", 0, low=-10**10, high=10**10))
            frozen = c.number("frozen_at", None, high=10**11)
            changes["clock_frozen"] = None if frozen is None else float(frozen)
        if "journal" in r.data:
            j = Reader(_or_empty(r.data["journal"]), r.at("journal"))
            j.only("responses", "max_response_bytes")
            changes["journal_responses"] = j.flag("responses", base.journal_responses)
            changes["journal_response_bytes"] = j.number("max_response_bytes", base.journal_response_bytes, low=0,
                                                         high=1 << 24, integer=True)
        return replace(base, **changes)

    def as_json(self) -> dict[str, Any]:
        """The form :meth:`from_mapping` reads (and ``GET /__admin/config`` shows)."""
        return {
            "tenants": {"mode": self.tenants_mode,
                        "accounts": {k: v.as_json() for k, v in sorted(self.tenants.items())}},
            "faults": None if self.faults is None else self.faults.as_json(),
            "rate_limits": {"enabled": self.rate_limits, "flavours": {k: dict(v) for k, v in sorted(self.quotas.items())}},
            "prefer": self.prefer,
            "clock": {"offset_seconds": self.clock_offset,
                      **({} if self.clock_frozen is None else {"frozen_at": self.clock_frozen})},
            "journal": {"responses": self.journal_responses, "max_response_bytes": self.journal_response_bytes},
        }

    def __post_init__(self) -> None:
        # PERF: asked on every request; computed once per snapshot
        object.__setattr__(self, "quiet", not self.rate_limits and self.faults is None
                           and all(t.state == "ok" and t.faults is None for t in self.tenants.values()))
        object.__setattr__(self, "one_dataset", self.tenants_mode == "shared"
                           and all(t.mode != "isolated" for t in self.tenants.values()))

    quiet: bool = field(init=False, repr=False, compare=False)
    """Nothing to do for any request but a ``Prefer`` one: the stages return at once."""
    one_dataset: bool = field(init=False, repr=False, compare=False)
    """Every tenant reads the shared dataset."""

    # ---- questions the stages ask ----------------------------------------------------------------

    def tenant(self, tenant: str) -> TenantControls | None:
        return self.tenants.get(tenant)

    def isolated(self, tenant: str) -> bool:
        own = self.tenants.get(tenant)
        mode = own.mode if own is not None and own.mode is not None else self.tenants_mode
        return mode == "isolated"

    def faults_for(self, tenant: str) -> FaultProfile | None:
        own = self.tenants.get(tenant)
        return own.faults if own is not None and own.faults is not None else self.faults

    def quota(self, flavour: str, default: Quota) -> Quota:
        override = self.quotas.get(flavour)
        return default if not override else Quota.read(override, f"rate_limits.flavours.{flavour}", default)

    def now(self, real: float) -> float:
        return self.clock_frozen if self.clock_frozen is not None else real + self.clock_offset

    def with_tenant(self, tenant: str, data: Any) -> Controls:
        where = f"tenants.accounts.{tenant}"
        accounts = dict(self.tenants)
        accounts[check_tenant_id(tenant, where)] = TenantControls.read(data, where)
        return replace(self, tenants=accounts)

    def without_tenant(self, tenant: str) -> Controls:
        return replace(self, tenants={k: v for k, v in self.tenants.items() if k != tenant})

    def check_flavours(self, known: Mapping[str, Collection[str]]) -> None:
        """Refuse a flavour or operation name that is not ``known`` (flavour -> its operations' names):
        a misspelt one would silently never apply.

        Raises:
            InvalidSettings: naming the key path of the first unknown name.
        """
        flavours = ", ".join(sorted(known))
        for name in self.quotas:
            if name not in known:
                raise InvalidSettings(f"rate_limits.flavours.{name}: unknown flavour {name!r}; flavours: {flavours}")
        profiles = [("faults", self.faults), *((f"tenants.accounts.{t}.faults", c.faults) for t, c in self.tenants.items())]
        for where, profile in profiles:
            for i, rule in enumerate(profile.rules if profile is not None else ()):
                at = f"{where}.rules[{i}]"
                if rule.flavour is not None and rule.flavour not in known:
                    raise InvalidSettings(f"{at}.flavour: unknown flavour {rule.flavour!r}; flavours: {flavours}")
                operations = known[rule.flavour] if rule.flavour is not None else {o for ops in known.values() for o in ops}
                if rule.operation is not None and rule.operation not in operations:
                    raise InvalidSettings(f"{at}.operation: unknown operation {rule.operation!r}"
                                          f"{'' if rule.flavour is None else ' of ' + rule.flavour}; "
                                          f"operations: {', '.join(sorted(operations))}")

def _read_rate_limits(data: Any, where: str) -> dict[str, Any]:
    if isinstance(data, bool):  # ``rate_limits: true`` turns every flavour's own model on
        return {"rate_limits": data}
    if data is None:
        raise InvalidSettings(f"{where}: must be true, false or a mapping (enabled, flavours), got null")
    r = Reader(data, where)
    r.only("enabled", "flavours")
    changes: dict[str, Any] = {"rate_limits": r.flag("enabled", True)}
    if "flavours" in r.data:  # left out: the quotas stay as they are
        quotas = {}
        for name, quota in r.mapping("flavours").items():
            # checked now (against a leaking stand-in), applied over the flavour's own model per request
            where = f"{r.at('flavours')}.{name}"
            Quota.read(quota, where, Quota("window", 100, 60.0, 1.0))
            if isinstance(quota, Mapping) and quota.get("model") == "bucket" and quota.get("leak_per_second") is None:
                # a window flavour's own model does not leak: the override must say how fast
                raise InvalidSettings(f"{where}.leak_per_second: required with model: bucket (requests per second)")
            quotas[str(name)] = dict(quota)
        changes["quotas"] = quotas
    return changes


def _or_empty(data: Any) -> Any:
    """``None`` (a YAML key with nothing after it) reads as an empty mapping; ``0`` or ``""`` do not."""
    return {} if data is None else data
