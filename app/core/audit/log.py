"""The audit log in the version store: append an entry (chained to the last), read them all,
verify the chain, and export it (CSV, JSON).

``meta/audit-head`` holds the number of entries and the hash and id of the newest, so that
removing the newest entries is detected too. One writer appends (the engine that drains the
journal; other tabs ask it), so the chain never forks.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from dataclasses import dataclass

from app.core.audit.entry import AUDIT_PREFIX, AuditEntry
from app.core.formats.format import FORMAT_VERSION
from app.core.formats.json_value import compact_json
from app.core.ports import Batch, VersionStore

AUDIT_HEAD_KEY = "audit-head"


def new_entry_id(now_ms: int) -> str:
    """``<timestamp ms, 13 digits>-<random>``: sorts chronologically as a string."""
    return f"{now_ms:013d}-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class AuditHead:
    count: int = 0
    last_id: str = ""
    last_hash: str = ""

    def encode(self) -> bytes:
        return compact_json({"formatVersion": FORMAT_VERSION, "count": self.count,
                             "lastId": self.last_id, "lastHash": self.last_hash})

    @classmethod
    def decode(cls, data: bytes | None) -> AuditHead:
        if data is None:
            return cls()
        raw = json.loads(data)
        return cls(int(raw["count"]), str(raw["lastId"]), str(raw["lastHash"]))


async def append(store: VersionStore, entry: AuditEntry) -> AuditEntry:
    """Store ``entry`` after the newest one; the entry as stored (with prev and hash)."""
    head = AuditHead.decode(await store.get("meta", AUDIT_HEAD_KEY))
    chained = entry.chained(head.last_hash)
    batch = Batch()
    batch.put("meta", chained.key, chained.encode())
    batch.put("meta", AUDIT_HEAD_KEY, AuditHead(head.count + 1, chained.id, chained.hash).encode())
    await store.apply(batch)
    return chained


async def entries(store: VersionStore) -> list[AuditEntry]:
    keys = sorted(key for key in await store.keys("meta") if key.startswith(AUDIT_PREFIX))
    stored = await store.get_many("meta", keys)
    return [AuditEntry.decode(stored[key]) for key in keys if key in stored]


async def verify_audit(store: VersionStore) -> list[tuple[str, str]]:
    """Every problem of the audit chain as (subject, what is wrong); empty when it is intact."""
    found = await entries(store)
    head = AuditHead.decode(await store.get("meta", AUDIT_HEAD_KEY))
    problems: list[tuple[str, str]] = []
    previous = ""
    for entry in found:
        subject = f"meta/{entry.key}"
        if not entry.intact:
            problems.append((subject, "the entry was edited: its content no longer matches its hash"))
        if entry.prev != previous:
            problems.append((subject, "the chain is broken before this entry: an entry was "
                                      "removed, inserted or reordered"))
        previous = entry.hash
    if head.count != len(found) or (found and found[-1].hash != head.last_hash):
        problems.append((f"meta/{AUDIT_HEAD_KEY}", f"{head.count} audit entries were written, "
                         f"{len(found)} are there: the newest was removed or replaced"
                         if head.count != len(found) else
                         "the newest entry is not the one last written"))
    return problems


def to_csv(rows: list[dict[str, str]], columns: tuple[str, ...]) -> str:
    """RFC 4180 CSV (header row first) of ``rows``; cells a spreadsheet would run as a formula
    start with ' instead."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: _safe_cell(row.get(name, "")) for name in columns})
    return out.getvalue()


def _safe_cell(value: str) -> str:
    """A spreadsheet must not run a cell as a formula (CSV injection): prefix those with '."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
