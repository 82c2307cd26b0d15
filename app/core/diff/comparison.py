"""Comparison of two states: per module counts and per record field-level differences.

Plain data that a UI renders and a test checks: ``compare_states(...).to_dict()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from app.core.diff.diff import ABSENT, diff_key
from app.core.errors import PatchError
from app.core.formats.json_value import Json
from app.core.formats.pointer import split

FieldOp = Literal["add", "remove", "replace"]


@dataclass
class FieldDifference:
    """One changed field of a record: ``path`` is a JSON pointer relative to the record."""

    path: str
    op: FieldOp
    before: Json
    after: Json

    def to_dict(self) -> dict[str, Json]:
        return {"path": self.path, "op": self.op, "before": self.before, "after": self.after}


@dataclass
class RecordDifference:
    """A record created, deleted or updated between the two states ("" id: the whole value)."""

    record_id: str
    action: str
    before: Json
    after: Json
    fields: list[FieldDifference] = field(default_factory=list)

    def to_dict(self) -> dict[str, Json]:
        return {
            "recordId": self.record_id,
            "action": self.action,
            "before": self.before,
            "after": self.after,
            "fields": [difference.to_dict() for difference in self.fields],
        }


@dataclass
class ModuleComparison:
    module: str
    created: int = 0
    deleted: int = 0
    updated: int = 0
    reordered: bool = False
    records: list[RecordDifference] = field(default_factory=list)

    def to_dict(self) -> dict[str, Json]:
        return {
            "module": self.module,
            "created": self.created,
            "deleted": self.deleted,
            "updated": self.updated,
            "reordered": self.reordered,
            "records": [record.to_dict() for record in self.records],
        }


@dataclass
class Comparison:
    """How state ``b`` differs from state ``a`` (a is "before", b is "after")."""

    a_id: str
    b_id: str
    modules: list[ModuleComparison] = field(default_factory=list)

    def module(self, name: str) -> ModuleComparison | None:
        return next((module for module in self.modules if module.module == name), None)

    def to_dict(self) -> dict[str, Json]:
        return {
            "a": self.a_id,
            "b": self.b_id,
            "modules": [module.to_dict() for module in self.modules],
            "totals": {
                "created": sum(module.created for module in self.modules),
                "deleted": sum(module.deleted for module in self.modules),
                "updated": sum(module.updated for module in self.modules),
            },
        }


def compare_states(
    a_id: str, b_id: str, a: dict[str, Json], b: dict[str, Json]
) -> Comparison:
    comparison = Comparison(a_id, b_id)
    for key in sorted(set(a) | set(b)):
        delta = diff_key(key, a.get(key, ABSENT), b.get(key, ABSENT))
        if delta.is_empty:
            continue
        module = ModuleComparison(key)
        for change in delta.changes:
            if change.action == "update" and change.record_id == "" and change.before is None \
                    and change.after is None and not change.fields:
                module.reordered = True
                continue
            if change.action == "create":
                module.created += 1
            elif change.action == "delete":
                module.deleted += 1
            else:
                module.updated += 1
            differences = [
                field_difference(path, change.before, change.after) for path in change.fields
            ] if change.action == "update" else []
            module.records.append(RecordDifference(change.record_id, change.action,
                                                   change.before, change.after, differences))
        comparison.modules.append(module)
    return comparison


def field_difference(path: str, before: Json, after: Json) -> FieldDifference:
    """One field of a record before and after (path relative to the record)."""
    had, old = lookup(before, path)
    has, new = lookup(after, path)
    op: FieldOp = "replace" if had and has else "add" if has else "remove"
    return FieldDifference(path, op, old, new)


def lookup(value: Json, path: str) -> tuple[bool, Json]:
    """The value at ``path`` in ``value``, and whether there is one."""
    try:
        tokens = split(path)
    except PatchError:
        return False, None
    node = value
    for token in tokens:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isascii() and token.isdigit() \
                and int(token) < len(node):
            node = node[int(token)]
        else:
            return False, None
    return True, node
