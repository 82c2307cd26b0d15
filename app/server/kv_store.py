"""SqliteKv: the Spark KV store kept in one SQLite file.

Values are JSON texts, stored exactly as received (as BLOBs of their UTF-8 bytes; rows written
by schema version 1 hold TEXT, read the same), keyed by (collection, key); the collection "" is
the default namespace of requests without ?collection=. The store only ever holds valid JSON:
``set`` checks the body first (json_validation.validate_json) and raises InvalidValue otherwise,
writing nothing.

A value is written without copying it: the row gets a zeroblob of its length, then the body is
written into it in _BLOB_CHUNK pieces (SQLite's incremental blob I/O), so writing a 200 MB value
costs a few MiB beyond the body (binding it would copy it twice inside SQLite) and the GIL is
released while SQLite works.

Every write is one SQLite transaction on a single writer connection (serialised by a lock), so
concurrent writers of a key leave exactly one of their values, never a mix. The file is in WAL
mode with synchronous=FULL: a committed write survives a crash or restart of the server. Reads use
one connection per thread and run alongside writes.

``digest`` answers a value's SHA-256 (the ETag of a conditional GET) from a cache, computed once
per value (a plain GET has it computed after its answer is sent): an entry holds until this
store writes the key or another connection (another process) commits anything to the file (the
writer connection's PRAGMA data_version, which only moves for other connections' commits).

With log_applied (the test-only fault switch, see faults.py), every write that changed the store
is also appended to the applied log (applied_log.py) in the same transaction, so the log's order
is the order SQLite committed them.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.server import applied_log
from app.server.applied_log import AppliedWrite
from app.server.json_validation import Buffer, InvalidJson, validate_json

DEFAULT_COLLECTION = ""
SCHEMA_VERSION = 2
_BLOB_CHUNK = 1 << 20

# The value is the last column: SQLite then keeps a zeroblob as a count of zeros while it builds
# the row, instead of allocating it (a column after it with any bytes would make it do so).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    collection TEXT NOT NULL,
    key        TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    value      BLOB NOT NULL,
    PRIMARY KEY (collection, key)
)
"""


class KvError(Exception):
    """The store could not complete an operation; nothing was written."""


class InvalidValue(KvError, ValueError):
    """A value is not UTF-8 JSON text; the store was left unchanged."""


class StoreClosed(KvError):
    """The store was used after close()."""


def parse_value(body: Buffer) -> str:
    """Return `body` as text if it is one well-formed JSON value, else raise InvalidValue.

    NaN and Infinity are refused: browsers' JSON.parse rejects them, so they could not be read back.
    """
    check_value(body)
    return bytes(body).decode("utf-8")


def check_value(body: Buffer) -> None:
    """Raise InvalidValue unless `body` is UTF-8 text of one JSON value (see json_validation)."""
    try:
        validate_json(body)
    except InvalidJson as invalid:
        raise InvalidValue(str(invalid)) from None


@dataclass(frozen=True)
class DigestStamp:
    """What the digest cache had seen when a value was about to be read (SqliteKv.cached_digest)."""

    foreign: int | None
    generation: int


class SqliteKv:
    """Spark KV values in a SQLite file. Thread-safe; open with SqliteKv.open(path)."""

    def __init__(self, path: Path, writer: sqlite3.Connection, log_applied: bool = False) -> None:
        self._path = path
        self._log_applied = log_applied
        self._writer = writer
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        # digest(): (collection, key) -> SHA-256 hex (dropped by a write of the key); the
        # generations this store's writes moved; the data_version of other connections'
        # commits the cache holds for.
        self._digest_lock = threading.Lock()
        self._digests: dict[tuple[str, str], str] = {}
        self._generations: dict[tuple[str, str], int] = {}
        self._digests_foreign: int | None = None

    @classmethod
    def open(cls, path: Path, *, log_applied: bool = False) -> SqliteKv:
        """Open (creating if needed) the database at `path`; its folder must exist.

        log_applied: keep the applied log (creating its table if needed); for tests only.
        """
        writer = _connect(path)
        try:
            writer.execute("PRAGMA journal_mode=WAL")
            writer.execute("PRAGMA synchronous=FULL")
            with _transaction(writer):
                found = writer.execute("PRAGMA user_version").fetchone()[0]
                if found > SCHEMA_VERSION:
                    raise KvError(f"{path} has schema version {found}; this server knows {SCHEMA_VERSION}")
                if found == 1:
                    _migrate_from_v1(writer)
                writer.execute(_SCHEMA)
                writer.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                if log_applied:
                    applied_log.create(writer)
        except BaseException:
            writer.close()
            raise
        return cls(path, writer, log_applied)

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

    def digest(self, key: str, collection: str = DEFAULT_COLLECTION) -> str | None:
        """The SHA-256 hex of the value of `key` (None when the key does not exist): read and
        hashed once, then answered from the cache until the key is written (see the module)."""
        stamp, cached = self.cached_digest(key, collection)
        if cached is not None:
            return cached
        value = self.get(key, collection)
        if value is None:
            return None
        return self.keep_digest(key, collection, stamp, value)

    def cached_digest(self, key: str, collection: str = DEFAULT_COLLECTION) -> tuple[DigestStamp, str | None]:
        """The cached digest of `key` if any, and the stamp to hand ``keep_digest`` with a value
        read after this call."""
        slot = (collection, key)
        foreign = self._foreign_version()  # None: the writer is busy, the cache is not used
        with self._digest_lock:
            if foreign is not None and foreign != self._digests_foreign:
                self._digests.clear()
                self._digests_foreign = foreign
            generation = self._generations.get(slot, 0)
            cached = self._digests.get(slot) if foreign is not None else None
            stamp = DigestStamp(foreign, generation)
            return stamp, cached

    def keep_digest(self, key: str, collection: str, stamp: DigestStamp, value: Buffer) -> str:
        """Hash `value` (of `key`, read after ``cached_digest`` gave `stamp`) and cache it unless
        anything was written since the stamp (a write after the read moves it)."""
        found = hashlib.sha256(value).hexdigest()
        slot = (collection, key)
        with self._digest_lock:
            if (stamp.foreign is not None and stamp.foreign == self._digests_foreign
                    and self._generations.get(slot, 0) == stamp.generation):
                self._digests[slot] = found
        return found

    def items(self, collection: str = DEFAULT_COLLECTION) -> list[tuple[str, str]]:
        """Every (key, JSON text) pair of `collection`, sorted by key."""
        rows = self._reader().execute(
            "SELECT key, CAST(value AS TEXT) FROM kv WHERE collection = ? ORDER BY key", (collection,)
        ).fetchall()
        return [(row[0], row[1]) for row in rows]

    def set(self, key: str, body: Buffer, collection: str = DEFAULT_COLLECTION) -> None:
        """Store `body` (JSON text) under `key`, replacing any value. Idempotent.

        Raises InvalidValue, leaving the previous value, when `body` is not UTF-8 JSON.
        """
        check_value(body)
        view = memoryview(body).cast("B")
        with self._write((collection, key)) as conn:
            now = _now_ms()
            [(rowid,)] = conn.execute(
                "INSERT INTO kv (collection, key, updated_at, value) VALUES (?, ?, ?, zeroblob(?)) "
                "ON CONFLICT (collection, key) DO UPDATE SET "
                "updated_at = excluded.updated_at, value = excluded.value RETURNING rowid",
                (collection, key, now, view.nbytes),
            ).fetchall()
            self._fill(conn, rowid, view, collection, key, now)

    def set_if_absent(self, key: str, body: Buffer, collection: str = DEFAULT_COLLECTION) -> bool:
        """Store `body` under `key` only if the key does not exist; True if it was stored.

        This is the get-or-set default of the Spark client (header X-Spark-Initial: true): a
        default never overwrites a value another writer stored meanwhile. Raises InvalidValue.
        """
        check_value(body)
        view = memoryview(body).cast("B")
        with self._write((collection, key)) as conn:
            now = _now_ms()
            rows = conn.execute(
                "INSERT INTO kv (collection, key, updated_at, value) VALUES (?, ?, ?, zeroblob(?)) "
                "ON CONFLICT (collection, key) DO NOTHING RETURNING rowid",
                (collection, key, now, view.nbytes),
            ).fetchall()
            if not rows:
                return False
            self._fill(conn, rows[0][0], view, collection, key, now)
            return True

    def delete(self, key: str, collection: str = DEFAULT_COLLECTION) -> bool:
        """Delete `key`; True if it existed. Deleting a missing key is not an error."""
        with self._write((collection, key)) as conn:
            cursor = conn.execute("DELETE FROM kv WHERE collection = ? AND key = ?", (collection, key))
            existed = cursor.rowcount == 1
            if existed and self._log_applied:
                applied_log.append_delete(conn, _now_ms(), collection, key)
            return existed

    def applied(self, after: int = 0) -> list[AppliedWrite]:
        """The applied log after entry `after`, in commit order; [] unless opened with log_applied."""
        return applied_log.read(self._reader(), after) if self._log_applied else []

    def clear_applied(self) -> None:
        """Empty the applied log (entry numbers are not reused)."""
        if self._log_applied:
            with self._write() as conn:
                applied_log.clear(conn)

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
    def _write(self, slot: tuple[str, str] | None = None) -> Iterator[sqlite3.Connection]:
        """One write transaction. ``slot``: the (collection, key) it writes, whose cached digest
        goes once it has committed and before any other use of the writer (which ``digest``
        takes as its sign that no write is under way)."""
        with self._write_lock:
            if self._closed:
                raise StoreClosed(f"{self._path} is closed")
            try:
                with _transaction(self._writer):
                    yield self._writer
            finally:
                if slot is not None:
                    self._written(*slot)

    def _fill(
        self, conn: sqlite3.Connection, rowid: int, view: memoryview, collection: str, key: str, now: int
    ) -> None:
        """Write `view` into the zeroblob of row `rowid`, a chunk at a time (SQLite does not copy
        the whole value, and releases the GIL while it writes)."""
        with conn.blobopen("kv", "value", rowid) as blob:
            for start in range(0, len(view), _BLOB_CHUNK):
                blob.write(view[start : start + _BLOB_CHUNK])
        if self._log_applied:
            applied_log.append_set(conn, now, collection, key, rowid)

    def _written(self, collection: str, key: str) -> None:
        """A write of `key` committed: its cached digest no longer holds."""
        with self._digest_lock:
            slot = (collection, key)
            self._generations[slot] = self._generations.get(slot, 0) + 1
            self._digests.pop(slot, None)

    def _foreign_version(self) -> int | None:
        """PRAGMA data_version of the writer connection (it moves when another connection
        commits), or None when a write holds the connection."""
        if not self._write_lock.acquire(blocking=False):
            return None
        try:
            if self._closed:
                raise StoreClosed(f"{self._path} is closed")
            return int(self._writer.execute("PRAGMA data_version").fetchone()[0])
        finally:
            self._write_lock.release()

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


def _migrate_from_v1(conn: sqlite3.Connection) -> None:
    """Version 1 kept `value` before `updated_at`; version 2 keeps it last (see _SCHEMA)."""
    conn.execute("ALTER TABLE kv RENAME TO kv_v1")
    conn.execute(_SCHEMA)
    conn.execute("INSERT INTO kv (collection, key, updated_at, value) "
                 "SELECT collection, key, updated_at, value FROM kv_v1")
    conn.execute("DROP TABLE kv_v1")


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
