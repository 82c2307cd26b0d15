"""A new history, started by an administrator when the old one was lost from the disk: what of
the store goes, and what stays.

When part of the history cannot be read any more (files of the browser's storage gone or
damaged), the engine cannot record on top of it. Starting anew removes the history - versions,
payloads, blobs, head values, the head pointer, saved indexes, a restore's mark, the history's
id - in one store transaction, and the engine then records today's data as a first start does.
The hotel's own records of the store are not touched: who may do what, the retention settings,
what checks the encryption passphrase, the audit trail, this browser's name and the notices not
yet read. None of them is rewritten, so a failure part-way loses none of them; the few small
ones are read, only to find any the disk lost too (those are removed: their defaults hold).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.formats.passphrase import PASSPHRASE_KEY
from app.core.ports import Batch, Collection, DataLost, VersionStore
from app.core.retention.policy import SETTINGS_KEY

#: The `meta` records a new history keeps: who may do what ("access", app.core.access), the
#: retention settings, the passphrase check, the audit chain's head and entries ("audit-head",
#: "audit/<id>", app.core.audit), the notices and this browser's name (app/browser/notices.py,
#: app/browser/device.py). Named here as stored, so that retention does not import the parts
#: that own them (a test checks the names against theirs).
KEPT = frozenset({"access", SETTINGS_KEY, PASSPHRASE_KEY, "audit-head", "notices", "device"})
AUDIT_PREFIX = "audit/"
#: The mark of a restore being written (app.core.restore.pending).
RESTORE_PENDING = "restore/pending"
#: The collections that hold nothing but the history.
HISTORY: tuple[Collection, ...] = ("versions", "payloads", "blobs", "head")


def kept(key: str) -> bool:
    """Does a new history keep the `meta` record ``key``?"""
    return key in KEPT or key.startswith(AUDIT_PREFIX)


@dataclass(frozen=True)
class Clearing:
    """What starting anew removes (``batch``: deletions only), how many versions the old history
    held, and whether a restore was being written when it was damaged (its mark goes with it:
    what it had written is today's data)."""

    batch: Batch
    versions: int
    restore_pending: bool
    #: Records to keep that the store lost too (their files gone): removed, so that their
    #: defaults hold.
    lost: list[str]


async def clearing(store: VersionStore) -> Clearing:
    """The deletions that leave ``store`` with no history and the hotel's records untouched."""
    batch = Batch()
    versions = 0
    for collection in HISTORY:
        keys = await store.keys(collection)
        if collection == "versions":
            versions = len(keys)
        for key in keys:
            batch.delete(collection, key)
    meta = await store.keys("meta")
    lost: list[str] = []
    for key in meta:
        if not kept(key):
            batch.delete("meta", key)
        elif key in KEPT:  # a few small records (the audit entries are read by the audit trail)
            try:
                await store.get("meta", key)
            except DataLost:
                lost.append(key)
                batch.delete("meta", key)
    return Clearing(batch, versions, RESTORE_PENDING in meta, lost)
