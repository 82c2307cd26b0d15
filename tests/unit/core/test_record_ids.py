"""RecordIds: packed record ids behave as the list of ids they pack, odd ids included."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.core.formats.record_ids import RecordIds

# Ids that share characters, prefixes and suffixes with each other, the empty id, surrogates
# and control characters, and elements that are not records (None).
IDS = st.one_of(st.none(), st.sampled_from(["", "a", "aa", "ab", "ba", "r-1", "r-10", "r-01", "\x00",
                                            "\ud800", "é", "e\u0301"]), st.text(max_size=4))


def test_ids_read_back_as_packed() -> None:
    ids = ["g-1", None, "", "g-10", "\ud800x", "g-1"]
    packed = RecordIds.of(ids)
    assert len(packed) == 6 and list(packed) == ids == packed.to_list()
    assert [packed[index] for index in range(6)] == ids and packed[-1] == "g-1"
    assert packed.window(1, 4) == [None, "", "g-10"]
    assert list(packed.positions("g-1")) == [0, 5]
    assert list(packed.positions("")) == [2]
    assert list(packed.positions("g")) == []  # a part of an id is not an id
    assert list(packed.positions("1g")) == []  # nor characters across two ids
    assert not packed.all_records()  # a None, and g-1 twice
    assert RecordIds.of(["a", "b", ""]).all_records()
    assert not RecordIds.of(["a", None]).all_records()
    assert RecordIds.of([]).all_records() and len(RecordIds.of([])) == 0


def test_splicing_replaces_a_window() -> None:
    packed = RecordIds.of(["a", "bb", None, "ccc"])
    assert list(packed.spliced(1, 3, ["x"])) == ["a", "x", "ccc"]
    assert list(packed.spliced(4, 4, ["d", None])) == ["a", "bb", None, "ccc", "d", None]
    assert list(packed.spliced(0, 0, ["longer-id"])) == ["longer-id", "a", "bb", None, "ccc"]
    assert list(packed.spliced(0, 4, [])) == []
    assert list(packed) == ["a", "bb", None, "ccc"]  # unchanged itself


@given(st.lists(IDS, max_size=12), st.data())
def test_packed_ids_are_the_list_they_pack(ids: list[str | None], data: st.DataObject) -> None:
    packed = RecordIds.of(ids)
    assert list(packed) == ids and len(packed) == len(ids)
    first = data.draw(st.integers(0, len(ids)))
    last = data.draw(st.integers(first, len(ids)))
    new = data.draw(st.lists(IDS, max_size=5))
    spliced = packed.spliced(first, last, new)
    expected = ids[:first] + new + ids[last:]
    assert list(spliced) == expected and spliced == RecordIds.of(expected)
    for rid in {rid for rid in expected if rid is not None} | {"a", "", "r-1"}:
        assert list(spliced.positions(rid)) == [i for i, x in enumerate(expected) if x == rid]
    assert spliced.all_records() == (None not in expected and len(set(expected)) == len(expected))
    table, text = spliced.encode()
    assert RecordIds.decode(len(expected), table, text) == spliced


def test_decoding_refuses_ids_that_do_not_fit_together() -> None:
    table, text = RecordIds.of(["ab", None, "c"]).encode()
    assert list(RecordIds.decode(3, table, text) or []) == ["ab", None, "c"]
    assert RecordIds.decode(2, table, text) is None  # the table is for 3
    assert RecordIds.decode(3, table, text + b"x") is None  # text left over
    assert RecordIds.decode(3, table, text[:-1]) is None  # the last id past the text
    backwards = bytearray(table)
    backwards[0] = 3  # "ab" ending after the id that follows it
    assert RecordIds.decode(3, bytes(backwards), text) is None
    absent_with_text = bytearray(table)
    absent_with_text[12] = 1  # "ab" flagged as no id
    assert RecordIds.decode(3, bytes(absent_with_text), text) is None
    odd_flag = bytearray(table)
    odd_flag[13] = 2
    assert RecordIds.decode(3, bytes(odd_flag), text) is None
