"""The diff of one KV key: its ChangeLog, its forward RFC 6902 patch and the inverse patch.

Patches are rooted at the state document ``{kvKey: value}``: the value of key ``k`` is at
``/k`` (escaped per RFC 6901), a guest's field at ``/w3-hotel-guests/17/firstName``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from app.core.diff.changelog import Action, Change
from app.core.diff.record_diff import (
    RecordArrayDiff,
    changed_window,
    diff_records,
    has_unique_record_ids,
    index_records,
    window_index,
)
from app.core.diff.value_diff import Op, diff_value, element_pairs
from app.core.formats.json_value import Json, json_equal, same_types_bulk
from app.core.formats.module_text import record_id
from app.core.formats.pointer import escape, strip_prefix


class Absent:
    """The type of ABSENT: a key that is not present in the state."""

    _instance: Absent | None = None

    def __new__(cls) -> Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Final = Absent()


@dataclass
class KeyDelta:
    """What changed in one key: ChangeLog entries and the forward and inverse patches."""

    key: str
    changes: list[Change] = field(default_factory=list)
    forward: list[Op] = field(default_factory=list)
    inverse: list[Op] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.forward


def key_path(key: str) -> str:
    """The JSON pointer of a KV key in the state document."""
    return "/" + escape(key)


def diff_key(key: str, old: Json | Absent, new: Json | Absent) -> KeyDelta:
    """Diff the old and new value of KV key ``key`` (either may be ABSENT)."""
    path = key_path(key)
    if isinstance(old, Absent):
        if isinstance(new, Absent):
            return KeyDelta(key)
        changes = _whole(key, "create", None, new, created=True)
        return KeyDelta(key, changes, [{"op": "add", "path": path, "value": new}],
                        [{"op": "remove", "path": path}])
    if isinstance(new, Absent):
        changes = _whole(key, "delete", old, None, created=False)
        return KeyDelta(key, changes, [{"op": "remove", "path": path}],
                        [{"op": "add", "path": path, "value": old}])
    if type(old) is list and type(new) is list:
        result = _trimmed_record_diff(old, new, path)
        if result is None:
            old_index, new_index = index_records(old), index_records(new)
            if old_index is not None and new_index is not None:
                result = diff_records(old, new, old_index, new_index, path)
        if result is not None:
            return _record_delta(key, result)
    if old == new and json_equal(old, new):
        return KeyDelta(key)
    forward: list[Op] = []
    diff_value(old, new, path, forward)
    inverse: list[Op] = []
    diff_value(new, old, path, inverse)
    if type(old) is list and type(new) is list:
        changes = _element_changes(key, old, new)
    else:
        changes = [Change(key, "update", "", old, new, _relative_paths(forward, path))]
    return KeyDelta(key, changes, forward, inverse)


def _record_delta(key: str, result: RecordArrayDiff) -> KeyDelta:
    if not result.forward:
        return KeyDelta(key)
    changes = [
        Change(key, edit.action, edit.record_id, edit.before, edit.after,  # type: ignore[arg-type]
               edit.fields)
        for edit in result.edits
    ]
    if not changes:  # only the order of the records changed
        changes = [Change(key, "update", "", None, None, [])]
    return KeyDelta(key, changes, result.forward, result.inverse)


class _Shifted:
    """The elements of a window of an array, indexed as in the whole array."""

    def __init__(self, items: list[Json], start: int, length: int) -> None:
        self._items = items
        self._start = start
        self._length = length

    def __getitem__(self, index: int) -> Json:
        if index < self._start:
            raise IndexError(index)
        return self._items[index - self._start]

    def __len__(self) -> int:
        return self._length


def diff_window(
    key: str,
    start: int,
    old: list[Json],
    new: list[Json],
    lengths: tuple[int, int],
) -> KeyDelta | None:
    """The diff of two record arrays (every element a record, ids unique) of ``lengths``
    (old, new) elements that differ only where ``old`` became ``new``, both from index
    ``start``: what diff_key gives for the whole arrays, at the cost of the window. None when
    records moved (diff the whole arrays then)."""
    old_ids = list(map(record_id, old))
    new_ids = list(map(record_id, new))
    old_index = {str(rid): start + offset for offset, rid in enumerate(old_ids)}
    new_index = {str(rid): start + offset for offset, rid in enumerate(new_ids)}
    result = diff_records(_Shifted(old, start, lengths[0]), _Shifted(new, start, lengths[1]),  # type: ignore[arg-type]
                          old_index, new_index, key_path(key))
    if result.reordered:
        return None  # moves are computed on whole arrays
    return _record_delta(key, result)


def _trimmed_record_diff(old: list[Json], new: list[Json], path: str) -> RecordArrayDiff | None:
    """The record diff of only the window where the arrays differ, or None to diff them whole.

    The common case (a few records created, updated or deleted in place) then costs one C-speed
    ``==`` pass and an id check, not two full indexes. Records in the equal prefix and suffix are
    unchanged; with unique ids in both arrays, no id of the window occurs outside it.
    """
    start, old_end, new_end = changed_window(old, new)
    if not same_types_bulk(old[:start] + old[old_end:], new[:start] + new[new_end:]):
        return None
    if not (has_unique_record_ids(old) and has_unique_record_ids(new)):
        return None
    result = diff_records(old, new, window_index(old, start, old_end),
                          window_index(new, start, new_end), path)
    return None if result.reordered else result  # moves are computed on whole arrays


def _whole(key: str, action: Action, before: Json, after: Json, *, created: bool) -> list[Change]:
    value = after if created else before
    if type(value) is list and value and index_records(value) is not None:
        return [
            Change(key, action, str(record["id"]), None if created else record,  # type: ignore[call-overload,index]
                   record if created else None)
            for record in value
        ]
    return [Change(key, action, "", before, after)]


def _element_changes(key: str, old: list[Json], new: list[Json]) -> list[Change]:
    """ChangeLog of an array diffed by position: one entry per differing position."""
    changes: list[Change] = []
    for _index, before, after, had, has in element_pairs(old, new):
        carrier = after if has else before
        record_id = carrier.get("id") if isinstance(carrier, dict) else None
        rid = record_id if isinstance(record_id, str) else ""
        if had and has:
            ops: list[Op] = []
            diff_value(before, after, "", ops)
            changes.append(Change(key, "update", rid, before, after, [op["path"] for op in ops]))
        elif has:
            changes.append(Change(key, "create", rid, None, after))
        else:
            changes.append(Change(key, "delete", rid, before, None))
    return changes


def _relative_paths(ops: list[Op], path: str) -> list[str]:
    seen: dict[str, None] = {}
    for op in ops:
        seen.setdefault(strip_prefix(op["path"], path), None)
    return list(seen)
