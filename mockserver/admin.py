"""The admin API: ``/__admin/``, for the people, fixtures and CI jobs driving the mock.

Described by its own OpenAPI document (``GET /__admin/openapi.yaml``, ``mockserver/specs/admin.yaml``);
errors are ``application/problem+json`` whatever flavour the server's root serves. Every route
takes the admin token as ``Authorization: Bearer <token>`` (or ``X-Mock-Admin-Token``): the
``--admin-token``, else the API ``--token``, else (on loopback only) any non-empty token.

What it changes lives in the shared store (:mod:`mockserver.shared`), so every worker sees it on
its next request:

==========================================  =====================================================
``GET /__admin/health``                     workers, store, version, uptime
``GET|PUT /__admin/config``                 the effective settings and controls; PUT merges controls
``POST /__admin/reset``                     every write in every tenant forgotten, controls as at start
``GET|PUT|DELETE /__admin/faults``          the fault profile (``?tenant=``: that tenant's own)
``GET /__admin/tenants``                    the configured tenants and the default mode
``GET|PUT|DELETE /__admin/tenants/{id}``    one tenant's mode, count, connection state, faults
``POST /__admin/tenants/{id}/reset``        forget that tenant's writes only
``GET|PUT|DELETE /__admin/rate-limits``     on/off and per-flavour quotas (DELETE: as at start)
``GET|PUT|DELETE /__admin/clock``           the clock rate limits run on (offset, frozen, advance)
``/__admin/requests...``                    the request journal and verifications (:mod:`~mockserver.admin_journal`)
==========================================  =====================================================
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import fields, replace
from typing import Any

import falcon

from mockserver.answers import send_bytes
from mockserver.controls import Controls, TenantControls, check_tenant_id
from mockserver.dialect import Rendered
from mockserver.documents import package_spec
from mockserver.errors import InvalidBody, InvalidSettings, MockServerError, NotFound, Problem, Unauthorized
from mockserver.resources import ServerContext, bearer_token, dumps, read_json, same_secret

__all__ = ["ADMIN_PREFIX", "RESET_PATH", "AdminResource", "add_admin_routes", "render_admin_error"]

ADMIN_PREFIX = "/__admin"
RESET_PATH = f"{ADMIN_PREFIX}/reset"
_SECRET_SETTINGS = ("token", "admin_token")

log = logging.getLogger("mockserver")


def render_admin_error(error: MockServerError) -> Rendered:
    """An admin route's error as RFC 9457 problem+json."""
    body: dict[str, Any] = {"type": f"/problems/{error.kind}", "title": error.title, "status": error.status,
                            "detail": error.detail}
    if error.problems:
        body["errors"] = [{"in": p.location, "name": p.name, "detail": p.detail} for p in error.problems]
    return Rendered(error.status, dumps(body), "application/problem+json")


class _Admin:
    """Base of every admin resource: the admin token is checked before any responder runs."""

    def __init__(self, context: ServerContext) -> None:
        self.context = context
        self.shared = context.shared

    def authorize(self, req: falcon.Request) -> None:
        from mockserver.stages import ADMIN_TOKEN_HEADER, admin_token

        given = bearer_token(req) or req.get_header(ADMIN_TOKEN_HEADER)
        if not given:
            raise Unauthorized("Send the admin token: Authorization: Bearer <token> (the server's --admin-token, "
                               "else its --token, else any token when it runs on loopback without one).")
        expected = admin_token(self.context)
        if expected is not None and not same_secret(given, expected):
            raise Unauthorized("The admin token is not valid for this server.")

    def changed(self, change: Any) -> Controls:
        """Apply a change to the shared controls; a bad value is a 422 naming the key."""
        from mockserver.flavours import FLAVOURS

        def checked(current: Controls) -> Controls:
            controls: Controls = change(current)
            controls.check_flavours({d.name: [o.name for o in d.operations] for d in FLAVOURS})
            return controls

        try:
            return self.shared.update_controls(checked)
        except InvalidSettings as exc:
            key = exc.detail.split(":", 1)[0]
            raise InvalidBody(exc.detail, problems=(Problem("body", key, exc.detail),)) from None


def _send(resp: falcon.Response, body: Any, status: int = 200) -> None:
    send_bytes(resp, dumps(body), status=status)


def _authorized(resource: _Admin) -> _Admin:
    """Every ``on_*`` responder of ``resource``, behind the admin token."""
    for name in dir(resource):
        if name.startswith("on_"):
            responder = getattr(resource, name)

            def guarded(req: falcon.Request, resp: falcon.Response, *args: Any, __r: Any = responder,
                        **kwargs: Any) -> None:
                resource.authorize(req)
                __r(req, resp, *args, **kwargs)

            setattr(resource, name, guarded)
    return resource


class Health(_Admin):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        from mockserver.landing import package_version

        settings, catalog = self.context.settings, self.context.catalog
        _send(resp, {
            "status": "ok",
            "version": package_version(),
            "uptime_seconds": round(time.time() - self.context.started, 3),
            "workers": {"configured": settings.workers, "live": self.shared.workers(), "this": os.getpid()},
            "store": {"kind": "local", "state": settings.state, "writes_version": catalog.store.refresh()},
            "dataset": {"seed": catalog.dataset.seed, "count": catalog.dataset.count},
        })


class Config(_Admin):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        settings = self.context.settings
        shown = {f.name: getattr(settings, f.name) for f in fields(settings)}
        for secret in _SECRET_SETTINGS:
            shown[secret] = None if shown[secret] is None else "***"
        shown["cors_origins"] = list(settings.cors_origins)
        _send(resp, {"settings": shown, "controls": self.shared.controls().as_json()})

    def on_put(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_json(req)
        controls = self.changed(lambda current: Controls.from_mapping(body, base=current))
        _send(resp, {"controls": controls.as_json()})


class Reset(_Admin):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        context = self.context
        context.catalog.reset()
        context.tenants.reset_all()
        self.shared.reset()
        if context.journal is not None:
            context.journal.clear()
        # NOTE: not needed for correctness (cached pages are keyed by store versions, which a reset
        # never reuses, and version 0 is the seeded state); this only returns the memory.
        context.pages.clear()
        context.records.clear()
        log.info("reset: every write forgotten, controls as at start")
        resp.status = falcon.HTTP_204


def _tenant_param(req: falcon.Request) -> str | None:
    tenant = req.get_param("tenant")
    return None if tenant is None else _tenant(tenant)


def _tenant(tenant: str) -> str:
    try:
        return check_tenant_id(tenant, "tenant")
    except InvalidSettings as exc:
        raise InvalidBody(exc.detail) from None


class Faults(_Admin):
    """The server's fault profile, or with ``?tenant=`` that tenant's own (its requests draw from it alone)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        tenant, controls = _tenant_param(req), self.shared.controls()
        profile = controls.faults if tenant is None else (controls.tenant(tenant) or _NO_TENANT).faults
        _send(resp, {"tenant": tenant, "faults": None if profile is None else profile.as_json()})

    def on_put(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._set(req, resp, read_json(req))

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._set(req, resp, None)

    def _set(self, req: falcon.Request, resp: falcon.Response, profile: Any) -> None:
        tenant = _tenant_param(req)

        def change(current: Controls) -> Controls:
            if tenant is None:
                return Controls.from_mapping({"faults": profile}, base=current)
            if profile is None and current.tenant(tenant) is None:
                return current  # nothing to remove: no entry is made for the tenant
            own = (current.tenant(tenant) or _NO_TENANT).as_json()
            own.pop("faults", None)
            return current.with_tenant(tenant, {**own, **({} if profile is None else {"faults": profile})})

        self.changed(change)
        self.on_get(req, resp)


AdminResource = _Admin
"""The base of admin resources other modules define (the admin token checked by :func:`add_admin_routes`)."""

_NO_TENANT = TenantControls()
"""What an unconfigured tenant has: the server's mode and count, state ok, no faults of its own."""


class Tenants(_Admin):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        _send(resp, self.shared.controls().as_json()["tenants"])

    def on_get_one(self, req: falcon.Request, resp: falcon.Response, tenant: str) -> None:
        controls = self.shared.controls()
        own = controls.tenant(_tenant(tenant))
        _send(resp, {"id": tenant, "mode": "isolated" if controls.isolated(tenant) else "shared",
                     "configured": own is not None, **(own or _NO_TENANT).as_json()})

    def on_put_one(self, req: falcon.Request, resp: falcon.Response, tenant: str) -> None:
        body = read_json(req)
        self.changed(lambda current: current.with_tenant(_tenant(tenant), body))
        self.on_get_one(req, resp, tenant)

    def on_delete_one(self, req: falcon.Request, resp: falcon.Response, tenant: str) -> None:
        controls = self.shared.controls()
        if controls.tenant(_tenant(tenant)) is None:
            raise NotFound(f"No tenant {tenant!r} is configured.")
        self.changed(lambda current: current.without_tenant(tenant))
        resp.status = falcon.HTTP_204

    def on_post_reset(self, req: falcon.Request, resp: falcon.Response, tenant: str) -> None:
        controls = self.shared.controls()
        if not controls.isolated(_tenant(tenant)):
            raise InvalidBody(f"Tenant {tenant!r} reads the shared dataset: reset it with POST {RESET_PATH} "
                              "(every tenant), or make it isolated first (PUT its mode).")
        self.context.tenants.reset(tenant, controls)
        resp.status = falcon.HTTP_204


class RateLimits(_Admin):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        _send(resp, self.shared.controls().as_json()["rate_limits"])

    def on_put(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_json(req)
        self.changed(lambda current: Controls.from_mapping({"rate_limits": body}, base=current))
        self.on_get(req, resp)

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        initial = self.shared.initial_controls()
        self.changed(lambda current: replace(current, rate_limits=initial.rate_limits, quotas=initial.quotas))
        self.on_get(req, resp)


class Clock(_Admin):
    """The clock rate limits run on: ``{"offset_seconds": s}``, ``{"frozen_at": t}`` or ``{"advance_seconds": s}``."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        controls = self.shared.controls()
        _send(resp, {**controls.as_json()["clock"], "now": controls.now(time.time())})

    def on_put(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_json(req)
        if isinstance(body, dict) and "advance_seconds" in body:
            if len(body) > 1:
                others = ", ".join(sorted(k for k in body if k != "advance_seconds"))
                raise InvalidBody(f"advance_seconds comes alone (it moves the clock as it is); got also {others}",
                                  problems=(Problem("body", "advance_seconds", "send it alone"),))
            step = body["advance_seconds"]
            if isinstance(step, bool) or not isinstance(step, (int, float)) or not -1e9 <= step <= 1e9:
                raise InvalidBody(f"advance_seconds must be a number of seconds, got {step!r}")

            def change(current: Controls) -> Controls:
                # through the validator: a clock moved out of range would be stored, then unreadable
                clock: dict[str, float] = {"offset_seconds": current.clock_offset}
                if current.clock_frozen is not None:
                    clock["frozen_at"] = current.clock_frozen + step
                else:
                    clock["offset_seconds"] += step
                return Controls.from_mapping({"clock": clock}, base=current)

            self.changed(change)
        else:
            self.changed(lambda current: Controls.from_mapping({"clock": body}, base=current))
        self.on_get(req, resp)

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.changed(lambda current: replace(current, clock_offset=0.0, clock_frozen=None))
        self.on_get(req, resp)


class Document:
    """``GET /__admin/openapi.yaml``: open to anyone, as every flavour's document is."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        send_bytes(resp, package_spec("admin.yaml"), content_type="application/yaml")


def add_admin_routes(app: falcon.App[falcon.Request, falcon.Response], context: ServerContext) -> None:
    app.add_route(f"{ADMIN_PREFIX}/openapi.yaml", Document())
    app.add_route(f"{ADMIN_PREFIX}/health", _authorized(Health(context)))
    app.add_route(f"{ADMIN_PREFIX}/config", _authorized(Config(context)))
    app.add_route(RESET_PATH, _authorized(Reset(context)))
    app.add_route(f"{ADMIN_PREFIX}/faults", _authorized(Faults(context)))
    tenants = _authorized(Tenants(context))
    app.add_route(f"{ADMIN_PREFIX}/tenants", tenants)
    app.add_route(f"{ADMIN_PREFIX}/tenants/{{tenant}}", tenants, suffix="one")
    app.add_route(f"{ADMIN_PREFIX}/tenants/{{tenant}}/reset", tenants, suffix="reset")
    app.add_route(f"{ADMIN_PREFIX}/rate-limits", _authorized(RateLimits(context)))
    app.add_route(f"{ADMIN_PREFIX}/clock", _authorized(Clock(context)))
    from mockserver.admin_journal import journal_routes  # NOTE: here, it builds on this module's _Admin

    for path, resource, suffix in journal_routes(context):
        app.add_route(f"{ADMIN_PREFIX}{path}", _authorized(resource), suffix=suffix)
