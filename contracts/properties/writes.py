"""The write lifecycle: create, update and delete show everywhere they must (when supported)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from contracts.properties.http import Reply
from contracts.properties.invariants import check_walk, expect_problem, page_of, parse_time, walk
from contracts.properties.registry import Context, Skip, after_last, prop

_names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc", "Zl", "Zp"]), min_size=1,
                 max_size=40).filter(lambda s: s.strip() != "")


def _new_customers() -> st.SearchStrategy[dict[str, Any]]:
    email = st.from_regex(r"[a-z][a-z0-9.]{0,15}@[a-z]{2,10}\.(com|org|example)", fullmatch=True)
    return st.fixed_dictionaries({"first_name": _names}, optional={
        "last_name": _names,
        "company_name": st.one_of(st.none(), _names),
        "status": st.sampled_from(["active", "archived"]),
        "currency": st.sampled_from(["EUR", "USD", "GBP", "JPY"]),
        "notes": st.one_of(st.none(), st.text(max_size=200)),
        "emails": st.lists(st.fixed_dictionaries({"email": email},
                                                 optional={"type": st.sampled_from(["primary", "work"])}),
                           max_size=2),
    })


@prop("writes.lifecycle", cost=5)
def _writes(ctx: Context) -> tuple[Any, list[Any], Callable[[Any], None]]:
    """When the server supports writes: a created customer is in GET and in a new walk exactly
    once, an update shows in GET and in the list, and after a delete GET is a 404 and the walk
    no longer has it. (405 or 501 to POST means writes are not supported: skipped.)"""
    c = ctx.contract
    if "POST" not in ctx.supported_writes:
        raise Skip("the server does not support POST (or the contract documents none)")
    ctx.universe()

    def body(new: dict[str, Any]) -> None:
        target = ctx.target
        created = target.request("POST", c.list_path, body=new)
        if created.status in (405, 501):
            raise Skip(f"the server answered {created.status} to POST {c.list_path}: writes are not supported")
        data = (created.json() or {}).get("data") if isinstance(created.json(), dict) else None
        if created.status != 201 or not isinstance(data, dict) or data.get("id") in (None, ""):
            raise target.fail("writes.create", "POST of a valid customer must answer 201 with the stored record "
                                               "in data (with its new id).", expected=201,
                              actual=f"{created.status} {created.excerpt()}", reply=created)
        customer = data["id"]
        try:
            _check_created(ctx, new, data, created)
            _check_listed(ctx, data, "writes.create", "the created customer")
            changes = {"notes": "updated by the contract kit",
                       "status": "archived" if data.get("status") != "archived" else "active"}
            if "PATCH" in ctx.supported_writes:
                updated = target.request("PATCH", c.item_url(customer), body=changes)
                after = (updated.json() or {}).get("data") if isinstance(updated.json(), dict) else None
                if updated.status != 200 or not isinstance(after, dict) or any(
                        after.get(k) != v for k, v in changes.items()):
                    raise target.fail("writes.update", "PATCH must answer 200 with the updated record.",
                                      expected=changes, actual=after if updated.status == 200 else
                                      f"{updated.status} {updated.excerpt()}", reply=updated)
                updated_at, created_at = parse_time(after.get("updated_at")), parse_time(after.get("created_at"))
                if (updated_at is None or created_at is None or updated_at < created_at
                        or after.get("created_at") != data.get("created_at")):
                    raise target.fail("writes.update", "after an update created_at must not change and "
                                                       "updated_at must not be earlier than it.",
                                      expected={"created_at": data.get("created_at")},
                                      actual={k: after.get(k) for k in ("created_at", "updated_at")},
                                      reply=updated)
                _check_get(ctx, customer, after, "writes.update", "the updated customer")
                _check_listed(ctx, after, "writes.update", "the updated customer")
        finally:
            if "DELETE" in ctx.supported_writes:
                deleted = target.request("DELETE", c.item_url(customer))
        if "DELETE" not in ctx.supported_writes:
            return
        if deleted.status not in (200, 204):
            raise target.fail("writes.delete", "DELETE of an existing customer must answer 204.", expected=204,
                              actual=f"{deleted.status} {deleted.excerpt()}", reply=deleted)
        gone = target.get(c.item_url(customer))
        expect_problem(target, gone, status=404, problem_type="/problems/not-found", prop="writes.delete",
                       why=f"GET of customer {customer!r} after deleting it")
        listed, _ = _list_ids(ctx, data)
        if listed:
            raise target.fail("writes.delete", f"the deleted customer {customer!r} is still listed.",
                              expected=0, actual=listed)

    full = {"first_name": "Ada", "last_name": "Lovelace", "status": "archived", "currency": "GBP",
            "notes": "Created by the contract kit.", "emails": [{"email": "ada@example.com", "type": "primary"}]}
    return _new_customers(), [full, {"first_name": "Ada"}], body


def _check_created(ctx: Context, sent: dict[str, Any], data: dict[str, Any], reply: Reply) -> None:
    for key, value in sent.items():
        if key == "emails":
            got = [{k: e.get(k) for k in ("email", "type") if k in s}
                   for s, e in zip(value, data.get("emails") or []) if isinstance(e, dict)]
            if got != [{k: s[k] for k in ("email", "type") if k in s} for s in value]:
                raise ctx.target.fail("writes.create", "the created customer must hold the emails sent.",
                                      expected=value, actual=data.get("emails"), reply=reply)
        elif data.get(key) != value and not (key == "status" and value is None):
            raise ctx.target.fail("writes.create", f"the created customer must hold the {key} sent.",
                                  expected=value, actual=data.get(key), reply=reply)
    _check_get(ctx, data["id"], data, "writes.create", "the created customer")


def _check_get(ctx: Context, customer: Any, record: dict[str, Any], prop_name: str, what: str) -> None:
    reply = ctx.target.get(ctx.contract.item_url(customer))
    got = reply.json().get("data") if isinstance(reply.json(), dict) else None
    if reply.status != 200 or got != record:
        raise ctx.target.fail(prop_name, f"GET of {what} must return it as the write answered it.",
                              expected=record, actual=got if reply.status == 200 else
                              f"{reply.status} {reply.excerpt()}", reply=reply)


def _list_ids(ctx: Context, record: dict[str, Any]) -> tuple[list[Any], int]:
    """Copies of ``record``'s customer in a ``filter[customer_ids]`` lookup and in a new walk of
    the reference collection (when the customer belongs to it), and how many there must be."""
    universe = ctx.universe()
    c = ctx.contract
    customer = record.get("id")
    found: list[Any] = []
    expected = 0
    if "customer_ids" in c.filters:
        page = page_of(ctx.target, ctx.target.get(c.list_path, params={"filter[customer_ids]": str(customer),
                                                                     "limit": c.limit_max}),
                     limit=c.limit_max, first=True)
        found += [i for i in page.items if str(i.get("id")) == str(customer)]
        expected += 1
    window = universe.params.get("filter[created_since]")
    stamp, since = parse_time(record.get("created_at")), parse_time(window) if window else None
    if universe.complete or (stamp is not None and since is not None and stamp >= since):
        result = walk(ctx.target, c, universe.params, limit=c.limit_max, max_pages=ctx.budget.max_pages)
        check_walk(ctx.target, result, after_last=after_last(ctx, universe.params))
        found += [i for i in result.items if str(i.get("id")) == str(customer)]
        expected += 1
    return found, expected


def _check_listed(ctx: Context, record: dict[str, Any], prop_name: str, what: str) -> None:
    found, expected = _list_ids(ctx, record)
    if len(found) != expected or any(f != record for f in found):
        raise ctx.target.fail(prop_name, f"{what} must appear exactly once in a new walk and in "
                                         f"filter[customer_ids], as the write answered it.",
                              expected=record, actual=found or "not listed")
