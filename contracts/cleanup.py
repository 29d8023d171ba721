"""Leave the server as the check found it: delete every customer a check created.

``contracts check`` creates customers (Schemathesis's positive data, the ``writes.*`` properties).
Every successful create that passes through the kit is recorded here, from the properties' HTTP
client and from Schemathesis's recorded interactions, and deleted when the run ends unless the
user asked to keep them (``--keep-writes``). Updates and deletes of customers the check did not
create are not undone: point the check at a test instance.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from contracts.properties import Target
from contracts.schema import Contract

__all__ = ["CreatedCustomers", "guard_stateful_writes"]


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



# NOTE: module state, not a ContextVar: the engine calls hooks from its own worker threads.
_GUARDED: list[CreatedCustomers] = []
_HOOKS_REGISTERED = False


@contextmanager
def guard_stateful_writes(created: CreatedCustomers) -> Iterator[None]:
    """Keep Schemathesis' stateful phase from changing customers this run did not create.

    Its scenarios sometimes fill an item operation's id with one seen in an earlier response (a
    list page) instead of following the link from a create, and would then PATCH or DELETE the
    server's own customers. While the block runs, creates are noted as they are answered, and a
    stateful PATCH or DELETE of any other id is sent to the customer the run created last (the
    create the step follows), so the scenario still runs and the server's data stays.
    (``before_call`` hooks are global in Schemathesis: registered once, they act only in this block.)
    """
    global _HOOKS_REGISTERED
    if not _HOOKS_REGISTERED:
        import schemathesis

        schemathesis.hook("after_call")(_after_call)
        schemathesis.hook("before_call")(_before_call)
        _HOOKS_REGISTERED = True
    _GUARDED.append(created)
    try:
        yield
    finally:
        _GUARDED.remove(created)


def _after_call(context: Any, case: Any, response: Any) -> None:
    created = _GUARDED[-1] if _GUARDED else None
    if created is None:
        return
    location = response.headers.get("location") or response.headers.get("Location")
    if isinstance(location, list):
        location = location[0] if location else None
    created.note(case.method, case.path, response.status_code, response.content or b"", location)


def _before_call(context: Any, case: Any, kwargs: Any) -> None:
    created = _GUARDED[-1] if _GUARDED else None
    phase = getattr(getattr(case.meta, "phase", None), "name", None)
    if created is None or getattr(phase, "value", None) != "stateful" or case.method.upper() not in ("PATCH", "DELETE"):
        return
    for name, value in list((case.path_parameters or {}).items()):
        if str(value) not in created.ids:
            # The step follows a create: the customer that create made is the newest one noted.
            case.path_parameters[name] = next(reversed(created.ids), f"{value}-not-created-by-this-check")
