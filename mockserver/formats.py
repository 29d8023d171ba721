"""Formats several platforms share: dates, phones, money, booleans and array parameters.

Pure functions (no web framework, no flavour): a dialect says which format it uses, and the
format itself is written once, here. Array query parameters (``a=x,y``, ``a=x&a=y``, ``a[]=``,
``a[0]=``) are :mod:`mockserver.array_params`, re-exported here.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Context, Decimal, localcontext
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from mockserver.array_params import array_items, array_key, array_text
from mockserver.dataset import format_timestamp, parse_timestamp

if TYPE_CHECKING:
    from mockserver.ratelimit import Usage

__all__ = [
    "ratelimit_headers",
    "MONEY_CONTEXT",
    "array_items",
    "array_key",
    "array_text",
    "format_timestamp",
    "local_timestamp",
    "millis",
    "money_number",
    "money_sum",
    "money_text",
    "parse_bool",
    "parse_timestamp",
    "phone_parts",
    "phone_text",
    "rfc3339_seconds",
    "utc_text",
]

# ---- dates -----------------------------------------------------------------------------------

_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))", re.ASCII)
_EPOCH_DAY = date(1970, 1, 1).toordinal()


def rfc3339_seconds(text: str) -> Fraction:
    """The exact UNIX time of an RFC 3339 ``date-time`` (offset required, leap second allowed).

    Raises:
        ValueError: not an RFC 3339 date-time, or not a real calendar date.
    """
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not an RFC 3339 date-time")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    if hour > 23 or minute > 59 or second > 60:
        raise ValueError(f"{text!r} has an out-of-range time")
    days = date(year, month, day).toordinal() - _EPOCH_DAY  # ValueError for impossible dates
    offset = 0
    if match.group(9):
        off_hour, off_minute = int(match.group(10)), int(match.group(11))
        if off_hour > 23 or off_minute > 59:
            raise ValueError(f"{text!r} has an out-of-range offset")
        offset = (off_hour * 3600 + off_minute * 60) * (1 if match.group(9) == "+" else -1)
    fraction = Fraction(match.group(7)) if match.group(7) else Fraction(0)
    return days * 86400 + hour * 3600 + minute * 60 + second + fraction - offset


def millis(timestamp: str | None) -> str | None:
    """``2020-09-30T07:43:32Z`` -> ``2020-09-30T07:43:32.000Z`` (dates with milliseconds)."""
    if timestamp is None or not timestamp.endswith("Z") or "." in timestamp:
        return timestamp
    return timestamp[:-1] + ".000Z"


def utc_text(rfc3339: str, pattern: str = "%Y-%m-%d %H:%M:%S +0000") -> str:
    """A canonical (UTC) timestamp written with a ``strftime`` pattern (default: Ecwid's dates)."""
    if pattern == "%Y-%m-%d %H:%M:%S +0000" and len(rfc3339) == 20 and rfc3339.endswith("Z"):
        return f"{rfc3339[:10]} {rfc3339[11:19]} +0000"  # PERF: the common case, without datetime
    return datetime.fromtimestamp(parse_timestamp(rfc3339), tz=UTC).strftime(pattern)


def local_timestamp(rfc3339: str, utc_offset_minutes: int) -> str:
    """A canonical timestamp as RFC 3339 in a fixed UTC offset (``2024-01-05T10:00:00-05:00``)."""
    zone = timezone(timedelta(minutes=utc_offset_minutes))
    return datetime.fromtimestamp(parse_timestamp(rfc3339), tz=zone).isoformat()


# ---- phones ----------------------------------------------------------------------------------


def phone_text(phone: dict[str, Any] | None, extension: str | None = None) -> str:
    """``+<country> <area> <number>`` of a canonical phone ("" for none), with its extension written
    as ``extension.format(ext)`` when a format is given (``" x{}"``, ``" ext. {}"``)."""
    if not phone:
        return ""
    parts = [f"+{phone['country_code']}" if phone.get("country_code") else "", phone.get("area_code") or "",
             phone.get("number") or ""]
    text = " ".join(p for p in parts if p)
    if extension is not None and phone.get("extension"):
        text += extension.format(phone["extension"])
    return text


_PHONE_TEXT = re.compile(r"\+([0-9]{1,4}) ([0-9]{1,6}) ([0-9-]+)(?: x([0-9]{1,8}))?", re.ASCII)


def phone_parts(text: str) -> dict[str, str | None]:
    """A phone written by ``phone_text(phone, " x{}")`` split back into canonical parts; text of any
    other shape is all ``number`` (stripped)."""
    match = _PHONE_TEXT.fullmatch(text.strip())
    if match is None:
        return {"country_code": None, "area_code": None, "number": text.strip(), "extension": None}
    return {"country_code": match[1], "area_code": match[2], "number": match[3], "extension": match[4]}


# ---- money -----------------------------------------------------------------------------------

MONEY_CONTEXT = Context(prec=400)
"""Exact for every sum the documents allow (20 orders of at most 255 characters each); the default
28-digit context raised InvalidOperation on a 29-digit total."""


def money_sum(totals: list[str]) -> Decimal:
    """The exact sum of decimal strings."""
    with localcontext(MONEY_CONTEXT):
        return sum((Decimal(t) for t in totals), Decimal(0))


def money_number(value: Decimal) -> float | int:
    """An amount as a JSON number, rounded to cents: an int when whole."""
    with localcontext(MONEY_CONTEXT):
        value = value.quantize(Decimal("0.01"))
    # NOTE: orjson writes integers up to 64 bits only; beyond 2**53 a float is as exact as JSON readers get.
    return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)


def money_text(value: Decimal) -> str:
    """An amount as a decimal string with two places (``"12.50"``)."""
    with localcontext(MONEY_CONTEXT):
        return str(value.quantize(Decimal("0.01")))


# ---- booleans --------------------------------------------------------------------------------


def parse_bool(raw: str) -> bool:
    """``true`` or ``false``, exactly.

    Raises:
        ValueError: any other text.
    """
    if raw not in ("true", "false"):
        raise ValueError(f"must be true or false, got {raw!r}")
    return raw == "true"


def ratelimit_headers(usage: Usage) -> dict[str, str]:
    """The IETF draft's ``RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (seconds) for a quota's usage."""
    return {"RateLimit-Limit": str(usage.limit), "RateLimit-Remaining": str(usage.remaining),
            "RateLimit-Reset": str(math.ceil(usage.reset_seconds))}
