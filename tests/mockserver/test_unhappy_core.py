"""The pure core of the unhappy paths: controls validation, rate-limit arithmetic, tenant seeds, config lines.

No server, no framework: each function is given values and its answer is checked against
numbers worked out by hand here.
"""

from __future__ import annotations

import hashlib
import textwrap
import time
from pathlib import Path

import pytest

from mockserver.config_file import initial_controls, read_config
from mockserver.controls import Controls, Quota
from mockserver.errors import InvalidSettings
from mockserver.ratelimit import advance
from mockserver.settings import Settings
from mockserver.tenants import tenant_seed

# ---- controls: every bad value names its key path ---------------------------------------------------


@pytest.mark.parametrize(("data", "message"), [
    ({"faults": {"errors": [{"status": 500, "rate": 0.1}, {"status": 503, "rate": 2}]}},
     "faults.errors[1].rate: must be between 0 and 1, got 2"),
    ({"faults": {"errors": [{"rate": 0.1}]}}, "faults.errors[0].status: required"),
    ({"faults": {"errors": [{"status": 200, "rate": 0.1}]}}, "faults.errors[0].status: must be between 400 and 599"),
    ({"faults": {"errors": [{"status": 500.5, "rate": 0.1}]}}, "faults.errors[0].status: must be an integer"),
    ({"faults": {"connection": [{"fault": "explode", "rate": 0.1}]}}, "faults.connection[0].fault: must be one of"),
    ({"faults": {"latency": {"distribution": "uniform", "min_ms": 50, "max_ms": 10}}},
     "faults.latency.max_ms: must be at least min_ms"),
    ({"faults": {"latency": {"distribution": "normal"}}}, "faults.latency.distribution: must be one of"),
    ({"faults": {"latency": {"ms": float("nan")}}}, "faults.latency.ms: must be between"),
    ({"faults": {"latency": {"ms": True}}}, "faults.latency.ms: must be a number"),
    ({"faults": {"rules": [{"flavour": "truto", "seed": 3}]}}, "faults.rules[0].seed: unknown key"),
    ({"faults": {"rules": [{"flavour": ""}]}}, "faults.rules[0].flavour: must be a non-empty string"),
    ({"faults": {"rules": [{}, {"latency": {"ms": -1}}]}}, "faults.rules[1].latency.ms: must be between 0"),
    ({"faults": {"errors": [{"status": 500, "rate": 0.7}], "connection": [{"fault": "reset", "rate": 0.4}]}},
     "faults: the error and connection rates add up to 1.1"),
    ({"faults": {"seed": "seven"}}, "faults.seed: must be an integer"),
    ({"faults": []}, "faults: must be a mapping"),
    ({"tenants": {"accounts": {"job-1": {"state": "expired"}}}}, "tenants.accounts.job-1.state: must be one of"),
    ({"tenants": {"accounts": {"job-1": {"faults": {"errors": [{"status": 500, "rate": -0.5}]}}}}},
     "tenants.accounts.job-1.faults.errors[0].rate: must be between 0 and 1"),
    ({"tenants": {"mode": "separate"}}, "tenants.mode: must be one of shared, isolated"),
    ({"tenants": {"accounts": {"bad\nid": {}}}}, "tenants.accounts: a tenant id is 1 to 200 characters"),
    ({"rate_limits": {"flavours": {"shopify": {"limit": 0}}}}, "rate_limits.flavours.shopify.limit: must be between 1"),
    ({"rate_limits": {"flavours": {"shopify": {"model": "bucket", "leak_per_second": 0}}}},
     "rate_limits.flavours.shopify.leak_per_second: must be a positive number"),
    ({"rate_limits": {"enabled": "yes"}}, "rate_limits.enabled: must be true or false"),
    ({"rate_limits": {"on": True}}, "rate_limits.on: unknown key"),
    ({"clock": {"frozen_at": -1}}, "clock.frozen_at: must be between 0"),
    ({"prefer": 1}, "prefer: must be true or false"),
    ({"chaos": {}}, "chaos: unknown key"),
])
def test_a_bad_control_names_its_key_path(data: object, message: str) -> None:
    with pytest.raises(InvalidSettings) as raised:
        Controls.from_mapping(data)
    assert raised.value.detail.startswith(message), raised.value.detail


def test_controls_round_trip_through_their_json_form() -> None:
    data = {
        "tenants": {"mode": "isolated", "accounts": {"job-1": {"mode": "shared", "count": 7, "state": "disabled",
                                                                "faults": {"seed": 9, "latency": {"distribution": "fixed", "ms": 5.0}}}}},
        "faults": {"seed": 3, "latency": {"distribution": "uniform", "min_ms": 1.0, "max_ms": 2.0},
                   "errors": [{"status": 503, "rate": 0.25, "retry_after": 4}],
                   "connection": [{"fault": "reset", "rate": 0.125}],
                   "rules": [{"flavour": "shopify", "operation": "list", "errors": [{"status": 500, "rate": 0.5}]}]},
        "rate_limits": {"enabled": True, "flavours": {"ecwid": {"limit": 5, "seconds": 1}}},
        "prefer": False,
        "clock": {"offset_seconds": 12.5, "frozen_at": 1000.0},
        "journal": {"responses": True, "max_response_bytes": 4096},
    }
    controls = Controls.from_mapping(data)
    assert controls.as_json() == data
    assert Controls.from_mapping(controls.as_json()) == controls


def test_keys_left_out_keep_the_base_values() -> None:
    base = Controls.from_mapping({"prefer": False, "rate_limits": True})
    changed = Controls.from_mapping({"tenants": {"mode": "isolated"}}, base=base)
    assert (changed.prefer, changed.rate_limits, changed.tenants_mode) == (False, True, "isolated")


def test_a_bucket_quota_over_a_window_flavour_must_say_how_fast_it_leaks() -> None:
    # A flavour whose own model is a window does not leak: switching it to a bucket without a
    # leak_per_second was taken, then failed on every request (a 500) when applied.
    with pytest.raises(InvalidSettings) as raised:
        Controls.from_mapping({"rate_limits": {"flavours": {"canonical": {"model": "bucket", "limit": 5}}}})
    assert raised.value.detail.startswith("rate_limits.flavours.canonical.leak_per_second:")
    with pytest.raises(InvalidSettings):
        Controls.from_mapping({"rate_limits": {"flavours": {"canonical": {"model": "bucket", "leak_per_second": None}}}})
    ok = Controls.from_mapping({"rate_limits": {"flavours": {"canonical": {"model": "bucket", "limit": 5,
                                                                           "leak_per_second": 2}}}})
    assert ok.quota("canonical", Quota("window", 100, 60.0)) == Quota("bucket", 5, 60.0, 2.0)
    # a bucket flavour's own leak still applies when only the limit changes
    shop = Controls.from_mapping({"rate_limits": {"flavours": {"shopify": {"limit": 80}}}})
    assert shop.quota("shopify", Quota("bucket", 40, 60.0, 2.0)) == Quota("bucket", 80, 60.0, 2.0)


# ---- rate-limit arithmetic -----------------------------------------------------------------------


def test_a_window_allows_exactly_its_limit_then_refuses_until_the_next_window() -> None:
    quota = Quota("window", 3, 10.0)
    level, stamp = 0.0, 0.0
    answers = []
    for now in (100.0, 101.0, 105.0, 107.5, 109.999):
        usage, level, stamp = advance(quota, level, stamp, now)
        answers.append((usage.allowed, usage.used, usage.remaining))
    assert answers == [(True, 1, 2), (True, 2, 1), (True, 3, 0), (False, 3, 0), (False, 3, 0)]
    assert stamp == 100.0
    refused, _, _ = advance(quota, level, stamp, 107.5)
    assert refused.retry_after == pytest.approx(2.5) and refused.reset_seconds == pytest.approx(2.5)
    usage, level, stamp = advance(quota, level, stamp, 110.0)  # the boundary belongs to the next window
    assert (usage.allowed, usage.used, usage.remaining, stamp) == (True, 1, 2, 110.0)
    assert usage.reset_seconds == pytest.approx(10.0) and usage.retry_after == 0.0


def test_a_window_forgets_a_count_from_an_older_window() -> None:
    quota = Quota("window", 2, 60.0)
    usage, level, stamp = advance(quota, 2.0, 0.0, 61.0)  # full in [0, 60), now in [60, 120)
    assert (usage.allowed, usage.used, level, stamp) == (True, 1, 1.0, 60.0)


def test_a_bucket_fills_to_its_limit_and_leaks_at_its_rate() -> None:
    quota = Quota("bucket", 40, leak_per_second=2.0)
    level, stamp = 0.0, 0.0
    for i in range(40):
        usage, level, stamp = advance(quota, level, stamp, 0.0)
        assert usage.allowed and usage.used == i + 1 and usage.remaining == 39 - i
    refused, level, stamp = advance(quota, level, stamp, 0.0)
    assert not refused.allowed and refused.used == 40 and refused.remaining == 0
    assert refused.retry_after == pytest.approx(0.5)  # one request's room leaks in 1/2 s
    assert refused.reset_seconds == pytest.approx(20.0)  # 40 requests leak out in 20 s
    early, level, stamp = advance(quota, level, stamp, 0.499)
    assert not early.allowed and early.retry_after == pytest.approx(0.001, abs=1e-6)
    on_time, level, stamp = advance(quota, level, stamp, 0.5)
    assert on_time.allowed and on_time.used == 40
    assert level == pytest.approx(40.0)


def test_a_bucket_empties_and_never_goes_below_zero() -> None:
    quota = Quota("bucket", 10, leak_per_second=1.0)
    usage, level, stamp = advance(quota, 5.0, 0.0, 1000.0)
    assert (usage.allowed, usage.used, usage.remaining, level, stamp) == (True, 1, 9, 1.0, 1000.0)
    usage, level, _ = advance(quota, 5.0, 10.0, 5.0)  # a clock set back does not fill the bucket
    assert usage.used == 6 and level == 6.0


# ---- tenants ---------------------------------------------------------------------------------------


def test_a_tenant_seed_is_a_stable_function_of_seed_and_id() -> None:
    # Fixed numbers: a change here changes every isolated tenant's data in every user's tests.
    assert tenant_seed(42, "job-1") == tenant_seed(42, "job-1")
    seeds = {tenant_seed(seed, tenant) for seed in (1, 42) for tenant in ("a", "b", "job-1", "jöb-1", "1")}
    assert len(seeds) == 10
    assert all(0 <= s < 2**31 for s in seeds)
    # pinned by an independent statement of the formula (blake2b-32 of "seed NUL id", 31 bits)
    digest = hashlib.blake2b(b"42\0job-1", digest_size=4).digest()
    assert tenant_seed(42, "job-1") == int.from_bytes(digest, "big") & 0x7FFF_FFFF
    assert tenant_seed(7, "\udcff") >= 0  # an id a client sent as undecodable bytes still has a seed


# ---- config file: errors name the file, the line and the key ---------------------------------------


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mock.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def test_a_bad_control_in_the_config_file_names_its_line(tmp_path: Path) -> None:
    path = _config(tmp_path, """\
        seed: 7
        faults:
          seed: 3
          errors:
            - status: 500
              rate: 0.1
            - status: 503
              rate: 2
        """)
    with pytest.raises(InvalidSettings) as raised:
        read_config(path)
    assert raised.value.detail == f"{path}:8: faults.errors[1].rate: must be between 0 and 1, got 2"


@pytest.mark.parametrize(("text", "line", "key"), [
    ("count: 10\ntenants:\n  mode: isolated\n  accounts:\n    job-1:\n      state: broken\n", 6,
     "tenants.accounts.job-1.state"),
    ("count: 10\nrate_limits:\n  flavours:\n    shopify:\n      limit: 0\n", 5, "rate_limits.flavours.shopify.limit"),
    ("count: 10\nfaults:\n  rules:\n    - flavour: ecwid\n      latency:\n        distribution: normal\n", 6,
     "faults.rules[0].latency.distribution"),
    ("count: 10\nfaults:\n  unknown: 1\n", 3, "faults.unknown"),
    ("seed: 1\nflavor: truto\n", 2, "flavor"),
    ("seed: 1\ntoken: abc\n", 2, "token"),
])
def test_config_errors_point_at_the_line(tmp_path: Path, text: str, line: int, key: str) -> None:
    path = _config(tmp_path, text)
    with pytest.raises(InvalidSettings) as raised:
        read_config(path)
    assert raised.value.detail.startswith(f"{path}:{line}: {key}:"), raised.value.detail


def test_config_not_yaml_names_the_line(tmp_path: Path) -> None:
    path = _config(tmp_path, "seed: 1\nfaults: [\n  {a: 1\n")
    with pytest.raises(InvalidSettings) as raised:
        read_config(path)
    assert raised.value.detail.startswith(f"{path}:") and "not valid YAML" in raised.value.detail
    assert not raised.value.detail.startswith(f"{path}:1:")


def test_flags_win_over_the_config_file(tmp_path: Path) -> None:
    path = _config(tmp_path, "tenants:\n  mode: isolated\nrate_limits:\n  enabled: true\n"
                             "  flavours:\n    ecwid:\n      limit: 5\nprefer: false\n")
    from_file = initial_controls(Settings(config=path))
    assert (from_file.tenants_mode, from_file.rate_limits, from_file.prefer) == ("isolated", True, False)
    flagged = initial_controls(Settings(config=path, tenants="shared", rate_limits=False, prefer=True))
    assert (flagged.tenants_mode, flagged.rate_limits, flagged.prefer) == ("shared", False, True)
    assert flagged.quotas == {"ecwid": {"limit": 5}}  # the file's quotas stay for when limits are turned on


@pytest.mark.parametrize(("data", "where"), [
    ({"faults": {"latency": {"distribution": "uniform", "min_ms": None}}}, "faults.latency.min_ms"),
    ({"faults": {"latency": {"distribution": None}}}, "faults.latency.distribution"),
    ({"faults": {"errors": [{"status": 500, "rate": None}]}}, "faults.errors[0].rate"),
    ({"tenants": {"accounts": {"a": {"state": None}}}}, "tenants.accounts.a.state"),
    ({"rate_limits": {"flavours": {"canonical": {"seconds": None}}}}, "rate_limits.flavours.canonical.seconds"),
    ({"rate_limits": {"flavours": {"canonical": {"model": "bucket", "leak_per_second": None}}}},
     "rate_limits.flavours.canonical.leak_per_second"),
    ({"clock": {"offset_seconds": None}}, "clock.offset_seconds"),
])
def test_an_explicit_null_is_refused_naming_its_key(data: object, where: str) -> None:
    # JSON clients send null: it was read as the value itself (a TypeError, so a 500, or a tenant
    # in connection state None)
    with pytest.raises(InvalidSettings) as raised:
        Controls.from_mapping(data)
    assert raised.value.detail.startswith(f"{where}: "), raised.value.detail


def test_a_misspelt_flavour_is_refused_where_it_would_never_apply(tmp_path: Path) -> None:
    known = {"canonical": ["list", "create"], "shopify": ["list", "count"], "truto": ["list", "get"]}
    Controls.from_mapping({"rate_limits": {"flavours": {"shopify": {"limit": 3}}},
                           "faults": {"rules": [{"flavour": "truto", "operation": "get"}, {"operation": "count"}]}}
                          ).check_flavours(known)
    for data, where in (
        ({"rate_limits": {"flavours": {"shopfy": {"limit": 3}}}}, "rate_limits.flavours.shopfy"),
        ({"faults": {"rules": [{"flavour": "truto"}, {"flavour": "truot"}]}}, "faults.rules[1].flavour"),
        ({"tenants": {"accounts": {"job-1": {"faults": {"rules": [{"flavour": "Shopify"}]}}}}},
         "tenants.accounts.job-1.faults.rules[0].flavour"),
        ({"faults": {"rules": [{"flavour": "truto", "operation": "count"}]}}, "faults.rules[0].operation"),
        ({"faults": {"rules": [{"operation": "lsit"}]}}, "faults.rules[0].operation"),
    ):
        with pytest.raises(InvalidSettings) as raised:
            Controls.from_mapping(data).check_flavours(known)
        assert raised.value.detail.startswith(f"{where}: unknown "), raised.value.detail
    path = _config(tmp_path, "seed: 1\nrate_limits:\n  enabled: true\n  flavours:\n    shopfy:\n      limit: 3\n")
    with pytest.raises(InvalidSettings) as raised:
        read_config(path, known)
    assert raised.value.detail.startswith(f"{path}:5: rate_limits.flavours.shopfy: unknown flavour")


def test_yaml_aliases_cannot_hang_or_crash_the_config_reader(tmp_path: Path) -> None:
    # A node containing itself was a RecursionError (a traceback); aliases of aliases took
    # exponential time before the first error was even looked for.
    path = _config(tmp_path, "seed: 1\nfaults: &a\n  rules:\n    - *a\n")
    with pytest.raises(InvalidSettings) as raised:
        read_config(path)
    # the line is the aliased node's own (where its anchor is)
    assert raised.value.detail.startswith(f"{path}:2: faults.rules[0].rules: unknown key"), raised.value.detail
    levels = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]'] + [
        f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi")]
    path = _config(tmp_path, "seed: 1\nfaults:\n  rules: []\nextra:\n" + "\n".join("  " + line for line in levels)
                   + "\n")
    began = time.perf_counter()
    with pytest.raises(InvalidSettings) as raised:
        read_config(path)
    assert raised.value.detail.startswith(f"{path}:4: extra: unknown key")
    assert time.perf_counter() - began < 2
    path = _config(tmp_path, "seed: " + "[" * 2000 + "]" * 2000 + "\n")
    with pytest.raises(InvalidSettings) as raised:
        read_config(path)
    assert "nested too deeply" in raised.value.detail
