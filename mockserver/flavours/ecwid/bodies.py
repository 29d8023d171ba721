"""Ecwid customer bodies (create and update): checked before they are mapped to canonical fields.

Every problem is named (``Wrong value of field 'billingPerson.city': ...``); Ecwid answers them all
with 400 ``WRONG_PARAMETER``. UNCONFIRMED: Ecwid-only fields (``customerGroupId``, ``taxId``...) are
type-checked but not stored (see the package docstring).
"""

from __future__ import annotations

import re
from typing import Any

from mockserver.errors import InvalidBody, Problem
from mockserver.flavours.ecwid.mapping import PERSON_TEXT
from mockserver.model import EMAIL_RE, ITEMS_MAX

__all__ = ["validate_ecwid_body"]

_COUNTRY_CODE = re.compile(r"[A-Z]{2}")  # fullmatch: "US\n" is not a code
_BOOLEANS = ("taxIdValid", "taxExempt", "acceptMarketing")
_STRINGS = ("password", "taxId", "fiscalCode", "electronicInvoicePecEmail", "electronicInvoiceSdiCode", "lang",
            "b2b_b2c", "privateAdminNotes")


def _check_person(problems: list[Problem], path: str, person: Any, *, shipping: bool = False) -> None:
    if person is None:
        return
    if not isinstance(person, dict):
        problems.append(Problem("body", path, "must be an object"))
        return
    for key in PERSON_TEXT:
        value = person.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            problems.append(Problem("body", f"{path}.{key}", "must be a string"))
        elif len(value) > 255:
            problems.append(Problem("body", f"{path}.{key}", "is too long"))
        elif key == "countryCode" and value and not _COUNTRY_CODE.fullmatch(value):
            problems.append(Problem("body", f"{path}.{key}", "must be a 2-letter ISO country code"))
    if shipping and person.get("id") is not None and type(person["id"]) is not int:
        problems.append(Problem("body", f"{path}.id", "must be an integer"))


def validate_ecwid_body(body: Any, *, creating: bool) -> dict[str, Any]:
    """Check an Ecwid customer body (create or update) and return it.

    Raises:
        InvalidBody: one :class:`~mockserver.errors.Problem` per offending field (Ecwid answers 400).
    """
    if not isinstance(body, dict):
        raise InvalidBody("The request body must be a JSON object.", problems=(Problem("body", "", "not an object"),))
    problems: list[Problem] = []
    email = body.get("email")
    if email is None and (creating or "email" in body):
        problems.append(Problem("body", "email", "is required" if creating else "must not be null"))
    elif email is not None and (not isinstance(email, str) or len(email) > 255 or not EMAIL_RE.fullmatch(email)):
        problems.append(Problem("body", "email", "must be a valid email address"))
    _check_person(problems, "billingPerson", body.get("billingPerson"))
    shipping = body.get("shippingAddresses")
    if shipping is not None:
        if not isinstance(shipping, list):
            problems.append(Problem("body", "shippingAddresses", "must be an array"))
        elif len(shipping) > ITEMS_MAX:
            problems.append(Problem("body", "shippingAddresses", f"must have at most {ITEMS_MAX} items"))
        else:
            for n, item in enumerate(shipping):
                if not isinstance(item, dict):
                    problems.append(Problem("body", f"shippingAddresses[{n}]", "must be an object"))
                _check_person(problems, f"shippingAddresses[{n}]", item, shipping=True)
    for key in _BOOLEANS:
        if body.get(key) is not None and not isinstance(body[key], bool):
            problems.append(Problem("body", key, "must be a boolean"))
    for key in _STRINGS:
        value = body.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 10_000):
            problems.append(Problem("body", key, "must be a string of at most 10000 characters"))
    if body.get("b2b_b2c") not in (None, "b2b", "b2c"):
        problems.append(Problem("body", "b2b_b2c", "must be b2b or b2c"))
    if body.get("customerGroupId") is not None and type(body["customerGroupId"]) is not int:
        problems.append(Problem("body", "customerGroupId", "must be an integer"))
    if problems:
        message = "; ".join(f"Wrong value of field '{p.name or 'body'}': {p.detail}" for p in problems[:10])
        more = f"; and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise InvalidBody(message + more, problems=tuple(problems))
    return body

