"""Deleting a version: the plan (one atomic batch) that keeps every other version exact.

The deleted version's child gets its forward and inverse patches recomputed from the deleted
version's parent's state to its own, so no value that only the deleted version held remains; it
becomes a checkpoint when the deleted version was one (versions after it relied on its
snapshot) or was the oldest. Blobs no remaining checkpoint references are deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.core.diff.diff import ABSENT, diff_key
from app.core.errors import CannotDeleteHead, CorruptData
from app.core.formats.integrity import blob_text, content_hash, link
from app.core.formats.integrity import module_hash as hash_module
from app.core.history.head import HeadPointer
from app.core.history.history import History
from app.core.history.payload import Op, Payload
from app.core.history.snapshot import encode_blob
from app.core.history.version import Version
from app.core.ports import Batch, Compressor


@dataclass
class DeletionPlan:
    batch: Batch
    child: Version  # the rewritten child
    head: HeadPointer  # the head pointer after the deletion


async def plan_deletion(
    history: History,
    head: HeadPointer,
    version_id: str,
    compressor: Compressor,
    stored_blobs: set[str],
) -> DeletionPlan:
    """Raises VersionNotFound for an unknown id and CannotDeleteHead for the head version."""
    doomed = history.get(version_id)
    child = history.child_of(version_id)
    if child is None or version_id == head.version_id:
        raise CannotDeleteHead(f"version {version_id} is the head: it describes the current data")
    parent = history.parent_of(doomed)
    child_state = await history.state_at(child.id)
    child_payload = await history.payload(child.id)
    batch = Batch()
    modules = child.modules
    forward: list[Op] | None = None
    inverse: list[Op] | None = None
    if parent is not None:
        parent_state = await history.state_at(parent.id)
        folded = [
            delta
            for key in sorted(set(doomed.modules) | set(child.modules))
            if not (delta := diff_key(key, parent_state.get(key, ABSENT),
                                      child_state.get(key, ABSENT))).is_empty
        ]
        forward = [op for delta in folded for op in delta.forward]
        inverse = [op for delta in reversed(folded) for op in delta.inverse]
        modules = [delta.key for delta in folded]
    encoded = Payload(child_payload.changes, forward, inverse,
                      child_payload.format_version).encode(compressor)
    size = len(encoded)
    snapshot = child.snapshot
    if snapshot is None and (doomed.is_checkpoint or parent is None):
        snapshot = {}
        for key, value in child_state.items():
            canonical = blob_text(value, child.format_version)
            snapshot[key] = hashed = hash_module(value, child.format_version)
            if hashed not in stored_blobs:
                blob = encode_blob(canonical, compressor)
                batch.put("blobs", hashed, blob)
                size += len(blob)
    new_child = replace(
        child, parent_id=doomed.parent_id, modules=modules, size=size,
        kind="checkpoint" if snapshot is not None else "delta", snapshot=snapshot,
        link=link(doomed.parent_id, parent.state_hash if parent else None, child.id,
                  child.state_hash),
        payload_hash=content_hash(encoded),
    )
    batch.delete("versions", version_id)
    batch.delete("payloads", version_id)
    if doomed.snapshot is not None:
        still_used = history.referenced_blobs(excluding=version_id) | set((snapshot or {}).values())
        for module_hash in set(doomed.snapshot.values()) - still_used:
            batch.delete("blobs", module_hash)
    batch.put("payloads", child.id, encoded)
    batch.put("versions", child.id, new_child.encode())
    new_head = _head_after(history, head, doomed, new_child)
    new_head = new_head.put(batch, head)
    return DeletionPlan(batch, new_child, new_head)


def _head_after(
    history: History, head: HeadPointer, doomed: Version, new_child: Version
) -> HeadPointer:
    """The head pointer with its checkpoint counters recomputed without ``doomed``."""
    deltas = size = 0
    version = history.get(head.version_id or "")
    while True:
        if version.id == new_child.id:
            version = new_child
        if version.is_checkpoint:
            break
        deltas += 1
        size += version.size
        parent_id = doomed.parent_id if version.parent_id == doomed.id else version.parent_id
        if parent_id is None:
            raise CorruptData("the chain has no checkpoint")
        version = history.get(parent_id)
    return replace(head, checkpoint_id=version.id, deltas_since_checkpoint=deltas,
                   bytes_since_checkpoint=size, deletions=head.deletions + 1)
