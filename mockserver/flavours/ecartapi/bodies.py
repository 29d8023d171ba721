"""ecartAPI customer bodies: checked field by field, every problem named as ecartAPI names the field.

A body may be bare or wrapped as ``{"customer": {...}}``; ``id`` and ``dates`` are accepted and
ignored, other unknown fields are 422 (see the package docstring for the UNCONFIRMED choices).
"""

from __future__ import annotations

import re
from typing import Any

from mockserver.errors import InvalidBody, Problem, describe_problems
from mockserver.flavours.ecartapi.mapping import STATUS_IN
from mockserver.model import EMAIL_RE, NONBLANK_RE

__all__ = ["validate_input"]

TOP_KEYS = ("id", "dates", "email", "firstName", "lastName", "phone", "note", "currency", "status", "addresses")
ADDRESS_KEYS = ("id", "firstName", "lastName", "address1", "address2", "country", "state", "city", "postalCode",
                "phone", "company", "references", "defaultBilling", "defaultShipping")
PLACE_KEYS = ("code", "name", "codeIso2", "codeIso3")
# NOTE: matched with fullmatch (``$`` would accept a trailing newline the spec's patterns reject)
_CURRENCY_RE = re.compile(r"[A-Z]{3}")
_COUNTRY_RE = re.compile(r"[A-Za-z]{2}")
_PATTERN_WORDS = {
    EMAIL_RE: "must be an email address such as ada@example.com",
    _CURRENCY_RE: "must be a 3-letter ISO 4217 currency code, such as EUR",
    _COUNTRY_RE: "must be a 2-letter ISO 3166-1 country code, such as DE",
}
"""What each pattern asks for, in words (a message shows these, never the regex)."""


def _text(problems: list[Problem], path: str, value: Any, *, nullable: bool = True, max_length: int = 255,
          pattern: re.Pattern[str] | None = None, required: bool = False, nonblank: bool = False) -> None:
    if value is None:
        if not nullable:
            problems.append(Problem("body", path, "must not be null"))
    elif not isinstance(value, str):
        problems.append(Problem("body", path, "must be a string"))
    elif len(value) > max_length:
        problems.append(Problem("body", path, f"must be at most {max_length} characters"))
    elif nonblank and not NONBLANK_RE.search(value):
        problems.append(Problem("body", path, "must not be blank"))
    elif pattern is not None and not pattern.fullmatch(value):
        words = _PATTERN_WORDS.get(pattern, f"must match the pattern {pattern.pattern}")
        problems.append(Problem("body", path, words))


def _place_input(problems: list[Problem], path: str, value: Any, country: bool) -> None:
    code_pattern = _COUNTRY_RE if country else None
    if value is None or isinstance(value, str):
        _text(problems, path, value, pattern=code_pattern)
        return
    if not isinstance(value, dict):
        problems.append(Problem("body", path, "must be an object, a string or null"))
        return
    for key, item in value.items():
        if key not in PLACE_KEYS:
            problems.append(Problem("body", f"{path}.{key}", "is not a field of this object"))
        else:
            _text(problems, f"{path}.{key}", item, pattern=code_pattern if key in ("code", "codeIso2") else None)


def _flag(problems: list[Problem], path: str, value: Any) -> None:
    if value is not None and not isinstance(value, bool) and value not in ("true", "false"):
        problems.append(Problem("body", path, "must be a boolean, \"true\", \"false\" or null"))


def validate_input(body: Any, *, creating: bool) -> dict[str, Any]:
    """Check an ecartAPI customer body (bare or ``{"customer": {...}}``) and return the bare fields.

    Raises:
        InvalidBody: with one problem per offending field, named as ecartAPI names it.
    """
    if isinstance(body, dict) and set(body) == {"customer"} and isinstance(body["customer"], dict):
        body = body["customer"]
    if not isinstance(body, dict):
        raise InvalidBody("The request body must be a JSON object.",
                          problems=(Problem("body", "", "must be an object"),))
    problems: list[Problem] = [Problem("body", k, "is not a customer field") for k in body if k not in TOP_KEYS]
    for key in ("firstName", "lastName"):
        if creating and key not in body:
            problems.append(Problem("body", key, "is required"))
        elif key in body:
            _text(problems, key, body[key], nullable=not creating, nonblank=creating)
    if "email" in body:
        _text(problems, "email", body["email"], pattern=EMAIL_RE)
    if "phone" in body:
        _text(problems, "phone", body["phone"], nonblank=True)
    if "note" in body:
        _text(problems, "note", body["note"], max_length=10_000)
    if "currency" in body:
        _text(problems, "currency", body["currency"], pattern=_CURRENCY_RE)
    if "status" in body:
        status = body["status"]
        if isinstance(status, dict):
            extra = [k for k in status if k not in ("id", "status")]
            status = status.get("status") if not extra else None
        if not isinstance(status, str) or status not in STATUS_IN:
            problems.append(Problem("body", "status", "must be \"enabled\", \"disabled\" or {\"status\": ...}"))
    addresses = body.get("addresses", [])
    if not isinstance(addresses, list) or len(addresses) > 20:
        problems.append(Problem("body", "addresses", "must be an array of at most 20 addresses"))
        addresses = []
    for n, address in enumerate(addresses):
        path = f"addresses[{n}]"
        if not isinstance(address, dict):
            problems.append(Problem("body", path, "must be an object"))
            continue
        for key, value in address.items():
            where = f"{path}.{key}"
            if key not in ADDRESS_KEYS:
                problems.append(Problem("body", where, "is not a field of addresses"))
            elif key in ("country", "state"):
                _place_input(problems, where, value, key == "country")
            elif key in ("defaultBilling", "defaultShipping"):
                _flag(problems, where, value)
            else:
                _text(problems, where, value)
    if problems:
        raise InvalidBody(f"The customer is invalid: {describe_problems(problems)}.", problems=tuple(problems))
    return body
