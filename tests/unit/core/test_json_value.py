from __future__ import annotations

import pytest

from app.core.json_value import canonical_json, json_equal, may_hold_booleans, parse_json, same_types_bulk


def test_parse_refuses_non_json_and_normalises_numbers() -> None:
    for bad in ["NaN", "[Infinity]", "-Infinity", "{", ""]:
        with pytest.raises(ValueError):
            parse_json(bad)
    value = parse_json('{"a": 150.0, "b": 1.5, "c": -0.0, "d": 1e300, "e": 2e0}')
    assert value == {"a": 150, "b": 1.5, "c": 0, "d": 1e300, "e": 2}
    assert isinstance(value, dict) and type(value["a"]) is int and type(value["d"]) is float


def test_canonical_json_sorts_and_keeps_unicode() -> None:
    assert canonical_json({"b": 1, "a": ["é", None]}) == '{"a":["é",null],"b":1}'.encode()


def test_json_equal_tells_types_apart() -> None:
    assert json_equal({"a": [1, {"b": True}]}, {"a": [1, {"b": True}]})
    assert not json_equal({"a": [1, {"b": True}]}, {"a": [1, {"b": 1}]})
    assert not json_equal(1, 1.0) and not json_equal([0], [False])
    assert same_types_bulk([{"a": [1]}], [{"a": [1]}])
    assert not same_types_bulk([{"a": [1]}], [{"a": [True]}])
    assert may_hold_booleans("[1]", '{"x": true}') and not may_hold_booleans("[1]", "{}")
