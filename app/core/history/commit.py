"""Commit: the one version a recording (or the upgrade) adds, as what the store batch writes.

A commit turns the deltas of the keys a version changed into its payload, decides whether it is
a checkpoint (then it also references a full snapshot, stored as content-addressed blobs, so
reconstructing any version is bounded work), and adds to the batch the payload, the blobs, the
version's metadata and the removal of the head values of the keys it deleted. It returns the
version and the head pointer that names it; the Chain completes the batch with that pointer,
applies it and moves its head.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace

from app.core.diff.diff import KeyDelta
from app.core.diff.summary import describe
from app.core.formats.framing import pack_async
from app.core.formats.integrity import content_hash, link, state_hash
from app.core.formats.module_text import ModuleText
from app.core.history.head import HeadPointer
from app.core.history.payload import Payload
from app.core.history.saved_index import INDEX_PREFIX
from app.core.history.snapshot import encode_blob
from app.core.history.version import Version
from app.core.history.version_id import make_version_id
from app.core.ports import AsyncCompressor, Batch, Clock, Compressor

#: A checkpoint is also made when the deltas since the last one store this many bytes.
CHECKPOINT_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Commit:
    """One version added to a batch: its metadata, the head pointer that names it (to be put
    after everything else), the blobs the batch writes (the store holds them once it is applied)
    and the keys it deleted, in code-point order."""

    version: Version
    head: HeadPointer
    blobs: set[str]
    gone: tuple[str, ...]


@dataclass(frozen=True)
class Committer:
    """How a chain commits its versions: the clock that stamps them, the random suffix of their
    ids, the compressors of payloads and blobs, when a version is a checkpoint (every
    ``checkpoint_every``-th, or once the deltas since the last one store ``checkpoint_bytes``),
    and the device recorded in each version."""

    clock: Clock
    compressor: Compressor
    new_suffix: Callable[[], str]
    checkpoint_every: int
    checkpoint_bytes: int
    blob_compressor: AsyncCompressor | None
    device: str

    async def put(
        self,
        batch: Batch,
        previous: HeadPointer,
        head: HeadPointer,
        deltas: list[KeyDelta],
        hashes: dict[str, str],
        *,
        created_by: str,
        change_type: str,
        description: str,
        snapshot: bool,
        new_modules: Mapping[str, ModuleText],
        stored_blobs: Callable[[], Awaitable[set[str]]],
        head_module: Callable[[str], Awaitable[ModuleText]],
        finish: Callable[[HeadPointer], HeadPointer] = lambda head: head,
    ) -> Commit:
        """Add to ``batch`` one version on top of ``previous`` (the head pointer): ``deltas`` of
        the keys it changed, ``hashes`` the new module hashes of those still present (the others
        were deleted); ``head`` is ``previous`` as the recording moved it. ``stored_blobs``: the
        blobs the store holds; ``head_module``: the index of a head key (a checkpoint's blob of a
        key it did not write is made from it); ``finish``: the last touches to the head pointer
        that names it (in format 4 the version carries what it changed of the pointer)."""
        timestamp = max(self.clock.now_ms(), previous.timestamp)
        seq = previous.seq + 1
        version_id = make_version_id(timestamp, seq, self.new_suffix())
        module_hashes = dict(previous.module_hashes)
        for delta in deltas:
            if delta.key in hashes:
                module_hashes[delta.key] = hashes[delta.key]
            else:
                module_hashes.pop(delta.key, None)
        if head.format_version != previous.format_version:  # the upgrade: every key rehashed
            module_hashes = dict(hashes)
        is_root = previous.version_id is None
        # The root (the baseline) is a checkpoint: its snapshot holds every record, so its
        # ChangeLog would only repeat the whole store as creates. It has none.
        changes = [] if is_root else [change for delta in deltas for change in delta.changes]
        payload = Payload(
            changes,
            None if is_root else [op for delta in deltas for op in delta.forward],
            None if is_root else [op for delta in reversed(deltas) for op in delta.inverse],
        )
        encoded = payload.encode(self.compressor)
        checkpoint = (
            snapshot
            or is_root
            or previous.deltas_since_checkpoint + 1 >= self.checkpoint_every
            or previous.bytes_since_checkpoint + len(encoded) >= self.checkpoint_bytes
        )
        size = len(encoded)
        blobs: set[str] = set()
        if checkpoint:
            written, pending = await self._put_blobs(batch, module_hashes, new_modules,
                                                     await stored_blobs(), head_module)
            blobs |= pending
            size += written
        new_state_hash = state_hash(module_hashes)
        version = Version(
            id=version_id, seq=seq, parent_id=previous.version_id, timestamp=timestamp,
            created_by=created_by, change_type=change_type,
            description=description or describe(changes),
            modules=[delta.key for delta in deltas], size=size,
            change_count=len(payload.changes), kind="checkpoint" if checkpoint else "delta",
            state_hash=new_state_hash,
            link=link(previous.version_id, None if is_root else previous.state_hash, version_id,
                      new_state_hash),
            payload_hash=content_hash(encoded),
            snapshot=dict(module_hashes) if checkpoint else None, device=self.device,
        )
        head = replace(
            head, version_id=version_id, seq=seq, timestamp=timestamp, module_hashes=module_hashes,
            checkpoint_id=version_id if checkpoint else previous.checkpoint_id,
            deltas_since_checkpoint=0 if checkpoint else previous.deltas_since_checkpoint + 1,
            bytes_since_checkpoint=0 if checkpoint else previous.bytes_since_checkpoint + size,
        )
        gone = {delta.key for delta in deltas if delta.key not in module_hashes}
        if gone & set(head.stale_heads):
            head = replace(head, stale_heads=tuple(k for k in head.stale_heads if k not in gone))
        head = finish(head)
        if head.has_tail:
            version = replace(version, head_changes=head.changes_since(previous))
        # Logical write order (FORMAT.md): payload, blobs, metadata, head values, head pointer.
        batch.put("payloads", version_id, encoded)
        batch.put("versions", version_id, version.encode())
        for key in sorted(gone):
            batch.delete("head", key)
            batch.delete("meta", INDEX_PREFIX + key)
        return Commit(version, head, blobs, tuple(sorted(gone)))

    async def _put_blobs(
        self, batch: Batch, module_hashes: Mapping[str, str], modules: Mapping[str, ModuleText],
        stored: set[str], head_module: Callable[[str], Awaitable[ModuleText]],
    ) -> tuple[int, set[str]]:
        """Add to ``batch`` the blobs of ``module_hashes`` not stored yet; return their bytes, and
        their keys (known to exist only once the batch is applied)."""
        written = 0
        pending: set[str] = set()
        for key, module_hash in module_hashes.items():
            if module_hash in stored or module_hash in pending:
                continue
            module = modules.get(key) or await head_module(key)
            if self.blob_compressor is not None:
                blob = await pack_async(module.canonical_bytes(), self.blob_compressor.compress)
            else:
                blob = encode_blob(module.canonical_bytes(), self.compressor)
            batch.put("blobs", module_hash, blob)
            pending.add(module_hash)
            written += len(blob)
        return written, pending
