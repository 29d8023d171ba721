"""Array query parameters in every form clients and SDKs send them.

One list of values reaches a server written four ways, and each form has clients that use it:

* comma-separated: ``ids=1,2`` (OpenAPI ``style: form, explode: false``);
* repeated: ``ids=1&ids=2`` (OpenAPI ``explode: true``, ``requests``, ``urllib``);
* brackets: ``ids[]=1&ids[]=2`` (PHP, Rails, ``qs``, the Truto SDK), the brackets
  percent-encoded (``ids%5B%5D``) or not;
* indexed: ``ids[0]=1&ids[1]=2`` (``qs`` with ``arrayFormat: indices``, OpenAPI generators),
  encoded or not, in index order whatever order they arrive in.

Flavours read their array parameters here, so every flavour accepts every form with the same
meaning. Pure: works on the decoded ``name -> value | [values]`` mapping of ``falcon.Request.params``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping

__all__ = ["ARRAY_FORMS", "array_items", "array_key", "array_text", "array_values"]

ARRAY_FORMS = "`name=a,b`, `name=a&name=b`, `name[]=a&name[]=b` and `name[0]=a&name[1]=b`"
"""The forms, as documents name them (brackets may be percent-encoded)."""

Params = Mapping[str, str | list[str]]

_SUFFIX = re.compile(r"\[([0-9]{0,9})\]\Z")
"""``[]`` or ``[<index>]`` at the end of a parameter name."""


def _as_list(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def array_key(key: str, names: Collection[str]) -> str:
    """``key`` without its ``[]``/``[<index>]`` suffix when what precedes it is one of ``names``.

    Lets a flavour that checks parameter names (unknown filters are errors) see
    ``filter[customer_ids][0]`` as ``filter[customer_ids]``; any other key is returned unchanged.
    """
    match = _SUFFIX.search(key)
    if match is not None and key[:match.start()] in names:
        return key[:match.start()]
    return key


def _forms(params: Params, name: str) -> Iterator[tuple[int, int, str]]:
    """(form rank, index, value) of every value sent for ``name``: plain, then ``[]``, then indexed."""
    for key, value in params.items():
        if key == name:
            yield from ((0, 0, v) for v in _as_list(value))
        elif key.startswith(name) and (match := _SUFFIX.fullmatch(key, len(name))) is not None:
            index = match.group(1)
            rank = 2 if index else 1
            yield from ((rank, int(index) if index else 0, v) for v in _as_list(value))


def array_values(params: Params, name: str) -> list[str] | None:
    """Every value sent for array parameter ``name``, in order; ``None`` when it was not sent.

    Values are as sent (a comma-separated value is one value here); indexed values come in index
    order, and a request mixing forms gets the plain values, then the ``[]`` ones, then the indexed.
    """
    found = sorted(_forms(params, name), key=lambda entry: entry[:2])  # stable: arrival order within a form
    return [value for _, _, value in found] if found else None


def array_text(params: Params, name: str) -> str | None:
    """The values of ``name`` as one comma-separated text (``None`` when not sent).

    For parameters with a grammar of their own (``fields=id,emails.email``), which then parse
    the text exactly as they parse the comma-separated form.
    """
    values = array_values(params, name)
    return None if values is None else ",".join(values)


def array_items(params: Params, name: str) -> tuple[str, ...] | None:
    """The items of ``name``: every value split at commas, stripped, blanks dropped.

    ``None`` when not sent; ``()`` when sent with no item (``ids=`` or ``ids=,``), which each
    flavour answers as its platform does (an error, or no filter).
    """
    values = array_values(params, name)
    if values is None:
        return None
    return tuple(item.strip() for value in values for item in value.split(",") if item.strip())
