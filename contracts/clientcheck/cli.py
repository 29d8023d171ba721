"""``contracts check-client``: run a client against the mock and judge it from the request journal."""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap

from contracts.failures import UsageError

__all__ = ["add_check_client_command", "run_check_client"]

EPILOG = textwrap.dedent("""\
    profiles:
      pagination   nothing goes wrong; the walk itself is judged
      rate-limits  a tight quota for the flavour (--rate-limit, default 5 requests per 1 s window):
                   the walk meets 429s with Retry-After
      faults       seeded faults for the flavour (--seed): list requests answer 500, 503 with
                   Retry-After: 1, or lose their connection (10% each); creates and updates
                   answer 503, or run and have their answer cut (20% each)

    properties (each failure lists the journaled requests that show it):
      walk.every_customer            every customer the mock lists was on a page the client fetched
      walk.no_duplicates             no customer was fetched twice (a restarted walk is)
      walk.cursors_as_issued         every cursor/page/offset sent was issued by an earlier answer
      rate_limit.honours_retry_after after a 429 (or a 503 with Retry-After) the next request in the
                                     same flavour and tenant waited Retry-After (0.1 s tolerance)
      rate_limit.no_429_after_429    no 429 right after a 429 in the same flavour and tenant
      retries.idempotent_only        a failed POST/PATCH (dropped, cut or 5xx) is not sent again with
                                     the same body unless both carry the same Idempotency-Key
      client.exit_status             the command exited 0 (else the end of its stderr is shown)
      client.within_budget           it finished within --budget seconds (it is stopped there)

    the command:
      everything after -- ; {url} in it becomes the flavour's base URL (its mount, e.g.
      http://127.0.0.1:PORT/apideck or .../canonical). The environment also has MOCK_URL (the
      same URL), MOCK_TOKEN (the API token to send) and MOCK_FLAVOUR. Its output is not shown.

    example:
      contracts check-client --flavour ecwid --profile faults -- python my_sync.py {url}

    exit status: 0 every property held, 1 at least one failed, 2 usage error (bad option, the mock
    could not start, the admin API refused).
""")


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
    return value


def add_check_client_command(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``check-client`` to the ``contracts`` command."""
    from contracts.clientcheck.pages import READERS
    from contracts.clientcheck.profiles import PROFILES

    parser = subparsers.add_parser(
        "check-client", help="run a client against the mock and judge how it pages, waits and retries",
        description="Start the mock (or use --base-url), run your client's command against one flavour under a "
                    "profile (pagination, rate limits or faults), then judge the client from the mock's request "
                    "journal: every customer fetched exactly once, cursors followed as issued, Retry-After "
                    "honoured, only idempotent requests retried, finished within the budget.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flavour", required=True, choices=READERS.names(), metavar="FLAVOUR",
                        help=f"the flavour the client talks to: {', '.join(READERS.names())}")
    parser.add_argument("--profile", choices=PROFILES, default="pagination",
                        help="what goes wrong while it runs (default pagination: nothing)")
    parser.add_argument("--base-url", default=os.environ.get("CONTRACTS_BASE_URL") or None,
                        help="a running mock's root instead of starting one (env CONTRACTS_BASE_URL); needs "
                             "--admin-token")
    parser.add_argument("--admin-token", default=os.environ.get("MOCKSERVER_ADMIN_TOKEN") or None,
                        help="the admin token of the --base-url server (env MOCKSERVER_ADMIN_TOKEN)")
    parser.add_argument("--token", default="secret_client-check",
                        help="the API token the client is given as MOCK_TOKEN, also used by the kit's reference walks "
                             "(default secret_client-check; a --base-url server started with --token needs its own)")
    parser.add_argument("--budget", type=_number, default=60.0, metavar="SECONDS",
                        help="seconds the client may run; it is stopped then (default 60)")
    parser.add_argument("--count", type=_count, default=230,
                        help="customers of the mock started here (default 230: short walks)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the data of the mock started here, and of the fault draws (default 0)")
    parser.add_argument("--rate-limit", default="5/1", metavar="N/SECONDS",
                        help="the quota of the rate-limits profile (default 5/1: 5 requests per 1 s window)")
    parser.add_argument("--checks", metavar="NAME,...",
                        help="judge only these properties or groups (walk, rate_limit, retries, client)")
    parser.add_argument("--report", choices=("text", "json"), default="text",
                        help="the report on stdout: text (default) or json")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("client", nargs=argparse.REMAINDER, metavar="-- COMMAND",
                        help="the client's command; {url} becomes the flavour's base URL")
    parser.set_defaults(handler=run_check_client)


def run_check_client(args: argparse.Namespace) -> int:
    """The ``check-client`` handler: 0 every property held, 1 one failed; :class:`UsageError` for 2."""
    from contracts.clientcheck.profiles import Quota
    from contracts.clientcheck.runner import ClientCheck, check_client

    command = list(args.client)
    if command and command[0] == "--":
        command = command[1:]
    if args.base_url and not args.admin_token:
        raise UsageError("--base-url needs --admin-token (or MOCKSERVER_ADMIN_TOKEN): check-client drives the "
                         "server's admin API (journal, faults, rate limits)")
    try:
        quota = Quota.parse(args.rate_limit)
    except ValueError as exc:
        raise UsageError(f"--rate-limit: {exc}") from None

    def progress(line: str) -> None:
        if not args.quiet:
            print(f"check-client: {line}", file=sys.stderr, flush=True)

    checks = [c.strip() for c in args.checks.split(",") if c.strip()] if args.checks else None
    outcome = check_client(ClientCheck(
        flavour=args.flavour, command=command, profile=args.profile, base_url=args.base_url,
        admin_token=args.admin_token, token=args.token, budget=args.budget, count=args.count, seed=args.seed,
        quota=quota, checks=checks, progress=progress))
    if args.report == "json":
        print(json.dumps(outcome.as_json(), indent=2), flush=True)
    else:
        lines = [outcome.report.render()]
        if outcome.report.passed:
            lines.append(f"held: {', '.join(outcome.report.passed)}")
        lines += [f"not judged: {r.name} ({r.skipped})" for r in outcome.report.results if r.skipped is not None]
        print("\n".join(lines), flush=True)
    return 0 if outcome.ok else 1
