"""diff_key: ChangeLog, forward and inverse patches; golden ChangeLogs of typical PMS edits."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonpatch
import pytest

from app.core.diff.diff import ABSENT, Absent, KeyDelta, diff_key
from app.core.diff.patch import apply_patch
from app.core.formats.json_value import Json, canonical_json, copy_json

GUESTS = "w3-hotel-guests"


def guest(number: int, **fields: Any) -> dict[str, Any]:
    return {"id": f"guest-{number}", "firstName": f"First{number}", "lastName": "Perera",
            "phone": "+94 77 000", "preferences": ["sea view"], "loyaltyPoints": number,
            "totalStays": 1, "totalSpent": 120.5, "createdAt": 1700000000000, **fields}


def state(key: str, value: Json | Absent) -> dict[str, Json]:
    return {} if isinstance(value, Absent) else {key: copy.deepcopy(value)}


def check_exact(key: str, old: Json | Absent, new: Json | Absent) -> KeyDelta:
    """Forward gives new and inverse gives old, with python-json-patch and exactly."""
    delta = diff_key(key, old, new)
    forward = jsonpatch.apply_patch(state(key, old), delta.forward)
    assert canonical_json(forward) == canonical_json(state(key, new))
    inverse = jsonpatch.apply_patch(forward, delta.inverse)
    assert canonical_json(inverse) == canonical_json(state(key, old))
    json.dumps(delta.forward), json.dumps(delta.inverse)  # plain JSON
    return delta


def changelog(delta: KeyDelta) -> list[dict[str, Json]]:
    return [change.to_dict() for change in delta.changes]


BIG = [guest(number) for number in range(10_000)]


@pytest.mark.parametrize("where", [0, 5_000, 9_999])
def test_one_record_anywhere_in_10000_is_one_operation(where: int) -> None:
    deleted = BIG[:where] + BIG[where + 1:]
    delta = check_exact(GUESTS, BIG, deleted)
    assert delta.forward == [{"op": "remove", "path": f"/{GUESTS}/{where}"}]
    assert delta.inverse == [{"op": "add", "path": f"/{GUESTS}/{where}", "value": BIG[where]}]

    created = BIG[:where] + [guest(99_999)] + BIG[where:]
    assert len(check_exact(GUESTS, BIG, created).forward) == 1

    updated = copy.deepcopy(BIG)
    updated[where]["firstName"] = "Changed"
    delta = check_exact(GUESTS, BIG, updated)
    assert delta.forward == [{"op": "replace", "path": f"/{GUESTS}/{where}/firstName",
                              "value": "Changed"}]


def test_golden_changelog_of_a_guest_update() -> None:
    before = [guest(1), guest(2)]
    after = copy.deepcopy(before)
    after[1]["phone"] = "+94 77 111"
    after[1]["preferences"].append("late checkout")
    del after[1]["totalSpent"]
    assert changelog(check_exact(GUESTS, before, after)) == [{
        "module": GUESTS, "action": "update", "recordId": "guest-2",
        "before": before[1], "after": after[1],
        "fields": ["/totalSpent", "/phone", "/preferences/1"],
    }]


def test_golden_changelog_of_create_and_delete() -> None:
    before = [guest(1), guest(2), guest(3)]
    after = [guest(1), guest(3), guest(4)]
    assert changelog(check_exact(GUESTS, before, after)) == [
        {"module": GUESTS, "action": "delete", "recordId": "guest-2", "before": guest(2),
         "after": None, "fields": []},
        {"module": GUESTS, "action": "create", "recordId": "guest-4", "before": None,
         "after": guest(4), "fields": []},
    ]


def test_golden_changelog_of_a_reservation_check_in() -> None:
    key = "w3-hotel-reservations"
    before = [{"id": "res-1", "guestId": "guest-1", "roomId": "101", "status": "confirmed",
               "advancePaid": 0, "updatedAt": 1}]
    after = [{**before[0], "status": "checked-in", "advancePaid": 50, "updatedAt": 2}]
    delta = check_exact(key, before, after)
    assert changelog(delta) == [{
        "module": key, "action": "update", "recordId": "res-1", "before": before[0],
        "after": after[0], "fields": ["/status", "/advancePaid", "/updatedAt"]}]
    assert len(delta.forward) == 3


def test_key_appears_and_disappears() -> None:
    delta = check_exact(GUESTS, ABSENT, [guest(1), guest(2)])
    assert delta.forward == [{"op": "add", "path": f"/{GUESTS}", "value": [guest(1), guest(2)]}]
    assert [c["action"] for c in changelog(delta)] == ["create", "create"]
    delta = check_exact(GUESTS, [guest(1)], ABSENT)
    assert delta.forward == [{"op": "remove", "path": f"/{GUESTS}"}]
    assert changelog(delta) == [{"module": GUESTS, "action": "delete", "recordId": "guest-1",
                                 "before": guest(1), "after": None, "fields": []}]
    assert changelog(check_exact("settings", ABSENT, {"tax": 10})) == [{
        "module": "settings", "action": "create", "recordId": "", "before": None,
        "after": {"tax": 10}, "fields": []}]
    assert changelog(check_exact("empty", ABSENT, []))[0]["recordId"] == ""
    assert diff_key("k", ABSENT, ABSENT).is_empty


def test_key_is_escaped_in_pointers() -> None:
    delta = check_exact("a/b~c", {"x": 1}, {"x": 2})
    assert delta.forward == [{"op": "replace", "path": "/a~1b~0c/x", "value": 2}]


@pytest.mark.parametrize("old,new", [
    ({"tax": 10, "currency": "LKR"}, {"tax": 12, "currency": "LKR", "rounding": True}),
    ("text", "other"), (1, 2), (None, {"a": 1}), ([1, 2, 3], "scalar"), (True, 1), (1, 1.5),
    ({"nested": {"list": [1, 2, 3]}}, {"nested": {"list": [1, 3]}}),
])
def test_non_array_values(old: Json, new: Json) -> None:
    delta = check_exact("settings", old, new)
    assert [c.action for c in delta.changes] == ["update"]
    assert delta.changes[0].record_id == ""
    assert delta.changes[0].before == old and delta.changes[0].after == new


def test_settings_fields_are_relative_paths() -> None:
    delta = check_exact("settings", {"tax": 10, "a/b": 1}, {"tax": 12, "a/b": 2})
    assert delta.changes[0].fields == ["/tax", "/a~1b"]


def test_unchanged_values_give_nothing() -> None:
    assert diff_key(GUESTS, [guest(1)], [guest(1)]).is_empty
    assert diff_key("s", {"a": 1}, {"a": 1}).changes == []


def test_type_changes_are_seen_even_when_python_equality_hides_them() -> None:
    before = [guest(1, vip=1), guest(2)]
    after = [guest(1, vip=True), guest(2)]
    delta = check_exact(GUESTS, before, after)
    assert delta.forward == [{"op": "replace", "path": f"/{GUESTS}/0/vip", "value": True}]
    nested_before = [guest(1, address={"lines": [0, 1]})]
    nested_after = [guest(1, address={"lines": [False, 1]})]
    assert len(check_exact(GUESTS, nested_before, nested_after).forward) == 1


def test_member_order_is_kept() -> None:
    # Format 2 keeps the order the PMS wrote: a new order is a change, and the patch gives it.
    record = guest(1)
    shuffled = dict(reversed(list(record.items())))
    delta = diff_key(GUESTS, [record], [shuffled])
    assert delta.forward == [{"op": "replace", "path": f"/{GUESTS}/0", "value": shuffled}]
    state = apply_patch({GUESTS: [copy_json(record)]}, delta.forward)
    assert list(state[GUESTS][0]) == list(shuffled)  # type: ignore[index,call-overload]
    added = {**record, "vip": True}
    moved = {"vip": True, **record}
    assert diff_key(GUESTS, [record], [added]).forward == [
        {"op": "add", "path": f"/{GUESTS}/0/vip", "value": True}]
    assert diff_key(GUESTS, [record], [moved]).forward == [
        {"op": "replace", "path": f"/{GUESTS}/0", "value": moved}]


def test_reorder_uses_moves_and_is_logged() -> None:
    before = [guest(n) for n in range(6)]
    after = [before[5]] + before[:5]
    delta = check_exact(GUESTS, before, after)
    assert [op["op"] for op in delta.forward] == ["move"]
    assert changelog(delta) == [{"module": GUESTS, "action": "update", "recordId": "",
                                 "before": None, "after": None, "fields": []}]


def test_full_reversal_of_a_big_array_is_replaced_whole() -> None:
    before = [guest(n) for n in range(600)]
    delta = check_exact(GUESTS, before, before[::-1])
    assert delta.forward == [{"op": "replace", "path": f"/{GUESTS}", "value": before[::-1]}]


def test_reorder_with_creates_updates_deletes() -> None:
    before = [guest(n) for n in range(8)]
    after = [guest(7, firstName="Z"), guest(100), guest(2), guest(0), guest(5), guest(101)]
    delta = check_exact(GUESTS, before, after)
    actions = sorted((c.action, c.record_id) for c in delta.changes)
    assert actions == [("create", "guest-100"), ("create", "guest-101"),
                       ("delete", "guest-1"), ("delete", "guest-3"), ("delete", "guest-4"),
                       ("delete", "guest-6"), ("update", "guest-7")]


def test_duplicate_ids_fall_back_to_a_positional_diff() -> None:
    before = [guest(1), guest(1), guest(2)]
    after = [guest(1), guest(1, firstName="Twin"), guest(2)]
    delta = check_exact(GUESTS, before, after)
    assert delta.forward == [{"op": "replace", "path": f"/{GUESTS}/1/firstName", "value": "Twin"}]
    assert changelog(delta) == [{"module": GUESTS, "action": "update", "recordId": "guest-1",
                                 "before": before[1], "after": after[1], "fields": ["/firstName"]}]


def test_records_without_id_fall_back_and_stay_small() -> None:
    before = [{"name": f"n{n}", "qty": n} for n in range(10_000)]
    delta = check_exact("w3-hotel-inventory", before, before[1:])
    assert delta.forward == [{"op": "remove", "path": "/w3-hotel-inventory/0"}]
    assert changelog(delta) == [{"module": "w3-hotel-inventory", "action": "delete",
                                 "recordId": "", "before": before[0], "after": None, "fields": []}]
    inserted = before[:5000] + [{"name": "new"}] + before[5000:]
    assert len(check_exact("w3-hotel-inventory", before, inserted).forward) == 1


def test_mixed_arrays_and_scalars_arrays() -> None:
    check_exact("k", [1, {"id": "a"}, "x"], [{"id": "a"}, 1, "y", None])
    check_exact("k", [{"id": "a"}], [{"id": 1}])
    check_exact("k", [], [guest(1)])
    check_exact("k", [guest(1)], [])


def test_nested_record_arrays_are_matched_by_id() -> None:
    folio = {"id": "folio-1", "charges": [{"id": f"c{n}", "amount": n} for n in range(50)],
             "balance": 10}
    changed = copy.deepcopy(folio)
    del changed["charges"][0]
    changed["charges"][10]["amount"] = 999
    delta = check_exact("w3-hotel-folios", [folio], [changed])
    assert delta.forward == [
        {"op": "remove", "path": "/w3-hotel-folios/0/charges/0"},
        {"op": "replace", "path": "/w3-hotel-folios/0/charges/10/amount", "value": 999},
    ]
    assert delta.changes[0].fields == ["/charges/0", "/charges/10/amount"]


def test_many_deletions_emit_removes_from_the_highest_index() -> None:
    before = [guest(n) for n in range(20)]
    after = [record for n, record in enumerate(before) if n % 3]
    delta = check_exact(GUESTS, before, after)
    indices = [int(op["path"].rsplit("/", 1)[1]) for op in delta.forward]
    assert indices == sorted(indices, reverse=True)


def test_reorder_of_a_nested_record_array_rebases_move_sources() -> None:
    before = [{"id": "res-1", "charges": [{"id": "c2", "amount": 0}, {"id": "c1", "amount": 0}]}]
    after = [{"id": "res-1", "charges": [{"id": "c1", "amount": 0}, {"id": "c2", "amount": 0}]}]
    delta = check_exact("w3-hotel-reservations", before, after)
    assert all(op["from"].startswith("/w3-hotel-reservations/0/charges/")
               for op in delta.forward if op["op"] == "move")
