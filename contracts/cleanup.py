"""Leave the server as the check found it: delete every customer a check created.

``contracts check`` creates customers (Schemathesis's positive data, the ``writes.*`` properties).
Every successful create that passes through the kit is recorded here, from the properties' HTTP
client and from Schemathesis's recorded interactions, and deleted when the run ends unless the
user asked to keep them (``--keep-writes``). Updates and deletes of customers the check did not
create are not undone: point the check at a test instance.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from contracts.properties import Target
from contracts.schema import Contract

__all__ = ["CreatedCustomers"]


class CreatedCustomers:
    """The ids of the customers this run created, in creation order."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.ids: dict[str, None] = {}

    def note(self, method: str, url: str, status: int, body: bytes, location: str | None) -> None:
        """Record the customer a response created (a 2xx ``POST`` to the collection)."""
        if method.upper() != "POST" or not 200 <= status < 300:
            return
        if not urlsplit(url).path.rstrip("/").endswith(self.contract.list_path.rstrip("/")):
            return
        found = _id_in(body) or (unquote(location.rstrip("/").rsplit("/", 1)[-1]) if location else None)
        if found:
            self.ids[found] = None

    def hook(self, response: httpx.Response) -> None:
        """An httpx response hook recording creates made through the properties' client."""
        if response.request.method == "POST":
            response.read()
            self.note("POST", str(response.request.url), response.status_code, response.content,
                      response.headers.get("location"))

    def note_interactions(self, interactions: Any) -> None:
        """Record creates among a Schemathesis recorder's interactions."""
        for interaction in interactions.values():
            response = interaction.response
            if response is None:
                continue
            location = (response.headers.get("location") or response.headers.get("Location") or [None])[0]
            self.note(interaction.request.method, interaction.request.uri, response.status_code,
                      response.content or b"", location)

    def delete_all(self, target: Target) -> tuple[int, list[str]]:
        """Delete every recorded customer; returns (deleted, ids that could not be deleted).

        An id that is already gone (404/410, e.g. a check deleted it) counts as deleted.
        """
        deleted, left = 0, []
        for customer_id in self.ids:
            try:
                reply = target.request("DELETE", self.contract.item_url(customer_id))
            except httpx.HTTPError:
                left.append(customer_id)
                continue
            if 200 <= reply.status < 300 or reply.status in (404, 410):
                deleted += 1
            else:
                left.append(customer_id)
        target.log.clear()
        self.ids.clear()
        return deleted, left


def _id_in(body: bytes) -> str | None:
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        return None
    record = parsed.get("data", parsed) if isinstance(parsed, dict) else None
    value = record.get("id") if isinstance(record, dict) else None
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
