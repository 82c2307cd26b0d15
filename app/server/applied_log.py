"""The applied log: every KV write the store applied, in the order SQLite committed them.

Kept only when the test-only fault switch is on (BACKSTAY_FAULTS=1, see faults.py), in the table
``applied_log`` of the store's own file: SqliteKv appends to it inside the transaction of the
write itself, so the entry numbers `n` follow the commit order exactly, and the log survives a
restart of the server. A set that stored nothing (X-Spark-Initial on an existing key) and a
delete of a missing key changed nothing, so they are not logged. `n` is never reused, even after
``clear``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal

Op = Literal["set", "delete"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS applied_log (
    n          INTEGER PRIMARY KEY AUTOINCREMENT,
    time       INTEGER NOT NULL,
    collection TEXT NOT NULL,
    key        TEXT NOT NULL,
    op         TEXT NOT NULL,
    body       BLOB
)
"""


@dataclass(frozen=True)
class AppliedWrite:
    """One applied write: `body` is the stored JSON text of a set, None for a delete."""

    n: int
    time: int
    collection: str
    key: str
    op: Op
    body: str | None

    def to_json(self) -> dict[str, object]:
        return {"n": self.n, "time": self.time, "collection": self.collection, "key": self.key,
                "op": self.op, "body": self.body}


def create(conn: sqlite3.Connection) -> None:
    """Create the table if it does not exist (inside the caller's transaction)."""
    conn.execute(_SCHEMA)


def append_set(conn: sqlite3.Connection, time_ms: int, collection: str, key: str, rowid: int) -> None:
    """Log the set that just wrote kv row `rowid` (copying its value inside SQLite)."""
    conn.execute(
        "INSERT INTO applied_log (time, collection, key, op, body) "
        "SELECT ?, ?, ?, 'set', value FROM kv WHERE rowid = ?",
        (time_ms, collection, key, rowid),
    )


def append_delete(conn: sqlite3.Connection, time_ms: int, collection: str, key: str) -> None:
    conn.execute(
        "INSERT INTO applied_log (time, collection, key, op, body) VALUES (?, ?, ?, 'delete', NULL)",
        (time_ms, collection, key),
    )


def read(conn: sqlite3.Connection, after: int) -> list[AppliedWrite]:
    """The entries with n > `after`, oldest first."""
    rows = conn.execute(
        "SELECT n, time, collection, key, op, CAST(body AS TEXT) FROM applied_log WHERE n > ? ORDER BY n",
        (after,),
    ).fetchall()
    return [AppliedWrite(*row) for row in rows]


def clear(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM applied_log")
