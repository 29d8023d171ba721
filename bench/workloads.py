"""What the benchmark asks the mock server: named sets of request paths, and the checks that they
answer what they are meant to (a workload of error pages would measure the wrong thing)."""

from __future__ import annotations

import random
from urllib.parse import quote

from bench.servers import AUTH, PAGE, Server, http_json, http_status

FIELDS = "id,name,emails.email,addresses.city"

def flavour_list(name: str) -> tuple[str, dict[str, str]]:
    """A flavour's first list page of 20 (the canonical page's size) and its headers, from what the
    flavour declares (``Dialect.example``): every registered flavour is measured, no table to keep."""
    from urllib.parse import parse_qsl, urlencode

    from mockserver.flavours import FLAVOURS

    example = FLAVOURS.get(name).example
    query = [(k, v) for k, v in parse_qsl(example.query, keep_blank_values=True) if k != "limit"]
    path = f"/{name}{example.path}?{urlencode([*query, ('limit', str(PAGE))])}"
    return path, dict(example.credentials("bench"))


class Workload:
    """A named set of request paths (one is picked at random per request) plus headers."""

    def __init__(self, name: str, paths: list[str], headers: dict[str, str], description: str) -> None:
        self.name, self.paths, self.headers, self.description = name, paths, headers, description


def mint_cursor_paths(count: int, seed: int, how_many: int, rng: random.Random, extra: str = "") -> list[tuple[int,
                                                                                                               str]]:
    """``(i, path)`` for the canonical page of 20 starting at customer ``i`` (uniform in the dataset).

    The cursor is the one the server puts in ``meta.cursors.next`` of the page ending at
    ``i - 1`` (default order: created_at ascending, no writes); :func:`check_cursor_paths`
    verifies that against the running server.
    """
    from mockserver.catalog import ListQuery
    from mockserver.dataset import Dataset
    from mockserver.pagination import Position, encode_cursor

    ds = Dataset(seed, count)
    signature = ListQuery().signature
    out = []
    for _ in range(how_many):
        i = rng.randrange(1, max(2, count - PAGE))
        cursor = encode_cursor(Position((ds.created_of(i - 1), i - 1), False, 0, signature), ds.fingerprint)
        out.append((i, f"/customers?limit={PAGE}{extra}&cursor={quote(cursor)}"))
    return out


def check_cursor_paths(server: Server, count: int, seed: int, sample: list[tuple[int, str]]) -> None:
    """The minted cursors are exactly the server's own, and each lands on customer ``i``.

    Raises:
        RuntimeError: a mismatch (the benchmark would measure error pages otherwise).
    """
    from mockserver.catalog import ListQuery
    from mockserver.dataset import Dataset
    from mockserver.pagination import Position, encode_cursor

    ds = Dataset(seed, count)
    status, body = http_json(server.base_url, f"/customers?limit={PAGE}", AUTH)
    issued = (body or {}).get("meta", {}).get("cursors", {}).get("next")
    expected = encode_cursor(Position((ds.created_of(PAGE - 1), PAGE - 1), False, 0, ListQuery().signature),
                             ds.fingerprint)
    if status != 200 or issued != expected:
        raise RuntimeError(f"minted cursor differs from the server's next cursor: {issued!r} != {expected!r}")
    for i, path in sample:
        status, body = http_json(server.base_url, path, AUTH)
        first = ((body or {}).get("data") or [{}])[0].get("id")
        if status != 200 or first != ds.id_of(i):
            raise RuntimeError(f"{path} answered {status} starting at {first}, expected customer {i} {ds.id_of(i)}")


def build_workloads(count: int, seed: int, n_paths: int, flavours: list[str],
                    skipped: list[str]) -> dict[str, Workload]:
    from mockserver.dataset import Dataset

    rng = random.Random(20260601 + count)
    ds = Dataset(seed, count)
    pages = [p for _, p in mint_cursor_paths(count, seed, n_paths, rng)]
    fields_pages = [p for _, p in mint_cursor_paths(count, seed, n_paths, rng, f"&fields={FIELDS}")]
    gets = [f"/customers/{ds.id_of(rng.randrange(count))}" for _ in range(n_paths)]
    workloads = {
        "hot": Workload("hot", [f"/customers?limit={PAGE}"], AUTH,
                        f"the same list page, `GET /customers?limit={PAGE}`, every request"),
        "random_pages": Workload("random_pages", pages, AUTH,
                                 f"`GET /customers?limit={PAGE}&cursor=…`: the page of {PAGE} starting at a customer "
                                 f"drawn uniformly from all {count:,} ({n_paths:,} distinct pages, one picked at "
                                 "random per request); each cursor is the server's own `meta.cursors.next` for the "
                                 "page before it (checked against the server before measuring)"),
        "random_gets": Workload("random_gets", gets, AUTH,
                                f"`GET /customers/{{id}}` for ids of {n_paths:,} customers drawn uniformly "
                                f"(`Dataset(seed, count).id_of(i)`)"),
        "fields_hot": Workload("fields_hot", [f"/customers?limit={PAGE}&fields={FIELDS}"], AUTH,
                               f"the same list page with `fields={FIELDS}`"),
        "fields_random": Workload("fields_random", fields_pages, AUTH,
                                  f"random pages as `random_pages`, with `fields={FIELDS}`"),
    }
    for name in flavours:
        path, sent = flavour_list(name)
        workloads[f"flavour:{name}"] = Workload(f"flavour:{name}", [path], sent,
                                                f"`GET {path}` (headers: {', '.join(sent) or 'none'})")
    return workloads


def check_workloads(server: Server, workloads: dict[str, Workload], skipped: list[str]) -> None:
    """Drop (and report) a workload whose first path does not answer 200."""
    for name in list(workloads):
        workload = workloads[name]
        status = http_status(server.base_url, workload.paths[0], workload.headers, timeout=30)
        if status != 200:
            skipped.append(f"{name}: `{workload.paths[0]}` answered {status}; not measured")
            del workloads[name]

