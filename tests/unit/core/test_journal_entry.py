from __future__ import annotations

import json
from typing import Any

import pytest
from test_format_doc import examples

from app.core.errors import CorruptData
from app.core.journal_entry import PENDING_GRACE_MS, JournalEntry, Step, plan_entry

NOW = 1_700_000_100_000


def entry(**overrides: Any) -> JournalEntry:
    raw: dict[str, Any] = {"seq": 7, "key": "w3-hotel-guests", "collection": "", "op": "set",
                           "initial": False, "body": "[]", "time": NOW - 1000, "tab": "t",
                           "status": "ok", "httpStatus": 200}
    return JournalEntry.from_dict({**raw, **overrides})


def plan(e: JournalEntry, head_has_key: bool = True) -> Step:
    return plan_entry(e, head_has_key=head_has_key, now_ms=NOW)


def test_the_format_example_reads() -> None:
    example = JournalEntry.from_dict(json.loads(examples()["journal-entry"]))
    assert example.seq == 13 and example.op == "set" and example.status == "ok"
    assert json.loads(example.body or "")[0]["id"] == "gst-000001"


def test_a_successful_write_records_its_body_or_the_deletion() -> None:
    assert plan(entry()) is Step.RECORD_BODY
    assert plan(entry(op="delete", body=None)) is Step.RECORD_DELETE


def test_a_refused_write_records_nothing() -> None:
    assert plan(entry(status="failed", httpStatus=400)) is Step.NOTHING


def test_a_fresh_pending_entry_is_waited_for_and_a_stale_one_read_live() -> None:
    assert plan(entry(status="pending", time=NOW - 10)) is Step.WAIT
    assert plan(entry(status="pending", time=NOW - PENDING_GRACE_MS)) is Step.READ_LIVE
    assert plan(entry(status="unknown")) is Step.READ_LIVE


def test_keys_outside_the_scope_record_nothing() -> None:
    assert plan(entry(key="backstay:history")) is Step.NOTHING
    assert plan(entry(key="w3-backup-versions")) is Step.NOTHING
    assert plan(entry(collection="drafts")) is Step.NOTHING


def test_a_get_or_set_default_matters_only_for_a_new_key() -> None:
    assert plan(entry(initial=True), head_has_key=True) is Step.NOTHING
    assert plan(entry(initial=True), head_has_key=False) is Step.RECORD_BODY


def test_an_unreadable_body_is_settled_from_the_live_store() -> None:
    assert plan(entry(body=None)) is Step.READ_LIVE


@pytest.mark.parametrize("bad", [{"seq": "x"}, {"op": "patch"}, {"status": "done"}, {"key": None}])
def test_malformed_entries_are_reported(bad: dict[str, Any]) -> None:
    raw = {"seq": 1, "key": "k", "op": "set", "status": "ok", **bad}
    if bad.get("key", "") is None:
        del raw["key"]
    with pytest.raises(CorruptData):
        JournalEntry.from_dict(raw)
