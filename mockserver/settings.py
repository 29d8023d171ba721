"""Server settings: one dataclass built the same way from code, environment or CLI flags."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from mockserver.errors import InvalidSettings

__all__ = ["ENV_PREFIX", "MAX_COUNT", "MAX_JOURNAL", "SERVERS", "Settings"]

ENV_PREFIX = "MOCKSERVER_"
MAX_COUNT = 900_000_000
MAX_JOURNAL = 10_000_000
SERVERS = ("gunicorn", "granian")
"""HTTP servers ``mockserver serve --server`` runs the app under (the first is the default)."""

_HTTP_URL = re.compile(r"https?://[^/?#\s]+(/[^?#\s]*)?")


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
    """Worker processes of the HTTP server."""
    state: str | None = None
    """SQLite file for writes; survives restarts. ``None``: a temporary file."""
    token: str | None = None
    """If set, the only accepted API token; otherwise any non-empty token is accepted."""
    cors: bool = True
    """Answer CORS preflights and add CORS headers for loopback origins and ``cors_origins``."""
    cors_origins: tuple[str, ...] = ()
    """Origins allowed besides ``http(s)://localhost``, ``127.0.0.1`` and ``[::1]`` on any port
    (exact, e.g. ``https://app.example.com``; ``*`` allows every origin)."""
    flavour: str = "canonical"
    """The flavour also mounted at the root (every flavour is mounted under ``/<name>``)."""
    access_log: bool = False
    """Log every request (one line each) to standard error."""
    public_url: str | None = None
    """Base URL clients reach the server at, for absolute links (``https://mock.example.com``);
    ``None``: the bound address. Links never come from the request's ``Host`` header."""
    allow_anyone: bool = False
    """Serve on a non-loopback ``host`` without a ``token`` (refused otherwise)."""
    admin_token: str | None = None
    """Token of the admin API (``/__admin/``) and of ``Prefer`` on a server with ``token``;
    ``None``: the API ``token``, else any non-empty token (loopback only)."""
    config: str | None = None
    """YAML file with settings, tenants, fault profiles and rate limits (``mockserver serve --config``)."""
    tenants: str | None = None
    """``shared`` (every tenant reads one dataset) or ``isolated`` (each its own); ``None``: the config
    file's choice, else ``shared``."""
    rate_limits: bool | None = None
    """Enforce each platform's rate-limit model; ``None``: the config file's choice, else off."""
    faults: str | None = None
    """A fault profile for every request (``--faults``): YAML or JSON text, or ``@path`` of a file; it
    replaces the config file's."""
    journal_size: int = 10_000
    """Requests the journal keeps (a ring shared by every worker: ``GET /__admin/requests``); 0 turns it off."""
    journal_body_bytes: int = 64 * 1024
    """Bytes of a request body the journal keeps (the rest is cut, ``body_truncated``)."""
    prefer: bool | None = None
    """Honour ``Prefer: code=/delay=/fault=`` request headers; ``None``: the config file's choice, else on."""
    server: str = "gunicorn"
    """The HTTP server: ``gunicorn`` (gevent workers) or ``granian`` (Rust, WSGI threads; the ``granian`` extra)."""

    def __post_init__(self) -> None:
        if not 0 <= self.count <= MAX_COUNT:
            raise InvalidSettings(f"count must be between 0 and {MAX_COUNT}, got {self.count}")
        if not 0 <= self.port <= 65535:
            raise InvalidSettings(f"port must be between 0 and 65535, got {self.port}")
        if self.workers < 1:
            raise InvalidSettings(f"workers must be at least 1, got {self.workers}")
        if self.token is not None and not self.token.strip():
            raise InvalidSettings("token must not be empty (omit it to accept any token)")
        if self.admin_token is not None and not self.admin_token.strip():
            raise InvalidSettings("admin token must not be empty (omit it to use the API token)")
        if not 0 <= self.journal_size <= MAX_JOURNAL:
            raise InvalidSettings(f"journal size must be between 0 (off) and {MAX_JOURNAL}, got {self.journal_size}")
        if not 0 <= self.journal_body_bytes <= 1 << 24:
            raise InvalidSettings(f"journal body bytes must be between 0 and {1 << 24}, got {self.journal_body_bytes}")
        if self.tenants is not None and self.tenants not in ("shared", "isolated"):
            raise InvalidSettings(f"tenants must be shared or isolated, got {self.tenants!r}")
        if self.server not in SERVERS:
            raise InvalidSettings(f"server must be one of {', '.join(SERVERS)}, got {self.server!r}")
        if self.public_url is not None and not _HTTP_URL.fullmatch(self.public_url):
            raise InvalidSettings(f"public URL must be an absolute http(s) URL without query, like "
                                  f"https://mock.example.com, got {self.public_url!r}")
        if not isinstance(self.cors_origins, tuple):  # a list from code or argparse
            object.__setattr__(self, "cors_origins", tuple(self.cors_origins))

    @property
    def base_url(self) -> str:
        """Where clients reach the server: ``public_url``, else the bound address (no trailing ``/``)."""
        if self.public_url is not None:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

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
            elif f.type in ("bool", "bool | None"):
                values[f.name] = _as_bool(name, raw)
            elif str(f.type).startswith("tuple"):
                values[f.name] = tuple(part for part in raw.replace(",", " ").split() if part)
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
            if isinstance(value, tuple):
                value = ",".join(value)
            env[ENV_PREFIX + f.name.upper()] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return env

    def replace(self, **changes: Any) -> Settings:
        return replace(self, **changes)
