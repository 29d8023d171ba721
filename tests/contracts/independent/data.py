"""The independent server's own customers: random.Random(seed) draws, UUID ids, 2021 timestamps.

Nothing here follows the mock's generator: other names, other id format, other nested ids,
another epoch, ties in ``created_at`` on purpose (the contract's tie-break must hold).
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["TOP_FIELDS", "customers", "stamp"]

TOP_FIELDS = ("id", "name", "first_name", "last_name", "company_name", "status", "currency", "emails",
              "phone_numbers", "addresses", "orders", "notes", "created_at", "updated_at")
"""The properties of ``Customer`` in the contract's order (the full record's key order)."""

_FIRST = ["Åsa", "Bruno", "Chiara", "Dmitri", "Eun-ji", "Farah", "Gösta", "Hana", "Ibrahim", "Jo", "Kai", "Zoë"]
_LAST = ["Ólafsson", "Bianchi", "Nakamura", "Okafor", "Lindqvist", "Moreau", "Novak", "Quispe", "Rossi", "Yilmaz"]
_COMPANIES = [None, "Nordlicht GmbH", "Tanaka & Sons", "Acme, Inc.", "Société Générale des Tests"]
_DOMAINS = ["example.org", "mail.test", "shop.example"]
_EPOCH = datetime(2021, 6, 1, 8, 30, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    """RFC 3339, UTC, ``Z``, second precision (the contract's timestamp format)."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def customers(seed: int, count: int) -> list[dict[str, Any]]:
    """``count`` customers drawn from ``seed`` (in creation order)."""
    rng = random.Random(seed)
    moment = _EPOCH
    out = []
    for n in range(count):
        moment += timedelta(seconds=rng.choice([0, 0, 7, 3600, 86_400, rng.randint(1, 500_000)]))
        first, last = rng.choice(_FIRST + [None]), rng.choice(_LAST)
        local = f"{(first or 'x').lower()}.{last.lower()}{rng.randint(1, 30)}".encode("ascii", "ignore").decode()
        emails = [{"id": f"em_{k}", "email": f"{local}@{rng.choice(_DOMAINS)}" if k == 0 else
                   f"{rng.choice(['info', 'sales', 'hello'])}@{rng.choice(_DOMAINS)}",
                   "type": rng.choice(["primary", "work", "personal", None])} for k in range(rng.randint(0, 3))]
        phones = [{"id": f"ph_{k}", "country_code": rng.choice(["1", "44", "49", None]),
                   "area_code": str(rng.randint(200, 989)), "number": f"{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}",
                   "extension": rng.choice([None, None, "12"]), "type": rng.choice(["mobile", "work", None])}
                  for k in range(rng.randint(0, 2))]
        addresses = [{"id": f"ad_{k}", "type": rng.choice(["billing", "shipping", "other"]),
                      "line1": f"{rng.randint(1, 999)} {rng.choice(['Elm', 'Oak', 'Birch'])} Street",
                      "line2": rng.choice([None, "Floor 2"]), "city": rng.choice(["Reykjavík", "Lyon", "Osaka"]),
                      "state": rng.choice([None, "CA"]), "postal_code": str(rng.randint(10000, 99999)),
                      "country": rng.choice(["IS", "FR", "JP", "US"])} for k in range(rng.randint(0, 2))]
        orders = [{"id": f"ord_{_uuid(rng)[:8]}", "total": f"{rng.randint(-500, 90_000) / 100:.2f}",
                   "status": rng.choice(["completed", "active", "cancelled", None])} for _ in range(rng.randint(0, 3))]
        updated = moment + timedelta(seconds=rng.choice([0, rng.randint(1, 2_000_000)]))
        out.append({
            "id": _uuid(rng),
            "name": None if first is None and rng.random() < 0.5 else " ".join(p for p in (first, last) if p),
            "first_name": first, "last_name": last, "company_name": rng.choice(_COMPANIES),
            "status": "archived" if rng.random() < 0.3 else "active",
            "currency": rng.choice(["EUR", "JPY", "ISK", None]),
            "emails": emails, "phone_numbers": phones, "addresses": addresses, "orders": orders,
            "notes": rng.choice([None, "VIP", "Call before delivery."]),
            "created_at": stamp(moment), "updated_at": stamp(updated),
        })
    return out
