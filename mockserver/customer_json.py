"""Customers as JSON: which writer runs, the pool fragments it writes from, the plans of projections.

:mod:`mockserver.writer` writes customer ``i`` as canonical JSON; :class:`mockserver.dataset.Dataset`
hands it a layout built from :func:`json_tables` (pool values escaped once per process) and, for a
``fields`` projection, a :func:`projection_plan`. The compiled writer runs only while it matches the
sources beside it (:func:`choose_writer`).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

import orjson

import mockserver.writer as _installed_writer
from mockserver.fields import FieldSet
from mockserver.pools import ascii_slug, load_pools
from mockserver.writer import (
    NEED_ADDRESSES,
    NEED_EMAILS,
    NEED_NOTES,
    NEED_ORDERS,
    NEED_PHONES,
    NEED_TIMES,
)

__all__ = ["CUSTOMER_KEYS", "ITEM_KEYS", "JsonTables", "Plan", "choose_writer", "json_tables", "projection_plan",
           "writer", "writer_digest", "writer_source"]

log = logging.getLogger("mockserver")


def writer_source() -> ModuleType:
    """``mockserver/writer.py`` run as plain Python, even where its compiled module is installed."""
    module = sys.modules.get("mockserver._writer_source")
    if module is None:
        path = Path(_installed_writer.__file__).with_name("writer.py")
        spec = importlib.util.spec_from_file_location("mockserver._writer_source", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return module


def writer_digest(folder: Path) -> str:
    """SHA-256 of ``writer.py`` and ``writer.pxd`` in ``folder`` (as ``setup.py`` stamps it at build)."""
    digest = hashlib.sha256()
    for name in ("writer.py", "writer.pxd"):
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


def choose_writer(installed: ModuleType) -> ModuleType:
    """The compiled writer, unless it was compiled from other sources than the ones beside it (an
    editable install being edited): then the source, so an edit takes effect before the next build."""
    if not installed.COMPILED:
        return installed
    folder = Path(installed.__file__).parent  # type: ignore[arg-type]
    with contextlib.suppress(OSError):
        if (folder / "writer.digest").read_text().strip() == writer_digest(folder):
            return installed
    log.warning("mockserver/writer.py or writer.pxd changed since the writer was compiled; running it "
                "as plain Python (slower) until `pip install -e .` compiles it again")
    return writer_source()


writer = choose_writer(_installed_writer)
"""The writer module in use: compiled, or its source (see ``mockserver.writer``)."""

CUSTOMER_KEYS = ("id", "name", "first_name", "last_name", "company_name", "status", "currency", "emails",
                 "phone_numbers", "addresses", "orders", "notes", "created_at", "updated_at")
"""The members of a base customer, in the order :meth:`Dataset.customer_json` writes them."""
ITEM_KEYS = {
    "emails": ("id", "email", "type"),
    "phone_numbers": ("id", "country_code", "area_code", "number", "extension", "type"),
    "addresses": ("id", "type", "line1", "line2", "city", "state", "postal_code", "country"),
    "orders": ("id", "total", "status"),
}
"""The keys of each array member's objects, in the order they are written."""

_NEEDS = {"emails": NEED_EMAILS, "phone_numbers": NEED_PHONES, "addresses": NEED_ADDRESSES, "orders": NEED_ORDERS,
          "notes": NEED_NOTES, "created_at": NEED_TIMES, "updated_at": NEED_TIMES}

Plan = tuple[int, list[tuple[int, str, "tuple[str, ...] | None"]]]
_PLANS: dict[int, tuple[FieldSet, Plan]] = {}


def projection_plan(fields: FieldSet) -> Plan:
    """What a ``fields`` projection needs built (``NEED_*`` mask), and (member index, ``"key":``,
    the selected item keys in written order, or ``None`` for the whole member) of each selected
    member, in member order.

    Cached by identity: ``parse_fields`` returns the same compiled object for the same text.
    """
    cached = _PLANS.get(id(fields))
    if cached is not None and cached[0] is fields:
        return cached[1]
    members = []
    for index, key in enumerate(CUSTOMER_KEYS):
        if key in fields:
            sub = fields[key]
            if sub is not None and any(value is not None for value in sub.values()):
                raise ValueError(f"{key}: customer items have no nested members to select")
            members.append((index, f'"{key}":', None if sub is None else tuple(k for k in ITEM_KEYS[key] if k in sub)))
    plan = (sum({_NEEDS[key] for key in fields if key in _NEEDS}), members)
    if len(_PLANS) > 256:
        _PLANS.clear()
    _PLANS[id(fields)] = (fields, plan)  # holds ``fields``, so its id cannot be reused meanwhile
    return plan


def _escaped(text: str) -> str:
    """The inside of ``text``'s JSON string, escaped exactly as orjson escapes it."""
    return orjson.dumps(text).decode()[1:-1]


class JsonTables(NamedTuple):
    first: list[str]
    last: list[str]
    first_slug: list[str]
    last_slug: list[str]
    companies: list[tuple[str, str]]
    """(``company_name`` value as JSON, escaped email domain)"""
    domains: list[str]
    notes: list[str]
    """``notes`` values as JSON"""
    countries: list[tuple[str, list[str], list[str], list[str]]]
    """1,000 slots weighted by country: its escaped currency; for each area code, a phone's members
    from the end of ``id`` to the start of ``number``; each address row as the members after ``id``
    (closing brace included), as billing and as shipping address."""


@lru_cache(maxsize=1)
def json_tables() -> JsonTables:
    """Pool values as pre-escaped JSON fragments, built once per process (they do not depend on the seed).

    JSON escaping works character by character, so a fragment concatenation escapes exactly
    like the concatenated text would: :meth:`Dataset.customer_json` relies on it.
    """
    pools = load_pools()
    countries: list[tuple[str, list[str], list[str], list[str]]] = []
    for code, country in pools["countries"].items():
        rows = [orjson.dumps({"line1": row["line1"], "line2": row["line2"], "city": row["city"],
                              "state": row["state"], "postal_code": row["postal_code"],
                              "country": code}).decode()[1:]
                for row in pools["addresses"][code]]
        dial = _escaped(country["dial"])
        heads = [f'","country_code":"{dial}","area_code":"{_escaped(area)}","number":"' for area in country["areas"]]
        entry = (_escaped(country["currency"]), heads, [f'"type":"billing",{row}' for row in rows],
                 [f'"type":"shipping",{row}' for row in rows])
        countries.extend([entry] * int(country["weight"]))
    if len(countries) != 1000:
        raise ValueError(f"country weights must sum to 1000, got {len(countries)}")
    return JsonTables(
        first=[_escaped(n) for n in pools["first_names"]],
        last=[_escaped(n) for n in pools["last_names"]],
        # ascii_slug keeps only a-z: nothing to escape
        first_slug=[ascii_slug(n) for n in pools["first_names"]],
        last_slug=[ascii_slug(n) for n in pools["last_names"]],
        companies=[(orjson.dumps(c["name"]).decode(), _escaped(c["domain"])) for c in pools["companies"]],
        domains=[_escaped(d) for d in pools["email_domains"]],
        notes=[orjson.dumps(n).decode() for n in pools["notes"]],
        countries=countries,
    )
