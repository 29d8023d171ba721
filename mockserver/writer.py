"""Customer ``i`` written as canonical JSON: the hot path of every cold page.

This module is plain Python and runs as it is. When the package is installed, ``setup.py``
also compiles it with Cython in "pure Python mode": ``writer.pxd`` gives the 64-bit hash
arithmetic C types, so the compiled module does in machine words what CPython does with
three-digit big integers, and needs no eval loop. A page of random customers then costs
about half as many instructions (``bench/`` measures it). Python imports the compiled module
when it exists and this file otherwise; :data:`COMPILED` says which one runs.

The two must write the same bytes for every ``(seed, count, i)``:
``tests/mockserver/test_writer.py`` loads this file as pure Python next to the compiled
module and compares them. So keep the arithmetic well inside 64 bits (``count`` is at most
900,000,000; every product below is under 2**63) and never rely on C overflow except in the
SplitMix64 lines, where Python masks with ``MASK64`` and C wraps the same way.

Everything here is a pure function of the tables and numbers in :class:`Layout`, built once
per :class:`mockserver.dataset.Dataset`.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import NamedTuple

import orjson

__all__ = [
    "COMPILED",
    "CREATED_SCALE",
    "CREATED_SCALE_SQ",
    "EPOCH",
    "GOLDEN",
    "ID_BASE",
    "ID_SPAN",
    "MASK64",
    "NEED_ADDRESSES",
    "NEED_ALL",
    "NEED_EMAILS",
    "NEED_NOTES",
    "NEED_ORDERS",
    "NEED_PHONES",
    "NEED_TIMES",
    "ORDER_STATUSES",
    "PHONE_SPAN",
    "STATUS_PERIOD",
    "UPDATE_HORIZON",
    "Layout",
    "customer_json",
    "customer_json_fields",
    "mix",
    "pieces",
    "timestamp_text",
]

COMPILED = not __file__.endswith(".py")
"""Whether the Cython-compiled module is the one running."""

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
SPLITMIX_1 = 0xBF58476D1CE4E5B9
SPLITMIX_2 = 0x94D049BB133111EB

EPOCH = 1546300800
"""2019-01-01T00:00:00Z: the creation time of customer 0."""
CREATED_SCALE = 69120  # 0.8 day: created_at(i) = EPOCH + floor(CREATED_SCALE * sqrt(i))
CREATED_SCALE_SQ = CREATED_SCALE * CREATED_SCALE
UPDATE_HORIZON = 64  # updated_at(i) = created_at(i + k), 0 <= k <= UPDATE_HORIZON

ID_BASE = 100_000_000
ID_SPAN = 900_000_000  # ids are 9-digit numbers 100000000..999999999
PHONE_SPAN = 10_000_000
STATUS_PERIOD = 97

ORDER_STATUSES = ("completed", "completed", "completed", "active", "cancelled", "archived")

# Parts of a customer that cost real work, so that a projection can skip them (bit masks).
NEED_EMAILS, NEED_PHONES, NEED_ADDRESSES, NEED_ORDERS, NEED_NOTES, NEED_TIMES = 1, 2, 4, 8, 16, 32
NEED_ALL = 63

# The same numbers as C values for the compiled module (writer.pxd types these names).
_MASK64, _GOLDEN, _M1, _M2 = MASK64, GOLDEN, SPLITMIX_1, SPLITMIX_2
_ID_BASE, _ID_SPAN, _PHONE_SPAN, _EPOCH, _SCALE_SQ = ID_BASE, ID_SPAN, PHONE_SPAN, EPOCH, CREATED_SCALE_SQ
_HORIZON, _PERIOD = UPDATE_HORIZON, STATUS_PERIOD


def mix(x: int) -> int:
    """SplitMix64 finalizer: a well-spread 64-bit hash of a 64-bit integer."""
    x = ((x ^ (x >> 30)) * SPLITMIX_1) & MASK64
    x = ((x ^ (x >> 27)) * SPLITMIX_2) & MASK64
    return x ^ (x >> 31)


_TWO_DIGITS = tuple(f"{n:02d}" for n in range(100))
_THREE_DIGITS = tuple(f"{n:03d}" for n in range(1000))
_FOUR_DIGITS = tuple(f"{n:04d}" for n in range(10_000))
_CLOCK = tuple(f"T{h:02d}:{m:02d}:" for h in range(24) for m in range(60))
"""``"THH:MM:"`` of each minute of a day."""
_DAYS: dict[int, str] = {}


def timestamp_text(seconds: int) -> str:
    """RFC 3339 UTC with ``Z``, like ``format_timestamp`` but several times faster (tables; the
    date is cached per day)."""
    day = seconds // 86400
    rest = seconds - day * 86400
    date = _DAYS.get(day)
    if date is None:
        if len(_DAYS) > 8192:
            _DAYS.clear()
        date = _DAYS[day] = datetime.fromtimestamp(day * 86400, tz=UTC).strftime("%Y-%m-%d")
    return f"{date}{_CLOCK[rest // 60]}{_TWO_DIGITS[rest % 60]}Z"


class Layout(NamedTuple):
    """What :func:`pieces` needs of one dataset: its size, hash key, affine maps and the pool
    values as pre-escaped JSON fragments (see ``mockserver.dataset._json_tables``)."""

    size: int
    key: int
    id_mul: int
    id_add: int
    name_mul: int
    name_add: int
    combos: int
    first: list[str]
    last: list[str]
    first_slug: list[str]
    last_slug: list[str]
    countries: list[tuple[str, list[str], list[str], list[str]]]
    companies: list[tuple[str, str]]
    domains: list[str]
    notes: list[str]
    statuses: tuple[str, ...]
    phone_mul: int
    phone_add: int


def pieces(layout: tuple, i: int, need: int = NEED_ALL) -> tuple[str, ...]:  # type: ignore[type-arg]
    """The JSON text of customer ``i``'s members, unquoted where :func:`customer_json` quotes them.

    Members outside ``need`` (``NEED_*`` bits) are not built and come back empty.

    Raises:
        IndexError: ``i`` is outside ``0..size - 1``.
    """
    (size, key, id_mul, id_add, name_mul, name_add, combos, first_json, last_json, first_slugs, last_slugs,
     countries, companies, domains, notes_json, statuses, phone_mul, phone_add) = layout
    if not 0 <= i < size:
        raise IndexError(f"customer index {i} outside 0..{size - 1}")
    n = i  # a C integer in the compiled module, now that it is known to be in range
    cid = str(_ID_BASE + (n * id_mul + id_add) % _ID_SPAN)
    x = (key + n * _GOLDEN) & _MASK64
    # SplitMix64 (mix) written out at each use: a call costs as much as the arithmetic
    h1 = ((x ^ (x >> 30)) * _M1) & _MASK64
    h1 = ((h1 ^ (h1 >> 27)) * _M2) & _MASK64
    h1 ^= h1 >> 31
    h2 = h3 = 0
    if need & (NEED_PHONES | NEED_ADDRESSES):
        h2 = h1 ^ 0x2
        h2 = ((h2 ^ (h2 >> 30)) * _M1) & _MASK64
        h2 = ((h2 ^ (h2 >> 27)) * _M2) & _MASK64
        h2 ^= h2 >> 31
    if need & (NEED_ORDERS | NEED_NOTES):
        h3 = h1 ^ 0x3
        h3 = ((h3 ^ (h3 >> 30)) * _M1) & _MASK64
        h3 = ((h3 ^ (h3 >> 27)) * _M2) & _MASK64
        h3 ^= h3 >> 31
    combo = (n * name_mul + name_add) % combos
    last_count = len(last_json)
    first_idx = combo // last_count
    last_idx = combo - first_idx * last_count
    first, last = first_json[first_idx], last_json[last_idx]
    slug_first, slug_last = first_slugs[first_idx], last_slugs[last_idx]
    currency, phone_heads, billing_rows, shipping_rows = countries[h1 % 1000]
    company = companies[(h1 >> 10) % len(companies)] if (h1 >> 20) % 100 < 35 else None
    emails = phones = addresses = orders = notes = created = updated = ""
    if need & NEED_EMAILS:
        emails = (f'{{"id":"{cid}-e1","email":"{slug_first}{"._"[(h1 >> 31) & 1]}{slug_last}{i}@'
                  f'{domains[(h1 >> 27) % len(domains)]}","type":"primary"}}')
        if (h1 >> 32) % 100 < 40:
            if company is not None:
                emails += (f',{{"id":"{cid}-e2","email":"{slug_first[:1]}{slug_last}{i}@{company[1]}",'
                           f'"type":"work"}}')
            else:
                other = domains[(h1 >> 39) % len(domains)]
                emails += (f',{{"id":"{cid}-e2","email":"{slug_last}{slug_first[:1]}{i}@{other}",'
                           f'"type":"personal"}}')
    if need & NEED_PHONES:
        number = (n * phone_mul + phone_add) % _PHONE_SPAN
        high = number // 10_000
        low = number - high * 10_000
        phones = (f'{{"id":"{cid}-p1{phone_heads[(h2 >> 3) % len(phone_heads)]}{_THREE_DIGITS[high]}-'
                  f'{_FOUR_DIGITS[low]}","extension":null,"type":"mobile"}}')
        if h2 % 100 < 30:
            high2 = (high + _PHONE_SPAN // 20_000) % 1000  # the number plus PHONE_SPAN // 2
            extension = f'"{100 + (h2 >> 17) % 900}"' if (h2 >> 27) % 2 else "null"
            phones += (f',{{"id":"{cid}-p2{phone_heads[(h2 >> 11) % len(phone_heads)]}{_THREE_DIGITS[high2]}-'
                       f'{_FOUR_DIGITS[low]}","extension":{extension},"type":"work"}}')
    if need & NEED_ADDRESSES:
        addresses = f'{{"id":"{cid}-a1",{billing_rows[(h2 >> 28) % len(billing_rows)]}'
        if (h2 >> 35) % 100 < 50:
            addresses += f',{{"id":"{cid}-a2",{shipping_rows[(h2 >> 42) % len(shipping_rows)]}'
    if need & NEED_ORDERS:
        for k in range(1, (h3 % 7) // 2 + 1):  # 0..3 orders, mostly 0 or 1
            hn = h3 ^ k
            hn = ((hn ^ (hn >> 30)) * _M1) & _MASK64
            hn = ((hn ^ (hn >> 27)) * _M2) & _MASK64
            hn ^= hn >> 31
            cents = 999 + hn % 49_000
            orders += (f'{"," if k > 1 else ""}{{"id":"{cid}-o{k}","total":"{cents // 100}.'
                       f'{_TWO_DIGITS[cents % 100]}","status":"{ORDER_STATUSES[(hn >> 20) % len(ORDER_STATUSES)]}"}}')
    if need & NEED_NOTES:
        notes = notes_json[(h3 >> 8) % len(notes_json)] if (h3 >> 16) % 100 < 20 else "null"
    if need & NEED_TIMES:
        lag = x ^ 0xA11CE  # mockserver.dataset.Dataset.update_lag
        lag = ((lag ^ (lag >> 30)) * _M1) & _MASK64
        lag = ((lag ^ (lag >> 27)) * _M2) & _MASK64
        lag ^= lag >> 31
        lag = 0 if lag % 10 < 3 else 1 + (lag >> 8) % _HORIZON
        created = timestamp_text(_EPOCH + math.isqrt(_SCALE_SQ * n))
        updated = timestamp_text(_EPOCH + math.isqrt(_SCALE_SQ * (n + lag))) if lag else created
    return (cid, first, last, company[0] if company is not None else "null", statuses[n % _PERIOD],
            currency, emails, phones, addresses, orders, notes, created, updated)


def customer_json(layout: tuple, i: int) -> bytes:  # type: ignore[type-arg]
    """Customer ``i`` as canonical JSON, members in ``mockserver.dataset.CUSTOMER_KEYS`` order.

    Raises:
        IndexError: ``i`` is outside ``0..size - 1``.
    """
    (cid, first, last, company, status, currency, emails, phones, addresses, orders, notes, created,
     updated) = pieces(layout, i, NEED_ALL)
    return (f'{{"id":"{cid}","name":"{first} {last}","first_name":"{first}","last_name":"{last}",'
            f'"company_name":{company},"status":"{status}","currency":"{currency}",'
            f'"emails":[{emails}],"phone_numbers":[{phones}],"addresses":[{addresses}],'
            f'"orders":[{orders}],"notes":{notes},'
            f'"created_at":"{created}","updated_at":"{updated}"}}').encode()


def customer_json_fields(layout: tuple, i: int, need: int,  # type: ignore[type-arg]
                         members: list[tuple[int, str, tuple[str, ...] | None]]) -> bytes:
    """Customer ``i`` projected: only ``members`` (member index in ``CUSTOMER_KEYS`` order,
    ``"key":``, and the array items' keys to keep or ``None`` for the whole member), built from
    the ``need`` parts (``mockserver.dataset._projection_plan`` compiles both from ``fields``).

    Raises:
        IndexError: ``i`` is outside ``0..size - 1``.
    """
    (cid, first, last, company, status, currency, emails, phones, addresses, orders, notes, created,
     updated) = pieces(layout, i, need)
    values = (f'"{cid}"', f'"{first} {last}"', f'"{first}"', f'"{last}"', company, f'"{status}"',
              f'"{currency}"', f"[{emails}]", f"[{phones}]", f"[{addresses}]", f"[{orders}]", notes,
              f'"{created}"', f'"{updated}"')
    parts = []
    for index, prefix, keys in members:
        parts.append(f"{prefix}{values[index] if keys is None else project_items(values[index], keys)}")
    return f"{{{','.join(parts)}}}".encode()


def project_items(text: str, keys: tuple[str, ...]) -> str:
    """``text``, a JSON array of flat objects, with only ``keys`` in each (``keys`` in the objects'
    own order; an object without one of them leaves it out, as ``mockserver.fields.project`` does)."""
    return orjson.dumps([{key: item[key] for key in keys if key in item} for item in orjson.loads(text)]).decode()
