"""Credentials kept out of the request journal: which headers and query parameters hold one, masked as ``***``.

The journal keeps a credential's name, never its value: ``Authorization``, ``Proxy-Authorization``,
``Cookie``, ``X-Shopify-Access-Token``, every ``x-apideck-*`` header, the admin token, and any header
or query parameter whose name says token, secret, password, signature or API key. A captured answer
that echoes a credential of its request (Ecwid's links repeat ``?token=``) has it masked too, and a
tenant that is the token itself (myBoxx, ecartAPI without a JWT) is journaled as a pseudonym.

Pure: no web framework, no flavour.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

__all__ = [
    "MASK", "environ_headers", "is_secret_header", "is_secret_param", "mask_headers", "mask_query", "secret_values",
    "tenant_name", "without_secrets"
]

MASK = "***"
"""What a secret's value is replaced with."""

_SECRET_HEADERS = frozenset({
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-shopify-access-token",
    "x-mock-admin-token", "x-api-key", "api-key", "x-auth-token", "x-access-token",
})
_SECRET_HEADER_PREFIXES = ("x-apideck-",)
_SECRET_PARAMS = frozenset({
    "token", "access_token", "refresh_token", "id_token", "api_key", "apikey", "key", "oauth_signature",
    "oauth_token", "consumer_secret", "consumer_key", "client_secret", "password", "passwd", "secret",
    "signature", "sig", "auth", "authorization", "code", "session",
})
_SECRET_WORDS = ("token", "secret", "password", "passwd", "signature", "apikey", "api_key", "api-key")


@lru_cache(maxsize=512)
def is_secret_header(name: str) -> bool:
    """Whether a header's value is a credential (masked in the journal)."""
    lowered = name.lower()
    return (lowered in _SECRET_HEADERS or lowered.startswith(_SECRET_HEADER_PREFIXES)
            or any(word in lowered for word in _SECRET_WORDS))


@lru_cache(maxsize=512)
def is_secret_param(name: str) -> bool:
    """Whether a query parameter's value is a credential (masked in the journal)."""
    lowered = unquote_plus(name).strip().lower()
    return (lowered in _SECRET_PARAMS or lowered.endswith(("_key", "-key", "_secret", "_token"))
            or any(word in lowered for word in _SECRET_WORDS))


def mask_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``{name: value}`` with every credential's value :data:`MASK` (a repeated header keeps its last value)."""
    return {name: MASK if is_secret_header(name) else value for name, value in headers}


def environ_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """The request headers of a WSGI environ as ``{Title-Case-Name: value}``, credentials masked."""
    names = _ENVIRON_NAMES
    if len(names) > 4096:  # a client inventing header names must not grow the table without end
        names.clear()
    headers = {}
    for key, value in environ.items():
        known = names.get(key, _UNKNOWN)
        if known is _UNKNOWN:
            known = names[key] = _environ_name(key)
        if known is not None:
            headers[known[0]] = MASK if known[1] else value
    return headers


_UNKNOWN: Any = object()
_ENVIRON_NAMES: dict[str, tuple[str, bool] | None] = {}
"""PERF: each environ key's header name and whether it is secret, worked out once per process."""


def _environ_name(key: str) -> tuple[str, bool] | None:
    if key.startswith("HTTP_"):
        name = _title(key[5:])
    elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        name = _title(key)
    else:
        return None
    return name, is_secret_header(name)


def secret_values(environ: Mapping[str, Any], query: str) -> list[str]:
    """The credentials a request carries (masked headers' values, their token part, masked query values),
    longest first: what must not reach the journal through a captured answer that echoes them."""
    found: set[str] = set()
    for key, value in environ.items():
        known = _ENVIRON_NAMES.get(key) or _environ_name(key)
        if known is not None and known[1] and isinstance(value, str):
            found.add(value)
            found.update(value.split()[1:])  # "Bearer <token>"
    for part in re.split(r"[&;]", query or ""):
        name, eq, value = part.partition("=")
        if eq and value and is_secret_param(name):
            found.update((value, unquote_plus(value)))
    return sorted((v for v in found if len(v) >= 4), key=len, reverse=True)


def without_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every one of ``secrets`` replaced by :data:`MASK`."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


@lru_cache(maxsize=1024)
def tenant_name(token: str, tenant: str) -> str:
    """The tenant as journaled: a flavour whose token names the account (myBoxx, ecartAPI without a JWT)
    has ``tenant == token``; the journal keeps ``token-<12 hex digits of its BLAKE2b>`` instead."""
    if tenant != token:
        return tenant
    return "token-" + hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()


def mask_query(query: str) -> str:
    """The raw query string with each credential parameter's value :data:`MASK` (names and order kept)."""
    if not query or ("=" not in query):
        return query
    masked = _MASKED_QUERIES.get(query)
    if masked is None:
        if len(_MASKED_QUERIES) > 4096:
            _MASKED_QUERIES.clear()
        masked = _MASKED_QUERIES[query] = _mask_query(query)
    return masked


_MASKED_QUERIES: dict[str, str] = {}
"""PERF: a test suite asks the same URLs again and again."""


def _mask_query(query: str) -> str:
    parts = re.split(r"([&;])", query)
    for i in range(0, len(parts), 2):
        name, eq, _ = parts[i].partition("=")
        if eq and is_secret_param(name):
            parts[i] = f"{name}={MASK}"
    return "".join(parts)



@lru_cache(maxsize=512)
def _title(environ_name: str) -> str:
    return "-".join(part.capitalize() for part in environ_name.split("_"))

