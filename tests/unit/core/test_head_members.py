"""The head pointer's per-key members, read from a damaged or odd record: each wrong shape is
CorruptData naming the member and key; headText of another shape is only ignored."""

from __future__ import annotations

import pytest

from app.core.errors import CorruptData
from app.core.formats.json_value import Json
from app.core.history import head_members


@pytest.mark.parametrize(("raw", "message"), [
    ([1, 2], "liveReads is not an object"),
    ({"k": [1, "2"]}, "liveReads['k'] is not [start, end]"),
    ({"k": [1, 2, 3]}, "liveReads['k'] is not [start, end]"),
    ({"k": [1.5, 2]}, "liveReads['k'] is not [start, end]"),
])
def test_live_reads_of_the_wrong_shape_are_corrupt(raw: Json, message: str) -> None:
    with pytest.raises(CorruptData, match=message.replace("[", r"\[").replace("]", r"\]")):
        head_members.live_reads(raw)


@pytest.mark.parametrize(("raw", "message"), [
    ("tab", "drainedWrites is not an object"),
    ({"k": [1, 2]}, "drainedWrites['k'] is not [tab, tabSeq]"),
    ({"k": ["tab", True]}, "drainedWrites['k'] is not [tab, tabSeq]"),
    ({"k": ["tab"]}, "drainedWrites['k'] is not [tab, tabSeq]"),
])
def test_drained_writes_of_the_wrong_shape_are_corrupt(raw: Json, message: str) -> None:
    with pytest.raises(CorruptData, match=message.replace("[", r"\[").replace("]", r"\]")):
        head_members.drained_writes(raw)


def test_members_of_the_right_shape_and_absent_ones_are_read() -> None:
    assert head_members.live_reads({"k": [1, 2]}) == {"k": (1, 2)}
    assert head_members.drained_writes({"k": ["tab", 3]}) == {"k": ("tab", 3)}
    assert head_members.live_reads(None) == head_members.drained_writes(None) == {}
    assert head_members.drained_ends({"k": 5}) == {"k": 5}
    assert head_members.stale_heads(["b", "a", "b"]) == ("a", "b")


def test_a_head_text_of_another_shape_is_ignored_not_corrupt() -> None:
    digest = "ab" * 32
    assert head_members.head_text([digest, 10]) == (digest, 10)
    for odd in ([digest.upper(), 10], [digest, -1], [digest, True], [digest], "x", None):
        assert head_members.head_text(odd) is None
