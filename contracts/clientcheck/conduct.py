"""Conduct properties: how the client ran, waited and retried.

Rules, as the report applies them:

* ``client.exit_status``: the command exited 0 (a crash is shown with the end of its stderr).
* ``client.within_budget``: it finished before ``--budget`` seconds (it is stopped there).
* ``rate_limit.honours_retry_after``: after an answer with ``Retry-After`` (a 429, or a 503 that
  carries one), the client's next request in the same quota scope (flavour and tenant) comes no
  sooner than the answer's time plus ``Retry-After``, less a small tolerance (0.1 s).
* ``rate_limit.no_429_after_429``: after a 429, the next answer in the same scope is not another
  429: a client that waits as asked finds the quota open again, one that keeps asking does not.

"Next" is by arrival: the first request of the scope that reached the mock after the answer left.
A request already in flight then (a concurrent page) was sent before the client could know.
* ``retries.idempotent_only``: a POST or PATCH whose attempt failed (the connection dropped, the
  answer was cut, or a 5xx) is not sent again with the same body, unless both attempts carry the
  same ``Idempotency-Key``: the first attempt may have taken effect. The retry is the client's
  next request with the same method and URL in the same flavour and tenant. An attempt whose body
  the journal does not have (the mock dropped it before reading it) is not judged. A 429 refused the request before
  it ran, so repeating a POST after one is allowed. GET, HEAD, OPTIONS, PUT and DELETE are
  idempotent (RFC 9110, 9.2.2) and may always be retried.
"""

from __future__ import annotations

from contracts.clientcheck.evidence import (
    Entry,
    Evidence,
    answer_time,
    arrival,
    broken_connection,
    request_header,
    retry_after,
    scope_of,
)
from contracts.clientcheck.judge import NotApplicable, client_property, fail

__all__ = ["NON_IDEMPOTENT"]

NON_IDEMPOTENT = frozenset({"POST", "PATCH"})


@client_property("client.exit_status")
def exit_status(evidence: Evidence) -> None:
    """The client's command exited with status 0."""
    run = evidence.run
    if run.timed_out:
        raise NotApplicable("it was stopped at the budget (see client.within_budget)")
    if run.exit_code == 0:
        return
    tail = run.stderr_tail.strip()
    how = "could not be started" if run.exit_code is None else f"exited with status {run.exit_code}"
    raise fail(evidence, "client.exit_status",
               f"the client {how}." + (f" The end of its stderr:\n{_indent(tail)}" if tail else " It wrote nothing "
                                                                                                     "to stderr."),
               evidence.entries[-3:], expected=0, actual=run.exit_code)


@client_property("client.within_budget")
def within_budget(evidence: Evidence) -> None:
    """The client finished within the budget (``--budget`` seconds)."""
    run = evidence.run
    if not run.timed_out and run.elapsed <= run.budget:
        return
    raise fail(evidence, "client.within_budget",
               f"the client was still running after {run.budget:g} s and was stopped. A client that waits as asked "
               f"and retries a bounded number of times finishes; raise --budget if it is merely slow.",
               evidence.entries[-5:], expected=f"<= {run.budget:g} s", actual=f"{run.elapsed:.1f} s")


def _answered_then_next(evidence: Evidence, statuses: tuple[int, ...]) -> list[tuple[Entry, Entry]]:
    """Each answer with one of ``statuses`` and the first request of the same quota scope (flavour and
    tenant) that arrived after it was answered.

    NOTE: by arrival, not by journal order: a request already in flight when the answer left
    (a client's concurrent page) was sent before the client could know.
    """
    scopes: dict[tuple[str | None, str | None], list[Entry]] = {}
    for entry in evidence.entries:
        if entry.get("flavour") is not None:
            scopes.setdefault(scope_of(entry), []).append(entry)
    pairs = []
    for entries in scopes.values():
        arrivals = sorted(entries, key=lambda e: arrival(e))
        for answer in entries:
            if answer.get("status") not in statuses:
                continue
            answered = answer_time(answer)
            following = next((e for e in arrivals if e is not answer and arrival(e) >= answered),
                             None)
            if following is not None:
                pairs.append((answer, following))
    return sorted(pairs, key=lambda pair: arrival(pair[0]))


@client_property("rate_limit.honours_retry_after")
def honours_retry_after(evidence: Evidence) -> None:
    """After an answer with ``Retry-After`` (429, or 503 with one), the next request in the same quota
    scope (flavour and tenant) waited at least that long."""
    early: list[tuple[Entry, Entry, float, float]] = []
    if not any(e.get("status") in (429, 503) and retry_after(e) is not None for e in evidence.entries):
        raise NotApplicable("no answer asked the client to wait (no 429 or 503 with Retry-After)")
    for answer, following in _answered_then_next(evidence, (429, 503)):
        wait = retry_after(answer)
        if wait is None:
            continue
        waited = arrival(following) - answer_time(answer)
        if waited < wait - evidence.tolerance:
            early.append((answer, following, wait, waited))
    if not early:
        return
    shown: list[tuple[Entry, str]] = []
    for answer, following, wait, waited in early[:4]:
        shown += [(answer, f"Retry-After: {wait:g}"), (following, f"sent {max(waited, 0):.2f} s later")]
    first = early[0]
    raise fail(evidence, "rate_limit.honours_retry_after",
               f"{len(early)} requests came sooner than the Retry-After of the answer before them (the first "
               f"{max(first[3], 0):.2f} s after 'Retry-After: {first[2]:g}'). Wait at least Retry-After seconds "
               f"before the next request.", shown, expected=f">= {first[2]:g} s", actual=f"{max(first[3], 0):.2f} s")


@client_property("rate_limit.no_429_after_429")
def no_429_after_429(evidence: Evidence) -> None:
    """After a 429, the next answer in the same quota scope is not another 429: the client did not
    keep asking while the quota was spent."""
    repeated: list[tuple[Entry, Entry]] = []
    if not any(e.get("status") == 429 for e in evidence.entries):
        raise NotApplicable("the client was never answered 429")
    for answer, following in _answered_then_next(evidence, (429,)):
        if following.get("status") == 429:
            repeated.append((answer, following))
    if not repeated:
        return
    shown: list[Entry] = []
    for answer, following in repeated[:6]:
        shown += [e for e in (answer, following) if e not in shown]
    raise fail(evidence, "rate_limit.no_429_after_429",
               f"the client was refused with 429 again right after a 429, {len(repeated)} times: it kept sending "
               f"while the quota was spent. Wait for Retry-After (or the rate-limit reset header) after a 429.",
               shown, expected="no 429 right after a 429", actual=f"{len(repeated)} repeated 429s")


def _target(entry: Entry) -> tuple[object, ...]:
    return entry.get("method"), entry.get("path"), entry.get("query"), entry.get("flavour"), entry.get("tenant")


def _same_body(attempt: Entry, again: Entry) -> bool:
    """Whether ``again`` sent the body ``attempt`` sent.

    NOTE: the journal has no body for an attempt the mock dropped before reading it (a fault is
    drawn first); such an attempt is not judged: a next write of the same size may be another
    customer, and a property fails only on evidence.
    """
    first, second = attempt.get("body"), again.get("body")
    return first is not None and first == second


def _failed(entry: Entry) -> bool:
    status = entry.get("status")
    return broken_connection(entry) or (isinstance(status, int) and status >= 500)


@client_property("retries.idempotent_only")
def idempotent_only(evidence: Evidence) -> None:
    """A POST or PATCH whose attempt failed (dropped or cut connection, or 5xx) is not sent again with
    the same body unless both attempts carry the same ``Idempotency-Key``."""
    writes = [e for e in evidence.entries if str(e.get("method") or "").upper() in NON_IDEMPOTENT]
    if not writes:
        raise NotApplicable("the client sent no POST or PATCH")
    unsafe: list[tuple[Entry, Entry]] = []
    for n, attempt in enumerate(writes):
        if not _failed(attempt):
            continue
        again = next((w for w in writes[n + 1:] if _target(w) == _target(attempt)), None)
        if again is None or not _same_body(attempt, again):
            continue
        key = request_header(attempt, "Idempotency-Key")
        if not (key and request_header(again, "Idempotency-Key") == key):
            unsafe.append((attempt, again))
    if not unsafe:
        return
    shown: list[tuple[Entry, str]] = []
    for attempt, again in unsafe[:4]:
        shown += [(attempt, "failed; it may have taken effect"),
                  (again, "sent again, same body, no matching Idempotency-Key")]
    raise fail(evidence, "retries.idempotent_only",
               f"{len(unsafe)} failed {unsafe[0][0].get('method')} requests were sent again with the same body and no "
               f"Idempotency-Key shared by both attempts: the first attempt may have created or changed the "
               f"customer, so the retry can do it twice. Retry only idempotent requests, or send the same "
               f"Idempotency-Key with every attempt.", shown, expected="no unkeyed retry",
               actual=f"{len(unsafe)} retried")


def _indent(text: str) -> str:
    return "\n".join(f"    | {line}" for line in text.splitlines()[-15:])
