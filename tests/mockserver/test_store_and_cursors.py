"""The shared write log (as two workers see it) and signed cursors."""

from __future__ import annotations

import base64
import multiprocessing
import os
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.errors import InvalidCursor, InvalidSettings
from mockserver.pagination import Position, decode_cursor, encode_cursor
from mockserver.store import ChangeCounter, Store


def test_a_write_in_one_process_is_seen_by_another(tmp_path: Any) -> None:
    path = os.path.join(tmp_path, "s.db")
    worker_a, worker_b = Store(path, "1:10"), Store(path, "1:10")
    assert worker_b.refresh() == 0
    worker_a.append(3, lambda _: {"id": "x"}, 1, 2, first_new_ordinal=10)
    assert worker_b.refresh() == worker_a.version
    assert worker_b.latest[3].record == {"id": "x"}
    created = worker_b.append(None, lambda o: {"ordinal": o}, 5, 5, first_new_ordinal=10)
    assert created.ordinal == 10 and created.record == {"ordinal": 10}
    worker_a.refresh()
    assert worker_a.latest[10].record == {"ordinal": 10}


def test_a_write_landing_while_a_reader_asks_sqlite_is_not_missed(tmp_path: Any) -> None:
    """The interleaving the change counter must survive: the reader has asked SQLite (nothing new)
    and a write then commits and bumps the counter before the reader notes what it has seen.
    The next refresh must include the write: a reader that noted the counter's value *after*
    asking would take the bumped value for seen and miss the write for good."""
    path = os.path.join(tmp_path, "s.db")
    reader, writer = Store(path, "1:10"), Store(path, "1:10")
    assert reader.refresh() == 0
    # the reader's own write moves the counter, so its next refresh asks SQLite (and finds nothing new)
    reader.append(1, lambda _: {"v": 1}, 0, 0, first_new_ordinal=10)
    connection = reader._connect()

    class WriteAfterThePragma:
        def execute(self, sql: str, *args: Any) -> Any:
            cursor = connection.execute(sql, *args)
            if sql == "PRAGMA data_version":
                reader._connect = connection_of_reader  # type: ignore[method-assign]
                writer.append(4, lambda _: {"v": 4}, 0, 0, first_new_ordinal=10)
            return cursor

    connection_of_reader = reader._connect
    reader._connect = lambda: WriteAfterThePragma()  # type: ignore[assignment, method-assign, return-value]
    reader.refresh()
    assert reader.refresh() == writer.version
    assert reader.latest[4].record == {"v": 4}


def _append_in_child(path: str) -> None:
    Store(path, "1:10").append(7, lambda _: {"from": "child"}, 0, 0, first_new_ordinal=10)


def test_a_write_in_a_forked_worker_is_seen_by_a_reader_that_already_checked(tmp_path: Any) -> None:
    """As under gunicorn: the store is built before the fork and the counter file is shared."""
    path = os.path.join(tmp_path, "s.db")
    reader = Store(path, "1:10")
    assert reader.refresh() == 0
    assert reader.refresh() == 0  # nothing changed: answered from the counter
    child = multiprocessing.get_context("fork").Process(target=_append_in_child, args=(path,))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    assert reader.refresh() == 1
    assert reader.latest[7].record == {"from": "child"}


def test_change_counter_is_shared_through_its_file_and_wraps(tmp_path: Any) -> None:
    path = os.path.join(tmp_path, "s.db-changes")
    a, b = ChangeCounter(path), ChangeCounter(path)
    assert a.read() == b.read() == 0
    a.bump()
    b.bump()
    assert a.read() == b.read() == 2
    assert ChangeCounter(path).read() == 2  # opening again never resets it
    with open(path, "r+b") as file:
        file.write((2**64 - 1).to_bytes(8, "little"))
    a.bump()
    assert b.read() == 0


def test_old_versions_stay_readable_for_pinned_walks(tmp_path: Any) -> None:
    store = Store(os.path.join(tmp_path, "s.db"), "1:10")
    first = store.append(1, lambda _: {"v": 1}, 0, 0, first_new_ordinal=10)
    v1 = store.version
    store.append(1, lambda _: None, 0, 0, first_new_ordinal=10)
    assert store.state_at(v1)[1] == first
    assert store.state_at(store.version)[1].record is None
    assert store.state_at(0) == {}


def test_reset_is_seen_by_every_process(tmp_path: Any) -> None:
    path = os.path.join(tmp_path, "s.db")
    a, b = Store(path, "1:10"), Store(path, "1:10")
    a.append(1, lambda _: {"v": 1}, 0, 0, first_new_ordinal=10)
    b.refresh()
    a.reset()
    b.refresh()
    assert b.latest == {}
    b.append(2, lambda _: {"v": 2}, 0, 0, first_new_ordinal=10)
    a.refresh()
    assert set(a.latest) == {2}


def test_state_file_of_another_dataset_is_refused(tmp_path: Any) -> None:
    path = os.path.join(tmp_path, "s.db")
    Store(path, "1:10")
    with pytest.raises(InvalidSettings, match="seed:count"):
        Store(path, "2:10")


@given(key=st.tuples(st.one_of(st.integers(), st.text()), st.integers()), before=st.booleans(),
       version=st.integers(0, 10**9), query=st.text())
def test_cursor_round_trips(key: tuple[Any, int], before: bool, version: int, query: str) -> None:
    text = encode_cursor(Position(key, before, version, query), "42:1000")
    assert text.isascii() and "=" not in text and "+" not in text and "/" not in text
    assert decode_cursor(text, "42:1000", query) == Position(key, before, version, query)


def test_cursor_from_another_dataset_or_query_is_invalid() -> None:
    text = encode_cursor(Position((1, 2), False, 0, "q"), "42:1000")
    with pytest.raises(InvalidCursor, match="not issued"):
        decode_cursor(text, "43:1000", "q")
    with pytest.raises(InvalidCursor, match="other filters"):
        decode_cursor(text, "42:1000", "other")


@given(garbage=st.text(max_size=60))
def test_garbage_cursor_is_invalid_never_a_crash(garbage: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(garbage, "42:1000", "q")


def test_edited_cursor_is_invalid() -> None:
    text = encode_cursor(Position((1, 2), False, 0, "q"), "42:1000")
    raw = bytearray(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    raw[5] ^= 1
    with pytest.raises(InvalidCursor):
        decode_cursor(base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("="), "42:1000", "q")
