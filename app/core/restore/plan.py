"""The restore plan: what today's data becomes, and the preview of it, before anything is written.

Modes (docs/FORMAT.md, "Restore"):
* ``full``: each module in scope becomes what it was at the target (a key that did not exist
  then is deleted); with ``records``, only those records are taken from the target (or removed,
  if they did not exist then) and everything else stays as it is today.
* ``merge``: the target combined with today, record by record (records are matched by id): a
  record deleted since comes back, one created since stays, one that differs is merged field by
  field - a field one side lacks is taken from the other, a field with different values on both
  sides is a conflict.
* ``revert``: a three-way merge that undoes a range of versions and keeps everything since:
  base = the state right after the range, target = the state right before it, today = now.

A conflict is resolved per record (default: keep today's value). The plan writes only the keys
whose value changes; ``writes`` empty means there is nothing to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from app.core.diff.comparison import Comparison, compare_states
from app.core.diff.diff import ABSENT, Absent
from app.core.diff.record_diff import index_records
from app.core.formats.json_value import Json, canonical_text
from app.core.restore.merge import NO_BASE, Merged, Resolution, Side, merge_value, same
from app.core.restore.request import RecordRef, RequestError, RestoreRequest

State = Mapping[str, Json]


@dataclass
class Conflict:
    """A record (or whole value: record id "") whose fields changed differently on both sides."""

    module: str
    record_id: str
    fields: list[str]
    today: Side
    target: Side
    resolution: Resolution

    def to_dict(self) -> dict[str, Json]:
        return {
            "module": self.module, "recordId": self.record_id, "fields": list(self.fields),
            "today": None if isinstance(self.today, Absent) else self.today,
            "target": None if isinstance(self.target, Absent) else self.target,
            "todayExists": not isinstance(self.today, Absent),
            "targetExists": not isinstance(self.target, Absent),
            "keep": self.resolution,
        }


@dataclass
class RestorePlan:
    request: RestoreRequest
    target_id: str  # the version restored to (for a revert: the first version reverted)
    head_id: str | None  # the version today's data is
    writes: dict[str, Json | Absent] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    comparison: Comparison | None = None

    @property
    def nothing_to_do(self) -> bool:
        return not self.writes

    @property
    def unresolved(self) -> list[Conflict]:
        return [conflict for conflict in self.conflicts
                if RecordRef(conflict.module, conflict.record_id) not in self.request.resolutions]

    def texts(self) -> dict[str, str | None]:
        """What to write: each key's JSON text as the PMS writes it (None: delete the key)."""
        return {key: None if isinstance(value, Absent) else canonical_text(value)
                for key, value in self.writes.items()}

    def details(self) -> dict[str, Json]:
        """What the audit keeps of this restore: the request, what it changes, its conflicts
        and how each is resolved."""
        request = self.request
        return {
            "target": self.target_id, "targetAsked": request.target.label(), "mode": request.mode,
            "modules": list(request.modules) if request.modules else None,
            "records": [{"module": ref.module, "recordId": ref.record_id}
                        for ref in request.records or ()] or None,
            "changedModules": list(self.writes),
            "conflicts": [{"module": c.module, "recordId": c.record_id, "fields": list(c.fields),
                           "keep": c.resolution} for c in self.conflicts],
            "headBefore": self.head_id,
        }

    def to_dict(self, record_limit: int = 200) -> dict[str, Json]:
        """The preview: per module counts and field-level changes (at most ``record_limit``
        records per module; ``moreRecords`` says how many were left out), and the conflicts."""
        comparison = (self.comparison or Comparison("today", "restored")).to_dict()
        for module in cast(list[dict[str, Json]], comparison["modules"]):
            records = cast(list[Json], module["records"])
            module["moreRecords"] = max(0, len(records) - record_limit)
            module["records"] = records[:record_limit]
            module["action"] = ("delete" if isinstance(self.writes.get(str(module["module"])), Absent)
                                else "write")
        return {
            "target": self.target_id, "mode": self.request.mode, "headVersionId": self.head_id,
            "nothingToDo": self.nothing_to_do, "modules": comparison["modules"],
            "totals": comparison["totals"],
            "conflicts": [conflict.to_dict() for conflict in self.conflicts],
        }


def plan_restore(
    request: RestoreRequest, *, target_id: str, head_id: str | None, today: State,
    target: State, base: State | None = None,
) -> RestorePlan:
    """The plan of ``request``: ``target`` is the state restored to, ``base`` (revert only) the
    state right after the reverted range. RequestError for an unknown module or record."""
    plan = RestorePlan(request, target_id, head_id)
    scope = _scope(request, today, target, base)
    records_by_module: dict[str, list[str]] = {}
    for ref in request.records or ():
        records_by_module.setdefault(ref.module, []).append(ref.record_id)
    for key in scope:
        today_value: Side = today[key] if key in today else ABSENT
        target_value: Side = target[key] if key in target else ABSENT
        base_value: Side | None = None
        if request.mode == "revert":
            base_value = base[key] if base is not None and key in base else ABSENT
        result = _module(plan, key, base_value, target_value, today_value,
                         records_by_module.get(key))
        if not same(result, today_value):
            plan.writes[key] = result
    plan.comparison = compare_states(
        "today", "restored", {key: today[key] for key in plan.writes if key in today},
        {key: value for key, value in plan.writes.items() if not isinstance(value, Absent)})
    return plan


def _scope(request: RestoreRequest, today: State, target: State, base: State | None) -> list[str]:
    known = set(today) | set(target) | set(base or {})
    wanted = list(request.modules or ())
    for ref in request.records or ():
        if ref.module not in wanted and request.modules is not None:
            raise RequestError(f"record {ref.record_id!r} is in {ref.module!r}, which is not "
                               "among the modules to restore")
        if ref.module not in wanted:
            wanted.append(ref.module)
    for key in wanted:
        if key not in known:
            raise RequestError(f"Unknown module {key!r}: it exists neither today nor at the target")
    return wanted if wanted else sorted(known)


def _module(
    plan: RestorePlan, key: str, base: Side | None, target: Side, today: Side,
    ids: list[str] | None,
) -> Side:
    """The value ``key`` takes (ABSENT: deleted)."""
    mode = plan.request.mode
    sides = [side for side in (base, target, today) if side is not None]
    records = all(isinstance(side, Absent) or (isinstance(side, list)
                  and index_records(side) is not None) for side in sides)
    if ids is not None and not records:
        raise RequestError(f"{key!r} does not hold records with ids: restore it whole instead")
    if mode == "full" and ids is None:
        return target
    if ids is None and (isinstance(target, Absent) or isinstance(today, Absent) or not records):
        return _whole(plan, key, base, target, today)
    return _records(plan, key, base, target, today, ids)


def _resolution(plan: RestorePlan, key: str, record_id: str) -> Resolution:
    return plan.request.resolutions.get(RecordRef(key, record_id), "today")


def _whole(plan: RestorePlan, key: str, base: Side | None, target: Side, today: Side) -> Side:
    merged = merge_value(NO_BASE if base is None else base, target, today,
                         _resolution(plan, key, ""))
    _note(plan, key, "", merged, target, today)
    return merged.value


def _note(plan: RestorePlan, key: str, record_id: str, merged: Merged, target: Side,
          today: Side) -> None:
    if merged.conflicts:
        plan.conflicts.append(Conflict(key, record_id, merged.conflicts, today, target,
                                       _resolution(plan, key, record_id)))


def _records(
    plan: RestorePlan, key: str, base: Side | None, target: Side, today: Side,
    ids: list[str] | None,
) -> Side:
    """Merge (or, in full mode with ``ids``, take from the target) records matched by id."""
    base_list = cast(list[Json], [] if base is None or isinstance(base, Absent) else base)
    target_list = cast(list[Json], [] if isinstance(target, Absent) else target)
    today_list = cast(list[Json], [] if isinstance(today, Absent) else today)
    by_id = [{cast(dict[str, Json], r)["id"]: r for r in side}
             for side in (base_list, target_list, today_list)]
    base_of, target_of, today_of = cast(list[dict[str, Json]], by_id)
    if ids is None:
        candidates = list(dict.fromkeys([*today_of, *target_of, *base_of]))
    else:
        candidates = list(dict.fromkeys(ids))
        for record_id in candidates:
            if record_id not in today_of and record_id not in target_of and record_id not in base_of:
                raise RequestError(f"Unknown record {record_id!r} in {key!r}: it exists neither "
                                   "today nor at the target")
    results: dict[str, Side] = {}
    for record_id in candidates:
        theirs: Side = target_of.get(record_id, ABSENT)
        ours: Side = today_of.get(record_id, ABSENT)
        if plan.request.mode == "full":
            results[record_id] = theirs
            continue
        ancestor = NO_BASE if base is None else base_of.get(record_id, ABSENT)
        merged = merge_value(ancestor, theirs, ours, _resolution(plan, key, record_id))
        _note(plan, key, record_id, merged, theirs, ours)
        results[record_id] = merged.value
    array = _ordered(target_list, today_list, results)
    if isinstance(today, Absent) and not array and (isinstance(target, Absent) or ids is not None):
        return ABSENT
    return array


def _ordered(target: list[Json], today: list[Json], results: Mapping[str, Side]) -> list[Json]:
    """Today's order, with the results applied; a record coming back is placed after the record
    that preceded it at the target (the nearest one that is there today), or first."""
    present = {cast(dict[str, Json], record)["id"] for record in today}
    after: dict[object, list[Json]] = {}
    anchor: object = None
    for record in target:
        record_id = cast(dict[str, Json], record)["id"]
        if record_id in present:
            anchor = record_id
            continue
        value = results.get(cast(str, record_id), ABSENT)
        if not isinstance(value, Absent):
            after.setdefault(anchor, []).append(value)
    placed = {cast(dict[str, Json], r)["id"] for group in after.values() for r in group}
    array: list[Json] = list(after.get(None, []))
    for record in today:
        record_id = cast(str, cast(dict[str, Json], record)["id"])
        value = results.get(record_id, record) if record_id in results else record
        if not isinstance(value, Absent):
            array.append(value)
        array.extend(after.get(record_id, []))
    for record_id, value in results.items():  # only in the base (a revert): appended
        if record_id not in present and record_id not in placed and not isinstance(value, Absent):
            array.append(value)
    return array
