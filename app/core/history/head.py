"""The head pointer: which version the current data is, and drain progress.

Format 3 stores it as one small record (``meta/head``) plus one record per KV key
(``meta/head/<key>``: its module hash and the key's drain progress), and a version rewrites only
the records of the keys it changed: a store of 46 keys does not rewrite 46 hashes per edit.
Format 4 keeps those records as a base that may lag behind: each version carries what it changed
of the pointer (its ``head`` member), and the pointer is the base followed by the versions after
it. A version then overwrites nothing (an overwrite costs IndexedDB the old value as well); the
base is rewritten every ``TAIL_LIMIT`` versions and by every change that is not a version.
Formats 1 and 2 stored it all in ``meta/head``; such a pointer is still read (and rewritten in
format 4 by ``Chain.open``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import cast

from app.core.errors import CorruptData
from app.core.formats.format import FORMAT_VERSION, check_format_version
from app.core.formats.integrity import state_hash
from app.core.formats.json_value import Json, compact_json
from app.core.history import head_members
from app.core.history.version import Version
from app.core.ports import Batch

HEAD_KEY = "head"
#: ``meta/head/<KV key>``: the head pointer's record of one key (formats 3 and 4).
KEY_PREFIX = "head/"
#: The first format whose head pointer is split into per-key records.
SPLIT_FORMAT = 3
#: The first format whose versions carry the pointer's changes (the stored records a base).
TAIL_FORMAT = 4
#: How many versions may follow the stored base before a commit rewrites it (a load reads them).
TAIL_LIMIT = 32

KeyState = tuple["str | None", "tuple[int, int] | None", "int | None", "tuple[str, int] | None",
                 "tuple[str, int] | None", bool]


@dataclass
class HeadPointer:
    """``module_hashes`` describe the values under ``head/<key>``; ``checkpoint_id`` is the
    newest checkpoint, followed by ``deltas_since_checkpoint`` deltas of
    ``bytes_since_checkpoint`` stored bytes (the Chain checkpoints when either grows too big)."""

    version_id: str | None = None
    seq: int = 0
    timestamp: int = 0
    journal_seq: int = 0
    module_hashes: dict[str, str] = field(default_factory=dict)
    checkpoint_id: str | None = None
    deltas_since_checkpoint: int = 0
    bytes_since_checkpoint: int = 0
    #: Which capture journal ``journal_seq`` counts in (a journal recreated from scratch has
    #: another epoch: its seqs start again at 1). "" until the engine first sees the journal.
    journal_epoch: str = ""
    #: Per KV key, the (start, end) ms of the last read of its live value that the head holds
    #: (app.core.capture.drain_plan decides with it which journal entries the head already reflects).
    live_reads: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: Per KV key, when the latest write recorded from its journal body or deletion ended: a
    #: write that started before then but reached the journal later overlapped it.
    drained_ends: dict[str, int] = field(default_factory=dict)
    #: Per KV key, which write of which tab that was: (tab, tabSeq) when its entry said (a later
    #: write of the same tab made after seeing its answer did not overlap it).
    drained_writes: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: The format of the pointer and of ``module_hashes`` (1 or 2 only in a store not upgraded yet).
    format_version: int = FORMAT_VERSION
    #: Keys whose ``head/<key>`` is older than this pointer: their text was not written with
    #: the versions that changed them (it is written when the engine is idle); their value is
    #: the head version's state of the key.
    stale_heads: tuple[str, ...] = ()
    #: How many versions were deleted from the history (a reader that cached the history reads
    #: it again when this moved).
    deletions: int = 0
    #: Per KV key not in ``stale_heads``, when known: (SHA-256 hex, length) of the bytes of its
    #: ``head/<key>``. A start asks the live store for the key's value only if it is no longer
    #: those bytes (If-None-Match), instead of reading it to compare. Any change of the key's
    #: head text drops it (``Chain.record``).
    head_texts: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: Format 4: the pointer the stored records describe, when versions followed it (``tail`` of
    #: them, each carrying its changes); None when they describe this one.
    base: HeadPointer | None = field(default=None, compare=False, repr=False)
    tail: int = field(default=0, compare=False)

    @property
    def state_hash(self) -> str:
        return state_hash(self.module_hashes)

    @property
    def is_split(self) -> bool:
        return self.format_version >= SPLIT_FORMAT

    @property
    def has_tail(self) -> bool:
        """Whether versions carry the pointer's changes (format 4)."""
        return self.format_version >= TAIL_FORMAT

    @property
    def stored(self) -> HeadPointer:
        """The pointer the stored records describe."""
        return self.base if self.base is not None else self

    def to_dict(self) -> dict[str, Json]:
        """The ``meta/head`` record (formats 3 and 4: without the per-key members; format 4:
        without staleHeads, which each key's record says)."""
        fixed: dict[str, Json] = {
            "formatVersion": self.format_version,
            "versionId": self.version_id,
            "seq": self.seq,
            "timestamp": self.timestamp,
            "journalSeq": self.journal_seq,
            "stateHash": self.state_hash,
        }
        if not self.is_split:
            fixed["moduleHashes"] = cast(Json, dict(self.module_hashes))
        fixed.update({
            "checkpointId": self.checkpoint_id,
            "deltasSinceCheckpoint": self.deltas_since_checkpoint,
            "bytesSinceCheckpoint": self.bytes_since_checkpoint,
            "journalEpoch": self.journal_epoch,
        })
        if not self.is_split:
            fixed["liveReads"] = cast(Json, {key: list(span) for key, span in self.live_reads.items()})
            fixed["drainedEnds"] = cast(Json, dict(self.drained_ends))
            if self.drained_writes:
                fixed["drainedWrites"] = cast(Json, {key: list(write)
                                                     for key, write in self.drained_writes.items()})
        if self.stale_heads and not self.has_tail:
            fixed["staleHeads"] = cast(Json, list(self.stale_heads))
        if self.deletions and self.is_split:
            fixed["deletions"] = self.deletions
        return fixed

    def encode(self) -> bytes:
        return compact_json(self.to_dict())

    # ---- per-key records (formats 3, 4) -------------------------------------------------------

    def keys(self) -> set[str]:
        """Every KV key the pointer says something of."""
        return (set(self.module_hashes) | set(self.live_reads) | set(self.drained_ends)
                | set(self.drained_writes))

    def key_state(self, key: str) -> KeyState:
        """What ``meta/head/<key>`` holds of ``key`` (``headText`` only where it is written)."""
        module_hash = self.module_hashes.get(key)
        head_text = (self.head_texts.get(key)
                     if module_hash is not None and key not in self.stale_heads else None)
        return (module_hash, self.live_reads.get(key), self.drained_ends.get(key),
                self.drained_writes.get(key), head_text,
                self.has_tail and module_hash is not None and key in self.stale_heads)

    def key_dict(self, key: str) -> dict[str, Json] | None:
        """The ``meta/head/<key>`` record of ``key``; None when the pointer says nothing of it."""
        module_hash, live_read, drained_end, drained_write, head_text, stale = self.key_state(key)
        record: dict[str, Json] = {"formatVersion": self.format_version}
        if module_hash is not None:
            record["moduleHash"] = module_hash
        if live_read is not None:
            record["liveRead"] = list(live_read)
        if drained_end is not None:
            record["drainedEnd"] = drained_end
        if drained_write is not None:
            record["drainedWrite"] = list(drained_write)
        if head_text is not None:
            record["headText"] = list(head_text)
        if stale:
            record["stale"] = True
        return record if len(record) > 1 else None

    def put(self, batch: Batch, previous: HeadPointer | None) -> HeadPointer:
        """Add the pointer to ``batch``: ``meta/head``, and (format 3 on) the record of every key
        whose state differs from what the stored records of ``previous`` say (all of them when
        ``previous`` is None or not split), deleting the records of keys it no longer says
        anything of. Returns the pointer as stored (no versions follow its records)."""
        batch.put("meta", HEAD_KEY, self.encode())
        stored = None if previous is None else previous.stored
        if self.is_split:
            whole = stored is None or not stored.is_split or stored.has_tail != self.has_tail
            keys = self.keys() | (set() if stored is None else stored.keys())
            for key in sorted(keys):
                if not whole and stored is not None and stored.key_state(key) == self.key_state(key):
                    continue
                record = self.key_dict(key)
                if record is None:
                    batch.delete("meta", KEY_PREFIX + key)
                else:
                    batch.put("meta", KEY_PREFIX + key, compact_json(record))
        return replace(self, base=None, tail=0)

    def changes_since(self, previous: HeadPointer) -> dict[str, Json]:
        """What a version that moves the pointer from ``previous`` to this one carries (its
        ``head`` member, format 4): the journal seq, the epoch and the deletion count when they
        changed, and the record of every key whose state changed (null: it says nothing of it)."""
        changes: dict[str, Json] = {"journalSeq": self.journal_seq}
        if self.journal_epoch != previous.journal_epoch:
            changes["journalEpoch"] = self.journal_epoch
        if self.deletions != previous.deletions:
            changes["deletions"] = self.deletions
        keys: dict[str, Json] = {}
        for key in sorted(self.keys() | previous.keys()):
            if previous.key_state(key) != self.key_state(key):
                record = self.key_dict(key)
                if record is not None:
                    del record["formatVersion"]
                keys[key] = record
        changes["keys"] = keys
        return changes

    def follow(self, version: Version) -> HeadPointer:
        """The pointer once ``version`` (a child of its version, carrying its changes) is
        committed on top of it. Raises CorruptData if the changes are malformed or do not
        come to the version's stateHash."""
        changes = version.head_changes
        if changes is None:
            raise CorruptData(f"version {version.id} does not say what it changed of the head pointer")
        what = f"the head pointer's changes in version {version.id}"
        journal_seq = changes.get("journalSeq")
        keys = changes.get("keys")
        if type(journal_seq) is not int or not isinstance(keys, dict):
            raise CorruptData(f"{what}: journalSeq or keys is missing or of the wrong type")
        epoch = changes.get("journalEpoch", self.journal_epoch)
        deletions = changes.get("deletions", self.deletions)
        if not isinstance(epoch, str) or type(deletions) is not int:
            raise CorruptData(f"{what}: journalEpoch or deletions is of the wrong type")
        head = replace(
            self, version_id=version.id, seq=version.seq, timestamp=version.timestamp,
            journal_seq=journal_seq, journal_epoch=epoch, deletions=deletions,
            module_hashes=dict(self.module_hashes), live_reads=dict(self.live_reads),
            drained_ends=dict(self.drained_ends), drained_writes=dict(self.drained_writes),
            head_texts=dict(self.head_texts),
            checkpoint_id=version.id if version.is_checkpoint else self.checkpoint_id,
            deltas_since_checkpoint=0 if version.is_checkpoint else self.deltas_since_checkpoint + 1,
            bytes_since_checkpoint=0 if version.is_checkpoint else self.bytes_since_checkpoint + version.size,
            base=self.stored, tail=self.tail + 1,
        )
        stale = set(self.stale_heads)
        for key, record in keys.items():
            for held in (head.module_hashes, head.live_reads, head.drained_ends,
                         head.drained_writes, head.head_texts):
                held.pop(key, None)
            stale.discard(key)
            if record is None:
                continue
            if not isinstance(record, dict):
                raise CorruptData(f"{what}: the record of {key!r} is not an object")
            if _put_key(head, key, record, f"{what}, key {key!r}"):
                stale.add(key)
        head.stale_heads = tuple(sorted(stale))
        if head.state_hash != version.state_hash:
            raise CorruptData(f"{what} do not come to its stateHash")
        return head

    def follow_all(self, after: Mapping[str, bytes]) -> HeadPointer:
        """The pointer followed by the versions among ``after`` (the stored versions whose ids
        sort after its own: {id: record}) that continue its chain, in id order."""
        head = self
        for version_id in sorted(after):
            version = Version.decode(after[version_id])
            if version.parent_id == head.version_id and version.head_changes is not None:
                head = head.follow(version)
        return head

    @classmethod
    def decode(cls, data: bytes, records: Mapping[str, bytes] | None = None) -> HeadPointer:
        """Decode ``meta/head``; formats 3 and 4 need ``records`` ({KV key: ``meta/head/<key>``})."""
        obj = head_members.json_object(data, "head pointer")
        check_format_version(obj, "head pointer")
        return cls.from_dict(obj, records or {})

    @classmethod
    def from_meta(cls, meta: Mapping[str, bytes]) -> HeadPointer:
        """Decode the pointer from a whole ``meta`` collection ({key: bytes})."""
        return cls.decode(meta[HEAD_KEY], {name[len(KEY_PREFIX):]: data for name, data in meta.items()
                                           if name.startswith(KEY_PREFIX)})

    @classmethod
    def from_dict(cls, obj: Mapping[str, Json], records: Mapping[str, bytes]) -> HeadPointer:
        try:
            format_version = cast(int, obj["formatVersion"])
            stale_heads = head_members.stale_heads(obj.get("staleHeads"))
            if format_version >= SPLIT_FORMAT:
                keys = _split(records, format_version)
                module_hashes, live_reads, drained_ends, drained_writes, head_texts = (
                    keys.module_hashes, keys.live_reads, keys.drained_ends, keys.drained_writes,
                    keys.head_texts)
                if format_version >= TAIL_FORMAT:
                    stale_heads = keys.stale_heads
            else:
                head_texts = {}
                module_hashes = cast(dict[str, str], obj["moduleHashes"])
                live_reads = head_members.live_reads(obj.get("liveReads"))
                drained_ends = head_members.drained_ends(obj.get("drainedEnds"))
                drained_writes = head_members.drained_writes(obj.get("drainedWrites"))
            head = cls(
                version_id=cast("str | None", obj["versionId"]),
                seq=cast(int, obj["seq"]),
                timestamp=cast(int, obj["timestamp"]),
                journal_seq=cast(int, obj["journalSeq"]),
                module_hashes=module_hashes,
                checkpoint_id=cast("str | None", obj["checkpointId"]),
                deltas_since_checkpoint=cast(int, obj["deltasSinceCheckpoint"]),
                bytes_since_checkpoint=cast(int, obj["bytesSinceCheckpoint"]),
                journal_epoch=str(obj.get("journalEpoch") or ""),
                live_reads=live_reads,
                drained_ends=drained_ends,
                drained_writes=drained_writes,
                format_version=format_version,
                stale_heads=stale_heads,
                deletions=cast(int, obj.get("deletions", 0)),
            )
            head.head_texts = {key: found for key, found in head_texts.items()
                               if key in head.module_hashes and key not in head.stale_heads}
        except KeyError as missing:
            raise CorruptData(f"head pointer lacks {missing}") from None
        ints = (head.seq, head.timestamp, head.journal_seq, head.deltas_since_checkpoint,
                head.bytes_since_checkpoint, head.deletions)
        if not all(type(value) is int for value in ints) or not isinstance(head.module_hashes, dict) \
                or not all(isinstance(value, str) for value in head.module_hashes.values()):
            raise CorruptData("head pointer has fields of the wrong type")
        if obj.get("stateHash") != head.state_hash:
            where = " (a meta/head/<key> record is missing or changed)" if head.is_split else ""
            raise CorruptData(f"head pointer: stateHash does not match its module hashes{where}")
        return head


def _split(records: Mapping[str, bytes], format_version: int) -> HeadPointer:
    """The per-key members of a format 3 or 4 pointer, from its ``meta/head/<key>`` records (and,
    in format 4, its staleHeads), as a pointer holding only them."""
    head = HeadPointer(format_version=format_version)
    stale: list[str] = []
    for key in sorted(records):
        what = f"head pointer record {KEY_PREFIX}{key}"
        obj = head_members.json_object(records[key], what)
        check_format_version(obj, what)
        if obj["formatVersion"] != format_version:
            raise CorruptData(f"{what}: formatVersion {obj['formatVersion']} is not the pointer's")
        if _put_key(head, key, obj, what):
            stale.append(key)
    head.stale_heads = tuple(stale)
    return head


def _put_key(head: HeadPointer, key: str, obj: Mapping[str, Json], what: str) -> bool:
    """Set the members of ``key`` in ``head`` from its record ``obj``; whether it says the key's
    head text is stale (format 4)."""
    if "moduleHash" in obj:
        if not isinstance(obj["moduleHash"], str):
            raise CorruptData(f"{what}: moduleHash is not a string")
        head.module_hashes[key] = obj["moduleHash"]
    head.live_reads.update(head_members.live_reads({key: obj["liveRead"]} if "liveRead" in obj else None))
    head.drained_ends.update(
        head_members.drained_ends({key: obj["drainedEnd"]} if "drainedEnd" in obj else None))
    head.drained_writes.update(
        head_members.drained_writes({key: obj["drainedWrite"]} if "drainedWrite" in obj else None))
    head_text = head_members.head_text(obj.get("headText"))
    if head_text is not None:
        head.head_texts[key] = head_text
    stale = obj.get("stale", False)
    if type(stale) is not bool:
        raise CorruptData(f"{what}: stale is not true or false")
    return stale and key in head.module_hashes
