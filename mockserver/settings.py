"""Server settings: one dataclass built the same way from code, environment or CLI flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from mockserver.errors import InvalidSettings

__all__ = ["ENV_PREFIX", "Settings"]

ENV_PREFIX = "MOCKSERVER_"
MAX_COUNT = 900_000_000


def _as_bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise InvalidSettings(f"{name} must be true or false, got {raw!r}")


def _as_int(name: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise InvalidSettings(f"{name} must be an integer, got {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    """How a mock server runs.

    Every field can also come from an environment variable ``MOCKSERVER_<FIELD>``
    (``MOCKSERVER_SEED=7``); the CLI flags of ``mockserver serve`` set the same fields.
    """

    seed: int = 42
    """Seed of the dataset: the same seed gives byte-identical customers."""
    count: int = 1000
    """Customers in the base dataset (up to 900,000,000; memory does not grow with it)."""
    host: str = "127.0.0.1"
    """Interface to bind; the default keeps the mock private to this machine."""
    port: int = 8000
    workers: int = 2
    """gunicorn worker processes."""
    state: str | None = None
    """SQLite file for writes; survives restarts. ``None``: a temporary file."""
    token: str | None = None
    """If set, the only accepted API token; otherwise any non-empty token is accepted."""
    cors: bool = True
    """Answer CORS preflights and add CORS headers (for frontends on another port)."""
    flavour: str = "canonical"
    """The flavour also mounted at the root (every flavour is mounted under ``/<name>``)."""
    access_log: bool = False
    """Log every request (one line each) to standard error."""

    def __post_init__(self) -> None:
        if not 0 <= self.count <= MAX_COUNT:
            raise InvalidSettings(f"count must be between 0 and {MAX_COUNT}, got {self.count}")
        if not 0 <= self.port <= 65535:
            raise InvalidSettings(f"port must be between 0 and 65535, got {self.port}")
        if self.workers < 1:
            raise InvalidSettings(f"workers must be at least 1, got {self.workers}")
        if self.token is not None and not self.token.strip():
            raise InvalidSettings("token must not be empty (omit it to accept any token)")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``MOCKSERVER_*`` variables, then ``overrides``.

        Raises:
            InvalidSettings: a variable has an unusable value (the message names it).
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = ENV_PREFIX + f.name.upper()
            raw = environ.get(name)
            if raw is None:
                continue
            if f.type in ("int",):
                values[f.name] = _as_int(name, raw)
            elif f.type in ("bool",):
                values[f.name] = _as_bool(name, raw)
            else:
                values[f.name] = raw or None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        """The ``MOCKSERVER_*`` variables that rebuild these settings in another process."""
        env = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            env[ENV_PREFIX + f.name.upper()] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return env

    def replace(self, **changes: Any) -> Settings:
        return replace(self, **changes)
