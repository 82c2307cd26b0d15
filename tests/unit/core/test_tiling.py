"""formats.tiling: an index made from where the browser found each element equals the index made
by parsing, and a tiling that does not hold is refused (the module is then parsed)."""

from __future__ import annotations

from array import array
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.formats.json_value import canonical_text, parse_json
from app.core.formats.module_text import ModuleText, record_id
from app.core.formats.record_ids import RecordIds
from app.core.formats.tiling import Tiling, index
from tests.unit.core.strategies import json_values, record_array
from tests.unit.core.test_module_text import assert_same_index


def tiling_of(values: list[Any]) -> Tiling:
    """What static/backstay/tiling.mjs answers for the canonical text of ``values``."""
    starts, lengths = array("i"), array("i")
    at = 1
    for value in values:
        length = len(canonical_text(value))
        starts.append(at)
        lengths.append(length)
        at += length + 1
    ids = [record_id(value) for value in values]
    return Tiling(starts, lengths, RecordIds.of(ids),
                  None not in ids and len(set(ids)) == len(ids), len(canonical_text(values)))


@settings(max_examples=200, deadline=None)
@given(st.one_of(record_array(max_size=12), st.lists(json_values, max_size=6)))
def test_a_tiled_index_is_the_parsed_one(drawn: list[Any]) -> None:
    values = parse_json(canonical_text(drawn))  # as read: a text the browser's JSON writes back
    assert isinstance(values, list)
    text = canonical_text(values)
    tiled = index(text, tiling_of(values))
    assert tiled is not None
    assert_same_index(tiled, ModuleText.build(text))


def test_a_tiling_that_does_not_hold_is_refused() -> None:
    values: list[Any] = [{"id": "g1", "name": "Ann 😀"}, {"id": "g2", "n": 1.5}, {"id": "g3"},
                         {"id": "g4", "tags": ["a", "b"]}, {"id": "g5"}]
    text = canonical_text(values)
    tiling = tiling_of(values)
    assert index(text, tiling) is not None  # offsets in code points: the emoji counts one
    shifted = array("i", tiling.starts)
    shifted[2] += 1
    assert index(text, replace(tiling, starts=shifted)) is None  # not where the element is
    longer = array("i", tiling.lengths)
    longer[4] += 1
    assert index(text, replace(tiling, lengths=longer)) is None  # past the closing bracket
    assert index(text, replace(tiling, length=tiling.length + 1)) is None  # another text
    assert index(text, replace(tiling, ids=RecordIds.of(["g1", "g2", "g3", "g4", "gX"]))) is None
    assert index(text, replace(tiling, ids=RecordIds.of(["g1"]))) is None  # a count apart
    # Not each element's canonical text (a browser's JSON writes 1.5, never 1.50): refused where
    # the sample finds it (the last element is sampled).
    odd = text.replace('{"id":"g5"}', '{"id":"g5" }')
    odd_tiling = replace(tiling, lengths=array("i", [*tiling.lengths[:4], tiling.lengths[4] + 1]),
                         length=len(odd))
    assert index(odd, odd_tiling) is None
    assert index("[]", tiling_of([])) is not None
    assert index("[ ]", replace(tiling_of([]), length=3)) is None
