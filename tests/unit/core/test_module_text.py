"""ModuleText: splicing a new text gives exactly the index a whole rebuild gives, and the
window of changed elements."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.formats.json_value import canonical_text, compact_json, json_equal, parse_json
from app.core.formats.module_text import ModuleText, module_hash_of
from tests.unit.core.strategies import edited, json_values, record_array


def spelled(value: Any, style: int) -> str:
    """A text of ``value``: canonical (as JavaScript writes it), compact Python, or indented."""
    if style == 0:
        return canonical_text(value)
    if style == 1:
        return compact_json(value).decode("utf-8", "surrogatepass")
    try:
        return json.dumps(value, indent=1)
    except TypeError:  # RawNumber
        return compact_json(value).decode("utf-8", "surrogatepass")


FIELDS = ("text", "module_hash", "canonical", "is_array", "starts", "lengths", "digests", "ids", "records",
          "odd", "total")


def assert_same_index(spliced: ModuleText, built: ModuleText) -> None:
    for name in FIELDS:
        assert getattr(spliced, name) == getattr(built, name), name


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_splice_equals_rebuild(data: st.DataObject) -> None:
    before = data.draw(record_array(max_size=10))
    after = data.draw(edited(before, fresh=1))
    old_text = spelled(before, data.draw(st.integers(0, 2)))
    new_text = spelled(after, data.draw(st.integers(0, 2)))
    old = ModuleText.build(old_text)
    built = ModuleText.build(new_text)
    assert built.module_hash == module_hash_of(parse_json(new_text))
    assert built.canonical == (canonical_text(parse_json(new_text)) == new_text)
    result = old.splice(new_text)
    if result is None:
        return
    spliced, window = result
    assert_same_index(spliced, built)
    old_values = parse_json(old_text)
    new_values = parse_json(new_text)
    end = window.start + len(window.old)
    assert json_equal(window.old, old_values[window.start:end])
    assert json_equal(old_values[:window.start] + window.new + old_values[end:], new_values)


@settings(max_examples=150, deadline=None)
@given(st.lists(json_values, max_size=6), st.lists(json_values, max_size=6), st.data())
def test_splice_of_any_arrays(before: list[Any], after: list[Any], data: st.DataObject) -> None:
    shared = data.draw(st.lists(json_values, max_size=4))
    old_text = spelled(shared + before + shared, data.draw(st.integers(0, 2)))
    new_text = spelled(shared + after + shared, data.draw(st.integers(0, 2)))
    result = ModuleText.build(old_text).splice(new_text)
    if result is not None:
        assert_same_index(result[0], ModuleText.build(new_text))


def test_a_one_field_edit_parses_one_element() -> None:
    records = [{"id": f"g{index}", "firstName": "Ann", "n": index} for index in range(1000)]
    old = ModuleText.build(canonical_text(records))
    records[500] = {"id": "g500", "firstName": "Bo", "n": 500}
    spliced, window = old.splice(canonical_text(records)) or pytest.fail("no window")
    assert (window.start, window.old, window.new) == (
        500, [{"id": "g500", "firstName": "Ann", "n": 500}], [records[500]])
    assert spliced.module_hash == module_hash_of(records)
    assert spliced.canonical


def test_one_number_two_spellings_one_hash() -> None:
    raw = ModuleText.build('[{"id":"a","n":1000000000000000000000}]')
    js = ModuleText.build('[{"id":"a","n":1e+21}]')
    assert raw.module_hash == js.module_hash
    assert js.canonical and not raw.canonical
    assert raw.canonical_bytes() == b'[{"id":"a","n":1e+21}]'


@pytest.mark.parametrize("text", ["[1,2,]", "[1,,2]", "[1 2]", "[1,2]]", "[", "[1,2] x"])
def test_not_json_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        ModuleText.build(text)


@pytest.mark.parametrize("new", ["[1,2,]", "[1,,3]", "[1 3]", "[1,2,3]]", "[1,2,3"])
def test_a_splice_into_not_json_is_refused_or_rebuilt(new: str) -> None:
    old = ModuleText.build("[1,2,3]")
    try:
        result = old.splice(new)
    except ValueError:
        return
    assert result is None
    with pytest.raises(ValueError):
        ModuleText.build(new)


def _records(count: int, name: str = "Ann") -> list[dict[str, Any]]:
    return [{"id": f"g{index}", "firstName": name, "n": index} for index in range(count)]


def test_a_saved_index_reads_back_only_for_its_own_text() -> None:
    text = canonical_text(_records(50))
    built = ModuleText.build(text)
    data = built.encode_index()
    loaded = ModuleText.from_index(text, data, built.module_hash)
    assert loaded is not None
    assert_same_index(loaded, built)
    respelled = text.replace("[", "[ ", 1)  # the same value, another text
    assert ModuleText.from_index(respelled, data, built.module_hash) is None
    assert ModuleText.from_index(text, data, "0" * 64) is None
    assert ModuleText.from_index(text, data[:-1], built.module_hash) is None
    body = data.index(b"\n") + 1
    tampered = bytearray(data)
    tampered[body + 48 * 50 - 1] ^= 1  # the last element's digest
    assert ModuleText.from_index(text, bytes(tampered), built.module_hash) is None
    tampered = bytearray(data)
    tampered[-1] ^= 1  # the last element's id ("g49" becomes "g48")
    assert ModuleText.from_index(text, bytes(tampered), built.module_hash) is None
    tampered = bytearray(data)
    tampered[body + 48 * 50 + 4 * 49] += 1  # the last id's end: past the text
    assert ModuleText.from_index(text, bytes(tampered), built.module_hash) is None
    assert ModuleText.from_index(text, b"not an index", built.module_hash) is None


def test_an_index_saved_with_its_ids_in_the_header_still_reads_back() -> None:
    """Indexes saved before the ids were packed after the digests list them in the header."""
    records = _records(40) + [{"id": None}, {"id": "\ud800é"}]
    text = canonical_text(records)
    built = ModuleText.build(text)
    data = built.encode_index()
    header = json.loads(data[:data.index(b"\n")])
    # UTF-8 with surrogates passed: "\ud800" takes 3 bytes, "é" 2.
    assert header["records"] is False and header["idBytes"] == 10 * 2 + 30 * 3 + 5
    del header["idBytes"], header["records"]
    header["ids"] = [f"g{n}" for n in range(40)] + [None, "\ud800é"]
    old = (json.dumps(header, separators=(",", ":")).encode() + b"\n"
           + data[data.index(b"\n") + 1:][:48 * len(records)])
    loaded = ModuleText.from_index(text, old, built.module_hash)
    assert loaded is not None
    assert_same_index(loaded, built)
    unique = canonical_text(_records(40))
    assert ModuleText.from_index(unique, ModuleText.build(unique).encode_index(),
                                 ModuleText.build(unique).module_hash).records  # type: ignore[union-attr]
