"""What a new history removes from a store whose history was lost from the disk, and keeps."""

from __future__ import annotations

import asyncio
import json

import pytest

from app.browser.device import DEVICE_KEY
from app.browser.notices import NOTICES_KEY
from app.core.audit.entry import AuditEntry
from app.core.audit.log import append, entries, verify_audit
from app.core.chain import Chain
from app.core.clock import ManualClock
from app.core.formats.gzip_codec import GzipCompressor
from app.core.memory_store import MemoryStore
from app.core.ports import Batch, Collection, DataLost
from app.core.retention.new_history import KEPT, clearing, kept

GUESTS = "w3-hotel-guests"
HOTEL = {"access": b'{"restore":["admin"]}', "settings": b'{"formatVersion":3}',
         "passphrase": b'{"check":"x"}', NOTICES_KEY: b'{"a":"b"}',
         DEVICE_KEY: "Chrome on Linux · 3f2a".encode()}


async def _old_store(restore_pending: bool = False) -> MemoryStore:
    """A store with a history (two versions, a saved index, the history's id, maybe a restore's
    mark), the hotel's own records and three audit entries."""
    store = MemoryStore()
    chain = Chain(store, ManualClock(start_ms=1_700_000_000_000), GzipCompressor())
    await chain.open()
    await chain.record_state({GUESTS: json.dumps([{"id": "g1", "firstName": "Ada"}])},
                             created_by="admin", snapshot=True)
    await chain.record({GUESTS: json.dumps([{"id": "g1", "firstName": "Grace"}])}, created_by="desk")
    for n in range(1, 4):
        await append(store, AuditEntry(f"{n:013d}-0000000{n}", n, "maria", "restore", "done", f"step {n}"))
    batch = Batch()
    for key, value in {**HOTEL, "history": b'{"id":"h"}', f"index/{GUESTS}": b"{}"}.items():
        batch.put("meta", key, value)
    if restore_pending:
        batch.put("meta", "restore/pending", b"{}")
    await store.apply(batch)
    return store


def test_a_new_history_removes_the_history_and_leaves_the_hotels_records_as_they_are() -> None:
    async def scenario() -> None:
        store = await _old_store()
        hotel = {key: value for key, value in store.data["meta"].items() if kept(key)}
        assert len(hotel) == len(HOTEL) + 4  # audit-head and three entries
        plan = await clearing(store)
        assert plan.versions == 2 and not plan.restore_pending and plan.lost == []
        assert not plan.batch.puts  # nothing is rewritten: a failure part-way loses nothing
        await store.apply(plan.batch)
        assert store.data["meta"] == hotel  # byte for byte
        for collection in ("versions", "payloads", "blobs", "head"):
            assert not store.data.get(collection), collection
        # A chain opened on it starts a new history; the audit chain goes on where it was.
        chain = Chain(store, ManualClock(start_ms=1_800_000_000_000), GzipCompressor())
        await chain.open()
        assert chain.head_version_id is None and await chain.list_versions() == []
        assert await verify_audit(store) == []
        await append(store, AuditEntry("0000000000009-00000009", 9, "admin", "new-history", "done", "anew"))
        assert [entry.message for entry in await entries(store)][-1] == "anew"
        assert await verify_audit(store) == []
        await chain.record_state({GUESTS: json.dumps([{"id": "g1", "firstName": "Cy"}])},
                                 created_by="admin", snapshot=True)
        assert (await chain.verify(full=True)).ok

    asyncio.run(scenario())


def test_a_record_to_keep_the_disk_lost_too_is_removed_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its default then holds (e.g. who may do what), instead of a read that fails for good."""
    async def scenario() -> None:
        store = await _old_store()
        original = store.get

        async def get(collection: Collection, key: str) -> bytes | None:
            if (collection, key) == ("meta", "access"):
                raise DataLost("a value was lost from the disk")
            return await original(collection, key)

        monkeypatch.setattr(store, "get", get)
        plan = await clearing(store)
        assert plan.lost == ["access"]
        assert ("meta", "access") in plan.batch.deletes and ("meta", "settings") not in plan.batch.deletes
        await store.apply(plan.batch)
        assert "access" not in store.data["meta"] and "settings" in store.data["meta"]

    asyncio.run(scenario())


def test_a_restore_being_written_is_named() -> None:
    async def scenario() -> None:
        store = await _old_store(restore_pending=True)
        plan = await clearing(store)
        assert plan.restore_pending
        await store.apply(plan.batch)
        assert "restore/pending" not in store.data["meta"]

    asyncio.run(scenario())


def test_kept_keys_are_those_their_owners_store() -> None:
    from app.core.access.permissions import ACCESS_KEY
    from app.core.audit.entry import AUDIT_PREFIX
    from app.core.audit.log import AUDIT_HEAD_KEY
    from app.core.restore.pending import PENDING_KEY
    from app.core.retention import new_history

    assert {ACCESS_KEY, AUDIT_HEAD_KEY, NOTICES_KEY, DEVICE_KEY} <= KEPT
    assert new_history.AUDIT_PREFIX == AUDIT_PREFIX and new_history.RESTORE_PENDING == PENDING_KEY
    assert all(kept(key) for key in KEPT) and kept("audit/0000000000001-00000001")
    for key in ("head", f"head/{GUESTS}", f"index/{GUESTS}", "restore/pending", "history", "auditx"):
        assert not kept(key), key
