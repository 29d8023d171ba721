"""Ecwid's ``responseFields`` (``items(id,billingPerson(name))``): parsed into a field selection.

UNCONFIRMED: a field Ecwid does not have is a 400 (Ecwid may ignore it); the parameter also takes
the repeated, ``[]`` and indexed forms of :mod:`mockserver.array_params`, joined with commas.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import falcon

from mockserver.array_params import array_text
from mockserver.errors import InvalidParameter
from mockserver.fields import FieldSet, parse_fields, paths_of
from mockserver.flavours.ecwid.mapping import to_ecwid

__all__ = ["CUSTOMER_FIELDS", "SEARCH_FIELDS", "Selection", "parse_response_fields", "response_fields"]

_FIELD_TOKEN = re.compile(r"([A-Za-z0-9_]+)|([(),])")


def _field_paths(text: str) -> list[str]:
    """``items(id,billingPerson(name))`` -> ``["items.id", "items.billingPerson.name"]``."""
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        match = _FIELD_TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise InvalidParameter("responseFields", f"unexpected character at position {pos} of {text!r}")
        tokens.append(match[1] or match[2])
        pos = match.end()
    paths: list[str] = []
    stack: list[str] = []
    previous = ","
    for token in tokens:
        if token == "(":
            if previous in "(),":
                raise InvalidParameter("responseFields", f"'(' must follow a field name in {text!r}")
            stack.append(paths.pop())
        elif token == ")":
            if not stack or previous in "(,":
                raise InvalidParameter("responseFields", f"unbalanced or empty parentheses in {text!r}")
            stack.pop()
        elif token == ",":
            if previous in "(,":
                raise InvalidParameter("responseFields", f"empty field name in {text!r}")
        else:
            if previous not in "(,":
                raise InvalidParameter("responseFields", f"missing ',' before {token!r} in {text!r}")
            paths.append(f"{stack[-1]}.{token}" if stack else token)
        previous = token if token in "()," else "x"
    if stack:
        raise InvalidParameter("responseFields", f"unbalanced parentheses in {text!r}")
    if previous == ",":
        raise InvalidParameter("responseFields", f"trailing ',' in {text!r}")
    return paths


def parse_response_fields(text: str, allowed: frozenset[str]) -> FieldSet | None:
    """Compile Ecwid's ``responseFields`` (``id,billingPerson(name)``) into a :data:`FieldSet`.

    Raises:
        InvalidParameter: the syntax is broken or a field is unknown.
    """
    if not text.strip():
        return None
    return parse_fields(",".join(_field_paths(text)), allowed, parameter="responseFields")


_SAMPLE = {
    "id": "100000000", "name": "A B", "first_name": "A", "last_name": "B", "company_name": "C",
    "emails": [{"id": "100000000-e1", "email": "a@b.co", "type": "primary"}],
    "phone_numbers": [{"id": "100000000-p1", "country_code": "1", "area_code": "2", "number": "3", "extension": None,
                       "type": "mobile"}],
    "addresses": [{"id": "100000000-a1", "type": "shipping", "line1": "x", "line2": None, "city": "y", "state": "z",
                   "postal_code": "1", "country": "US"}],
    "orders": [], "notes": None, "created_at": "2019-01-01T00:00:00Z", "updated_at": "2019-01-01T00:00:00Z",
}
CUSTOMER_FIELDS = frozenset(paths_of(to_ecwid(_SAMPLE)))
"""Every ``responseFields`` path of a customer (``billingPerson.name`` written ``billingPerson(name)``)."""
SEARCH_FIELDS = frozenset(("total", "count", "offset", "limit", "items", *(f"items.{p}" for p in CUSTOMER_FIELDS)))


class Selection(NamedTuple):
    """The ``responseFields`` of a request: as sent (it names cached record variants) and compiled."""

    text: str
    fields: FieldSet | None


def response_fields(req: falcon.Request, allowed: frozenset[str]) -> Selection:
    """The request's ``responseFields``, checked against ``allowed`` paths.

    Raises:
        InvalidParameter: the syntax is broken or a field is unknown.
    """
    text = array_text(req.params, "responseFields") or ""
    return Selection(text, parse_response_fields(text, allowed))
