"""Restore planning: full, selective, merge, revert and point in time, against a real Chain."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.chain import Chain
from app.core.diff.diff import ABSENT
from app.core.formats.json_value import canonical_text, json_equal, parse_json
from app.core.restore.merge import NO_BASE, merge_value
from app.core.restore.plan import plan_restore
from app.core.restore.request import RequestError, RestoreRequest
from app.core.restore.sides import describe_restore
from tests.conftest import build_chain
from tests.unit.core.strategies import edited, record_array

GUESTS = "w3-hotel-guests"
ROOMS = "w3-hotel-rooms"
SETTINGS = "w3-hotel-settings"


def g(record_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": record_id, "firstName": record_id.upper(), **fields}


async def _record(chain: Chain, state: dict[str, Any], **kwargs: Any) -> str:
    version = await chain.record_state({k: json.dumps(v) for k, v in state.items()},
                                       created_by=kwargs.pop("by", "desk"), **kwargs)
    assert version is not None
    return version.id


async def _apply(chain: Chain, request: RestoreRequest) -> dict[str, Any]:
    """Plan, apply the plan's texts as the shell does, and return the new head state."""
    plan = await chain.plan_restore(request)
    version = await chain.record_restore(plan, created_by="admin")
    assert (version is None) == plan.nothing_to_do
    if version is not None:
        assert version.change_type == "restore" and version.created_by == "admin"
        assert version.description == describe_restore(plan)
    return dict(await chain.state_at(chain.head_version_id or ""))


def run(scenario: Any) -> None:
    asyncio.run(scenario())


def test_full_restore_brings_back_every_module_as_it_was() -> None:
    async def scenario() -> None:
        chain, _, _ = build_chain()
        await chain.open()
        then = {GUESTS: [g("a"), g("b"), g("c")], ROOMS: [{"id": "101"}], SETTINGS: {"tax": 7}}
        target = await _record(chain, then, snapshot=True)
        await _record(chain, {GUESTS: [g("a", vip=True), g("d")], "w3-hotel-new": [1]})
        plan = await chain.plan_restore(RestoreRequest.parse(target))
        preview = plan.to_dict()
        guests = next(m for m in preview["modules"] if m["module"] == GUESTS)
        assert (guests["created"], guests["deleted"], guests["updated"]) == (2, 1, 1)
        assert {m["module"]: m["action"] for m in preview["modules"]} == {
            GUESTS: "write", ROOMS: "write", SETTINGS: "write", "w3-hotel-new": "delete"}
        state = await _apply(chain, RestoreRequest.parse(target))
        assert state == then
        # Undoing the restore is one more restore, to the version before it.
        versions = await chain.list_versions()
        assert await _apply(chain, RestoreRequest.parse(versions[1].id)) == {
            GUESTS: [g("a", vip=True), g("d")], "w3-hotel-new": [1]}
        assert (await chain.verify(full=True)).ok

    run(scenario)


def test_restoring_the_current_state_writes_nothing() -> None:
    async def scenario() -> None:
        chain, _, _ = build_chain()
        await chain.open()
        head = await _record(chain, {GUESTS: [g("a")]}, snapshot=True)
        plan = await chain.plan_restore(RestoreRequest.parse(head))
        assert plan.nothing_to_do and plan.to_dict()["nothingToDo"] is True
        assert await chain.record_restore(plan, created_by="admin") is None
        assert len(await chain.list_versions()) == 1

    run(scenario)


def test_selective_modules_and_single_records() -> None:
    async def scenario() -> None:
        chain, _, _ = build_chain()
        await chain.open()
        tuesday = await _record(chain, {GUESTS: [g("a"), g("b", note="x"), g("c")],
                                        ROOMS: [{"id": "101", "clean": True}]}, snapshot=True)
        await _record(chain, {GUESTS: [g("a", vip=True), g("c"), g("d")],
                              ROOMS: [{"id": "101", "clean": False}]})
        only_rooms = await chain.plan_restore(RestoreRequest.parse(tuesday, {"modules": [ROOMS]}))
        assert list(only_rooms.writes) == [ROOMS]
        # "Just this guest, as she was on Tuesday": b comes back at her place, nothing else moves.
        state = await _apply(chain, RestoreRequest.parse(
            tuesday, {"records": [{"module": GUESTS, "recordId": "b"}]}))
        assert state[GUESTS] == [g("a", vip=True), g("b", note="x"), g("c"), g("d")]
        assert state[ROOMS] == [{"id": "101", "clean": False}]
        # A record that did not exist then is removed; a changed one is taken as it was.
        state = await _apply(chain, RestoreRequest.parse(
            tuesday, {"records": [{"module": GUESTS, "recordId": "d"},
                                  {"module": GUESTS, "recordId": "a"}]}))
        assert state[GUESTS] == [g("a"), g("b", note="x"), g("c")]

    run(scenario)


def test_merge_keeps_todays_records_and_brings_back_deleted_ones() -> None:
    async def scenario() -> None:
        chain, _, _ = build_chain()
        await chain.open()
        target = await _record(chain, {GUESTS: [g("a", phone="1"), g("b"), g("c", room="7")]},
                               snapshot=True)
        # 22:42: b vanished, c changed; since then d was booked and a's phone changed.
        await _record(chain, {GUESTS: [g("a", phone="2"), g("c", room="9", vip=True), g("d")]})
        plan = await chain.plan_restore(RestoreRequest.parse(target, {"mode": "merge"}))
        assert [(c.record_id, c.fields) for c in plan.conflicts] == [("a", ["/phone"]),
                                                                     ("c", ["/room"])]
        assert plan.writes[GUESTS] == [g("a", phone="2"), g("b"), g("c", room="9", vip=True),
                                       g("d")]
        conflict = plan.to_dict()["conflicts"][0]
        assert conflict == {"module": GUESTS, "recordId": "a", "fields": ["/phone"],
                            "today": g("a", phone="2"), "target": g("a", phone="1"),
                            "todayExists": True, "targetExists": True, "keep": "today"}
        state = await _apply(chain, RestoreRequest.parse(target, {
            "mode": "merge", "resolutions": [{"module": GUESTS, "recordId": "c",
                                              "keep": "target"}]}))
        assert state[GUESTS] == [g("a", phone="2"), g("b"), g("c", room="7", vip=True), g("d")]

    run(scenario)


def test_revert_undoes_one_version_and_keeps_everything_since() -> None:
    async def scenario() -> None:
        chain, _, _ = build_chain()
        await chain.open()
        await _record(chain, {GUESTS: [g(x) for x in "abcde"], ROOMS: [{"id": "1"}]},
                      snapshot=True)
        # The bad version: deletes b and c, edits d's name.
        bad = await _record(chain, {GUESTS: [g("a"), g("d", firstName="X"), g("e")],
                                    ROOMS: [{"id": "1"}]})
        # Since: a new guest, e edited, d's name edited again (a conflict), a room added.
        await _record(chain, {GUESTS: [g("a"), g("d", firstName="Y"), g("e", vip=True), g("f")],
                              ROOMS: [{"id": "1"}, {"id": "2"}]})
        request = RestoreRequest.parse(bad, {"mode": "revert"})
        plan = await chain.plan_restore(request)
        assert [(c.record_id, c.fields) for c in plan.conflicts] == [("d", ["/firstName"])]
        assert list(plan.writes) == [GUESTS]
        state = await _apply(chain, request)
        assert state[GUESTS] == [g("a"), g("b"), g("c"), g("d", firstName="Y"), g("e", vip=True),
                                 g("f")]
        assert state[ROOMS] == [{"id": "1"}, {"id": "2"}]
        assert describe_restore(plan) == f"Restored all modules to before {bad} (revert)"

    run(scenario)


def test_revert_of_a_range_and_of_a_created_key() -> None:
    async def scenario() -> None:
        chain, _, _ = build_chain()
        await chain.open()
        await _record(chain, {GUESTS: [g("a")]}, snapshot=True)
        first = await _record(chain, {GUESTS: [g("a"), g("b")], SETTINGS: {"tax": 7}})
        last = await _record(chain, {GUESTS: [g("a"), g("b"), g("c")], SETTINGS: {"tax": 7}})
        await _record(chain, {GUESTS: [g("z"), g("a"), g("b"), g("c")], SETTINGS: {"tax": 7}})
        state = await _apply(chain, RestoreRequest.parse({"from": first, "to": last},
                                                         {"mode": "revert"}))
        assert state == {GUESTS: [g("z"), g("a")]}

    run(scenario)


def test_point_in_time_is_the_last_version_at_or_before_it() -> None:
    async def scenario() -> None:
        chain, _, _ = build_chain(step_ms=60_000)
        await chain.open()
        await _record(chain, {GUESTS: [g("a")]}, snapshot=True)
        at_2241 = await _record(chain, {GUESTS: [g("a"), g("b")]})
        version = (await chain.get_version(at_2241)).version
        await _record(chain, {GUESTS: []})
        plan = await chain.plan_restore(RestoreRequest.parse({"at": version.timestamp + 59_000}))
        assert plan.target_id == at_2241 and plan.writes == {GUESTS: [g("a"), g("b")]}
        with pytest.raises(RequestError, match="before 2020-09-13 .*the oldest is from 2023"):
            await chain.plan_restore(RestoreRequest.parse({"at": 1_600_000_000_000}))

    run(scenario)


def test_clear_errors_for_unknown_versions_modules_records_and_bad_requests() -> None:
    async def scenario() -> None:
        chain, _, _ = build_chain()
        await chain.open()
        with pytest.raises(RequestError, match="nothing to restore yet"):
            await chain.plan_restore(RestoreRequest.parse("nope"))
        head = await _record(chain, {GUESTS: [g("a")], SETTINGS: {"tax": 7}}, snapshot=True)
        cases = [
            (RestoreRequest.parse("nope"), "No version 'nope'"),
            (RestoreRequest.parse(head, {"modules": ["w3-hotel-ghosts"]}), "Unknown module"),
            (RestoreRequest.parse(head, {"records": [{"module": GUESTS, "recordId": "zz"}]}),
             "Unknown record 'zz'"),
            (RestoreRequest.parse(head, {"records": [{"module": SETTINGS, "recordId": "x"}]}),
             "does not hold records"),
            (RestoreRequest.parse(head, {"expectHead": "older"}), "preview it again"),
        ]
        for request, message in cases:
            with pytest.raises(RequestError, match=message):
                await chain.plan_restore(request)

    run(scenario)
    bad = [("x", {"mode": "undo"}, "mode must be"), ("x", {"modules": []}, "non-empty"),
           ("x", {"records": [{"module": 1}]}, "recordId"), ("x", {"colour": 1}, "Unknown restore"),
           ({"at": "noon"}, None, "milliseconds"), (None, None, "A target is"),
           ({"from": "a", "to": "b"}, {"mode": "full"}, "only be reverted"),
           ("x", {"resolutions": [{"module": "m", "recordId": "r", "keep": "both"}]}, "keeps")]
    for target, options, message in bad:
        with pytest.raises(RequestError, match=message):
            RestoreRequest.parse(target, options)


def test_two_and_three_way_merges_of_one_value() -> None:
    assert merge_value(NO_BASE, ABSENT, {"id": "x"}, "today").value == {"id": "x"}
    assert merge_value(NO_BASE, {"id": "x"}, ABSENT, "today").value == {"id": "x"}
    merged = merge_value(NO_BASE, [1], [2], "target")
    assert merged.value == [1] and merged.conflicts == [""]
    # Three-way: only-one-side changes win; both sides to the same value is no conflict.
    base = {"a": 1, "b": 1, "c": 1, "d": 1}
    merged = merge_value(base, {"a": 2, "b": 1, "c": 3, "d": 1, "e": 5},
                         {"a": 1, "b": 4, "c": 3, "e": 6}, "today")
    assert merged.value == {"a": 2, "b": 4, "c": 3, "e": 6} and merged.conflicts == ["/e"]
    assert merge_value(base, ABSENT, {"a": 9}, "today").conflicts == [""]
    assert merge_value(base, ABSENT, base, "today").value is ABSENT
    # Member order of the result is today's; a field that only the target has comes after.
    merged = merge_value(NO_BASE, {"y": 1, "x": 1, "z": 2}, {"x": 1, "y": 1}, "today")
    assert list(merged.value) == ["x", "y", "z"]  # type: ignore[arg-type]


# ---- properties --------------------------------------------------------------------------


@st.composite
def histories(draw: st.DrawFn) -> list[list[dict[str, Any]]]:
    states = [draw(record_array())]
    for fresh in range(draw(st.integers(1, 4))):
        states.append(draw(edited(states[-1], fresh)))
    return states


def _exact(a: Any, b: Any) -> bool:
    return json_equal(a, b) and canonical_text(a) == canonical_text(b)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.data())
def test_restore_properties_on_random_histories(states: list[list[dict[str, Any]]],
                                                data: st.DataObject) -> None:
    # As the PMS writes them (JSON.stringify), and as they read back (one value per number).
    states = [parse_json(canonical_text(state)) for state in states]  # type: ignore[misc]

    async def scenario() -> None:
        chain, _, _ = build_chain(checkpoint_every=3)
        await chain.open()
        ids = []
        for index, state in enumerate(states):
            version = await chain.record_state({GUESTS: canonical_text(state)}, created_by="p",
                                               snapshot=index == 0)
            ids.append(version.id if version else ids[-1])
        head_state = states[-1]
        pick = data.draw(st.integers(0, len(states) - 1))
        target_state = states[pick]
        # full: exactly the target, member order included.
        plan = await chain.plan_restore(RestoreRequest.parse(ids[pick]))
        assert _exact(plan.writes.get(GUESTS, head_state), target_state)
        # merge (conflicts keep today's values): every record of either side; today's fields
        # as they are today, and fields only the target has, from the target.
        plan = await chain.plan_restore(RestoreRequest.parse(ids[pick], {"mode": "merge"}))
        merged = plan.writes.get(GUESTS, head_state)
        assert isinstance(merged, list)
        today_of = {r["id"]: r for r in head_state}
        target_of = {r["id"]: r for r in target_state}
        assert sorted(r["id"] for r in merged) == sorted(set(today_of) | set(target_of))
        for record in merged:
            ours, theirs = today_of.get(record["id"]), target_of.get(record["id"])
            if ours is None:
                assert _exact(record, theirs)
                continue
            assert all(json_equal(record[k], v) for k, v in ours.items())
            assert all(json_equal(v, (theirs or {})[k]) for k, v in record.items() if k not in ours)
        # revert of the newest version with nothing since: exactly the state before it.
        if len(ids) > 1 and ids[-1] != ids[-2]:
            plan = await chain.plan_restore(RestoreRequest.parse(ids[-1], {"mode": "revert"}))
            assert not plan.conflicts
            reverted = plan.writes.get(GUESTS, head_state)
            assert isinstance(reverted, list)
            assert {r["id"]: canonical_text(r) for r in reverted} == {
                r["id"]: canonical_text(r) for r in states[-2]}
        # restoring the head writes nothing.
        assert (await chain.plan_restore(RestoreRequest.parse(ids[-1]))).nothing_to_do

    asyncio.run(scenario())


def test_plan_restore_without_history() -> None:
    request = RestoreRequest.parse("v", {"mode": "merge"})
    plan = plan_restore(request, target_id="v", head_id="h", today={GUESTS: [g("a")]},
                        target={GUESTS: [g("b")], ROOMS: []})
    assert plan.writes == {GUESTS: [g("b"), g("a")], ROOMS: []}
    assert plan.texts() == {GUESTS: json.dumps([g("b"), g("a")], separators=(",", ":")),
                            ROOMS: "[]"}
