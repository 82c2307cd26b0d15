"""Who is an admin, what each role may do, and the hash-chained audit log with its exports."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json

import pytest

from app.core.access.identity import identify
from app.core.access.permissions import PERMISSIONS, AccessDenied, Permissions
from app.core.audit.entry import AuditEntry
from app.core.audit.log import AUDIT_HEAD_KEY, append, entries, to_csv, verify_audit
from app.core.audit.trail import COLUMNS, TrailFilter, backup_rows, trail, write_rows
from app.core.errors import CorruptData
from app.core.memory_store import MemoryStore
from app.core.ports import Batch

SYSTEM_USERS = [
    {"id": "u1", "username": "maria", "email": "Maria@Hotel.example", "role": "admin", "isActive": True},
    {"id": "u2", "username": "frontdesk", "email": "desk@hotel.example", "role": "accounts",
     "isActive": True},
    {"id": "u3", "username": "old-admin", "email": "old@hotel.example", "role": "admin", "isActive": False},
]


def test_who_is_an_admin() -> None:
    assert identify({"login": "boss", "isOwner": True}, None).role == "owner"
    maria = identify({"login": "MARIA", "email": "x@y", "isOwner": False}, SYSTEM_USERS)
    assert maria.is_admin and maria.role == "admin"
    by_email = identify({"login": "mg", "email": "maria@hotel.example", "isOwner": False}, SYSTEM_USERS)
    assert by_email.is_admin
    desk = identify({"login": "frontdesk", "isOwner": False}, SYSTEM_USERS)
    assert (desk.role, desk.is_admin) == ("accounts", False)
    assert not identify({"login": "old-admin", "isOwner": False}, SYSTEM_USERS).is_admin  # inactive
    assert identify({"login": "nobody", "isOwner": False}, SYSTEM_USERS).role == "staff"
    assert identify({"login": "x", "isOwner": False}, {"not": "a list"}).role == "staff"
    assert not identify(None, None).is_admin


def test_permissions_default_to_admins_and_can_be_granted_per_role() -> None:
    owner = identify({"login": "boss", "isOwner": True}, None)
    admin = identify({"login": "maria", "isOwner": False}, SYSTEM_USERS)
    desk = identify({"login": "frontdesk", "isOwner": False}, SYSTEM_USERS)
    default = Permissions()
    assert all(default.allows(admin, name) and default.allows(owner, name) for name in PERMISSIONS)
    assert not any(default.allows(desk, name) for name in PERMISSIONS)
    with pytest.raises(AccessDenied, match=r"frontdesk \(role accounts\) may not restore"):
        default.check(desk, "restore")
    granted = default.granted("export", ["admin", "accounts"])
    assert granted.allows(desk, "export") and not granted.allows(desk, "restore")
    locked = default.granted("restore", [])  # nobody: the owner still may
    assert locked.allows(owner, "restore") and not locked.allows(admin, "restore")
    assert Permissions.decode(granted.encode()) == granted
    assert Permissions.decode(None) == default
    with pytest.raises(CorruptData):
        Permissions.decode(b"{\"formatVersion\": 2}")
    with pytest.raises(ValueError):
        default.granted("fly", ["admin"])


def entry(n: int, **details: object) -> AuditEntry:
    return AuditEntry(f"{n:013d}-0000000{n}", n, "maria", "restore", "done", f"step {n}",
                      dict(details))  # type: ignore[arg-type]


async def _log(count: int) -> MemoryStore:
    store = MemoryStore()
    for n in range(1, count + 1):
        await append(store, entry(n, records=[{"module": "w3-hotel-guests", "recordId": f"g{n}"}]))
    return store


def test_the_chain_detects_edits_removals_and_reordering() -> None:
    async def scenario() -> None:
        store = await _log(4)
        assert await verify_audit(store) == []
        found = await entries(store)
        assert [e.prev for e in found[1:]] == [e.hash for e in found[:-1]] and found[0].prev == ""

        edited = MemoryStore()
        await _copy(store, edited)
        tampered = found[1].to_dict()
        tampered["message"] = "nothing happened"
        batch = Batch()
        batch.put("meta", found[1].key, json.dumps(tampered).encode())
        await edited.apply(batch)
        assert [p[0] for p in await verify_audit(edited)] == [f"meta/{found[1].key}"]

        removed = MemoryStore()
        await _copy(store, removed)
        batch = Batch()
        batch.delete("meta", found[2].key)
        await removed.apply(batch)
        problems = await verify_audit(removed)
        assert any("removed" in what for _, what in problems)

        newest_gone = MemoryStore()
        await _copy(store, newest_gone)
        batch = Batch()
        batch.delete("meta", found[3].key)
        await newest_gone.apply(batch)
        assert [s for s, _ in await verify_audit(newest_gone)] == [f"meta/{AUDIT_HEAD_KEY}"]

        swapped = MemoryStore()
        await _copy(store, swapped)
        batch = Batch()
        batch.put("meta", found[1].key, (await store.get("meta", found[2].key)) or b"")
        batch.put("meta", found[2].key, (await store.get("meta", found[1].key)) or b"")
        await swapped.apply(batch)
        assert await verify_audit(swapped)

    asyncio.run(scenario())


async def _copy(source: MemoryStore, target: MemoryStore) -> None:
    batch = Batch()
    for key in await source.keys("meta"):
        batch.put("meta", key, (await source.get("meta", key)) or b"")
    await target.apply(batch)


def test_the_trail_exports_csv_with_the_expected_columns_and_defuses_formulas() -> None:
    async def scenario() -> None:
        store = await _log(2)
        await append(store, AuditEntry("0000000000009-x", 9, "=cmd|' /C calc'!A0", "restore",
                                       "denied", "+1, \"quoted\"\nline", {"permission": "restore"}))
        version = {"id": "v1", "timestamp": 5, "createdBy": "desk", "changeType": "auto",
                   "description": "Updated guest Ada"}
        rows = backup_rows(await entries(store)) + write_rows(
            version, [{"module": "w3-hotel-guests", "action": "update", "recordId": "g1"}])
        everything = trail(rows, TrailFilter())
        assert [row["id"] for row in everything] == ["0000000000009-x", "v1", "0000000000002-00000002",
                                                     "0000000000001-00000001"]
        parsed = list(csv.DictReader(io.StringIO(to_csv(everything, COLUMNS))))
        assert tuple(parsed[0]) == COLUMNS
        assert parsed[0]["user"].startswith("'=") and parsed[0]["message"] == "'+1, \"quoted\"\nline"
        assert parsed[1]["kind"] == "write" and parsed[1]["recordId"] == "g1"
        assert parsed[3]["module"] == "w3-hotel-guests" and parsed[3]["recordId"] == "g1"
        assert [r["id"] for r in trail(rows, TrailFilter.parse({"user": "DESK"}))] == ["v1"]
        assert [r["id"] for r in trail(rows, TrailFilter.parse({"kind": "backup", "since": 2}))] == [
            "0000000000009-x", "0000000000002-00000002"]
        assert len(trail(rows, TrailFilter.parse({"text": "ada"}))) == 1
        with pytest.raises(ValueError, match="unknown filter"):
            TrailFilter.parse({"colour": "red"})

    asyncio.run(scenario())


def test_entries_appended_out_of_id_order_and_unreadable_ones() -> None:
    async def scenario() -> None:
        store = MemoryStore()
        await append(store, entry(5))
        await append(store, entry(3))  # forwarded from another tab: made earlier, appended later
        await append(store, entry(4))
        assert await verify_audit(store) == []
        batch = Batch()
        batch.put("meta", entry(4).key, b"{not json")
        await store.apply(batch)
        problems = await verify_audit(store)
        assert [subject for subject, _ in problems] == [f"meta/{entry(4).key}"]
        assert "cannot be read" in problems[0][1]
        assert [e.id for e in await entries(store)] == [entry(3).id, entry(5).id]

    asyncio.run(scenario())


def test_an_entry_written_in_an_older_format_still_checks_out() -> None:
    # As the release of format 2 wrote it: its body (formatVersion 2) hashed.
    body = {"formatVersion": 2, "id": "1700000000000-0a1b2c3d", "at": 1_700_000_000_000,
            "user": "admin", "action": "restore", "result": "done", "message": "Restored",
            "details": {}, "prev": ""}
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    stored = {**body, "hash": hashlib.sha256(text.encode()).hexdigest()}
    entry = AuditEntry.decode(json.dumps(stored).encode())
    assert entry.intact and entry.format_version == 2
    assert entry.chained("").hash == stored["hash"]  # re-chaining keeps its format
    assert not AuditEntry.decode(json.dumps({**stored, "user": "x"}).encode()).intact


def test_the_audit_retention_removes_old_entries_and_the_rest_still_verifies() -> None:
    from app.core.audit.log import AuditHead, prune

    async def scenario() -> None:
        store = MemoryStore()
        for n in range(1, 11):
            await append(store, AuditEntry(f"{n:013d}-0000000{n % 10}", n * 1000, "admin", "verify", "done"))
        note = AuditEntry("0000000020000-aaaaaaaa", 20_000, "admin", "audit-prune", "done", "retention")
        assert await prune(store, 5_500, note) == 5
        assert await verify_audit(store) == []
        kept = await entries(store)
        assert [entry.at for entry in kept] == [6000, 7000, 8000, 9000, 10000, 20000]
        assert kept[-1].details["removed"] == 5 and kept[-1].details["throughId"] == "0000000000005-00000005"
        head = AuditHead.decode(store.data["meta"][AUDIT_HEAD_KEY])
        assert (head.count, head.pruned) == (11, 5)
        # Appending and pruning again go on from there; the newest entry is never removed.
        await append(store, AuditEntry("0000000030000-bbbbbbbb", 30_000, "admin", "verify", "done"))
        again = AuditEntry("0000000040000-cccccccc", 40_000, "admin", "audit-prune", "done")
        assert await prune(store, 10**9, again) == 6
        assert await verify_audit(store) == []
        assert [entry.at for entry in await entries(store)] == [30_000, 40_000]
        newer = AuditEntry("0000000045000-eeeeeeee", 45_000, "admin", "audit-prune", "done")
        assert await prune(store, 35_000, newer) == 1  # only what is older than the limit
        assert [entry.at for entry in await entries(store)] == [40_000, 45_000]
        assert await verify_audit(store) == []
        # Tampering is still found: an entry removed outside the retention, or edited.
        for n in range(5):
            entry = AuditEntry(f"00000000500{n}0-dddddddd", 50_000 + n, "admin", "verify", "done")
            await append(store, entry)
        victim = sorted(key for key in store.data["meta"] if key.startswith("audit/"))[1]
        saved = store.data["meta"].pop(victim)
        assert await verify_audit(store)
        store.data["meta"][victim] = saved.replace(b'"user":"admin"', b'"user":"mallory"')
        assert any("edited" in problem for _, problem in await verify_audit(store))

    asyncio.run(scenario())


def test_removing_the_oldest_entries_by_hand_is_found_even_with_a_forged_head() -> None:
    from app.core.audit.log import AuditHead

    async def scenario() -> None:
        store = MemoryStore()
        for n in range(1, 6):
            await append(store, AuditEntry(f"{n:013d}-0000000{n}", n * 1000, "admin", "verify", "done"))
        keys = sorted(key for key in store.data["meta"] if key.startswith("audit/"))
        second = AuditEntry.decode(store.data["meta"][keys[1]])
        for key in keys[:2]:
            del store.data["meta"][key]
        head = AuditHead.decode(store.data["meta"][AUDIT_HEAD_KEY])
        forged = AuditHead(head.count, head.last_id, head.last_hash, 2, second.id, second.hash)
        store.data["meta"][AUDIT_HEAD_KEY] = forged.encode()
        assert any("no audit-prune entry says so" in problem for _, problem in await verify_audit(store))

    asyncio.run(scenario())
