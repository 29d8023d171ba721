"""``mockserver serve --config mock.yaml``: server settings and controls in one YAML file.

The file's top-level keys are the server settings (``seed``, ``count``, ``workers``... as the
``serve`` flags name them, with ``_`` for ``-``) and the controls (``tenants``, ``faults``,
``rate_limits``, ``prefer``, ``clock``; see :mod:`mockserver.controls`). ``mock.example.yaml`` at
the repository's root shows every key with a comment. A bad file stops the server before it
starts, with an error naming the file, the line and the key::

    mockserver: error: mock.yaml:12: faults.errors[0].rate: must be between 0 and 1, got 2

Precedence: command-line flags, then ``MOCKSERVER_*`` variables, then the file, then defaults.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import fields
from typing import Any

from mockserver.controls import Controls
from mockserver.errors import InvalidSettings
from mockserver.settings import Settings

__all__ = ["CONTROL_KEYS", "SETTING_KEYS", "initial_controls", "read_config"]

CONTROL_KEYS = ("tenants", "faults", "rate_limits", "prefer", "clock", "journal")
SETTING_KEYS = tuple(f.name for f in fields(Settings) if f.name not in ("config", "rate_limits", "prefer", "faults",
                                                                         "tenants", "token", "admin_token"))
"""Settings a file may hold. Tokens are left out on purpose: a config file is shared, committed, read."""


class _Located:
    """The parsed YAML document and the line of each key path (``faults.errors[0].rate`` -> 12)."""

    def __init__(self, path: str, text: str) -> None:
        import yaml

        self.path = path
        self.lines: dict[str, int] = {}
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            self.data = yaml.safe_load(text) if node is not None else {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark is not None else path
            raise InvalidSettings(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
        except RecursionError:
            raise InvalidSettings(f"{path}: nested too deeply to be a mockserver config file") from None
        self._walked: set[int] = set()
        if node is not None:
            self._walk(node, "")

    def _walk(self, node: Any, where: str) -> None:
        import yaml

        self.lines.setdefault(where, node.start_mark.line + 1)
        # NOTE: a node that aliases (``*name``) repeat is walked once: a node containing itself
        # recursed forever, and aliases of aliases took exponential time.
        if id(node) in self._walked:
            return
        self._walked.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                at = f"{where}.{key.value}" if where else str(key.value)
                self.lines[at] = key.start_mark.line + 1
                self._walk(value, at)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._walk(item, f"{where}[{i}]")

    def error(self, exc: InvalidSettings) -> InvalidSettings:
        """``exc`` with the file and the line of the key path its message starts with."""
        key = exc.detail.split(":", 1)[0]
        line = None
        while key and line is None:
            line = self.lines.get(key)
            key = re.sub(r"(\.[^.\[]*|\[\d+\])$", "", key) if line is None else key
        return InvalidSettings(f"{self.path}:{line or 1}: {exc.detail}")


def _load(path: str) -> _Located:
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidSettings(f"cannot read the config file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    located = _Located(path, text)
    if located.data is None:
        located.data = {}
    if not isinstance(located.data, dict):
        raise InvalidSettings(f"{path}:1: the config file must be a mapping of keys (seed: 7, faults: ...)")
    return located


def read_config(path: str, flavours: Mapping[str, Collection[str]] | None = None) -> dict[str, Any]:
    """The server settings a config file sets (its controls are checked too, and read by :func:`initial_controls`).

    Args:
        flavours: each flavour's operation names, when known: a flavour or operation the controls name
            must be one of them (a misspelt one would never apply).

    Raises:
        InvalidSettings: the file is unreadable, not YAML, or has an unknown key or a bad value
            (the message names the file, the line and the key).
    """
    located = _load(path)
    values: dict[str, Any] = {}
    for key, value in located.data.items():
        if key in CONTROL_KEYS:
            continue
        if key in ("token", "admin_token"):
            raise located.error(InvalidSettings(f"{key}: tokens do not belong in a config file (it is shared and "
                                                "committed); use MOCKSERVER_TOKEN / --token-file"))
        if key not in SETTING_KEYS:
            raise located.error(InvalidSettings(
                f"{key}: unknown key; settings: {', '.join(SETTING_KEYS)}; controls: {', '.join(CONTROL_KEYS)}"))
        values[key] = tuple(value) if key == "cors_origins" and isinstance(value, list) else value
    try:
        Settings(**values)
    except InvalidSettings as exc:
        raise InvalidSettings(f"{path}: {exc.detail}") from None
    except TypeError as exc:
        raise InvalidSettings(f"{path}: {exc}") from None
    _controls(located, flavours)
    return values


def _controls(located: _Located, flavours: Mapping[str, Collection[str]] | None = None) -> Controls:
    try:
        controls = Controls.from_mapping({k: v for k, v in located.data.items() if k in CONTROL_KEYS})
        if flavours is not None:
            controls.check_flavours(flavours)
        return controls
    except InvalidSettings as exc:
        raise located.error(exc) from None


def initial_controls(settings: Settings, flavours: Mapping[str, Collection[str]] | None = None) -> Controls:
    """The controls a server starts with: its config file's, then the flags (``tenants``, ``rate_limits``, ``prefer``)."""
    controls = _controls(_load(settings.config), flavours) if settings.config else Controls()
    flags: dict[str, Any] = {}
    if settings.tenants is not None:
        flags["tenants"] = {"mode": settings.tenants}
    if settings.rate_limits is not None:
        flags["rate_limits"] = {"enabled": settings.rate_limits,
                                "flavours": {k: dict(v) for k, v in controls.quotas.items()}}
    if settings.prefer is not None:
        flags["prefer"] = settings.prefer
    if settings.faults is not None:
        flags["faults"] = _fault_profile(settings.faults)
    if not flags:
        return controls
    controls = Controls.from_mapping(flags, base=controls)
    if flavours is not None:
        controls.check_flavours(flavours)
    return controls


def _fault_profile(given: str) -> Any:
    """``--faults``: a profile as YAML or JSON text, or ``@path`` of a file holding one."""
    import yaml

    text = given
    if given.startswith("@"):
        try:
            with open(given[1:], encoding="utf-8") as file:
                text = file.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidSettings(f"--faults: cannot read {given[1:]}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidSettings(f"--faults: not YAML or JSON: {getattr(exc, 'problem', None) or exc}") from None
