"""Property tests: any edit of W3-shaped record arrays diffs into exact, reversible patches."""

from __future__ import annotations

import copy

import jsonpatch
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.diff.diff import ABSENT, diff_key
from app.core.diff.patch import apply_patch
from app.core.formats.json_value import canonical_bytes
from tests.unit.core.strategies import edited, json_values, record_array

KEY = "w3-hotel-guests"


def _roundtrip(old: object, new: object) -> None:
    before = {} if old is ABSENT else {KEY: copy.deepcopy(old)}
    after = {} if new is ABSENT else {KEY: copy.deepcopy(new)}
    delta = diff_key(KEY, old, new)  # type: ignore[arg-type]
    assert delta.is_empty == (canonical_bytes(before) == canonical_bytes(after))
    # python-json-patch, the reference implementation, replays forward then inverse ...
    forward = jsonpatch.apply_patch(copy.deepcopy(before), delta.forward)
    assert canonical_bytes(forward) == canonical_bytes(after)
    inverse = jsonpatch.apply_patch(forward, delta.inverse)
    assert canonical_bytes(inverse) == canonical_bytes(before)
    # ... and so does the core's own applier.
    ours = apply_patch(copy.deepcopy(before), copy.deepcopy(delta.forward))
    assert canonical_bytes(ours) == canonical_bytes(after)
    # Each ChangeLog entry names records that really changed.
    for change in delta.changes:
        assert change.module == KEY
        assert change.action in ("create", "update", "delete")


@st.composite
def array_and_edit(draw: st.DrawFn) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    old = draw(record_array())
    return old, draw(edited(old, fresh=draw(st.integers(0, 99))))


@settings(max_examples=150, deadline=None)
@given(array_and_edit())
def test_record_array_edits_roundtrip(pair: tuple[list[dict[str, object]], list[dict[str, object]]]) -> None:
    old, new = pair
    _roundtrip(old, new)
    delta = diff_key(KEY, old, new)
    ids_changed = {c.record_id for c in delta.changes if c.record_id}
    old_by_id = {r["id"]: r for r in old}
    new_by_id = {r["id"]: r for r in new}
    for record_id in set(old_by_id) | set(new_by_id):
        same = canonical_bytes(old_by_id.get(record_id)) == canonical_bytes(new_by_id.get(record_id))  # type: ignore[arg-type]
        assert (record_id in ids_changed) != same


@settings(max_examples=60, deadline=None)
@given(record_array(), st.booleans())
def test_keys_appearing_and_disappearing_roundtrip(records: list[dict[str, object]], appear: bool) -> None:
    _roundtrip(ABSENT, records) if appear else _roundtrip(records, ABSENT)


@settings(max_examples=100, deadline=None)
@given(json_values, json_values)
def test_any_json_values_roundtrip(old: object, new: object) -> None:
    _roundtrip(old, new)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.fixed_dictionaries({"id": st.sampled_from(["a", "b", "c"]),
                                                 "v": st.integers(0, 3)}),
                          st.fixed_dictionaries({"v": st.integers(0, 3)})), max_size=6),
       st.lists(st.one_of(st.fixed_dictionaries({"id": st.sampled_from(["a", "b", "c"]),
                                                 "v": st.integers(0, 3)}),
                          st.fixed_dictionaries({"v": st.integers(0, 3)})), max_size=6))
def test_duplicate_and_missing_ids_roundtrip(old: list[object], new: list[object]) -> None:
    _roundtrip(old, new)
