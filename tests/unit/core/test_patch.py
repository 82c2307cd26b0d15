from __future__ import annotations

import copy

import jsonpatch
import pytest
from hypothesis import given, settings

from app.core.diff.patch import apply_patch
from app.core.errors import PatchError
from app.core.formats.json_value import RawNumber, canonical_json
from tests.unit.core.strategies import json_values


def test_operations_follow_rfc6902() -> None:
    doc = {"a": [1, 2, 3], "b": {"c": "d"}, "x/y": 1, "m~n": 2}
    patch = [
        {"op": "add", "path": "/a/1", "value": 9},
        {"op": "remove", "path": "/a/0"},
        {"op": "replace", "path": "/b/c", "value": "e"},
        {"op": "move", "from": "/a/0", "path": "/a/-"},
        {"op": "copy", "from": "/b", "path": "/z"},
        {"op": "test", "path": "/x~1y", "value": 1},
        {"op": "remove", "path": "/m~0n"},
    ]
    expected = jsonpatch.apply_patch(copy.deepcopy(doc), patch)
    assert apply_patch(doc, patch) == expected == {
        "a": [2, 3, 9], "b": {"c": "e"}, "x/y": 1, "z": {"c": "e"}}


@pytest.mark.parametrize("op", [
    {"op": "remove", "path": "/missing"},
    {"op": "replace", "path": "/missing", "value": 1},
    {"op": "add", "path": "/a/5", "value": 1},
    {"op": "remove", "path": "/a/01"},
    {"op": "add", "path": "/a/x", "value": 1},
    {"op": "test", "path": "/a/0", "value": True},
    {"op": "move", "from": "/b", "path": "/b/c"},
    {"op": "frobnicate", "path": ""},
    {"op": "add", "path": "a", "value": 1},
])
def test_invalid_operations_raise(op: dict[str, object]) -> None:
    with pytest.raises(PatchError):
        apply_patch({"a": [1], "b": {}}, [op])


def test_root_replace() -> None:
    assert apply_patch({"a": 1}, [{"op": "replace", "path": "", "value": [1]}]) == [1]


@settings(max_examples=60, deadline=None)
@given(json_values, json_values)
def test_agrees_with_python_json_patch(old: object, new: object) -> None:
    # python-json-patch compares scalars by their JSON text: canonical_json writes RawNumber.
    patch = jsonpatch.JsonPatch.from_diff(old, new, dumps=lambda v: canonical_json(v).decode()).patch
    theirs = jsonpatch.apply_patch(copy.deepcopy(old), patch)
    ours = apply_patch(copy.deepcopy(old), patch)  # type: ignore[arg-type]
    assert canonical_json(ours) == canonical_json(theirs)


def test_copy_and_test_handle_raw_numbers_and_lone_surrogates() -> None:
    doc = {"a": {"n": RawNumber("1e+400"), "s": "\ud83d", "l": [10**400]}}
    patch = [
        {"op": "copy", "from": "/a", "path": "/b"},
        {"op": "test", "path": "/b", "value": {"n": RawNumber("1e+400"), "s": "\ud83d",
                                               "l": [10**400]}},
        {"op": "add", "path": "/b/l/-", "value": RawNumber("-1e+400")},
    ]
    result = apply_patch(doc, patch)
    assert result == {"a": {"n": RawNumber("1e+400"), "s": "\ud83d", "l": [10**400]},
                      "b": {"n": RawNumber("1e+400"), "s": "\ud83d",
                            "l": [10**400, RawNumber("-1e+400")]}}
    with pytest.raises(PatchError):
        apply_patch(result, [{"op": "test", "path": "/a/n", "value": RawNumber("2e+400")}])
