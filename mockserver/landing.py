"""What a person opening the server in a browser sees: a landing page at ``/`` and API docs at ``/docs``.

``GET /`` says what is running (version, seed, count, root flavour, auth) and, for each flavour,
its base URL, its OpenAPI document, its docs and one request that works as printed.
``GET /docs`` (and ``/docs/<flavour>``) is Swagger UI over every flavour's document. Its assets ship
in the ``swagger-ui-bundle-v2`` package and are served from ``/docs/assets/``, so the docs work
offline (no CDN). None of this is on the request path of the API itself.

:func:`first_requests` is also what ``mockserver serve`` prints at start.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from importlib import metadata, resources
from importlib.resources.abc import Traversable
from urllib.parse import quote

import falcon

from mockserver.answers import send_bytes
from mockserver.dialect import Example
from mockserver.errors import NotFound
from mockserver.flavours import FLAVOURS, Flavour
from mockserver.resources import ServerContext
from mockserver.settings import Settings
from mockserver.version import __version__

__all__ = ["DOCS_PATH", "add_landing_routes", "first_requests", "package_version"]

DOCS_PATH = "/docs"
ADMIN_DOCS = "admin"
"""``/docs/admin``: the admin API's document (a flavour of that name would come first)."""
ADMIN_DOCUMENT = "/__admin/openapi.yaml"
ASSETS_PATH = f"{DOCS_PATH}/assets"


def package_version() -> str:
    """The installed version of the package (its metadata), else the source tree's."""
    try:
        return metadata.version("unified-customers-mock")
    except metadata.PackageNotFoundError:
        return __version__


@dataclass(frozen=True)
class Mount:
    """A flavour as served at one prefix, with its first request."""

    flavour: Flavour
    prefix: str
    example: Example


def mounts(settings: Settings) -> list[Mount]:
    """The root flavour at ``""`` first, then every flavour under ``/<name>``."""
    root = FLAVOURS.get(settings.flavour)
    return [Mount(root, "", root.example)] + [Mount(f, f"/{f.name}", f.example) for f in FLAVOURS]


def credentials(example: Example, settings: Settings) -> tuple[tuple[str, str], ...]:
    """The headers to print: any token works unless ``--token`` is set (never printed: a placeholder
    stands in, without the flavour's required prefix, which the real token must already carry)."""
    if settings.token:
        return example._replace(token_prefix="").credentials("$MOCKSERVER_TOKEN")
    return example.credentials("any-token")


def curl(url: str, example: Example, settings: Settings) -> str:
    headers = credentials(example, settings)
    quoted = " ".join(f"-H '{name}: {value}'" for name, value in headers)
    return f"curl -s {quoted} '{url}'"


def first_requests(settings: Settings, base_url: str) -> list[tuple[str, str, str]]:
    """``(mount label, URL, note)`` per mount, root first: URLs that answer 200 with a token (``serve`` prints them).

    The note names the headers the flavour needs besides the token, if any.
    """
    requests = []
    for mount in mounts(settings):
        label = f"{mount.flavour.name} (root)" if not mount.prefix else mount.flavour.name
        example = mount.example
        needs = [f"token {example.token_prefix}..."] if example.token_prefix else []
        needs += [f"token in header {example.token_header}"] if example.token_header != "Authorization" else []
        needs += [f"header {name}" for name, _ in example.headers]
        note = f"(+ {', '.join(needs)})" if needs else ""
        requests.append((label, mount.example.url(base_url + mount.prefix), note))
    return requests


# ---- GET / -----------------------------------------------------------------------------------------

PAGE_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .4rem .6rem; vertical-align: top; }
tr + tr td { border-top: 1px solid #ddd; } code, pre { font-size: .85rem; } pre { white-space: pre-wrap; margin: 0; }
"""


def landing_html(context: ServerContext, origin: str) -> bytes:
    settings, dataset = context.settings, context.catalog.dataset
    e = html.escape
    rows = []
    for mount in mounts(settings):
        flavour, base = mount.flavour, origin + mount.prefix
        url = mount.example.url(base)
        headers = dict(credentials(mount.example, settings))
        name = f"{flavour.name} (root)" if not mount.prefix else flavour.name
        rows.append(
            f'<tr class="flavour" data-flavour="{e(flavour.name)}" data-prefix="{e(mount.prefix)}">'
            f"<td><b>{e(name)}</b><br>{e(flavour.title)}</td><td><code>{e(base or origin)}</code></td>"
            f'<td><a class="spec" href="{e(mount.prefix)}/openapi.yaml">{e(mount.prefix)}/openapi.yaml</a><br>'
            f'<a class="docs" href="{DOCS_PATH}/{quote(flavour.name)}">API docs</a></td>'
            f'<td><pre class="example" data-url="{e(url)}" data-headers="{e(json.dumps(headers))}">'
            f"{e(curl(url, mount.example, settings))}</pre></td></tr>")
    auth = ("only the token given with --token (shown here as $MOCKSERVER_TOKEN)" if settings.token
            else "any non-empty bearer token")
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>unified-customers-mock {e(package_version())}</title>
<style>{PAGE_STYLE}</style></head><body>
<h1>unified-customers-mock <span id="version">{e(package_version())}</span></h1>
<p id="running">Serving <b id="count">{dataset.count:,}</b> deterministic customers from seed <b id="seed">{dataset.seed}</b>
in every flavour below; <b>{e(settings.flavour)}</b> is also served at the root. Auth: {e(auth)}.
Writes (create, update, delete) are an overlay every flavour sees; <code>POST /__admin/reset</code> forgets them.</p>
<p><a id="all-docs" href="{DOCS_PATH}">Interactive API docs</a> for every document (offline, Swagger UI) ·
<a href="/health">/health</a> · <a href="/openapi.yaml">/openapi.yaml</a> (the root flavour's document) ·
<a href="{ADMIN_DOCUMENT}">{ADMIN_DOCUMENT}</a> (the admin API: tenants, faults, rate limits;
<a href="{DOCS_PATH}/{ADMIN_DOCS}">docs</a>)</p>
<table><thead><tr><th>Flavour</th><th>Base URL</th><th>Document</th><th>Try it</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table>
</body></html>
"""
    return body.encode()


class LandingResource:
    """``GET /``: what is running and how to call it."""

    def __init__(self, context: ServerContext) -> None:
        self.context = context

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        send_bytes(resp, landing_html(self.context, req.prefix), content_type="text/html; charset=utf-8")


# ---- GET /docs ----------------------------------------------------------------------------------------

SWAGGER_ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png")
ASSET_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".png": "image/png"}


def swagger_ui_dir() -> Traversable:
    """The Swagger UI dist folder shipped by ``swagger-ui-bundle-v2`` (``vendor/swagger-ui-<version>``)."""
    vendor = resources.files("swagger_ui_bundle").joinpath("vendor")
    folders = sorted((p for p in vendor.iterdir() if p.name.startswith("swagger-ui-")), key=lambda p: p.name)
    if not folders:
        raise RuntimeError("swagger-ui-bundle-v2 ships no Swagger UI: reinstall the package")
    return folders[-1]


def docs_html(context: ServerContext, primary: str) -> bytes:
    documents = [{"name": m.flavour.name, "url": f"{m.prefix}/openapi.yaml"} for m in mounts(context.settings)[1:]]
    documents.append({"name": ADMIN_DOCS, "url": ADMIN_DOCUMENT})
    config = {"urls": documents, "urls.primaryName": primary, "dom_id": "#swagger-ui", "validatorUrl": None,
              "deepLinking": True, "layout": "StandaloneLayout"}
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>API docs: {html.escape(primary)}</title>
<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
<link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div>
<script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="{ASSETS_PATH}/swagger-ui-standalone-preset.js"></script>
<script>
const config = {json.dumps(config)};
config.presets = [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset];
config.plugins = [SwaggerUIBundle.plugins.DownloadUrl];
window.ui = SwaggerUIBundle(config);
</script></body></html>
""".encode()


class DocsResource:
    """``GET /docs`` (the root flavour's document first) and ``GET /docs/{name}``: Swagger UI."""

    def __init__(self, context: ServerContext) -> None:
        self.context = context

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        send_bytes(resp, docs_html(self.context, self.context.settings.flavour), content_type="text/html; charset=utf-8")

    def on_get_flavour(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        if name not in FLAVOURS and name != ADMIN_DOCS:
            raise NotFound(f"No flavour named {name!r}; the docs of each are at {DOCS_PATH}/<flavour>: "
                           f"{', '.join(FLAVOURS.names())}.")
        send_bytes(resp, docs_html(self.context, name), content_type="text/html; charset=utf-8")


class AssetResource:
    """``GET /docs/assets/{file}``: the Swagger UI files, read once."""

    def __init__(self) -> None:
        self._cache: dict[str, bytes] = {}

    def on_get(self, req: falcon.Request, resp: falcon.Response, file: str) -> None:
        if file not in SWAGGER_ASSETS:
            raise NotFound(f"No docs asset named {file!r}.")
        if file not in self._cache:
            self._cache[file] = swagger_ui_dir().joinpath(file).read_bytes()
        suffix = file[file.rfind("."):]
        send_bytes(resp, self._cache[file], content_type=ASSET_TYPES[suffix],
                   headers={"Cache-Control": "public, max-age=86400"})


def add_landing_routes(app: falcon.App, context: ServerContext) -> None:  # type: ignore[type-arg]
    """Mount ``/``, ``/docs``, ``/docs/{name}`` and ``/docs/assets/{file}``."""
    app.add_route("/", LandingResource(context))
    docs = DocsResource(context)
    app.add_route(DOCS_PATH, docs)
    app.add_route(DOCS_PATH + "/{name}", docs, suffix="flavour")
    app.add_route(ASSETS_PATH + "/{file}", AssetResource())
