"""The canonical customer record: its field paths, enums and write validation.

Every flavour maps *from* this record (reads) and *to* its writable fields (writes), so
it is the contract between the dataset, the overlay and the flavours. It mirrors the
``Customer`` and ``CustomerInput`` schemas of ``openapi.yaml``.
"""

from __future__ import annotations

import re
from typing import Any

from mockserver.errors import InvalidBody, Problem, describe_problems

__all__ = [
    "ADDRESS_TYPES", "CUSTOMER_PATHS", "EMAIL_PATTERN", "EMAIL_RE", "EMAIL_TYPES", "NONBLANK_PATTERN",
    "NONBLANK_RE", "ORDER_STATUSES", "PHONE_TYPES", "STATUSES", "TOTAL_PATTERN", "WHITESPACE",
    "validate_customer_input", "ITEMS_MAX", "NAME_MAX", "NOTES_MAX"
]

STATUSES = ("active", "archived")
EMAIL_TYPES = ("primary", "secondary", "work", "personal", "billing", "other")
PHONE_TYPES = ("primary", "secondary", "home", "work", "office", "mobile", "assistant", "fax", "direct-dial-in",
               "personal", "billing", "other")
ADDRESS_TYPES = ("billing", "shipping", "other")
ORDER_STATUSES = ("active", "completed", "cancelled", "archived", "unknown", "other")

_NESTED: dict[str, tuple[str, ...]] = {
    "emails": ("id", "email", "type"),
    "phone_numbers": ("id", "country_code", "area_code", "number", "extension", "type"),
    "addresses": ("id", "type", "line1", "line2", "city", "state", "postal_code", "country"),
    "orders": ("id", "total", "status"),
}
_TOP = ("id", "name", "first_name", "last_name", "company_name", "status", "currency", "emails", "phone_numbers",
        "addresses", "orders", "notes", "created_at", "updated_at")

CUSTOMER_PATHS: frozenset[str] = frozenset(
    list(_TOP) + [f"{parent}.{child}" for parent, children in _NESTED.items() for child in children]
)
"""Every valid ``fields`` path of the canonical customer."""

READ_ONLY = ("id", "created_at", "updated_at")
# NOTE: a JSON Schema `pattern` is ECMA-262, which reads `\s`, `\S` and `\d` differently from `re`
# (U+001C-U+001F, U+0085, U+FEFF, non-ASCII digits). The patterns below spell every class out, mean
# the same in both, and are the exact `pattern` text of every document that validates these values
# (tests/mockserver/test_patterns.py compares them).
WHITESPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
"""The characters ``re``'s ``\\s`` and ``str.strip()`` treat as whitespace, as a character-class body."""
NONBLANK_PATTERN = f"[^{WHITESPACE}]"
"""A string holding a non-whitespace character (searched, not matched in full)."""
EMAIL_PATTERN = f"^[^@{WHITESPACE}]+@[^@{WHITESPACE}]+\\.[^@{WHITESPACE}]+$"
"""``local@domain.tld``: no whitespace, exactly one ``@``, a dot after it."""
TOTAL_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"
"""An order total: a decimal string with exactly two decimals, optionally negative."""
NONBLANK_RE = re.compile(NONBLANK_PATTERN)
EMAIL_RE = re.compile(EMAIL_PATTERN)
"""Use with ``fullmatch``: ``$`` alone would also accept a trailing newline, which ECMA-262 does not."""
_CURRENCY_RE = re.compile(r"[A-Z]{3}")
_TOTAL_RE = re.compile(TOTAL_PATTERN)
_COUNTRY_RE = re.compile(r"[A-Z]{2}")
_ENUMS = {
    ("emails", "type"): EMAIL_TYPES,
    ("phone_numbers", "type"): PHONE_TYPES,
    ("addresses", "type"): ADDRESS_TYPES,
    ("orders", "status"): ORDER_STATUSES,
}
_REQUIRED_NESTED = {"emails": ("email",), "phone_numbers": ("number",), "orders": ("id", "total")}
PATTERN_WORDS = {
    EMAIL_RE: "must be an email address such as ada@example.com",
    _CURRENCY_RE: "must be a 3-letter ISO 4217 currency code in capitals, such as EUR",
    _TOTAL_RE: 'must be a decimal amount with exactly 2 decimals, such as "10.00"',
    _COUNTRY_RE: "must be a 2-letter ISO 3166-1 country code in capitals, such as DE",
}
"""What each pattern asks for, in words (a message shows these, never the regex)."""
NAME_MAX = 255
NOTES_MAX = 10_000
ITEMS_MAX = 20


def _problem(path: str, detail: str) -> Problem:
    return Problem("body", path, detail)


def _check_string(problems: list[Problem], path: str, value: Any, *, nullable: bool = True,
                  max_length: int = NAME_MAX, pattern: re.Pattern[str] | None = None,
                  enum: tuple[str, ...] | None = None, min_length: int = 0) -> None:
    if value is None:
        if not nullable:
            problems.append(_problem(path, "must not be null"))
        return
    if not isinstance(value, str):
        problems.append(_problem(path, "must be a string"))
    elif len(value) > max_length:
        problems.append(_problem(path, f"must be at most {max_length} characters"))
    elif len(value) < min_length:
        problems.append(_problem(path, f"must be at least {min_length} characters"))
    elif enum is not None and value not in enum:
        problems.append(_problem(path, f"must be one of: {', '.join(enum)}"))
    elif pattern is not None and not pattern.fullmatch(value):
        problems.append(_problem(path, PATTERN_WORDS.get(pattern, f"must match the pattern {pattern.pattern}")))


def validate_customer_input(body: Any, *, creating: bool) -> dict[str, Any]:
    """Check a canonical ``CustomerInput`` body and return its fields.

    Raises:
        InvalidBody: with one :class:`~mockserver.errors.Problem` per offending field.
    """
    if not isinstance(body, dict):
        raise InvalidBody("The request body must be a JSON object.", problems=(_problem("", "must be an object"),))
    problems: list[Problem] = []
    for key in body:
        if key in READ_ONLY:
            problems.append(_problem(key, "is read-only and cannot be written"))
        elif key not in _TOP:
            problems.append(_problem(key, "is not a customer field"))
    for key in ("name", "first_name", "last_name", "company_name"):
        if key in body:
            _check_string(problems, key, body[key])
    if "status" in body:
        _check_string(problems, "status", body["status"], enum=STATUSES)
    if "currency" in body:
        _check_string(problems, "currency", body["currency"], pattern=_CURRENCY_RE)
    if "notes" in body:
        _check_string(problems, "notes", body["notes"], max_length=NOTES_MAX)
    for parent, children in _NESTED.items():
        if parent in body:
            _check_items(problems, parent, body[parent], children)
    if creating and not any(isinstance(body.get(k), str) and body[k].strip()
                            for k in ("name", "first_name", "last_name")):
        problems.append(_problem("name", "one of name, first_name or last_name must be a non-empty string"))
    if problems:
        raise InvalidBody(f"The customer is invalid: {describe_problems(problems)}.", problems=tuple(problems))
    return dict(body)


def _check_items(problems: list[Problem], parent: str, items: Any, children: tuple[str, ...]) -> None:
    if not isinstance(items, list):
        problems.append(_problem(parent, "must be an array"))
        return
    if len(items) > ITEMS_MAX:
        problems.append(_problem(parent, f"must have at most {ITEMS_MAX} items"))
    for n, item in enumerate(items):
        path = f"{parent}[{n}]"
        if not isinstance(item, dict):
            problems.append(_problem(path, "must be an object"))
            continue
        for key in item:
            if key not in children:
                problems.append(_problem(f"{path}.{key}", f"is not a field of {parent}"))
        for key in _REQUIRED_NESTED.get(parent, ()):
            if key not in item:
                problems.append(_problem(f"{path}.{key}", "is required"))
        for key in children:
            if key not in item:
                continue
            value, where = item[key], f"{path}.{key}"
            if parent == "emails" and key == "email":
                _check_string(problems, where, value, nullable=False, pattern=EMAIL_RE)
            elif parent == "phone_numbers" and key == "number":
                _check_string(problems, where, value, nullable=False, min_length=1)
            elif parent == "orders" and key == "total":
                _check_string(problems, where, value, nullable=False, pattern=_TOTAL_RE)
            elif parent == "orders" and key == "id":
                _check_string(problems, where, value, nullable=False, min_length=1)
            elif parent == "addresses" and key == "country":
                _check_string(problems, where, value, pattern=_COUNTRY_RE)
            else:
                _check_string(problems, where, value, enum=_ENUMS.get((parent, key)))
