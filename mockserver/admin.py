"""Endpoints for the people and fixtures driving the mock, outside every platform's API.

``POST /__admin/reset`` forgets every write (creates, updates, deletes) in every worker, so
tests that share one running server can each start from the seeded dataset. It takes the same
``Authorization: Bearer <token>`` as the API (when the server has ``--token``, only that one)
and answers 204.
"""

from __future__ import annotations

import logging

import falcon

from mockserver.resources import ServerContext, bearer_token

__all__ = ["RESET_PATH", "ResetResource"]

RESET_PATH = "/__admin/reset"

log = logging.getLogger("mockserver")


class ResetResource:
    def __init__(self, context: ServerContext) -> None:
        self.context = context

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.context.check_token(bearer_token(req))
        self.context.catalog.reset()
        # NOTE: not needed for correctness (cached pages are keyed by store versions, which a reset
        # never reuses, and version 0 is the seeded state); this only returns the memory.
        self.context.pages.clear()
        self.context.records.clear()
        log.info("reset: every write forgotten")
        resp.status = falcon.HTTP_204
