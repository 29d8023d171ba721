"""Error properties: bad parameters and missing credentials get the documented problem."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from contracts.properties.http import Reply
from contracts.properties.invariants import expect_problem
from contracts.properties.registry import Context, prop


@prop("errors.bad_limit")
def _errors_bad_limit(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """A limit that is not an integer in the documented range is a 400 invalid-parameter problem."""
    c = ctx.contract
    out_of_range = st.one_of(st.integers(-1000, c.limit_min - 1), st.integers(c.limit_max + 1, 10**6))
    strategy = st.one_of(out_of_range.map(str), st.sampled_from(["abc", "1.5", "ten", "2e1", "0x10"]))

    def body(limit: str) -> None:
        reply = ctx.target.get(c.list_path, params={"limit": limit})
        expect_problem(ctx.target, reply, status=400, problem_type="/problems/invalid-parameter",
                       prop="errors.bad_limit", why=f"limit={limit!r} is outside {c.limit_min}-{c.limit_max}"
                       if limit.lstrip("-").isdigit() else f"limit={limit!r} is not an integer")

    return strategy, [str(c.limit_min - 1), str(c.limit_max + 1), "abc"], body


@prop("errors.missing_auth")
def _errors_missing_auth(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """Every operation without a usable bearer token is a 401 unauthorized problem with a
    WWW-Authenticate header, checked before anything else (nothing is created or changed)."""
    c = ctx.contract
    universe = ctx.universe()
    operations = ["list", "get"] + [m.lower() for m in ctx.supported_writes]
    credentials = [None, "Basic Y29udHJhY3Q6a2l0", "Bearer", "Token contract-token"]
    strategy = st.tuples(st.sampled_from(operations), st.sampled_from(credentials))

    def body(value: Any) -> None:
        operation, credential = value
        headers = {"Authorization": credential} if credential is not None else {}
        some_id = universe.ids[0] if universe.ids else "no-such-customer"
        if operation == "list":
            reply = ctx.target.request("GET", c.list_path, params={"limit": 1}, auth=False, headers=headers)
        elif operation == "get":
            reply = ctx.target.request("GET", c.item_url(some_id), auth=False, headers=headers)
        elif operation == "post":
            reply = ctx.target.request("POST", c.list_path, body={"name": "Contract Kit"}, auth=False,
                                       headers=headers)
            _cleanup_created(ctx, reply)
        else:
            reply = ctx.target.request(operation.upper(), c.item_url("no-such-customer"),
                                       body={"notes": "contract kit"} if operation == "patch" else None,
                                       auth=False, headers=headers)
        why = f"{reply.method} without a usable token (Authorization: {credential!r})"
        expect_problem(ctx.target, reply, status=401, problem_type="/problems/unauthorized",
                       prop="errors.missing_auth", why=why)
        challenge = reply.headers.get("www-authenticate", "")
        # NOTE: any realm (or none) will do: RFC 9110 lets each server name its own.
        if not re.match(r"bearer( |$)", challenge, flags=re.IGNORECASE):
            raise ctx.target.fail("errors.missing_auth", f"{why}: a 401 must carry a WWW-Authenticate: Bearer "
                                                         f"challenge.", expected='Bearer realm="..."',
                                  actual=challenge or None, reply=reply)

    return strategy, [(op, None) for op in operations], body


def _cleanup_created(ctx: Context, reply: Reply) -> None:
    body = reply.json()
    if reply.status == 201 and isinstance(body, dict) and isinstance(body.get("data"), dict):
        ctx.target.request("DELETE", ctx.contract.item_url(body["data"].get("id")))
        ctx.target.log.pop()
