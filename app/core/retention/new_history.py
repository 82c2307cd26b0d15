"""A new history, started by an administrator when the old one was lost from the disk: what of
the old store it keeps.

When part of the history cannot be read any more (files of the browser's storage gone or
damaged), the engine cannot record on top of it. Starting anew deletes the history and records
today's data as its first version, as a first start does. It keeps the hotel's own records of
the old store - who may do what, the retention settings, what checks the encryption passphrase,
the audit trail, this browser's name and the notices not yet read - so that nothing but the
unreadable history goes. Everything of the history itself (versions, payloads, blobs, head
values, head pointer, saved indexes, a restore's mark, the history's id) is not kept.
"""

from __future__ import annotations

from app.core.formats.passphrase import PASSPHRASE_KEY
from app.core.ports import Batch, DataLost, VersionStore
from app.core.retention.policy import SETTINGS_KEY

#: The `meta` records a new history keeps: who may do what ("access", app.core.access), the
#: retention settings, the passphrase check, the audit chain's head and entries ("audit-head",
#: "audit/<id>", app.core.audit), the notices and this browser's name (app/browser/notices.py,
#: app/browser/device.py). Named here as stored, so that retention does not import the parts
#: that own them (a test checks the names against theirs).
KEPT = frozenset({"access", SETTINGS_KEY, PASSPHRASE_KEY, "audit-head", "notices", "device"})
AUDIT_PREFIX = "audit/"


def kept(key: str) -> bool:
    """Does a new history keep the `meta` record ``key`` of the old store?"""
    return key in KEPT or key.startswith(AUDIT_PREFIX)


async def kept_records(store: VersionStore) -> tuple[Batch, list[str]]:
    """The batch that writes what a new history keeps of ``store``, as stored, and the keys of
    the records it would keep but the store lost (they cannot be read)."""
    batch = Batch()
    lost: list[str] = []
    for key in sorted(await store.keys("meta")):
        if not kept(key):
            continue
        try:
            value = await store.get("meta", key)
        except DataLost:
            lost.append(key)
            continue
        if value is not None:
            batch.put("meta", key, value)
    return batch, lost
