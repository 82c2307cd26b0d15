"""SqliteKv: the Spark KV store kept in one SQLite file.

Values are JSON texts, stored exactly as received, keyed by (collection, key); the collection ""
is the default namespace of requests without ?collection=. The store only ever holds valid JSON:
``set`` parses the text first and raises InvalidValue otherwise, writing nothing.

Every write is one SQLite transaction on a single writer connection (serialised by a lock), so
concurrent writers of a key leave exactly one of their values, never a mix. The file is in WAL
mode with synchronous=FULL: a committed write survives a crash or restart of the server. Reads use
one connection per thread and run alongside writes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEFAULT_COLLECTION = ""
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    collection TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (collection, key)
)
"""


class KvError(Exception):
    """The store could not complete an operation; nothing was written."""


class InvalidValue(KvError, ValueError):
    """A value is not UTF-8 JSON text; the store was left unchanged."""


class StoreClosed(KvError):
    """The store was used after close()."""


def parse_value(body: bytes) -> str:
    """Return `body` as text if it is one well-formed JSON value, else raise InvalidValue.

    NaN and Infinity are refused: browsers' JSON.parse rejects them, so they could not be read back.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidValue(f"the body is not UTF-8 text (byte {error.start})") from None
    try:
        json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise InvalidValue(f"the body is not JSON: {error}") from None
    except RecursionError:
        raise InvalidValue("the body is JSON nested too deeply to check") from None
    return text


def _refuse_constant(name: str) -> object:
    raise json.JSONDecodeError(f"{name} is not valid JSON", name, 0)


class SqliteKv:
    """Spark KV values in a SQLite file. Thread-safe; open with SqliteKv.open(path)."""

    def __init__(self, path: Path, writer: sqlite3.Connection) -> None:
        self._path = path
        self._writer = writer
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False

    @classmethod
    def open(cls, path: Path) -> SqliteKv:
        """Open (creating if needed) the database at `path`; its folder must exist."""
        writer = _connect(path)
        try:
            writer.execute("PRAGMA journal_mode=WAL")
            writer.execute("PRAGMA synchronous=FULL")
            with _transaction(writer):
                writer.execute(_SCHEMA)
                found = writer.execute("PRAGMA user_version").fetchone()[0]
                if found > SCHEMA_VERSION:
                    raise KvError(f"{path} has schema version {found}; this server knows {SCHEMA_VERSION}")
                writer.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException:
            writer.close()
            raise
        return cls(path, writer)

    @property
    def path(self) -> Path:
        return self._path

    def keys(self, collection: str = DEFAULT_COLLECTION) -> list[str]:
        """All keys of `collection`, sorted."""
        rows = self._reader().execute(
            "SELECT key FROM kv WHERE collection = ? ORDER BY key", (collection,)
        ).fetchall()
        return [row[0] for row in rows]

    def get(self, key: str, collection: str = DEFAULT_COLLECTION) -> bytes | None:
        """The stored JSON text of `key` as UTF-8 bytes, or None when the key does not exist."""
        row = self._reader().execute(
            "SELECT CAST(value AS BLOB) FROM kv WHERE collection = ? AND key = ?", (collection, key)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def items(self, collection: str = DEFAULT_COLLECTION) -> list[tuple[str, str]]:
        """Every (key, JSON text) pair of `collection`, sorted by key."""
        rows = self._reader().execute(
            "SELECT key, value FROM kv WHERE collection = ? ORDER BY key", (collection,)
        ).fetchall()
        return [(row[0], row[1]) for row in rows]

    def set(self, key: str, body: bytes, collection: str = DEFAULT_COLLECTION) -> None:
        """Store `body` (JSON text) under `key`, replacing any value. Idempotent.

        Raises InvalidValue, leaving the previous value, when `body` is not UTF-8 JSON.
        """
        text = parse_value(body)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO kv (collection, key, value, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (collection, key) DO UPDATE SET "
                "value = excluded.value, updated_at = excluded.updated_at",
                (collection, key, text, _now_ms()),
            )

    def set_if_absent(self, key: str, body: bytes, collection: str = DEFAULT_COLLECTION) -> bool:
        """Store `body` under `key` only if the key does not exist; True if it was stored.

        This is the get-or-set default of the Spark client (header X-Spark-Initial: true): a
        default never overwrites a value another writer stored meanwhile. Raises InvalidValue.
        """
        text = parse_value(body)
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO kv (collection, key, value, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (collection, key) DO NOTHING",
                (collection, key, text, _now_ms()),
            )
            return cursor.rowcount == 1

    def delete(self, key: str, collection: str = DEFAULT_COLLECTION) -> bool:
        """Delete `key`; True if it existed. Deleting a missing key is not an error."""
        with self._write() as conn:
            cursor = conn.execute("DELETE FROM kv WHERE collection = ? AND key = ?", (collection, key))
            return cursor.rowcount == 1

    def close(self) -> None:
        """Close every connection. Idempotent; later calls other than close raise StoreClosed."""
        with self._write_lock, self._readers_lock:
            if self._closed:
                return
            self._closed = True
            for conn in self._readers:
                conn.close()
            self._readers.clear()
            self._writer.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock:
            if self._closed:
                raise StoreClosed(f"{self._path} is closed")
            with _transaction(self._writer):
                yield self._writer

    def _reader(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreClosed(f"{self._path} is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self._path)
            with self._readers_lock:
                if self._closed:
                    conn.close()
                    raise StoreClosed(f"{self._path} is closed")
                self._readers.append(conn)
            self._local.conn = conn
        return conn


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; _transaction() makes them explicit.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
