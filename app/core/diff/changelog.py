"""ChangeLog entries: what one version did to one record (or to one non-record value)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, cast

from app.core.errors import CorruptData
from app.core.formats.json_value import Json

Action = Literal["create", "update", "delete"]
ACTIONS: tuple[Action, ...] = ("create", "update", "delete")


@dataclass(frozen=True)
class Change:
    """One ChangeLog entry.

    ``record_id`` is the record's ``id`` for arrays of records; "" when the change concerns the
    module's value as a whole (a non-array value, an array without usable ids, a module that
    appears or disappears without records, or a reorder of records, which has before and after
    null). ``fields`` are JSON pointers relative to the record (or value) for updates, and empty
    for create and delete (the whole record).
    """

    module: str
    action: Action
    record_id: str
    before: Json
    after: Json
    fields: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Json]:
        return {
            "module": self.module,
            "action": self.action,
            "recordId": self.record_id,
            "before": self.before,
            "after": self.after,
            "fields": list(self.fields),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Json]) -> Change:
        try:
            module, action, record_id = data["module"], data["action"], data["recordId"]
            fields = data.get("fields", [])
            if (
                not isinstance(module, str)
                or action not in ACTIONS
                or not isinstance(record_id, str)
                or not isinstance(fields, list)
                or not all(isinstance(path, str) for path in fields)
            ):
                raise CorruptData(f"malformed ChangeLog entry {dict(data)!r}")
            return cls(module, action, record_id, data.get("before"),
                       data.get("after"), cast(list[str], fields))
        except KeyError as missing:
            raise CorruptData(f"ChangeLog entry lacks {missing}") from None
