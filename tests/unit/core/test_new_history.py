"""What a new history keeps of a store whose history was lost from the disk."""

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
from app.core.retention.new_history import KEPT, kept, kept_records

GUESTS = "w3-hotel-guests"


async def _old_store() -> MemoryStore:
    """A store with a history (two versions, a saved index key, a restore's mark), the hotel's
    own records and three audit entries."""
    store = MemoryStore()
    chain = Chain(store, ManualClock(start_ms=1_700_000_000_000), GzipCompressor())
    await chain.open()
    await chain.record_state({GUESTS: json.dumps([{"id": "g1", "firstName": "Ada"}])},
                             created_by="admin", snapshot=True)
    await chain.record({GUESTS: json.dumps([{"id": "g1", "firstName": "Grace"}])}, created_by="desk")
    for n in range(1, 4):
        await append(store, AuditEntry(f"{n:013d}-0000000{n}", n, "maria", "restore", "done", f"step {n}"))
    batch = Batch()
    for key, value in {"access": b'{"restore":["admin"]}', "settings": b'{"formatVersion":3}',
                       "passphrase": b'{"check":"x"}', NOTICES_KEY: b'{"a":"b"}',
                       DEVICE_KEY: "Chrome on Linux · 3f2a".encode(), "history": b'{"id":"h"}',
                       f"index/{GUESTS}": b"{}", "restore/pending": b"{}"}.items():
        batch.put("meta", key, value)
    await store.apply(batch)
    return store


def test_a_new_history_keeps_the_hotels_records_and_audit_trail_and_nothing_of_the_history() -> None:
    async def scenario() -> None:
        old = await _old_store()
        batch, lost = await kept_records(old)
        assert lost == []
        new = MemoryStore()
        await new.apply(batch)
        assert set(new.data["meta"]) == {"access", "settings", "passphrase", NOTICES_KEY,
                                         DEVICE_KEY, "audit-head"} | {
            key for key in old.data["meta"] if key.startswith("audit/")}
        for key, value in new.data["meta"].items():
            assert value == old.data["meta"][key]  # as stored, byte for byte
        for collection in ("versions", "payloads", "blobs", "head"):
            assert not new.data.get(collection)
        # The audit chain goes on where it was: verified, and appended to.
        assert await verify_audit(new) == []
        await append(new, AuditEntry("0000000000009-00000009", 9, "admin", "new-history", "done", "anew"))
        assert [entry.message for entry in await entries(new)][-1] == "anew"
        assert await verify_audit(new) == []

    asyncio.run(scenario())


def test_records_the_store_lost_are_named_and_the_rest_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        old = await _old_store()
        original = old.get

        async def get(collection: Collection, key: str) -> bytes | None:
            if (collection, key) == ("meta", "settings"):
                raise DataLost("a value was lost from the disk")
            return await original(collection, key)

        monkeypatch.setattr(old, "get", get)
        batch, lost = await kept_records(old)
        assert lost == ["settings"]
        assert "settings" not in {key for _, key, _ in batch.puts}
        assert "access" in {key for _, key, _ in batch.puts}

    asyncio.run(scenario())


def test_kept_keys_are_those_their_owners_store() -> None:
    from app.core.access.permissions import ACCESS_KEY
    from app.core.audit.entry import AUDIT_PREFIX
    from app.core.audit.log import AUDIT_HEAD_KEY
    from app.core.retention import new_history

    assert {ACCESS_KEY, AUDIT_HEAD_KEY, NOTICES_KEY, DEVICE_KEY} <= KEPT
    assert new_history.AUDIT_PREFIX == AUDIT_PREFIX


def test_kept_keys() -> None:
    assert all(kept(key) for key in KEPT) and kept("audit/0000000000001-00000001")
    for key in ("head", f"head/{GUESTS}", f"index/{GUESTS}", "restore/pending", "history", "auditx"):
        assert not kept(key), key
