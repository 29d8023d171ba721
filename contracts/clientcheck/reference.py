"""The reference set: every customer id a flavour lists, walked by the kit with nothing going wrong.

``check-client`` walks the list before and after the client runs (faults and rate limits off), with
the largest page the flavour allows, and follows the flavour's own next page
(:meth:`~contracts.clientcheck.pages.PageReader.next_params`).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from contracts.clientcheck.pages import PageReader
from contracts.failures import ServerUnreachable

__all__ = ["MAX_PAGES", "walk_ids"]

MAX_PAGES = 10_000
"""A walk that has not ended after this many pages is a broken server, not a long list."""


def walk_ids(flavour_url: str, reader: PageReader, token: str, timeout: float = 30.0) -> list[str]:
    """The ids the list at ``flavour_url`` (the flavour's mount) holds, in walk order.

    Raises:
        ServerUnreachable: a page could not be fetched, or the walk does not end.
    """
    headers, _ = reader.credentials(token)
    headers["Accept"] = "application/json"
    params: dict[str, str] | None = reader.first_params(reader.max_limit)
    ids: list[str] = []
    pages = 0
    while params is not None:
        url = f"{flavour_url.rstrip('/')}{reader.list_path}?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body = json.loads(response.read())
                answer_headers = dict(response.headers.items())
        except urllib.error.HTTPError as error:
            with error:
                detail = error.read()[:300].decode("utf-8", "replace")
            raise ServerUnreachable(f"the reference walk of {reader.flavour} got {error.code} from {url}: "
                                    f"{detail}") from None
        except (OSError, ValueError) as error:
            raise ServerUnreachable(f"the reference walk of {reader.flavour} could not read {url}: {error}") from None
        ids.extend(reader.ids(body))
        params = reader.next_params(body, answer_headers, params)
        pages += 1
        if pages >= MAX_PAGES:
            raise ServerUnreachable(f"the reference walk of {reader.flavour} did not end after {MAX_PAGES} pages")
    return ids
