"""SqliteKv over a real SQLite file: persistence, namespaces, atomic writes, closing."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.server.kv_store import SCHEMA_VERSION, InvalidValue, KvError, SqliteKv, StoreClosed, parse_value


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "kv.sqlite3"


def test_values_survive_reopening(path: Path) -> None:
    store = SqliteKv.open(path)
    store.set("w3-hotel-guests", b'[{"id": "g1"}]')
    store.set("k", b"1", collection="c")
    store.close()
    again = SqliteKv.open(path)
    try:
        assert again.get("w3-hotel-guests") == b'[{"id": "g1"}]'
        assert again.get("k", collection="c") == b"1"
        assert again.keys() == ["w3-hotel-guests"]
    finally:
        again.close()


def test_file_uses_wal_and_a_schema_version(path: Path) -> None:
    SqliteKv.open(path).close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
        columns = [row[1] for row in conn.execute("PRAGMA table_info(kv)")]
        assert columns[-1] == "value"  # last, so a zeroblob is never materialised (kv_store._SCHEMA)
    finally:
        conn.close()


def test_a_version_1_file_is_migrated_keeping_every_value(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE kv (collection TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                         updated_at INTEGER NOT NULL, PRIMARY KEY (collection, key));
        INSERT INTO kv VALUES ('', 'w3-hotel-guests', '[{"id": "g1", "firstName": "Zoë"}]', 1);
        INSERT INTO kv VALUES ('c', 'doc', ' "\\ud800" ', 2);
        PRAGMA user_version=1;
    """)
    conn.close()
    store = SqliteKv.open(path)
    try:
        assert store.get("w3-hotel-guests") == '[{"id": "g1", "firstName": "Zoë"}]'.encode()
        assert store.items("c") == [("doc", ' "\\ud800" ')]
        store.set("w3-hotel-guests", b"[]")
        assert store.get("w3-hotel-guests") == b"[]"
        assert store.keys() == ["w3-hotel-guests"]
    finally:
        store.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        assert tables == [("kv",)]
    finally:
        conn.close()


def test_a_newer_schema_is_refused(path: Path) -> None:
    SqliteKv.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version=99")
    conn.close()
    with pytest.raises(KvError, match="schema version 99"):
        SqliteKv.open(path)


def test_invalid_value_leaves_the_store_unchanged(path: Path) -> None:
    store = SqliteKv.open(path)
    try:
        store.set("k", b"[1]")
        with pytest.raises(InvalidValue):
            store.set("k", b"[1")
        with pytest.raises(InvalidValue):
            store.set_if_absent("other", b"nope")
        assert store.get("k") == b"[1]"
        assert store.keys() == ["k"]
    finally:
        store.close()


def test_parse_value_returns_the_text_unchanged() -> None:
    assert parse_value(' {"a" : "ü"} '.encode()) == ' {"a" : "ü"} '
    with pytest.raises(InvalidValue, match="UTF-8"):
        parse_value(b"\xc3")


def test_set_if_absent_reports_whether_it_stored(path: Path) -> None:
    store = SqliteKv.open(path)
    try:
        assert store.set_if_absent("k", b"1") is True
        assert store.set_if_absent("k", b"2") is False
        assert store.get("k") == b"1"
    finally:
        store.close()


def test_items_of_a_collection(path: Path) -> None:
    store = SqliteKv.open(path)
    try:
        store.set("b", b"2", collection="c")
        store.set("a", b"1", collection="c")
        store.set("a", b"0")
        assert store.items("c") == [("a", "1"), ("b", "2")]
    finally:
        store.close()


def test_reads_from_many_threads_while_writing(path: Path) -> None:
    store = SqliteKv.open(path)
    values = [f'{{"n": {n}, "pad": "{"x" * 10_000}"}}'.encode() for n in range(50)]
    store.set("k", values[0])
    seen: list[bytes] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(100):
                value = store.get("k")
                assert value is not None
                seen.append(value)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for thread in readers:
        thread.start()
    for value in values:
        store.set("k", value)
    for thread in readers:
        thread.join()
    store.close()
    assert not errors
    assert set(seen) <= set(values)


def test_closed_store_refuses_use_and_close_is_idempotent(path: Path) -> None:
    store = SqliteKv.open(path)
    store.close()
    store.close()
    with pytest.raises(StoreClosed):
        store.get("k")
    with pytest.raises(StoreClosed):
        store.set("k", b"1")


def _sha(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


class CountingReads(SqliteKv):
    reads = 0

    def get(self, key: str, collection: str = "") -> bytes | None:
        self.reads += 1
        return super().get(key, collection)


def _opened(path: Path, kind: type[CountingReads]) -> CountingReads:
    """A store of class ``kind`` on the file at ``path`` (created as SqliteKv.open does)."""
    SqliteKv.open(path).close()
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("PRAGMA journal_mode=WAL")
    return kind(path, writer)


@pytest.fixture
def store(path: Path) -> Iterator[CountingReads]:
    store = _opened(path, CountingReads)
    yield store
    store.close()


def test_a_digest_is_read_once_and_holds_until_the_key_is_written(store: CountingReads) -> None:
    assert store.digest("k") is None
    store.set("k", b"[1]")
    store.set("other", b"[2]")
    assert store.digest("k") == _sha(b"[1]")
    reads = store.reads
    assert store.digest("k") == _sha(b"[1]") and store.reads == reads  # from the cache
    store.set("other", b"[3]")  # another key: the cache holds
    assert store.digest("k") == _sha(b"[1]") and store.reads == reads
    store.set("k", b"[1, 2]")
    assert store.digest("k") == _sha(b"[1, 2]") and store.reads == reads + 1
    assert store.set_if_absent("k", b"[9]") is False
    assert store.digest("k") == _sha(b"[1, 2]")
    store.delete("k")
    assert store.digest("k") is None
    assert store.digest("k", collection="c") is None


def test_a_digest_does_not_outlive_a_write_by_another_process(store: CountingReads, path: Path) -> None:
    store.set("k", b"[1]")
    assert store.digest("k") == _sha(b"[1]")
    other = sqlite3.connect(path, isolation_level=None)  # another process's connection
    other.execute("UPDATE kv SET value = CAST(? AS BLOB) WHERE key = 'k'", (b"[2]",))
    other.close()
    assert store.digest("k") == _sha(b"[2]")


def test_a_digest_computed_across_a_write_is_not_kept(store: CountingReads) -> None:
    """A write committed while a digest was being computed: the digest answered is of the value
    read, and the next one is of the new value, never the cached old one."""
    store.set("k", b"[1]")
    original = CountingReads.get

    def racing(self: CountingReads, key: str, collection: str = "") -> bytes | None:
        value = original(self, key, collection)
        CountingReads.get = original  # type: ignore[method-assign]
        self.set("k", b"[2]")  # lands after the read, before the digest is kept
        return value

    CountingReads.get = racing  # type: ignore[method-assign]
    try:
        assert store.digest("k") == _sha(b"[1]")
    finally:
        CountingReads.get = original  # type: ignore[method-assign]
    assert store.digest("k") == _sha(b"[2]")


def test_a_value_read_for_an_answer_is_cached_unless_written_since(store: CountingReads) -> None:
    store.set("k", b"[1]")
    stamp, cached = store.cached_digest("k")
    assert cached is None
    value = store.get("k")
    assert value is not None
    store.set("k", b"[2]")  # written after the read: the old value's digest is not kept
    assert store.keep_digest("k", "", stamp, value) == _sha(b"[1]")
    assert store.cached_digest("k")[1] is None
    stamp, _ = store.cached_digest("k")
    value = store.get("k")
    assert value is not None
    store.keep_digest("k", "", stamp, value)
    reads = store.reads
    assert store.digest("k") == _sha(b"[2]") and store.reads == reads


def test_a_digest_asked_for_right_after_a_commit_is_of_the_new_value(path: Path) -> None:
    """Between a write's commit and the dropping of its key's cached digest, a digest asked
    for by another thread is of the committed value, never the cached one of the old."""
    seen: list[str | None] = []

    class Probing(CountingReads):
        def _written(self, collection: str, key: str) -> None:
            asking = threading.Thread(target=lambda: seen.append(self.digest(key, collection)))
            asking.start()
            asking.join()
            super()._written(collection, key)

    store = _opened(path, Probing)
    try:
        store.set("k", b"[1]")
        assert store.digest("k") == _sha(b"[1]")
        seen.clear()
        store.set("k", b"[2]")
        assert seen == [_sha(b"[2]")]
        assert store.digest("k") == _sha(b"[2]")
    finally:
        store.close()
