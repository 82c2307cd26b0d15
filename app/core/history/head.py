"""The head pointer (``meta/head``): which version the current data is, and drain progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from app.core.errors import CorruptData
from app.core.formats.format import FORMAT_VERSION, check_format_version
from app.core.formats.integrity import state_hash
from app.core.formats.json_value import Json, compact_json, parse_json

HEAD_KEY = "head"


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
    #: The format of ``module_hashes`` (1 only in a store not upgraded yet).
    format_version: int = FORMAT_VERSION
    #: Keys whose ``head/<key>`` is older than this pointer: their text was not written with
    #: the versions that changed them (it is written when the engine is idle); their value is
    #: the head version's state of the key.
    stale_heads: tuple[str, ...] = ()

    @property
    def state_hash(self) -> str:
        return state_hash(self.module_hashes)

    def to_dict(self) -> dict[str, Json]:
        return {
            "formatVersion": self.format_version,
            "versionId": self.version_id,
            "seq": self.seq,
            "timestamp": self.timestamp,
            "journalSeq": self.journal_seq,
            "stateHash": self.state_hash,
            "moduleHashes": cast(Json, dict(self.module_hashes)),
            "checkpointId": self.checkpoint_id,
            "deltasSinceCheckpoint": self.deltas_since_checkpoint,
            "bytesSinceCheckpoint": self.bytes_since_checkpoint,
            "journalEpoch": self.journal_epoch,
            "liveReads": cast(Json, {key: list(span) for key, span in self.live_reads.items()}),
            "drainedEnds": cast(Json, dict(self.drained_ends)),
            **({"drainedWrites": cast(Json, {key: list(write) for key, write in self.drained_writes.items()})}
               if self.drained_writes else {}),
            **({"staleHeads": cast(Json, list(self.stale_heads))} if self.stale_heads else {}),
        }

    def encode(self) -> bytes:
        return compact_json(self.to_dict())

    @classmethod
    def decode(cls, data: bytes) -> HeadPointer:
        try:
            obj = parse_json(data)
        except ValueError as error:
            raise CorruptData(f"head pointer is not JSON: {error}") from None
        if not isinstance(obj, dict):
            raise CorruptData("head pointer is not a JSON object")
        check_format_version(obj, "head pointer")
        try:
            head = cls(
                version_id=cast("str | None", obj["versionId"]),
                seq=cast(int, obj["seq"]),
                timestamp=cast(int, obj["timestamp"]),
                journal_seq=cast(int, obj["journalSeq"]),
                module_hashes=cast(dict[str, str], obj["moduleHashes"]),
                checkpoint_id=cast("str | None", obj["checkpointId"]),
                deltas_since_checkpoint=cast(int, obj["deltasSinceCheckpoint"]),
                bytes_since_checkpoint=cast(int, obj["bytesSinceCheckpoint"]),
                journal_epoch=str(obj.get("journalEpoch") or ""),
                live_reads=_live_reads(obj.get("liveReads")),
                drained_ends=_drained_ends(obj.get("drainedEnds")),
                drained_writes=_drained_writes(obj.get("drainedWrites")),
                format_version=cast(int, obj["formatVersion"]),
                stale_heads=_stale_heads(obj.get("staleHeads")),
            )
        except KeyError as missing:
            raise CorruptData(f"head pointer lacks {missing}") from None
        ints = (head.seq, head.timestamp, head.journal_seq, head.deltas_since_checkpoint,
                head.bytes_since_checkpoint)
        if not all(type(value) is int for value in ints) or not isinstance(head.module_hashes, dict):
            raise CorruptData("head pointer has fields of the wrong type")
        if obj.get("stateHash") != head.state_hash:
            raise CorruptData("head pointer: stateHash does not match its moduleHashes")
        return head


def _live_reads(raw: Json) -> dict[str, tuple[int, int]]:
    """The optional ``liveReads`` member: {key: [start, end]}."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CorruptData("head pointer: liveReads is not an object")
    reads: dict[str, tuple[int, int]] = {}
    for key, span in raw.items():
        if not (isinstance(span, list) and len(span) == 2 and all(type(t) is int for t in span)):
            raise CorruptData(f"head pointer: liveReads[{key!r}] is not [start, end]")
        reads[key] = (cast(int, span[0]), cast(int, span[1]))
    return reads


def _drained_writes(raw: Json) -> dict[str, tuple[str, int]]:
    """The optional ``drainedWrites`` member: {key: [tab, tabSeq]}."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CorruptData("head pointer: drainedWrites is not an object")
    writes: dict[str, tuple[str, int]] = {}
    for key, write in raw.items():
        if not (isinstance(write, list) and len(write) == 2 and isinstance(write[0], str)
                and type(write[1]) is int):
            raise CorruptData(f"head pointer: drainedWrites[{key!r}] is not [tab, tabSeq]")
        writes[key] = (write[0], write[1])
    return writes


def _stale_heads(raw: Json) -> tuple[str, ...]:
    """The optional ``staleHeads`` member: [key, ...]."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(key, str) for key in raw):
        raise CorruptData("head pointer: staleHeads is not a list of keys")
    return tuple(sorted(set(cast(list[str], raw))))


def _drained_ends(raw: Json) -> dict[str, int]:
    """The optional ``drainedEnds`` member: {key: ms}."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(type(value) is int for value in raw.values()):
        raise CorruptData("head pointer: drainedEnds is not an object of integers")
    return {key: cast(int, value) for key, value in raw.items()}
