"""The diff of two arrays of records matched by id, never by position.

A record is a JSON object with a string ``id``; an array qualifies when every element is a record
and the ids are unique. The operations, in the order they are emitted, are valid one after the
other: removals from the highest index down, then moves (only when the order of the surviving
records changed), then additions in ascending index order, then field-level changes of updated
records at their final index. One record created, updated or deleted anywhere in the array gives
O(1) operations.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from itertools import compress, islice, repeat
from operator import eq, indexOf, not_

from app.core.diff.value_diff import Op, diff_value
from app.core.formats.json_value import Json, json_equal, same_types_bulk
from app.core.formats.pointer import join

#: Above this many moves, a reordered array is replaced whole instead (one operation).
MAX_MOVES = 256


def index_records(values: list[Json]) -> dict[str, int] | None:
    """``{id: index}`` when every element is an object with a string id and ids are unique."""
    if not values:
        return {}
    try:
        ids: list[str] = list(map(dict.get, values, repeat("id")))  # type: ignore[arg-type]
    except TypeError:  # an element is not an object
        return None
    if set(map(type, ids)) != {str}:
        return None
    index = dict(zip(ids, range(len(ids)), strict=True))
    if len(index) != len(ids):
        return None
    return index


def has_unique_record_ids(values: list[Json]) -> bool:
    """What index_records checks, without building the index."""
    try:
        ids = list(map(dict.get, values, repeat("id")))  # type: ignore[arg-type]
    except TypeError:  # an element is not an object
        return False
    return (not ids or set(map(type, ids)) == {str}) and len(set(ids)) == len(ids)


def changed_window(old: list[Json], new: list[Json]) -> tuple[int, int, int]:
    """``(start, old_end, new_end)``: outside ``old[start:old_end]`` and ``new[start:new_end]``
    the arrays hold ``==`` elements at the same distance from either end."""
    shorter = min(len(old), len(new))
    try:
        start = indexOf(map(eq, old, new), False)
    except ValueError:
        start = shorter
    tail = shorter - start
    try:
        back = indexOf(islice(map(eq, reversed(old), reversed(new)), tail), False)
    except ValueError:
        back = tail
    return start, len(old) - back, len(new) - back


def window_index(values: list[Json], start: int, end: int) -> dict[str, int]:
    """``{id: index}`` of the records ``values[start:end]`` (ids known to be unique strings)."""
    return {values[index]["id"]: index for index in range(start, end)}  # type: ignore[call-overload,index,misc]


@dataclass
class RecordEdit:
    """One record's change: ``fields`` are the pointers (relative to the record) that changed."""

    action: str  # 'create' | 'update' | 'delete'
    record_id: str
    before: Json
    after: Json
    fields: list[str] = field(default_factory=list)


@dataclass
class RecordArrayDiff:
    forward: list[Op]
    inverse: list[Op]
    edits: list[RecordEdit]
    reordered: bool


def diff_records(
    old: list[Json],
    new: list[Json],
    old_index: dict[str, int],
    new_index: dict[str, int],
    path: str,
) -> RecordArrayDiff:
    """Forward and inverse operations (rooted at ``path``) and the per-record edits."""
    deleted = [record_id for record_id in old_index if record_id not in new_index]
    created = [record_id for record_id in new_index if record_id not in old_index]
    updated = _updated(old, new, old_index, new_index, created=bool(created))
    forward_fields: dict[str, list[Op]] = {}
    inverse_fields: dict[str, list[Op]] = {}
    for record_id in updated:
        before, after = old[old_index[record_id]], new[new_index[record_id]]
        ops: list[Op] = []
        forward_fields[record_id] = ops
        diff_value(before, after, "", ops)
        back: list[Op] = []
        inverse_fields[record_id] = back
        diff_value(after, before, "", back)
    survivors_old = [rid for rid in old_index if rid in new_index] if deleted else list(old_index)
    survivors_new = [rid for rid in new_index if rid in old_index] if created else list(new_index)
    reordered = survivors_old != survivors_new
    forward = _emit(old, new, old_index, new_index, deleted, created, updated, forward_fields,
                    reordered, path)
    inverse = _emit(new, old, new_index, old_index, created, deleted, updated, inverse_fields,
                    reordered, path)
    edits = [RecordEdit("delete", rid, old[old_index[rid]], None) for rid in deleted]
    edits += [RecordEdit("create", rid, None, new[new_index[rid]]) for rid in created]
    edits += [
        RecordEdit("update", rid, old[old_index[rid]], new[new_index[rid]],
                   _fields(forward_fields[rid]))
        for rid in updated
    ]
    return RecordArrayDiff(forward, inverse, edits, reordered)


def _updated(
    old: list[Json],
    new: list[Json],
    old_index: dict[str, int],
    new_index: dict[str, int],
    *,
    created: bool,
) -> list[str]:
    """Ids present in both arrays whose records differ, in new order.

    Records are compared with ``==`` at C speed (where ``true == 1`` and members in another
    order are equal); the records found equal are then checked for identical types and member
    order in bulk, and pair by pair only if that check fails.
    """
    common = [rid for rid in new_index if rid in old_index] if created else list(new_index)
    befores = list(map(old.__getitem__, map(old_index.__getitem__, common)))
    whole = not created and len(new_index) == len(new)  # the index covers all of ``new``
    afters = new if whole else list(map(new.__getitem__, map(new_index.__getitem__, common)))
    equal = list(map(eq, befores, afters))
    updated = list(compress(common, map(not_, equal)))
    same_before = list(compress(befores, equal))
    same_after = list(compress(afters, equal))
    if not same_types_bulk(same_before, same_after):
        updated += [
            record_id
            for record_id, before, after in zip(
                compress(common, equal), same_before, same_after, strict=True)
            if not json_equal(before, after)
        ]
        updated.sort(key=new_index.__getitem__)
    return updated


def _fields(ops: list[Op]) -> list[str]:
    seen: dict[str, None] = {}
    for op in ops:
        seen.setdefault(op["path"], None)
    return list(seen)


def _emit(
    source: list[Json],
    target: list[Json],
    source_index: dict[str, int],
    target_index: dict[str, int],
    removed: list[str],
    added: list[str],
    changed: list[str],
    field_ops: dict[str, list[Op]],
    reordered: bool,
    path: str,
) -> list[Op]:
    ops: list[Op] = [
        {"op": "remove", "path": join(path, index)}
        for index in sorted((source_index[rid] for rid in removed), reverse=True)
    ]
    if reordered:
        moves = _moves(source_index, target_index, removed, path)
        if moves is None:
            return [{"op": "replace", "path": path, "value": target}]
        ops += moves
    ops += [
        {"op": "add", "path": join(path, index), "value": target[index]}
        for index in sorted(target_index[rid] for rid in added)
    ]
    for rid in sorted(changed, key=target_index.__getitem__):
        base = join(path, target_index[rid])
        for op in field_ops[rid]:
            rebased = dict(op)
            rebased["path"] = base + op["path"]
            if "from" in op:
                rebased["from"] = base + op["from"]
            ops.append(rebased)
    return ops


def _moves(
    source_index: dict[str, int],
    target_index: dict[str, int],
    removed: list[str],
    path: str,
) -> list[Op] | None:
    """Moves that put the surviving records in target order, or None when there are too many."""
    gone = set(removed)
    current = [rid for rid in source_index if rid not in gone]
    order = sorted(current, key=target_index.__getitem__)
    rank = {rid: position for position, rid in enumerate(order)}
    keep = _longest_increasing(current, rank)
    if len(current) - len(keep) > MAX_MOVES:
        return None
    ops: list[Op] = []
    previous: str | None = None
    for rid in order:
        if rid not in keep:
            origin = current.index(rid)
            current.pop(origin)
            destination = 0 if previous is None else current.index(previous) + 1
            current.insert(destination, rid)
            if origin != destination:
                ops.append({"op": "move", "from": join(path, origin),
                            "path": join(path, destination)})
        previous = rid
    if current != order:  # pragma: no cover - guarded: exactness over size
        return None
    return ops


def _longest_increasing(current: list[str], rank: dict[str, int]) -> set[str]:
    """The ids forming a longest run of ``current`` whose target ranks increase."""
    tails: list[int] = []
    tail_ids: list[int] = []
    parents: list[int] = [-1] * len(current)
    for position, rid in enumerate(current):
        value = rank[rid]
        slot = bisect_left(tails, value)
        if slot == len(tails):
            tails.append(value)
            tail_ids.append(position)
        else:
            tails[slot] = value
            tail_ids[slot] = position
        parents[position] = tail_ids[slot - 1] if slot else -1
    kept: set[str] = set()
    position = tail_ids[-1] if tail_ids else -1
    while position >= 0:
        kept.add(current[position])
        position = parents[position]
    return kept
