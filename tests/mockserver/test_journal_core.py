"""The journal's pure parts: masking, the SQLite ring (bound, ids, clear, filters) and the matchers."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from mockserver.errors import InvalidBody
from mockserver.journal import (
    TRIM_EVERY,
    JournalFilter,
    LocalJournal,
    Record,
    environ_headers,
    mask_query,
    secret_values,
    tenant_name,
    without_secrets,
)
from mockserver.matching import near_misses, parse_json_path, parse_matcher, select

# ---- masking ------------------------------------------------------------------------------------


def test_credential_headers_keep_their_name_and_lose_their_value() -> None:
    environ = {
        "HTTP_AUTHORIZATION": "Bearer tok-1", "HTTP_PROXY_AUTHORIZATION": "Basic cHJveHk=", "HTTP_COOKIE": "sid=abc",
        "HTTP_X_SHOPIFY_ACCESS_TOKEN": "shpat_1", "HTTP_X_APIDECK_APP_ID": "app-1", "HTTP_X_APIDECK_CONSUMER_ID": "c1",
        "HTTP_X_MOCK_ADMIN_TOKEN": "adm", "HTTP_X_API_KEY": "k", "HTTP_IDEMPOTENCY_KEY": "k1",
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "2", "wsgi.input": object(), "PATH_INFO": "/x",
    }
    assert environ_headers(environ) == {
        "Authorization": "***", "Proxy-Authorization": "***", "Cookie": "***", "X-Shopify-Access-Token": "***",
        "X-Apideck-App-Id": "***", "X-Apideck-Consumer-Id": "***", "X-Mock-Admin-Token": "***", "X-Api-Key": "***",
        "Idempotency-Key": "k1", "Content-Type": "application/json", "Content-Length": "2",
    }


@pytest.mark.parametrize(("query", "masked"), [
    ("", ""),
    ("limit=20&cursor=abc", "limit=20&cursor=abc"),
    ("token=secret_1&limit=2", "token=***&limit=2"),
    ("access_token=a;api_key=b&key=c&oauth_signature=d", "access_token=***;api_key=***&key=***&oauth_signature=***"),
    ("consumer_secret=x&password=y&client_secret=z&Refresh_Token=w", "consumer_secret=***&password=***&client_secret=***&Refresh_Token=***"),
    ("%74oken=percent-encoded-name&flag", "%74oken=***&flag"),
    ("apiKey=x&shop_token=y&limit=1", "apiKey=***&shop_token=***&limit=1"),
])
def test_token_like_query_parameters_are_masked(query: str, masked: str) -> None:
    assert mask_query(query) == masked


def test_the_secrets_a_request_carries_are_found_and_removed_from_an_echo() -> None:
    secrets = secret_values({"HTTP_AUTHORIZATION": "Bearer tok-123456", "HTTP_ACCEPT": "x"}, "token=secret_abc%2Fd&x=1")
    assert set(secrets) == {"Bearer tok-123456", "tok-123456", "secret_abc%2Fd", "secret_abc/d"}
    echoed = '{"next": "/api?token=secret_abc%2Fd&x=1", "who": "tok-123456"}'
    assert without_secrets(echoed, secrets) == '{"next": "/api?token=***&x=1", "who": "***"}'


def test_a_tenant_that_is_the_token_is_journaled_as_a_pseudonym() -> None:
    assert tenant_name("tok", "store-1") == "store-1"
    pseudonym = tenant_name("the-token", "the-token")
    assert pseudonym.startswith("token-") and len(pseudonym) == 18 and "the-token" not in pseudonym
    assert tenant_name("the-token", "the-token") == pseudonym != tenant_name("other", "other")


# ---- the ring -----------------------------------------------------------------------------------


def _record(i: int, *, tenant: str | None = "t1", status: int = 200, method: str = "GET",
            path: str = "/customers", epoch: float | None = None) -> Record:
    data = json.dumps({"headers": {"Accept": "*/*"}, "body": None, "latency_ms": 1.0, "worker": os.getpid()})
    return Record(epoch or time.time(), method, path, f"i={i}", "canonical", tenant, status, "list", data.encode())


def test_the_ring_keeps_the_newest_entries_within_its_bound(tmp_path: Path) -> None:
    journal = LocalJournal(str(tmp_path / "s-requests"), 100)
    for i in range(1, 1001):
        journal.append(_record(i))
    everything = journal.entries(JournalFilter())
    assert 100 <= len(everything) <= 100 + TRIM_EVERY
    assert everything[-1]["query"] == "i=1000" and everything[-1]["id"] == 1000
    assert [e["id"] for e in everything] == list(range(1001 - len(everything), 1001))


def test_ids_are_never_reused_after_a_clear(tmp_path: Path) -> None:
    journal = LocalJournal(str(tmp_path / "s-requests"), 100)
    for i in range(5):
        journal.append(_record(i, tenant="a" if i % 2 else "b"))
    journal.clear("b")  # the newest (id 5) was b's
    assert [e["id"] for e in journal.entries(JournalFilter())] == [2, 4]
    journal.clear()
    assert journal.entries(JournalFilter()) == []
    journal.append(_record(9))
    assert [e["id"] for e in journal.entries(JournalFilter())] == [6]


def test_pages_follow_next_to_the_end_and_filters_combine(tmp_path: Path) -> None:
    journal = LocalJournal(str(tmp_path / "s-requests"), 1000)
    start = time.time() - 100
    for i in range(30):
        journal.append(_record(i, tenant=f"t{i % 3}", status=200 if i % 2 else 404,
                               method="POST" if i % 5 == 0 else "GET", path=f"/customers/{i}", epoch=start + i))
    seen: list[int] = []
    after = 0
    while True:
        page, following = journal.page(JournalFilter(tenant="t1", after=after, limit=4))
        seen += [e["id"] for e in page]
        if following is None:
            break
        after = following
    assert seen == [i + 1 for i in range(30) if i % 3 == 1]
    picked = journal.entries(JournalFilter(status=404, method="POST", since=start + 9.5))
    assert [e["path"] for e in picked] == ["/customers/10", "/customers/20"]
    assert [e["path"] for e in journal.entries(JournalFilter(path_pattern=r"/customers/1\d"))] == \
        [f"/customers/{i}" for i in range(10, 20)]
    assert journal.entries(JournalFilter(path="/customers/7"))[0]["time"].endswith("Z")


def test_a_journal_that_cannot_write_loses_entries_not_requests(tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    journal = LocalJournal(str(tmp_path / "s-requests"), 10)
    journal.path = str(tmp_path / "gone" / "s-requests")  # its directory removed under it
    journal.append(_record(1))
    journal.append(_record(2))
    assert [r.message for r in caplog.records].count(
        f"the request journal cannot write {journal.path} (unable to open database file); "
        "entries are lost until it can") == 1


# ---- matchers -----------------------------------------------------------------------------------

ENTRY: dict[str, Any] = {
    "id": 7, "method": "POST", "path": "/customers", "query": "limit=20&tag=a&tag=b", "url": "/customers?limit=20&tag=a&tag=b",
    "headers": {"Idempotency-Key": "k-42", "Content-Type": "application/json"},
    "body": json.dumps({"first_name": "Ada", "emails": [{"email": "ada@example.com"}], "n": 3}),
    "body_truncated": False, "status": 201, "flavour": "canonical", "tenant": "t1",
}


@pytest.mark.parametrize("matcher", [
    {},
    {"method": "POST", "urlPath": "/customers", "status": 201, "flavour": "canonical", "tenant": "t1"},
    {"method": "any", "url": "/customers?limit=20&tag=a&tag=b"},
    {"urlPattern": r"/customers\?limit=\d+.*", "urlPathPattern": "/cust.*"},
    {"queryParameters": {"limit": {"equalTo": "20"}, "tag": {"equalTo": "b"}, "cursor": {"absent": True}}},
    {"queryParameters": {"limit": {"matches": "[0-9]+"}, "tag": {"contains": "a"}}},
    {"headers": {"idempotency-key": {"matches": "k-.*"}, "X-Missing": {"absent": True}}},
    {"headers": {"CONTENT-TYPE": {"equalTo": "APPLICATION/JSON", "caseInsensitive": True}}},
    {"bodyPatterns": [{"equalToJson": {"n": 3, "emails": [{"email": "ada@example.com"}], "first_name": "Ada"}}]},
    {"bodyPatterns": [{"matchesJsonPath": "$.emails[0].email"}, {"matchesJsonPath": "$['first_name']"}]},
    {"bodyPatterns": [{"matchesJsonPath": {"expression": "$.emails[*].email", "contains": "@example"}}]},
    {"bodyPatterns": [{"matchesJsonPath": {"expression": "$.n", "equalTo": "3"}}, {"contains": "Ada"}]},
])
def test_a_matcher_matches_the_entry(matcher: dict[str, Any]) -> None:
    assert parse_matcher(matcher).differences(ENTRY) == []


@pytest.mark.parametrize(("matcher", "difference"), [
    ({"method": "GET"}, 'method: expected "GET", got "POST"'),
    ({"urlPath": "/orders"}, 'urlPath: expected "/orders", got "/customers"'),
    ({"status": 200}, "status: expected 200, got 201"),
    ({"queryParameters": {"limit": {"equalTo": "10"}}}, 'queryParameters.limit: expected equalTo "10", got "20"'),
    ({"queryParameters": {"limit": {"absent": True}}}, 'queryParameters.limit: expected absent, got "20"'),
    ({"headers": {"Idempotency-Key": {"matches": "x.*"}}}, 'headers.Idempotency-Key: expected matches "x.*", got "k-42"'),
    ({"headers": {"X-Trace": {"contains": "a"}}}, 'headers.X-Trace: expected contains "a", got null'),
    ({"bodyPatterns": [{"matchesJsonPath": "$.emails[1]"}]}, "bodyPatterns[0]: $.emails[1] selects nothing in the body"),
    ({"bodyPatterns": [{"equalToJson": {"n": 4}}]}, "bodyPatterns[0]: expected JSON equal to {\"n\": 4}, got "),
])
def test_a_matcher_that_misses_says_what_differs(matcher: dict[str, Any], difference: str) -> None:
    differences = parse_matcher(matcher).differences(ENTRY)
    assert len(differences) == 1 and differences[0].startswith(difference), differences


@pytest.mark.parametrize(("matcher", "key"), [
    ([], "matcher"),
    ({"methd": "GET"}, "methd"),
    ({"method": 3}, "method"),
    ({"method": "GE T"}, "method"),
    ({"status": "200"}, "status"),
    ({"status": True}, "status"),
    ({"urlPattern": "("}, "urlPattern"),
    ({"queryParameters": []}, "queryParameters"),
    ({"queryParameters": {"a": "x"}}, "queryParameters.a"),
    ({"queryParameters": {"a": {"equalTo": "x", "matches": "y"}}}, "queryParameters.a"),
    ({"queryParameters": {"a": {"equals": "x"}}}, "queryParameters.a.equals"),
    ({"headers": {"A": {"matches": "[z-a]"}}}, "headers.A.matches"),
    ({"headers": {"A": {"absent": "yes"}}}, "headers.A.absent"),
    ({"headers": {"A": {"equalTo": 1}}}, "headers.A.equalTo"),
    ({"bodyPatterns": {}}, "bodyPatterns"),
    ({"bodyPatterns": [{"matchesJsonPath": "emails"}]}, "bodyPatterns[0].matchesJsonPath"),
    ({"bodyPatterns": [{"matchesJsonPath": "$.a[x]"}]}, "bodyPatterns[0].matchesJsonPath"),
    ({"bodyPatterns": [{"matchesJsonPath": {"expression": 1}}]}, "bodyPatterns[0].matchesJsonPath.expression"),
    ({"bodyPatterns": [{"equalToXml": "<a/>"}]}, "bodyPatterns[0].equalToXml"),
])
def test_a_bad_matcher_is_refused_naming_its_key(matcher: Any, key: str) -> None:
    with pytest.raises(InvalidBody) as caught:
        parse_matcher(matcher)
    assert caught.value.problems[0].name == key, caught.value.detail
    assert caught.value.detail.startswith(key)


def test_json_paths_select_names_indexes_and_wildcards() -> None:
    doc = {"a": [{"b": 1}, {"b": 2}], "c d": {"e": None}}
    assert select(doc, parse_json_path("$.a[*].b", "k")) == [1, 2]
    assert select(doc, parse_json_path("$.a[-1]", "k")) == [{"b": 2}]
    assert select(doc, parse_json_path("$['c d'].e", "k")) == [None]
    assert select(doc, parse_json_path("$.*", "k")) == [[{"b": 1}, {"b": 2}], {"e": None}]
    assert select(doc, parse_json_path("$.a[5]", "k")) == []
    assert select(doc, parse_json_path("$", "k")) == [doc]


def test_near_misses_rank_the_closest_first_and_say_why() -> None:
    matcher = parse_matcher({"method": "POST", "urlPath": "/customers", "headers": {"Idempotency-Key": {"equalTo": "k-1"}}})
    entries = [
        {**ENTRY, "id": 1, "method": "GET", "path": "/orders", "headers": {}},
        {**ENTRY, "id": 2, "headers": {"Idempotency-Key": "k-2"}},
        {**ENTRY, "id": 3, "method": "GET", "headers": {"Idempotency-Key": "k-1"}},
        {**ENTRY, "id": 4, "headers": {"Idempotency-Key": "k-1"}},
    ]
    ranked = near_misses(matcher, entries, limit=3)
    assert [(m.entry["id"], m.distance) for m in ranked] == [(4, 0.0), (2, 0.2), (3, 0.4)]
    assert ranked[1].differences == ['headers.Idempotency-Key: expected equalTo "k-1", got "k-2"']
    assert near_misses(matcher, [], 3) == []


# ---- settings ------------------------------------------------------------------------------------


def test_journal_settings_come_from_flags_the_environment_and_the_config_file(tmp_path: Path) -> None:
    from mockserver.cli import _parse, _parser, _settings
    from mockserver.config_file import initial_controls, read_config
    from mockserver.settings import Settings

    args = _parse(_parser(), ["serve", "--journal-size", "0", "--journal-body-bytes", "10"])
    assert (_settings(args).journal_size, _settings(args).journal_body_bytes) == (0, 10)
    assert Settings.from_env({"MOCKSERVER_JOURNAL_SIZE": "7"}).journal_size == 7
    config = tmp_path / "mock.yaml"
    config.write_text("journal_size: 50\njournal:\n  responses: true\n  max_response_bytes: 10\n")
    assert read_config(str(config)) == {"journal_size": 50}
    controls = initial_controls(Settings(config=str(config)))
    assert (controls.journal_responses, controls.journal_response_bytes) == (True, 10)


@pytest.mark.parametrize(("data", "key"), [
    ({"journal": {"responses": "yes"}}, "journal.responses"),
    ({"journal": {"max_response_bytes": -1}}, "journal.max_response_bytes"),
    ({"journal": {"keep": True}}, "journal.keep"),
])
def test_bad_journal_controls_are_refused_naming_the_key(data: dict[str, Any], key: str) -> None:
    from mockserver.controls import Controls
    from mockserver.errors import InvalidSettings

    with pytest.raises(InvalidSettings) as caught:
        Controls.from_mapping(data)
    assert caught.value.detail.startswith(key), caught.value.detail


@pytest.mark.parametrize("size", [-1, 10_000_001])
def test_a_journal_size_out_of_range_is_refused(size: int) -> None:
    from mockserver.errors import InvalidSettings
    from mockserver.settings import Settings

    with pytest.raises(InvalidSettings, match="journal size must be between 0"):
        Settings(journal_size=size)


def test_a_server_without_a_journal_installs_no_stage(tmp_path: Path) -> None:
    from mockserver import Settings, create_app
    from mockserver.journaling import Journaling

    on = create_app(Settings(seed=1, count=5, state=str(tmp_path / "on.sqlite3")))
    off = create_app(Settings(seed=1, count=5, state=str(tmp_path / "off.sqlite3"), journal_size=0))
    assert any(isinstance(m, Journaling) for m in on._unprepared_middleware)
    assert not any(isinstance(m, Journaling) for m in off._unprepared_middleware)
