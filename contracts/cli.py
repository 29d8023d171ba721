"""``contracts``: the contract kit on the command line.

::

    contracts check --base-url URL [--spec openapi.yaml] [--token T] [--junit-xml FILE]
                    [--seed N] [--max-examples N] [--checks GROUP,...]
                    [--list-operation ID] [--get-operation ID]
    contracts gateway ...        (added by contracts/gateway.py when present)
    contracts check-client --flavour F [--profile P] ... -- COMMAND {url}   (contracts/clientcheck/cli.py)

Exit codes are fixed: 0 every check passed, 1 the server broke the contract, 2 usage error
(bad option, unreadable spec, nothing answering at the base URL); usage errors print one
message, never a traceback. Progress goes to stderr, the report to stdout.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections.abc import Sequence

from contracts.extras import missing_extra
from contracts.failures import UsageError

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value else default


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def _add_check_command(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    check = subparsers.add_parser(
        "check", help="check a server against the canonical Customers contract",
        description="Run Schemathesis on the contract and the kit's Hypothesis properties (pagination, fields, "
                    "filters, sort, get, errors, determinism, writes) against a running server. It WRITES: it "
                    "creates, updates and deletes customers, so point it at a test instance. The customers it "
                    "created are deleted when it ends (unless --keep-writes); updates and deletes of customers "
                    "it did not create are not undone.")
    check.add_argument("--base-url", default=_env("CONTRACTS_BASE_URL"),
                       help="API root, e.g. http://127.0.0.1:8000 (env CONTRACTS_BASE_URL)")
    check.add_argument("--spec", default=_env("CONTRACTS_SPEC"),
                       help="OpenAPI document, path or URL (env CONTRACTS_SPEC; default: the bundled canonical "
                            "contract)")
    check.add_argument("--token", default=_env("CONTRACTS_TOKEN", "contract-token"),
                       help="bearer token to send (env CONTRACTS_TOKEN; default: contract-token)")
    check.add_argument("--junit-xml", metavar="FILE", help="also write a JUnit XML report to FILE")
    check.add_argument("--seed", type=_integer, default=0, help="seed for every generator (default 0)")
    check.add_argument("--max-examples", type=_positive, default=25,
                       help="examples per Schemathesis operation and per property (default 25; larger is deeper)")
    check.add_argument("--checks", metavar="GROUP,...",
                       help="run only these groups or properties, comma-separated (e.g. pagination,fields or "
                            "schemathesis.fuzzing)")
    check.add_argument("--list-operation", metavar="OPERATION_ID", default=_env("CONTRACTS_LIST_OPERATION"),
                       help="operationId of the document's list operation (env CONTRACTS_LIST_OPERATION; default "
                            "listCustomers, or the GET on the customers collection path)")
    check.add_argument("--get-operation", metavar="OPERATION_ID", default=_env("CONTRACTS_GET_OPERATION"),
                       help="operationId of the document's get operation (env CONTRACTS_GET_OPERATION; default "
                            "getCustomer, or the GET on a customers item path)")
    check.add_argument("--keep-writes", action="store_true",
                       help="keep the customers the check created (default: delete them when it ends)")
    check.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    check.set_defaults(handler=_run_check)


def _run_check(args: argparse.Namespace) -> int:
    from contracts.check import check_server
    from contracts.report import ConsoleHandler, Handler, JUnitHandler

    if not args.base_url:
        raise UsageError("--base-url is required (or set CONTRACTS_BASE_URL), e.g. --base-url http://127.0.0.1:8000")
    if not args.base_url.startswith(("http://", "https://")):
        raise UsageError(f"--base-url must start with http:// or https://, got {args.base_url!r}")

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    handlers: list[Handler] = [ConsoleHandler((lambda line: None) if args.quiet else progress,
                                              lambda text: print(text, flush=True))]
    if args.junit_xml:
        handlers.append(JUnitHandler(args.junit_xml))
    checks = [c.strip() for c in args.checks.split(",") if c.strip()] if args.checks else None
    if not args.quiet:
        progress(f"contracts check {args.base_url} (seed {args.seed}, max examples {args.max_examples})")
    report = check_server(args.base_url, spec=args.spec, token=args.token, seed=args.seed,
                          max_examples=args.max_examples, checks=checks, handlers=handlers,
                          keep_writes=args.keep_writes, list_operation=args.list_operation,
                          get_operation=args.get_operation)
    if args.junit_xml and not args.quiet:
        progress(f"JUnit XML written to {args.junit_xml}")
    return EXIT_OK if report.ok else EXIT_FAILED


# ---------------------------------------------------------------------------
# `contracts gateway` lives in contracts/gateway.py (another module owns it). When that
# module exists it must define `add_gateway_command(subparsers)`, which adds its parser and
# calls `parser.set_defaults(handler=fn)` with `fn(args: argparse.Namespace) -> int` (the
# exit code; raise contracts.failures.UsageError for exit 2).
# ---------------------------------------------------------------------------


def _add_gateway_command(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    if importlib.util.find_spec("contracts.gateway") is None:
        return
    from contracts import gateway

    gateway.add_gateway_command(subparsers)


def _add_check_client_command(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from contracts.clientcheck.cli import add_check_client_command

    add_check_client_command(subparsers)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("unified-customers-mock")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="contracts", description="Contract test kit for the unified Customers API.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    _add_check_command(subparsers)
    _add_gateway_command(subparsers)
    _add_check_client_command(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``contracts`` console script; returns the exit code."""
    try:
        return _main(argv)
    except ModuleNotFoundError as exc:
        message = missing_extra(exc)
        if message is None:
            raise
        print(f"contracts: error: {message}", file=sys.stderr)
        return EXIT_USAGE


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 0 for --help, 2 for bad options (message already printed)
        return int(exc.code or 0)
    try:
        return int(args.handler(args))
    except UsageError as exc:
        print(f"contracts {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("contracts: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
