"""The audit log in the version store: append an entry, read them all (oldest first)."""

from __future__ import annotations

import secrets

from app.core.audit.entry import AUDIT_PREFIX, AuditEntry
from app.core.ports import Batch, VersionStore


def new_entry_id(now_ms: int) -> str:
    """``<timestamp ms, 13 digits>-<random>``: sorts chronologically as a string."""
    return f"{now_ms:013d}-{secrets.token_hex(4)}"


def append_to(batch: Batch, entry: AuditEntry) -> None:
    batch.put("meta", entry.key, entry.encode())


async def append(store: VersionStore, entry: AuditEntry) -> None:
    batch = Batch()
    append_to(batch, entry)
    await store.apply(batch)


async def entries(store: VersionStore) -> list[AuditEntry]:
    keys = sorted(key for key in await store.keys("meta") if key.startswith(AUDIT_PREFIX))
    stored = await store.get_many("meta", keys)
    return [AuditEntry.decode(stored[key]) for key in keys if key in stored]
