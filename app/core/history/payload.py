"""The Delta payload of a version: its ChangeLog and its forward and inverse patches.

Stored under ``payloads/<version id>``, framed by framing.pack (gzip above a threshold).
``forward`` turns the parent's state into this version's state and ``inverse`` turns it back;
both are null for the oldest version (it has no parent; it is a checkpoint).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from app.core.diff.changelog import Change
from app.core.errors import CorruptData
from app.core.formats.format import FORMAT_VERSION, check_format_version
from app.core.formats.framing import pack, unpack
from app.core.formats.json_value import Json, compact_json, parse_json
from app.core.ports import Compressor

Op = dict[str, Any]


@dataclass
class Payload:
    changes: list[Change] = field(default_factory=list)
    forward: list[Op] | None = None
    inverse: list[Op] | None = None
    format_version: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Json]:
        return {
            "formatVersion": self.format_version,
            "changes": [change.to_dict() for change in self.changes],
            "forward": cast(Json, self.forward),
            "inverse": cast(Json, self.inverse),
        }

    def encode(self, compressor: Compressor) -> bytes:
        return pack(compact_json(self.to_dict()), compressor)

    @classmethod
    def decode(cls, stored: bytes, compressor: Compressor) -> Payload:
        try:
            text = unpack(stored, compressor)
            obj = parse_json(text)
            if isinstance(obj, dict) and obj.get("formatVersion") == 1:
                obj = parse_json(text, format_version=1)  # its patches' numbers as format 1 read them
        except (ValueError, UnicodeDecodeError) as error:
            raise CorruptData(f"payload is not JSON: {error}") from None
        if not isinstance(obj, dict):
            raise CorruptData("payload is not a JSON object")
        check_format_version(obj, "payload")
        changes = obj.get("changes")
        if not isinstance(changes, list) or not all(isinstance(c, dict) for c in changes):
            raise CorruptData("payload: changes is not a list of objects")
        return cls(
            [Change.from_dict(cast(dict[str, Json], change)) for change in changes],
            _patch(obj.get("forward"), "forward"),
            _patch(obj.get("inverse"), "inverse"),
            cast(int, obj["formatVersion"]),
        )


def _patch(value: Json, name: str) -> list[Op] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(op, dict) for op in value):
        raise CorruptData(f"payload: {name} is not a list of operations")
    return cast(list[Op], value)
