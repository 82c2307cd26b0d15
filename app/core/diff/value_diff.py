"""The generic diff of two JSON values, for values that are not arrays of records with ids.

Objects are compared member by member, arrays position by position after trimming their common
prefix and suffix (so inserting or deleting one element anywhere gives one operation). Arrays
of records with unique ids nested anywhere are handed to record_diff and matched by id.
"""

from __future__ import annotations

from typing import Any

from app.core.formats.json_value import Json, json_equal
from app.core.formats.pointer import join

Op = dict[str, Any]

#: Above this many operations for one array, the array is replaced whole (one operation).
WHOLE_ARRAY_OPS = 64


def diff_value(old: Json, new: Json, path: str, ops: list[Op]) -> None:
    """Append to ``ops`` the operations that turn ``old`` into ``new`` (both at ``path``)."""
    if old == new and json_equal(old, new):
        return
    if type(old) is dict and type(new) is dict:
        kept = [name for name in old if name in new]
        if kept + [name for name in new if name not in old] != list(new):
            # Added members go last: only a replace gives the new member order exactly.
            ops.append({"op": "replace", "path": path, "value": new})
            return
        for name in old:
            if name not in new:
                ops.append({"op": "remove", "path": join(path, name)})
        for name, value in new.items():
            if name not in old:
                ops.append({"op": "add", "path": join(path, name), "value": value})
            else:
                diff_value(old[name], value, join(path, name), ops)
        return
    if type(old) is list and type(new) is list:
        ops.extend(diff_array(old, new, path))
        return
    ops.append({"op": "replace", "path": path, "value": new})


def diff_array(old: list[Json], new: list[Json], path: str) -> list[Op]:
    """Operations turning array ``old`` into ``new``: by id for records, else by position."""
    # Imported here: record_diff uses diff_value for the fields of records.
    from app.core.diff.record_diff import diff_records, index_records

    old_index = index_records(old)
    new_index = index_records(new)
    if old_index is not None and new_index is not None and (old or new):
        return diff_records(old, new, old_index, new_index, path).forward
    return diff_positions(old, new, path)


def trim(old: list[Json], new: list[Json]) -> tuple[int, int]:
    """Lengths of the common prefix and (non-overlapping) common suffix of two arrays."""
    limit = min(len(old), len(new))
    prefix = 0
    while prefix < limit and json_equal(old[prefix], new[prefix]):
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and json_equal(old[-1 - suffix], new[-1 - suffix]):
        suffix += 1
    return prefix, suffix


def diff_positions(old: list[Json], new: list[Json], path: str) -> list[Op]:
    """Positional diff of two arrays after trimming their common prefix and suffix."""
    prefix, suffix = trim(old, new)
    old_end, new_end = len(old) - suffix, len(new) - suffix
    paired = min(old_end, new_end) - prefix
    ops: list[Op] = []
    for offset in range(paired):
        index = prefix + offset
        diff_value(old[index], new[index], join(path, index), ops)
    if len(ops) > 2 * paired:  # cheaper to remove and re-add the paired elements
        ops = [{"op": "remove", "path": join(path, prefix)} for _ in range(paired)]
        ops += [
            {"op": "add", "path": join(path, prefix + offset), "value": new[prefix + offset]}
            for offset in range(paired)
        ]
    for index in range(old_end - 1, prefix + paired - 1, -1):
        ops.append({"op": "remove", "path": join(path, index)})
    for index in range(prefix + paired, new_end):
        ops.append({"op": "add", "path": join(path, index), "value": new[index]})
    if len(ops) > WHOLE_ARRAY_OPS and len(ops) > len(new) // 2:
        return [{"op": "replace", "path": path, "value": new}]
    return ops


def element_pairs(old: list[Json], new: list[Json]) -> list[tuple[int, Json, Json, bool, bool]]:
    """The elements that differ by position after trimming: (index, before, after, had, has).

    ``had``/``has`` say whether the position existed in ``old``/``new``; the index is the
    element's position in ``new`` (or in ``old`` for removed elements).
    """
    prefix, suffix = trim(old, new)
    old_end, new_end = len(old) - suffix, len(new) - suffix
    pairs: list[tuple[int, Json, Json, bool, bool]] = []
    for index in range(prefix, max(old_end, new_end)):
        had, has = index < old_end, index < new_end
        before = old[index] if had else None
        after = new[index] if has else None
        if had and has and json_equal(before, after):
            continue
        pairs.append((index, before, after, had, has))
    return pairs
