"""The immutable base dataset: customer ``i`` is a pure function of ``(seed, i)``.

Nothing here materializes the dataset: ``count`` may be 10,000,000 with the same memory
as 1,000. Every attribute that lists, sorts, filters or counts need is computed in O(1)
from ``i``, and is *structured* so that those operations never scan the whole dataset:

* ``created_at`` grows strictly with ``i`` (``EPOCH + floor(69120 * sqrt(i))`` seconds,
  so 10,000,000 customers span about seven years), hence "created order" is index order
  and ``created_since`` is a square root away.
* ``updated_at`` of ``i`` equals ``created_at`` of ``i + k`` for ``0 <= k <= 64``, so a
  walk in updated order only ever looks 64 customers ahead.
* the name is the ``(i * A + B) mod C``-th (first, last) combination of the sorted name
  pools: the customers with one name are an arithmetic progression, so walking in name
  order visits combinations in order, and a name filter counts combinations, not customers.
* ``status`` is ``archived`` for 9 of every 97 residues of ``i * A' + B'``, so counting
  archived customers in a range is arithmetic.
* ids, email addresses and phone numbers embed affine bijections of ``i``, so
  ``filter[customer_ids]``, ``filter[email]`` and ``filter[phone_number]`` invert to
  ``i`` directly.

Hashes are SplitMix64 over the integers ``seed`` and ``i``: nothing depends on Python's
``hash()``, dict order, the clock or the Faker installed (see ``mockserver.pools``).

A customer is *written* as canonical JSON (:meth:`Dataset.customer_json`, in
``mockserver.writer``, compiled at install) from pool values escaped once per process; its dict
form is parsed from those bytes, so the two can never disagree, and a cold page of the canonical
flavour builds no dicts at all.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

import mockserver.writer as _installed_writer
from mockserver.customer_json import (
    CUSTOMER_KEYS,
    ITEM_KEYS,
    json_tables,
    projection_plan,
    writer,
    writer_digest,
    writer_source,
)
from mockserver.fields import FieldSet
from mockserver.pools import load_pools
from mockserver.writer import (
    CREATED_SCALE_SQ,
    EPOCH,
    GOLDEN,
    ID_BASE,
    ID_SPAN,
    MASK64,
    PHONE_SPAN,
    STATUS_PERIOD,
    UPDATE_HORIZON,
    mix,
)

# NOTE: the writer in use and its input tables live in mockserver.customer_json; the names that
# were always imported from here still are.
__all__ = [
    "CUSTOMER_KEYS", "EPOCH", "ITEM_KEYS", "Dataset", "format_timestamp", "parse_timestamp", "writer",
    "writer_digest", "writer_source", "UPDATE_HORIZON"
]

_write_customer: Callable[[_installed_writer.Layout, int], bytes] = writer.customer_json
_write_projection: Callable[[_installed_writer.Layout, int, int, list[Any]], bytes] = writer.customer_json_fields

STATUS_ARCHIVED = 9  # residues out of STATUS_PERIOD that are archived (about 9 %)

CUSTOMER_CACHE = 128  # built customer dicts kept per process

# NOTE: re.ASCII: \d alone matches the digits of every script, and int() reads them all.
_EMAIL_INDEX = re.compile(r"^[a-z]+[._]?[a-z]*?(\d+)@", re.IGNORECASE | re.ASCII)
_DIGITS = re.compile(r"\D+", re.ASCII)


def _coprime(start: int, modulus: int) -> int:
    value = start % modulus or 1
    while math.gcd(value, modulus) != 1:
        value += 1
    return value


def format_timestamp(seconds: int) -> str:
    """RFC 3339 in UTC with a ``Z`` offset, second precision."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})")


def parse_timestamp(text: str) -> int:
    """Parse an RFC 3339 date-time (offset required, ``Z`` allowed) to UNIX seconds.

    Raises:
        ValueError: the text is not an RFC 3339 date-time with an offset.
    """
    if not _RFC3339.fullmatch(text):
        raise ValueError(f"{text!r} is not an RFC 3339 date-time with an offset")
    value = datetime.fromisoformat(text.upper())
    return math.floor(value.timestamp())



class Dataset:
    """``count`` deterministic customers for ``seed``, each computed on demand.

    Args:
        seed: any integer; the same seed always gives byte-identical customers.
        count: number of customers in the base dataset (0 to 900,000,000).

    Example:
        >>> ds = Dataset(seed=42, count=1000)
        >>> ds.customer(7)["id"] == ds.id_of(7)
        True
    """

    def __init__(self, seed: int = 42, count: int = 1000) -> None:
        if not 0 <= count <= ID_SPAN:
            raise ValueError(f"count must be between 0 and {ID_SPAN}, got {count}")
        self.seed = seed
        self.count = count
        pools = load_pools()
        self._first = pools["first_names"]
        self._last = pools["last_names"]
        self._country_names = {code: country["name"] for code, country in pools["countries"].items()}

        key = mix((seed * GOLDEN) & MASK64 ^ 0x5EED)
        self._key = key
        self.combos = len(self._first) * len(self._last)
        self._name_mul = _coprime(mix(key ^ 1) % self.combos, self.combos)
        self._name_add = mix(key ^ 2) % self.combos
        self._name_inv = pow(self._name_mul, -1, self.combos)
        self._id_mul = _coprime(mix(key ^ 3) % ID_SPAN | 1, ID_SPAN)
        self._id_add = mix(key ^ 4) % ID_SPAN
        self._id_inv = pow(self._id_mul, -1, ID_SPAN)
        self._phone_mul = _coprime(mix(key ^ 5) % PHONE_SPAN, PHONE_SPAN)
        self._phone_add = mix(key ^ 6) % PHONE_SPAN
        self._phone_inv = pow(self._phone_mul, -1, PHONE_SPAN)
        self._status_mul = _coprime(mix(key ^ 7) % STATUS_PERIOD, STATUS_PERIOD)
        self._status_add = mix(key ^ 8) % STATUS_PERIOD
        # prefix[j] = archived residues among i = 0..j-1 of any period
        prefix = [0]
        for j in range(STATUS_PERIOD):
            prefix.append(prefix[-1] + (self._archived_residue(j)))
        self._status_prefix = prefix
        self._statuses = tuple("archived" if self._archived_residue(j) else "active" for j in range(STATUS_PERIOD))
        tables = json_tables()
        self._layout = writer.Layout(
            count, key, self._id_mul, self._id_add, self._name_mul, self._name_add, self.combos, tables.first,
            tables.last, tables.first_slug, tables.last_slug, tables.countries, tables.companies, tables.domains,
            tables.notes, self._statuses, self._phone_mul, self._phone_add)
        self.fingerprint = f"{seed}:{count}"
        # PERF: served bytes are cached per flavour (resources.BytesCache); this holds the dicts a
        # page or a filter rebuilds across flavours. Kept small: ~3 KB per dict, per worker.
        self.customer = lru_cache(maxsize=CUSTOMER_CACHE)(self._build)
        self._matching: dict[str, list[int]] = {}

    # ---- cheap attributes (no customer is built) --------------------------------

    def id_of(self, i: int) -> str:
        return str(ID_BASE + (i * self._id_mul + self._id_add) % ID_SPAN)

    def ordinal_of(self, customer_id: str) -> int | None:
        """The ordinal an id was derived from, in or beyond the base range.

        Only ASCII digits make an id: ``str.isdigit`` also accepts the digits of other scripts
        (``３`` fullwidth, which ``int`` reads as 3, would alias a real customer) and superscripts
        (``²``, which ``int`` refuses).
        """
        if len(customer_id) != 9 or not customer_id.isascii() or not customer_id.isdigit() or customer_id[0] == "0":
            return None
        return ((int(customer_id) - ID_BASE - self._id_add) * self._id_inv) % ID_SPAN

    def index_of(self, customer_id: str) -> int | None:
        """The index of a base customer id, or ``None`` if no base customer has it."""
        i = self.ordinal_of(customer_id)
        return i if i is not None and i < self.count else None

    def created_of(self, i: int) -> int:
        return EPOCH + math.isqrt(CREATED_SCALE_SQ * i)

    def first_created_at_or_after(self, seconds: int) -> int:
        """Smallest ``i`` (possibly beyond ``count``) with ``created_of(i) >= seconds``."""
        offset = seconds - EPOCH
        if offset <= 0:
            return 0
        return -(-(offset * offset) // CREATED_SCALE_SQ)

    def update_lag(self, i: int) -> int:
        h = mix((self._key + i * GOLDEN) & MASK64 ^ 0xA11CE)
        return 0 if h % 10 < 3 else 1 + (h >> 8) % UPDATE_HORIZON

    def updated_of(self, i: int) -> int:
        return self.created_of(i + self.update_lag(i))

    def combo_of(self, i: int) -> int:
        return (i * self._name_mul + self._name_add) % self.combos

    def combo_name(self, combo: int) -> str:
        first, last = divmod(combo, len(self._last))
        return f"{self._first[first]} {self._last[last]}"

    def first_index_in_combo(self, combo: int) -> int:
        """The smallest ``i`` whose name is ``combo`` (the others follow every ``combos``)."""
        return ((combo - self._name_add) * self._name_inv) % self.combos

    def combo_at_or_after(self, name: str) -> int:
        """Smallest combination whose name sorts at or after ``name`` (``combos`` if none)."""
        lo, hi = 0, self.combos
        while lo < hi:
            mid = (lo + hi) // 2
            if self.combo_name(mid) < name:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def name_of(self, i: int) -> str:
        return self.combo_name(self.combo_of(i))

    def combos_matching(self, needle: str) -> list[int]:
        """The combinations (ascending) whose name contains ``needle``, case-insensitively.

        # PERF: a name search is a question about 109,461 combinations, not about every customer:
        # a needle without a space matches the first or the last name, so whole rows of
        # combinations are taken at once.
        """
        needle = needle.lower()
        cached = self._matching.get(needle)
        if cached is not None:
            return cached
        lasts = [name.lower() for name in self._last]
        every = len(lasts)
        last_hits = [j for j, last in enumerate(lasts) if needle in last]
        found: list[int] = []
        for f, first in enumerate(name.lower() for name in self._first):
            row = f * every
            if needle in first:
                found.extend(range(row, row + every))
            elif " " in needle:
                found.extend(row + j for j, last in enumerate(lasts) if needle in f"{first} {last}")
            else:
                found.extend(row + j for j in last_hits)
        if len(self._matching) >= 64:
            self._matching.pop(next(iter(self._matching)))
        self._matching[needle] = found
        return found

    def _archived_residue(self, j: int) -> int:
        return 1 if (j * self._status_mul + self._status_add) % STATUS_PERIOD < STATUS_ARCHIVED else 0

    def status_of(self, i: int) -> str:
        return "archived" if self._archived_residue(i % STATUS_PERIOD) else "active"

    def count_archived(self, start: int, stop: int) -> int:
        """Archived customers among indexes ``start <= i < stop``, in O(1)."""

        def below(n: int) -> int:
            full, rest = divmod(max(n, 0), STATUS_PERIOD)
            return full * self._status_prefix[-1] + self._status_prefix[rest]

        return below(stop) - below(start)

    # ---- inversions for filters ---------------------------------------------------

    def indexes_for_email(self, email: str) -> list[int]:
        """Base indexes whose generated emails could equal ``email`` (verify before use)."""
        match = _EMAIL_INDEX.match(email.strip())
        if not match:
            return []
        i = int(match.group(1))
        return [i] if i < self.count else []

    def indexes_for_phone(self, phone: str) -> list[int]:
        """Base indexes whose generated phones could match ``phone`` (verify before use)."""
        digits = _DIGITS.sub("", phone)
        if len(digits) < 7:
            return []
        number = int(digits[-7:])
        found: list[int] = []
        for offset in (0, PHONE_SPAN // 2):
            first = ((number - offset - self._phone_add) * self._phone_inv) % PHONE_SPAN
            found.extend(range(first, self.count, PHONE_SPAN))
        return sorted(set(found))

    # ---- the customer -------------------------------------------------------------

    def _phone(self, i: int, offset: int) -> str:
        n = ((i * self._phone_mul + self._phone_add) % PHONE_SPAN + offset) % PHONE_SPAN
        text = f"{n:07d}"
        return f"{text[:3]}-{text[3:]}"

    def _build(self, i: int) -> dict[str, Any]:
        """Customer ``i`` as a canonical dict, parsed from :meth:`customer_json` (one source of truth)."""
        record: dict[str, Any] = orjson.loads(self.customer_json(i))
        return record

    def customer_json(self, i: int) -> bytes:
        """Customer ``i`` as canonical JSON: exactly ``orjson.dumps(self.customer(i))``.

        # PERF: the hot path of every cold page (20 calls per page), in ``mockserver.writer``
        # (compiled when installed). The JSON is written directly from pre-escaped pool
        # fragments, several times faster than building dicts and serializing them; the dict
        # form is parsed from these bytes.

        Raises:
            IndexError: ``i`` is outside ``0..count - 1``.
        """
        return _write_customer(self._layout, i)

    def customer_json_fields(self, i: int, fields: FieldSet) -> bytes:
        """Customer ``i`` with a ``fields`` projection: exactly ``orjson.dumps(project(self.customer(i), fields))``.

        # PERF: only the selected members are written; a member selected in part (``emails.email``)
        # is the only part parsed back and projected, the rest of the customer never becomes a dict.
        """
        need, members = projection_plan(fields)
        return _write_projection(self._layout, i, need, members)

    def country_name(self, code: str) -> str | None:
        return self._country_names.get(code)

    # ---- ordered walks over base indexes ----------------------------------------

    def indexes_by_name(self, start_combo: int, reverse: bool = False) -> Iterator[int]:
        """Base indexes in (name, index) order from ``start_combo`` (inclusive)."""
        if not reverse:
            return self.indexes_of_combos(range(start_combo, self.combos))
        return self.indexes_of_combos(range(min(start_combo, self.combos - 1), -1, -1), reverse=True)

    def indexes_of_combos(self, combos: Iterable[int], reverse: bool = False) -> Iterator[int]:
        """Base indexes of each combination in turn, ascending (descending with ``reverse``)."""
        every, count = self.combos, self.count
        for combo in combos:
            first = self.first_index_in_combo(combo)
            if not reverse:
                yield from range(first, count, every)
            elif first < count:
                last = first + (count - 1 - first) // every * every
                yield from range(last, first - 1, -every)

    def combo_sizes_prefix(self) -> list[int]:
        """Number of customers in combinations before each combination (for offsets)."""
        return _combo_prefix(self)


@lru_cache(maxsize=4)
def _combo_prefix(dataset: Dataset) -> list[int]:
    sizes = [0]
    q, r = divmod(dataset.count, dataset.combos)
    for combo in range(dataset.combos):
        sizes.append(sizes[-1] + q + (1 if dataset.first_index_in_combo(combo) < r else 0))
    return sizes


def bisect_combo(prefix: list[int], offset: int) -> int:
    """The combination holding the ``offset``-th customer in name order."""
    return bisect_left(prefix, offset + 1) - 1
