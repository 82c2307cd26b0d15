"""An interrupted restore is settled from what the store holds; audit entries round-trip."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.core.audit.entry import AuditEntry
from app.core.errors import CorruptData
from app.core.restore.pending import PendingRestore, plan_recovery, text_hash

A, B, C = "w3-hotel-a", "w3-hotel-b", "w3-hotel-c"


def pending() -> PendingRestore:
    return PendingRestore("p1", 1, "admin", "Restored all modules to v (full)", {
        A: (text_hash("[1]"), text_hash("[0]")),
        B: (text_hash("[2]"), None),  # the restore deletes B
        C: (None, text_hash("{}")),  # and creates C
    }, {"mode": "full"})


def test_the_mark_round_trips_and_refuses_garbage() -> None:
    mark = pending()
    assert PendingRestore.decode(mark.encode()) == mark
    with pytest.raises(CorruptData):
        PendingRestore.decode(b'{"formatVersion": 2, "id": "x"}')


def test_nothing_written_yet() -> None:
    head = {A: "[1]", B: "[2]", C: None}
    recovery = plan_recovery(pending(), dict(head), head)
    assert recovery.outcome == "nothing" and recovery.others == []


def test_every_key_written_is_finished_or_already_recorded() -> None:
    live: dict[str, str | None] = {A: "[0]", B: None, C: "{}"}
    finish = plan_recovery(pending(), live, {A: "[1]", B: "[2]", C: None})
    assert finish.outcome == "finish" and finish.texts == live
    assert plan_recovery(pending(), live, dict(live)).outcome == "recorded"


def test_half_written_is_rolled_back_leaving_keys_written_by_others() -> None:
    live: dict[str, str | None] = {A: "[0]", B: "[9]", C: "{}"}
    recovery = plan_recovery(pending(), live, {A: "[1]", B: "[2]", C: None})
    assert recovery.outcome == "roll-back"
    assert recovery.texts == {A: "[1]", C: None}  # C did not exist before: deleted again
    assert recovery.others == [B]


def test_audit_entries_round_trip_with_odd_text() -> None:
    entry = AuditEntry("0001-ab", 5, "<script>x</script>", "restore", "done", "ok \ud83d",
                       {"records": [{"module": "m", "recordId": "\"/~"}]})
    assert AuditEntry.decode(entry.encode()) == entry
    with pytest.raises(CorruptData):
        AuditEntry.decode(b'{"formatVersion": 2, "id": "x", "at": 1, "user": "u", '
                          b'"action": "a", "result": "maybe"}')


def test_an_applied_restore_is_recorded_even_after_someone_wrote_one_of_its_keys() -> None:
    applied = replace(pending(), applied=True)
    assert PendingRestore.decode(applied.encode()) == applied
    live: dict[str, str | None] = {A: "[0]", B: "[7]", C: "{}"}  # B was written since
    recovery = plan_recovery(applied, live, {A: "[1]", B: "[2]", C: None})
    assert recovery.outcome == "finish" and recovery.texts == {A: "[0]", C: "{}"}
    assert recovery.others == [B]
