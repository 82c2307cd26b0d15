"""The audit log in the version store: append an entry (chained to the last), read them all,
verify the chain, and export it (CSV, JSON).

``meta/audit-head`` holds the number of entries and the hash and id of the newest, so that
removing the newest entries is detected too. One writer appends (the engine that drains the
journal; other tabs ask it), so the chain never forks.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, replace

from app.core.audit.entry import AUDIT_PREFIX, AuditEntry
from app.core.errors import CoreError
from app.core.formats.format import FORMAT_VERSION
from app.core.formats.json_value import Json, compact_json
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
    #: Entries removed by the audit retention, oldest first: how many, and the id and hash of
    #: the newest of them (the first entry kept links to it).
    pruned: int = 0
    pruned_id: str = ""
    pruned_hash: str = ""

    def encode(self) -> bytes:
        body: dict[str, Json] = {"formatVersion": FORMAT_VERSION, "count": self.count,
                                 "lastId": self.last_id, "lastHash": self.last_hash}
        if self.pruned:
            body.update({"pruned": self.pruned, "prunedId": self.pruned_id,
                         "prunedHash": self.pruned_hash})
        return compact_json(body)

    @classmethod
    def decode(cls, data: bytes | None) -> AuditHead:
        if data is None:
            return cls()
        raw = json.loads(data)
        return cls(int(raw["count"]), str(raw["lastId"]), str(raw["lastHash"]),
                   int(raw.get("pruned", 0)), str(raw.get("prunedId", "")),
                   str(raw.get("prunedHash", "")))


async def append(store: VersionStore, entry: AuditEntry) -> AuditEntry:
    """Store ``entry`` after the newest one; the entry as stored (with prev and hash)."""
    batch = Batch()
    chained = await append_to(batch, store, entry)
    await store.apply(batch)
    return chained


async def append_to(batch: Batch, store: VersionStore, entry: AuditEntry) -> AuditEntry:
    """Add to ``batch`` the writes that store ``entry`` after the newest one in ``store`` (the
    caller applies it before anything else appends); the entry as it will be stored."""
    head = AuditHead.decode(await store.get("meta", AUDIT_HEAD_KEY))
    chained = entry.chained(head.last_hash)
    batch.put("meta", chained.key, chained.encode())
    batch.put("meta", AUDIT_HEAD_KEY, replace(head, count=head.count + 1, last_id=chained.id,
                                              last_hash=chained.hash).encode())
    return chained


async def prune(store: VersionStore, before_ms: int, pruned_by: AuditEntry) -> int:
    """Remove the entries older than ``before_ms`` (oldest first, in chain order, and never the
    newest), and append ``pruned_by`` saying so (its details get the count, the total removed so
    far and the last removed entry), in one batch; how many were removed. The head keeps the
    total and the hash of the last removed entry, so the chain still verifies from the first
    entry kept, and verify checks the head against that (hashed) entry. The caller checks the
    chain first: pruning a chain with problems would remove the evidence."""
    head = AuditHead.decode(await store.get("meta", AUDIT_HEAD_KEY))
    chain = _linked([entry for entry in (await _stored(store)).values() if isinstance(entry, AuditEntry)],
                    head.pruned_hash)
    doomed = []
    for entry in chain[:-1]:
        if entry.at >= before_ms:
            break
        doomed.append(entry)
    if not doomed:
        return 0
    batch = Batch()
    for entry in doomed:
        batch.delete("meta", entry.key)
    last = doomed[-1]
    noted = replace(pruned_by, details={**pruned_by.details, "removed": len(doomed),
                                        "prunedTotal": head.pruned + len(doomed),
                                        "throughId": last.id, "throughHash": last.hash})
    chained = noted.chained(head.last_hash)
    batch.put("meta", chained.key, chained.encode())
    batch.put("meta", AUDIT_HEAD_KEY, AuditHead(
        head.count + 1, chained.id, chained.hash, head.pruned + len(doomed), last.id,
        last.hash).encode())
    await store.apply(batch)
    return len(doomed)


def _linked(readable: list[AuditEntry], start: str) -> list[AuditEntry]:
    """The entries in chain order from the one whose ``prev`` is ``start``."""
    after = {entry.prev: entry for entry in readable}
    linked: list[AuditEntry] = []
    current = after.get(start)
    while current is not None and len(linked) <= len(readable):
        linked.append(current)
        current = after.get(current.hash)
    return linked


async def entries(store: VersionStore) -> list[AuditEntry]:
    """The readable entries, oldest first (id order)."""
    return [entry for entry in (await _stored(store)).values() if isinstance(entry, AuditEntry)]


async def _stored(store: VersionStore) -> dict[str, AuditEntry | str]:
    """Every stored entry by key, in key order: the entry, or why it cannot be read."""
    keys = await store.keys("meta", AUDIT_PREFIX)
    stored = await store.get_many("meta", keys)
    found: dict[str, AuditEntry | str] = {}
    for key in keys:
        if key not in stored:
            continue
        try:
            found[key] = AuditEntry.decode(stored[key])
        except CoreError as error:
            found[key] = str(error)
    return found


async def verify_audit(store: VersionStore) -> list[tuple[str, str]]:
    """Every problem of the audit chain as (subject, what is wrong); empty when it is intact.

    The chain is followed by its links (``prev``), not by id order: entries appended out of
    id order (a forwarded entry, two in one millisecond) are in order if their links are."""
    found = await _stored(store)
    head = AuditHead.decode(await store.get("meta", AUDIT_HEAD_KEY))
    problems: list[tuple[str, str]] = []
    readable: list[AuditEntry] = []
    for key, entry in found.items():
        if isinstance(entry, str):
            problems.append((f"meta/{key}", f"the entry cannot be read: {entry}"))
        else:
            if not entry.intact:  # reported once; its stored hash still links the chain
                problems.append((f"meta/{key}",
                                 "the entry was edited: its content no longer matches its hash"))
            if key != entry.key:
                problems.append((f"meta/{key}", f"the entry stored here is {entry.id}: entries "
                                                "were moved or reordered"))
            readable.append(entry)
    linked = _linked(readable, head.pruned_hash)
    chained = {entry.id for entry in linked}
    for entry in readable:
        if entry.id not in chained:
            problems.append((f"meta/{entry.key}", "the chain is broken before this entry: an "
                                                  "entry was removed, inserted or reordered"))
    if head.pruned:
        # What the head says was removed is what the newest audit-prune entry (hashed) says.
        notes = [entry for entry in linked if entry.action == "audit-prune"]
        said = notes[-1].details if notes else {}
        if said.get("throughHash") != head.pruned_hash or said.get("prunedTotal") != head.pruned:
            problems.append((f"meta/{AUDIT_HEAD_KEY}", "the head says older entries were removed by "
                             "the audit retention, but no audit-prune entry says so: entries were "
                             "removed"))
    newest = linked[-1].hash if linked else ""
    if head.count - head.pruned != len(found):
        kept = f" ({head.pruned} removed by the audit retention)" if head.pruned else ""
        problems.append((f"meta/{AUDIT_HEAD_KEY}", f"{head.count} audit entries were written{kept}, "
                         f"{len(found)} are there: entries were removed or added"))
    elif newest != head.last_hash and not problems:
        problems.append((f"meta/{AUDIT_HEAD_KEY}", "the newest entry is not the one last written: "
                         "the newest entries were removed or replaced"))
    return problems


def to_csv(rows: list[dict[str, str]], columns: tuple[str, ...]) -> str:
    """RFC 4180 CSV (header row first) of ``rows``; cells a spreadsheet would run as a formula
    start with ' instead."""
    import csv  # here, not at the top: the engine's start spares its import
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: _safe_cell(row.get(name, "")) for name in columns})
    return out.getvalue()


def _safe_cell(value: str) -> str:
    """A spreadsheet must not run a cell as a formula (CSV injection): prefix those with '."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
