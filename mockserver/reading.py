"""Reading settings given as JSON or YAML mappings, with errors that name the key path.

Every way in (config file, admin API, flags) goes through :class:`Reader`, so a bad value is
reported the same way wherever it came from: ``faults.errors[1].rate: must be between 0 and 1``.
The config file adds the file and line to that path (:mod:`mockserver.config_file`).

Pure: no web framework, no flavour.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mockserver.errors import InvalidSettings

__all__ = ["Reader", "kind_of"]


class Reader:
    """Reads one mapping, naming ``where`` (``faults.errors[1]``) in every error it raises."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, Mapping):
            raise InvalidSettings(f"{where or 'the settings'}: must be a mapping (key: value), got {kind_of(data)}")
        self.data = data
        self.where = where

    def at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def only(self, *keys: str) -> None:
        unknown = [str(k) for k in self.data if k not in keys]
        if unknown:
            raise InvalidSettings(f"{self.at(unknown[0])}: unknown key; expected one of {', '.join(keys)}")

    def number(self, key: str, default: float | None = None, *, low: float = 0.0, high: float = math.inf,
               integer: bool = False) -> Any:
        if key in self.data and self.data[key] is None:
            raise InvalidSettings(f"{self.at(key)}: must be {'an integer' if integer else 'a number'}, got null "
                                  "(leave the key out for the default)")
        value = self.data.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
            raise InvalidSettings(f"{self.at(key)}: must be {'an integer' if integer else 'a number'}, "
                                  f"got {value!r}")
        if not low <= value <= high or (isinstance(value, float) and not math.isfinite(value)):
            raise InvalidSettings(f"{self.at(key)}: must be between {low:g} and {high:g}, got {value!r}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> Any:
        value = self.data.get(key, default)
        if value is None and key not in self.data:
            return None
        if value not in choices:
            raise InvalidSettings(f"{self.at(key)}: must be one of {', '.join(choices)}, got {value!r}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise InvalidSettings(f"{self.at(key)}: must be true or false, got {value!r}")
        return value

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        if key in self.data and (not isinstance(value, str) or not value):
            raise InvalidSettings(f"{self.at(key)}: must be a non-empty string, got {value!r}")
        return value

    def items(self, key: str) -> list[tuple[str, Any]]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise InvalidSettings(f"{self.at(key)}: must be a list, got {kind_of(value)}")
        return [(f"{self.at(key)}[{i}]", item) for i, item in enumerate(value)]

    def mapping(self, key: str) -> dict[str, Any]:
        value = {} if self.data.get(key) is None else self.data[key]
        if not isinstance(value, Mapping):
            raise InvalidSettings(f"{self.at(key)}: must be a mapping, got {kind_of(value)}")
        return dict(value)


def kind_of(value: Any) -> str:
    kinds: dict[type, str] = {list: "a list", dict: "a mapping", str: "a string"}
    return kinds.get(type(value), repr(value))
