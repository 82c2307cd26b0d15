"""Version metadata (the seed's BackupVersion) and VersionDetail (metadata plus its ChangeLog)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeVar, cast

from app.core.diff.changelog import Change
from app.core.errors import CorruptData
from app.core.formats.format import FORMAT_VERSION, check_format_version
from app.core.formats.json_value import Json, compact_json, parse_json

T = TypeVar("T")

VersionKind = Literal["delta", "checkpoint"]
VERSION_KINDS: tuple[VersionKind, ...] = ("delta", "checkpoint")


@dataclass
class Version:
    """Metadata of one version, stored under ``versions/<id>``.

    ``modules`` are the KV keys this version changed; ``size`` the bytes it added to the store
    (its payload plus the snapshot blobs it was first to write); ``snapshot`` the module hashes
    of the whole state for a checkpoint (None for a delta).
    """

    id: str
    seq: int
    parent_id: str | None
    timestamp: int
    created_by: str
    change_type: str
    description: str
    modules: list[str]
    size: int
    change_count: int
    kind: VersionKind
    state_hash: str
    link: str
    payload_hash: str
    snapshot: dict[str, str] | None = None
    format_version: int = FORMAT_VERSION
    #: The browser that recorded it ("Chrome on Linux · 3f2a"); "" when not known.
    device: str = ""
    #: Format 4: what this version changed in the head pointer (its ``head`` member,
    #: HeadPointer.changes_since); None in older formats. Stored, not shown.
    head_changes: dict[str, Json] | None = None

    @property
    def is_checkpoint(self) -> bool:
        return self.kind == "checkpoint"

    def to_dict(self) -> dict[str, Json]:
        snapshot: Json = dict(self.snapshot) if self.snapshot is not None else None
        return {
            "formatVersion": self.format_version,
            "id": self.id,
            "seq": self.seq,
            "parentId": self.parent_id,
            "timestamp": self.timestamp,
            "createdBy": self.created_by,
            "changeType": self.change_type,
            "description": self.description,
            "modules": list(self.modules),
            "size": self.size,
            "changeCount": self.change_count,
            "kind": self.kind,
            "stateHash": self.state_hash,
            "link": self.link,
            "payloadHash": self.payload_hash,
            "snapshot": snapshot,
            **({"device": self.device} if self.device else {}),
        }

    def encode(self) -> bytes:
        """The stored record: ``to_dict`` and, in format 4, the head pointer's changes."""
        record = self.to_dict()
        if self.head_changes is not None:
            record["head"] = self.head_changes
        return compact_json(record)

    @classmethod
    def decode(cls, data: bytes) -> Version:
        try:
            obj = parse_json(data)
        except ValueError as error:
            raise CorruptData(f"version metadata is not JSON: {error}") from None
        if not isinstance(obj, dict):
            raise CorruptData("version metadata is not a JSON object")
        return cls.from_dict(obj)

    @classmethod
    def from_dict(cls, obj: Mapping[str, Json]) -> Version:
        check_format_version(obj, "version metadata")
        try:
            version = cls(
                id=_typed(obj, "id", str),
                seq=_typed(obj, "seq", int),
                parent_id=cast("str | None", obj["parentId"]),
                timestamp=_typed(obj, "timestamp", int),
                created_by=_typed(obj, "createdBy", str),
                change_type=_typed(obj, "changeType", str),
                description=_typed(obj, "description", str),
                modules=cast(list[str], _typed(obj, "modules", list)),
                size=_typed(obj, "size", int),
                change_count=_typed(obj, "changeCount", int),
                kind=cast(VersionKind, obj["kind"]),
                state_hash=_typed(obj, "stateHash", str),
                link=_typed(obj, "link", str),
                payload_hash=_typed(obj, "payloadHash", str),
                snapshot=cast("dict[str, str] | None", obj.get("snapshot")),
                format_version=_typed(obj, "formatVersion", int),
                device=str(obj.get("device") or ""),
                head_changes=cast("dict[str, Json] | None", obj.get("head")),
            )
        except KeyError as missing:
            raise CorruptData(f"version metadata lacks {missing}") from None
        if version.parent_id is not None and not isinstance(version.parent_id, str):
            raise CorruptData("version metadata: parentId is not a string")
        if version.head_changes is not None and not isinstance(version.head_changes, dict):
            raise CorruptData("version metadata: head is not an object")
        if version.kind not in VERSION_KINDS:
            raise CorruptData(f"version metadata: unknown kind {version.kind!r}")
        if (version.snapshot is None) == version.is_checkpoint:
            raise CorruptData("version metadata: a checkpoint, and only a checkpoint, has a snapshot")
        if version.snapshot is not None and not all(
            isinstance(value, str) for value in version.snapshot.values()
        ):
            raise CorruptData("version metadata: snapshot values are not hashes")
        return version


def _typed(obj: Mapping[str, Json], name: str, kind: type[T]) -> T:
    value = obj[name]
    if type(value) is not kind:
        raise CorruptData(f"version metadata: {name} is not a {kind.__name__}")
    return value


@dataclass
class VersionDetail:
    """A version's metadata and its ChangeLog."""

    version: Version
    changes: list[Change] = field(default_factory=list)

    def to_dict(self) -> dict[str, Json]:
        data = self.version.to_dict()
        data["changes"] = [change.to_dict() for change in self.changes]
        return data
