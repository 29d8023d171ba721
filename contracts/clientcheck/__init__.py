"""``contracts check-client``: judge a client of the mock from the mock's request journal.

::

    pages            where each flavour's page keeps its customers, ids and cursors (PageReader, READERS)
    evidence         the journal entries, the client's run and the reference set (Evidence)
    judge            the client properties' registry and judge(); properties in walk_properties, conduct
    profiles         what the mock does while the client runs (pagination, rate-limits, faults)
    reference        the kit's own walk of the list (the set every client must fetch)
    runner           one check end to end: check_client(ClientCheck(...)) -> ClientReport
    cli              the ``contracts check-client`` command

Example::

    from contracts.clientcheck import ClientCheck, check_client
    outcome = check_client(ClientCheck("ecwid", ["python", "sync.py", "{url}"], profile="faults"))
    assert outcome.ok, outcome.report.render()
"""

from __future__ import annotations

from contracts.clientcheck.runner import ClientCheck, ClientReport, check_client

__all__ = ["ClientCheck", "ClientReport", "check_client"]
