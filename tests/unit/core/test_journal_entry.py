from __future__ import annotations

import json
from typing import Any

import pytest
from test_format_doc import examples

from app.core.capture.journal_entry import JournalEntry
from app.core.errors import CorruptData


def test_the_format_example_reads() -> None:
    example = JournalEntry.from_dict(json.loads(examples()["journal-entry"]))
    assert example.seq == 13 and example.op == "set" and example.has_body
    assert example.start < example.end and example.via == "fetch"


def test_an_outcome_settles_an_entry() -> None:
    pending = JournalEntry.from_dict({"seq": 1, "key": "k", "start": 100, "hasBody": True})
    assert pending.status == "pending" and pending.end == 0
    done = pending.settled({"status": "ok", "httpStatus": 200, "end": 150})
    assert (done.status, done.http_status, done.end, done.start) == ("ok", 200, 150, 100)


def test_a_format_1_entry_still_reads() -> None:
    old = JournalEntry.from_dict({"seq": 3, "key": "k", "op": "set", "body": "[]", "time": 500,
                                  "status": "ok", "httpStatus": 200})
    assert old.has_body and old.start == old.end == 500
    pending = JournalEntry.from_dict({"seq": 4, "key": "k", "body": None, "time": 600})
    assert not pending.has_body and pending.end == 0


@pytest.mark.parametrize("bad", [{"seq": "x"}, {"op": "patch"}, {"status": "done"}, {"key": None},
                                 {"via": "pigeon"}])
def test_malformed_entries_are_reported(bad: dict[str, Any]) -> None:
    raw = {"seq": 1, "key": "k", "op": "set", "status": "ok", **bad}
    if bad.get("key", "") is None:
        del raw["key"]
    with pytest.raises(CorruptData):
        JournalEntry.from_dict(raw)


def test_a_malformed_outcome_is_reported() -> None:
    entry = JournalEntry.from_dict({"seq": 1, "key": "k", "start": 1})
    with pytest.raises(CorruptData):
        entry.settled({"status": "great"})
