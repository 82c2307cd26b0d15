"""Merging one record (or one whole value) from two or three sides, field by field.

The sides are named for the restore: ``today`` (the data now, "ours"), ``target`` (what the
restore brings back, "theirs") and ``base`` (the common ancestor, for a revert; absent for a
merge with a past version, where every difference is one side against the other).

A three-way merge takes a side's value wherever only that side changed it. A field changed on
both sides to different values is a conflict; the resolution ("today" or "target") says which
side's value a conflicting field takes. Fields are a record's top-level members; a nested value
(an address, a list of charges) is one field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal, TypeAlias

from app.core.diff.diff import ABSENT, Absent
from app.core.formats.json_value import Json, json_equal

Side: TypeAlias = "Json | Absent"
Resolution = Literal["today", "target"]
RESOLUTIONS: Final = ("today", "target")


class _NoBase:
    def __repr__(self) -> str:
        return "NO_BASE"


#: The base of a two-way merge: no common ancestor is known.
NO_BASE: Final = _NoBase()


@dataclass
class Merged:
    """The merged value (ABSENT: the record or key is removed) and the conflicting fields
    (pointers relative to the record, "" for the whole record or value)."""

    value: Side
    conflicts: list[str] = field(default_factory=list)


def same(a: Side, b: Side) -> bool:
    if isinstance(a, Absent) or isinstance(b, Absent):
        return isinstance(a, Absent) and isinstance(b, Absent)
    return json_equal(a, b)


def merge_value(base: Side | _NoBase, target: Side, today: Side, resolution: Resolution) -> Merged:
    """Merge one record (or one whole value). Objects on every side present are merged member by
    member; anything else is taken whole from the side that changed it."""
    if same(target, today):
        return Merged(today)
    if not isinstance(base, _NoBase):
        if same(target, base):
            return Merged(today)
        if same(today, base):
            return Merged(target)
    elif isinstance(target, Absent):
        return Merged(today)  # created since: it stays
    elif isinstance(today, Absent):
        return Merged(target)  # deleted since: it comes back
    if (isinstance(target, dict) and isinstance(today, dict)
            and (isinstance(base, _NoBase) or isinstance(base, dict))):
        return _merge_members(base, target, today, resolution)
    return Merged(target if resolution == "target" else today, [""])


def _merge_members(
    base: dict[str, Json] | _NoBase, target: dict[str, Json], today: dict[str, Json],
    resolution: Resolution,
) -> Merged:
    merged: dict[str, Json] = {}
    conflicts: list[str] = []
    names = list(today) + [name for name in target if name not in today]
    if isinstance(base, dict):
        names += [name for name in base if name not in today and name not in target]
    for name in names:
        ours: Side = today[name] if name in today else ABSENT
        theirs: Side = target[name] if name in target else ABSENT
        if isinstance(base, _NoBase):
            ancestor: Side | _NoBase = NO_BASE
        else:
            ancestor = base[name] if name in base else ABSENT
        result = _merge_field(ancestor, theirs, ours)
        if result is None:
            conflicts.append("/" + name.replace("~", "~0").replace("/", "~1"))
            result = theirs if resolution == "target" else ours
        if not isinstance(result, Absent):
            merged[name] = result
    return Merged(merged, conflicts)


def _merge_field(base: Side | _NoBase, target: Side, today: Side) -> Side | None:
    """One field's merged value (ABSENT: removed), or None for a conflict."""
    if same(target, today):
        return today
    if isinstance(base, _NoBase):
        # Two-way: a field one side lacks is taken from the side that has it.
        if isinstance(target, Absent):
            return today
        if isinstance(today, Absent):
            return target
        return None
    if same(target, base):
        return today
    if same(today, base):
        return target
    return None
