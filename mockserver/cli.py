"""``mockserver``: serve the mock, list its routes, or dump customers.

Exit codes: 0 success, 2 usage or settings error (message on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mockserver.errors import MockServerError
from mockserver.settings import SERVERS, Settings

if TYPE_CHECKING:
    from mockserver.dialect import Dialect

__all__ = ["main"]

DESCRIPTION = """\
Mock unified e-commerce Customers API: deterministic Faker-seeded customers served in the
canonical contract and in each platform's own flavour (Apideck, Truto, ecartAPI, Ecwid, myBoxx).
"""

SERVE_EPILOG = """\
Every option can also be set with an environment variable MOCKSERVER_<OPTION>
(for example MOCKSERVER_SEED=7, MOCKSERVER_TOKEN=secret, MOCKSERVER_CORS_ORIGINS=a,b); flags win.
Pass the token as MOCKSERVER_TOKEN or --token-file rather than --token: command lines are
visible to every user of the machine.

examples:
  mockserver serve                          # http://127.0.0.1:8000/customers, 1,000 customers
  mockserver serve --count 10000000         # same memory, same start-up time
  mockserver serve --port 0                 # any free port (printed at start)
  mockserver serve --state mock.sqlite3     # writes survive restarts
  MOCKSERVER_TOKEN=s3cret mockserver serve --host 0.0.0.0 --public-url http://mybox:8000
  mockserver serve --config mock.yaml       # tenants, fault profiles, rate limits (see mock.example.yaml)
  mockserver serve --tenants isolated --rate-limits
  mockserver serve --server granian         # the Rust HTTP server (pip install 'unified-customers-mock[granian]')
  curl -H 'Authorization: Bearer any' http://127.0.0.1:8000/customers?limit=2
  curl -H 'Authorization: Bearer any' -H 'Prefer: code=503, delay=500' http://127.0.0.1:8000/customers
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockserver", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    defaults = Settings()

    serve = commands.add_parser("serve", help="run the mock server (under gunicorn, or granian)", description=DESCRIPTION,
                                epilog=SERVE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_argument("--host", help=f"interface to bind (default {defaults.host}: this machine only; "
                                      "0.0.0.0 exposes the mock to your network and needs --token "
                                      "or --allow-anyone)")
    serve.add_argument("--port", type=int, help=f"TCP port (default {defaults.port}; 0 picks a free one)")
    _dataset_options(serve)
    serve.add_argument("--workers", type=int, help=f"worker processes (default {defaults.workers})")
    serve.add_argument("--server", choices=SERVERS,
                       help=f"HTTP server (default {defaults.server}): gunicorn runs gevent workers; granian (a Rust "
                            "server, pip install 'unified-customers-mock[granian]') runs the app in threads and is "
                            "faster, but breaks connections for fault=reset/empty differently (see the README)")
    serve.add_argument("--state", metavar="PATH",
                       help="SQLite file holding writes; survives restarts (default: a temporary file)")
    serve.add_argument("--token", help="require exactly this bearer token (default: accept any non-empty token); "
                                       "other users can read it in `ps`: prefer MOCKSERVER_TOKEN or --token-file")
    serve.add_argument("--token-file", metavar="PATH",
                       help="read the token from the first line of this file (env MOCKSERVER_TOKEN_FILE)")
    serve.add_argument("--allow-anyone", dest="allow_anyone", action="store_const", const=True,
                       help="serve on a non-loopback --host without a token: anyone who reaches it "
                            "can read, change and reset its data")
    serve.add_argument("--public-url", metavar="URL",
                       help="base URL clients reach the server at, used in absolute links and the served "
                            "OpenAPI documents (default: the bound address; set it behind a proxy or with "
                            "--host 0.0.0.0)")
    serve.add_argument("--no-cors", dest="cors", action="store_const", const=False,
                       help="do not answer CORS preflights or add CORS headers")
    serve.add_argument("--cors-origin", dest="cors_origins", action="append", metavar="ORIGIN",
                       help="also allow this browser origin (repeatable, e.g. https://app.example.com; "
                            "'*' allows any); loopback origins (http://localhost:<any port>, "
                            "127.0.0.1, [::1]) are always allowed")
    serve.add_argument("--flavour", help=f"flavour also mounted at the root (default {defaults.flavour}); "
                                         "every flavour is always mounted under /<flavour>")
    serve.add_argument("--access-log", dest="access_log", action="store_const", const=True,
                       help="log every request to standard output")
    unhappy = serve.add_argument_group(
        "unhappy paths", "tenants, connection states, forced responses, fault profiles and rate limits; the "
        "config file holds all of them (see mock.example.yaml), the admin API changes them at run time")
    unhappy.add_argument("--config", metavar="PATH",
                         help="YAML file with settings, tenants, faults and rate limits; flags and MOCKSERVER_* "
                              "variables win over it")
    unhappy.add_argument("--admin-token", help="token of the admin API (/__admin/) and of Prefer on a server with "
                                               "--token (default: the API token); prefer MOCKSERVER_ADMIN_TOKEN")
    unhappy.add_argument("--admin-token-file", metavar="PATH",
                         help="read the admin token from the first line of this file")
    unhappy.add_argument("--tenants", choices=("shared", "isolated"),
                         help="shared: every tenant reads one dataset (default); isolated: each tenant id "
                              "(consumer, account, store, shop, X-Tenant-Id) has its own data and writes")
    unhappy.add_argument("--rate-limits", dest="rate_limits", action="store_const", const=True,
                         help="enforce each platform's rate-limit model (429 with its headers); off by default")
    unhappy.add_argument("--no-rate-limits", dest="rate_limits", action="store_const", const=False,
                         help=argparse.SUPPRESS)
    unhappy.add_argument("--faults", metavar="PROFILE",
                         help="a seeded fault profile for every request, as YAML/JSON or @FILE, e.g. "
                              "'{errors: [{status: 503, rate: 0.05, retry_after: 2}], latency: {ms: 100}}' "
                              "(the admin API changes it at run time: PUT /__admin/faults)")
    journal = serve.add_argument_group("request journal (GET /__admin/requests)")
    journal.add_argument("--journal-size", dest="journal_size", type=int, metavar="N",
                         help=f"requests the journal keeps, shared by every worker (default {defaults.journal_size:,}; "
                              "0 turns it off)")
    journal.add_argument("--journal-body-bytes", dest="journal_body_bytes", type=int, metavar="BYTES",
                         help=f"bytes of each request body it keeps (default {defaults.journal_body_bytes:,})")
    unhappy.add_argument("--no-prefer", dest="prefer", action="store_const", const=False,
                         help="ignore Prefer: code=/delay=/fault= request headers (honoured by default; on a "
                              "server with --token only with the admin token in X-Mock-Admin-Token)")
    unhappy.add_argument("--prefer", dest="prefer", action="store_const", const=True, help=argparse.SUPPRESS)

    routes = commands.add_parser("routes", help="list every mounted route, per flavour")
    routes.add_argument("--flavour", help="root flavour, as for serve")

    dump = commands.add_parser("dump", help="print customers as JSON lines (canonical form)")
    _dataset_options(dump)
    dump.add_argument("--start", type=int, default=0, help="first customer index (default 0)")
    dump.add_argument("--limit", type=int, default=10, help="how many customers (default 10)")
    return parser


def _version() -> str:
    from mockserver.landing import package_version

    return package_version()


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse; an unknown option is reported with the usage of the command it was given to."""
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        (commands.choices.get(args.command) or parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def _dataset_options(parser: argparse.ArgumentParser) -> None:
    defaults = Settings()
    parser.add_argument("--seed", type=int, help=f"dataset seed (default {defaults.seed})")
    parser.add_argument("--count", type=int, help=f"customers in the dataset (default {defaults.count:,})")


def _settings(args: argparse.Namespace) -> Settings:
    names = ("seed", "count", "host", "port", "workers", "state", "token", "cors", "flavour", "access_log",
             "cors_origins", "public_url", "allow_anyone", "admin_token", "config", "tenants", "rate_limits", "prefer", "faults",
             "journal_size", "journal_body_bytes", "server")
    values = {n: getattr(args, n, None) for n in names}
    for name in ("token", "admin_token"):
        token_file = getattr(args, f"{name}_file", None)
        if token_file is None and f"MOCKSERVER_{name.upper()}" not in os.environ:
            token_file = os.environ.get(f"MOCKSERVER_{name.upper()}_FILE")
        if token_file and values[name] is None:
            values[name] = _read_token(token_file)
    config = values["config"] or os.environ.get("MOCKSERVER_CONFIG")
    if config:
        from mockserver.config_file import read_config
        from mockserver.delivery import Webhooks, webhook_formats

        # the file fills what neither a flag nor a MOCKSERVER_* variable set
        from mockserver.flavours import FLAVOURS

        from_file = read_config(config, {d.name: [o.name for o in d.operations] for d in FLAVOURS},
                                webhooks=lambda entries: Webhooks.check(entries, webhook_formats(list(FLAVOURS))))
        env_set = {k for k in from_file if f"MOCKSERVER_{k.upper()}" in os.environ}
        values = {**{k: v for k, v in from_file.items() if k not in env_set and values.get(k) is None},
                  **{k: v for k, v in values.items() if v is not None}}
    return Settings.from_env(**values)


def _read_token(path: str) -> str:
    """The first line of ``path``, stripped.

    Raises:
        InvalidSettings: the file cannot be read or its first line is blank.
    """
    from mockserver.errors import InvalidSettings

    try:
        with open(path, encoding="utf-8") as file:
            token = file.readline().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidSettings(f"cannot read the token file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not token:
        raise InvalidSettings(f"the token file {path} is empty; put the token on its first line")
    return token


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = _parse(parser, argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        settings = _settings(args)
        if args.command == "serve":
            from mockserver.flavours import FLAVOURS
            from mockserver.server import serve

            FLAVOURS.get(settings.flavour)  # unknown flavour: a usage error before gunicorn starts
            if settings.faults is not None:  # a bad --faults too (the config file was read above)
                from mockserver.config_file import initial_controls

                initial_controls(settings, {d.name: [o.name for o in d.operations] for d in FLAVOURS})
            return serve(settings)
        if args.command == "routes":
            return _routes(settings)
        return _dump(settings, args.start, args.limit)
    except MockServerError as exc:
        print(f"mockserver: error: {exc.detail}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _routes(settings: Settings) -> int:
    from mockserver.admin import ADMIN_PREFIX, RESET_PATH
    from mockserver.flavours import FLAVOURS
    from mockserver.landing import DOCS_PATH

    root = FLAVOURS.get(settings.flavour)
    routes = {flavour.name: _route_table(flavour) for flavour in FLAVOURS}
    for flavour in FLAVOURS:
        print(f"{flavour.name}: {flavour.title}")
        for methods, path in routes[flavour.name]:
            mounts = [f"/{flavour.name}"] + ([""] if flavour is root else [])
            for mount in mounts:
                print(f"  {','.join(methods):<26} {mount}{path}")
        for mount in [f"/{flavour.name}"] + ([""] if flavour is root else []):
            print(f"  {'GET':<26} {mount}/openapi.yaml")
    print("server: every flavour")
    print(f"  {'GET':<26} /  (landing page: what runs, how to call each flavour)")
    print(f"  {'GET':<26} {DOCS_PATH}, {DOCS_PATH}/{{flavour}}  (API docs, Swagger UI)")
    print(f"  {'GET':<26} {DOCS_PATH}/assets/{{file}}")
    print(f"  {'GET':<26} /health")
    print(f"  {'POST':<26} {RESET_PATH}  (forget every write, controls as at start)")
    print(f"  {'*':<26} {ADMIN_PREFIX}/...  (admin API: {ADMIN_PREFIX}/openapi.yaml describes it)")
    return 0


HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _route_table(flavour: Dialect) -> list[tuple[list[str], str]]:
    """``(methods, path)`` of each path a flavour serves, in its declaration order."""
    table: dict[str, list[str]] = {}
    for operation in flavour.operations:
        table.setdefault(operation.path, []).append(operation.method)
    return [([m for m in HTTP_METHODS if m in methods], path) for path, methods in table.items()]


def _dump(settings: Settings, start: int, limit: int) -> int:
    from mockserver.dataset import Dataset
    from mockserver.resources import dumps

    dataset = Dataset(settings.seed, settings.count)
    out = sys.stdout.buffer
    for i in range(max(start, 0), min(start + max(limit, 0), dataset.count)):
        out.write(dumps(dataset.customer(i)) + b"\n")
    out.flush()
    return 0
