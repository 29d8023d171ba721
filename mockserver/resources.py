"""Shared HTTP plumbing for flavours: request parsing, JSON bodies, byte caches.

Flavour modules own their routes and envelopes; what every flavour needs the same way
lives here, so a flavour states only how its platform differs.
"""

from __future__ import annotations

import hmac
import json
import re
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import falcon

from mockserver.errors import InvalidParameter, MalformedBody, RequestTimeout, Unauthorized, UnsupportedMediaType
from mockserver.formats import parse_bool

if TYPE_CHECKING:
    from mockserver.catalog import Catalog
    from mockserver.journal import RequestJournal
    from mockserver.settings import Settings
    from mockserver.shared import SharedState
    from mockserver.tenants import TenantCatalogs

try:  # PERF: orjson serializes a page several times faster than json
    import orjson

    def dumps(value: Any) -> bytes:
        return orjson.dumps(value)

except ImportError:  # pragma: no cover - orjson is a declared dependency

    def dumps(value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


__all__ = [
    "BytesCache", "PublicRequest", "ServerContext", "bearer_token", "bool_param", "check_token", "cursor_links",
    "dumps", "int_param", "link_with", "loads_json", "read_json", "same_secret", "single_param"
]


def _weight(value: Any) -> int:
    """Bytes a cached value holds: its payload (bytes/str, or a tuple of them) plus per-entry overhead."""
    if isinstance(value, (bytes, bytearray, str)):
        return len(value) + _ENTRY_OVERHEAD
    if isinstance(value, tuple):
        return sum(_weight(item) for item in value)
    return sys.getsizeof(value) + _ENTRY_OVERHEAD


def _compact(value: Any) -> Any:
    """``value`` with its bytes copied to exact-size objects.

    # PERF: orjson returns bytes with spare capacity (8 KB allocated for a 0.9 KB customer);
    # kept in a cache for long, that spare room would be most of the cache's memory.
    """
    if type(value) is bytes:
        return bytes(memoryview(value))
    if type(value) is tuple:
        return tuple(_compact(item) for item in value)
    return value


_ENTRY_OVERHEAD = 200
"""Approximate bytes of an entry beyond its payload: key tuple, dict slot, object headers."""


class BytesCache:
    """A bounded LRU of serialized responses or records.

    # PERF: pages and customers are served from bytes; only a cache miss builds dicts
    # and serializes. Both bounds keep memory flat however many distinct pages are asked:
    # ``maxsize`` entries and ``max_bytes`` of payload (a value larger than a quarter of
    # ``max_bytes`` is returned but not kept, so one huge page cannot flush the cache).
    """

    def __init__(self, maxsize: int, max_bytes: int | None = None) -> None:
        self.maxsize = maxsize
        self.max_bytes = max_bytes
        self.nbytes = 0
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()  # gunicorn may run request threads (gthread) in one process

    def get(self, key: Hashable) -> Any:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any) -> Any:
        value = _compact(value)
        weight = _weight(value)
        if self.max_bytes is not None and weight * 4 > self.max_bytes:
            return value
        with self._lock:
            data = self._data
            old = data.pop(key, None)
            if old is not None:
                self.nbytes -= _weight(old)
            data[key] = value
            self.nbytes += weight
            while data and (len(data) > self.maxsize
                            or (self.max_bytes is not None and self.nbytes > self.max_bytes)):
                self.nbytes -= _weight(data.popitem(last=False)[1])
        return value

    def get_or_build(self, key: Hashable, build: Callable[[], Any]) -> Any:
        value = self.get(key)
        return value if value is not None else self.put(key, build())

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.nbytes = 0

    def __len__(self) -> int:
        return len(self._data)


PAGE_CACHE_ENTRIES, PAGE_CACHE_BYTES = 512, 4 << 20
RECORD_CACHE_ENTRIES, RECORD_CACHE_BYTES = 8192, 4 << 20
"""Per worker process. A 20-customer page is about 18 KB, a customer about 0.9 KB: these hold
the pages and customers a test suite revisits, and cap the caches near 10 MB per worker whatever
the dataset size or request mix (``bench/`` measures RSS after 200,000 random requests)."""


@dataclass
class ServerContext:
    """What every flavour's resources share: settings, the catalog, the caches and the shared state."""

    settings: Settings
    catalog: Catalog
    shared: SharedState
    """Controls, counters and quotas every worker sees (:mod:`mockserver.shared`)."""
    tenants: TenantCatalogs
    """The catalog of each tenant (the shared ``catalog``, or an isolated tenant's own)."""
    pages: BytesCache = field(default_factory=lambda: BytesCache(PAGE_CACHE_ENTRIES, PAGE_CACHE_BYTES))
    records: BytesCache = field(default_factory=lambda: BytesCache(RECORD_CACHE_ENTRIES, RECORD_CACHE_BYTES))
    started: float = field(default_factory=time.time)
    journal: RequestJournal | None = None
    """The request journal (:mod:`mockserver.journal`); ``None`` while it is off (``--journal-size 0``)."""

    def check_token(self, token: str | None) -> None:
        """:func:`check_token` against this server's settings."""
        check_token(token, self.settings)

    def record_bytes(self, flavour: str, variant: Hashable, ordinal: int, build: Callable[[], bytes],
                     catalog: Catalog | None = None) -> bytes:
        """Serialized customer ``ordinal`` of ``catalog`` (default: the shared one) for ``(flavour, variant)``,
        cached for base customers.

        Overlay customers change with writes, so only untouched base customers are cached.
        """
        if catalog is None or catalog is self.catalog:
            catalog, key = self.catalog, (flavour, variant, ordinal)
        else:  # an isolated tenant's customer i is another customer
            key = (flavour, (catalog.dataset.fingerprint, variant), ordinal)
        if ordinal >= catalog.dataset.count or ordinal in catalog.store.latest:
            return build()
        built: bytes = self.records.get_or_build(key, build)
        return built


class PublicRequest(falcon.Request):
    """A request whose :attr:`prefix` (scheme, host and root of links) is the server's public base URL.

    Links built from the ``Host`` header would point wherever a client (or an attacker, through
    a page cached by a proxy) says; :meth:`for_base` makes the subclass an app uses.
    """

    base_url = ""

    @classmethod
    def for_base(cls, base_url: str) -> type[PublicRequest]:
        return type("PublicRequest", (cls,), {"base_url": base_url.rstrip("/")})

    @property
    def prefix(self) -> str:
        return self.base_url


def same_secret(given: str | None, expected: str) -> bool:
    """``given == expected`` in a time that does not tell how much of a guess was right."""
    return given is not None and hmac.compare_digest(given.encode("utf-8", "surrogatepass"),
                                                     expected.encode("utf-8", "surrogatepass"))


def check_token(token: str | None, settings: Settings) -> str:
    """The token, when it is accepted: any non-empty token, or only ``settings.token`` when one is set.

    Raises:
        Unauthorized: token missing, empty or wrong.
    """
    if not token:
        raise Unauthorized("Missing authentication: send the API token.")
    if settings.token is not None and not same_secret(token, settings.token):
        raise Unauthorized("The API token is not valid for this server.")
    return token


def single_param(req: falcon.Request, name: str) -> str | None:
    """A query parameter given at most once.

    Raises:
        InvalidParameter: the parameter is repeated.
    """
    value = req.params.get(name)
    if isinstance(value, list):
        raise InvalidParameter(name, "must be given at most once")
    return value


def int_param(req: falcon.Request, name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    """An integer query parameter within bounds.

    Raises:
        InvalidParameter: not an integer, or out of bounds.
    """
    raw = single_param(req, name)
    if raw is None:
        return default
    text = raw
    if not text.lstrip("-").isdigit() or not text.isascii() or len(text) > 18:
        raise InvalidParameter(name, f"must be an integer, got {raw!r}")
    value = int(text)
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise InvalidParameter(name, f"must be {bound}, got {value}")
    return value


def bool_param(req: falcon.Request, name: str) -> bool:
    """A ``true``/``false`` query parameter (absent means false).

    Raises:
        InvalidParameter: any other value.
    """
    raw = single_param(req, name)
    if raw is None:
        return False
    try:
        return parse_bool(raw)
    except ValueError as exc:
        raise InvalidParameter(name, str(exc)) from None


def bearer_token(req: falcon.Request) -> str | None:
    """The token of ``Authorization: Bearer <token>``, or ``None``."""
    header = req.get_header("Authorization")
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


MAX_JSON_DEPTH = 32
"""Deepest nesting a JSON body or token may have: every body schema needs fewer than 5 levels, and
Python's parser would overflow its stack (RecursionError) near 1,000."""

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]", re.ASCII)


def _depth(value: Any) -> int:
    """How deep arrays and objects nest in a parsed JSON value (iterative: no recursion limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest


def loads_json(text: str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse untrusted JSON text: what ``json.loads`` gives, or ``ValueError`` saying what is wrong.

    Refused besides invalid JSON: nesting deeper than ``max_depth`` (near 1,000 levels the parser
    itself raises RecursionError) and ``\\ud800``-style escapes of lone surrogates (no UTF-8
    spelling: SQLite and every encoder downstream would raise UnicodeEncodeError).
    """
    too_deep = f"it nests arrays or objects deeper than {max_depth} levels"
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError(too_deep) from None
    # PERF: fewer opening brackets than the limit cannot nest deeper; a usual body stops here
    if (text.count("[") + text.count("{") > max_depth) and _depth(value) > max_depth:
        raise ValueError(too_deep)
    if _SURROGATE_ESCAPE.search(text):  # rare: only then pay for a second pass
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("it escapes a lone UTF-16 surrogate (\\ud800-\\udfff), which is not a character") \
                from None
    return value


def read_json(req: falcon.Request, *, max_bytes: int = 1 << 20) -> Any:
    """The JSON request body (sent with a Content-Length or chunked).

    Raises:
        UnsupportedMediaType: the Content-Type is not JSON.
        MalformedBody: the body is empty, too large, too deep or not valid UTF-8 JSON.
        RequestTimeout: the body stopped arriving (the server's worker sets the deadline).
    """
    content_type = (req.content_type or "").split(";")[0].strip().lower()
    if content_type != "application/json" and not (content_type.startswith("application/")
                                                   and content_type.endswith("+json")):
        raise UnsupportedMediaType(f"Send the body as application/json, not {content_type or 'no Content-Type'}.")
    length = req.content_length
    if length is not None and length > max_bytes:
        raise MalformedBody(f"The body is larger than {max_bytes} bytes.")
    # NOTE: without a Content-Length (Transfer-Encoding: chunked) bounded_stream reads nothing;
    # gunicorn's own stream then decodes the chunks and ends where the body ends.
    stream = req.bounded_stream if length is not None else req.stream
    try:
        raw = stream.read(max_bytes + 1)
    except TimeoutError:
        raise RequestTimeout("The request body stopped arriving before its end; send the whole body "
                             "without pausing.") from None
    except Exception as exc:  # noqa: BLE001 - the WSGI server's own types: a bad chunk, a lost client
        raise MalformedBody(f"The body could not be read: {type(exc).__name__}; send it again.") from None
    req.context.raw_body = raw  # NOTE: for the request journal, which never reads a body twice
    if len(raw) > max_bytes:
        raise MalformedBody(f"The body is larger than {max_bytes} bytes.")
    if not raw.strip():
        raise MalformedBody("The request body is empty; send a JSON object.")
    try:
        return loads_json(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedBody(f"The body is not valid JSON: {exc}.") from None


def link_with(req: falcon.Request, changes: dict[str, str | None]) -> str:
    """The request's absolute URL (under the public base URL) with some query parameters replaced
    (``None`` drops one)."""
    params: list[tuple[str, str]] = []
    for key, value in req.params.items():
        if key in changes:
            continue
        params.extend((key, v) for v in (value if isinstance(value, list) else [value]))
    params.extend((k, v) for k, v in changes.items() if v is not None)
    query = urlencode(params)
    return f"{req.prefix}{req.path}" + (f"?{query}" if query else "")


_URL_SAFE = re.compile(r"[A-Za-z0-9_.~-]*")
"""Characters ``quote_plus`` never changes: such a value encodes as itself (cursors are base64url)."""


def _encoded(key: str, value: str) -> str:
    """``urlencode([(key, value)])``."""
    if _URL_SAFE.fullmatch(key) and _URL_SAFE.fullmatch(value):
        return f"{key}={value}"
    return urlencode([(key, value)])


def cursor_links(req: falcon.Request, previous: str | None, following: str | None) -> dict[str, str | None]:
    """``{previous, current, next}`` links: the request's URL, and with ``cursor`` replaced by each cursor given.

    Equal to ``link_with(req, {"cursor": ...})`` and ``link_with(req, {})``: ``urlencode`` of
    pairs is the ``&``-join of each pair's encoding, so the pairs other than ``cursor`` are
    encoded once for the three links (PERF: ``urlencode`` was a tenth of a cold page).
    """
    base = f"{req.prefix}{req.path}"
    current, others = [], []
    for key, value in req.params.items():
        for v in value if isinstance(value, list) else (value,):
            encoded = _encoded(key, v)
            current.append(encoded)
            if key != "cursor":
                others.append(encoded)

    def with_cursor(value: str) -> str:
        return f"{base}?{'&'.join([*others, _encoded('cursor', value)])}"

    return {
        "previous": with_cursor(previous) if previous else None,
        "current": f"{base}?{'&'.join(current)}" if current else base,
        "next": with_cursor(following) if following else None,
    }
