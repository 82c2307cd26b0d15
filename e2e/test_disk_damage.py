"""Backstay's storage damaged on disk: a file of the browser's IndexedDB is gone (deleted by a
disk cleaner, or lost with a bad sector), so the value it held can never be read again.

- A journal body: the engine records that write from the store instead, says so, and goes on
  with the journal.
- A head text (today's value of a key): rebuilt from the history, and recording goes on.
- Part of the history itself: told as such, with what to do; never "try again" or "reload".

The engine never stays stuck retrying a read that cannot succeed without saying so. Real
Chromium, a profile on disk, real IndexedDB."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from damage import (
    BIG_WRITE_JS,
    RENAME_JS,
    files,
    head_texts_written,
    lose_history,
    started,
    version_files,
)
from harness import Server, status, versions, wait_ready, wait_versions
from stores import open_origin_without_engine

GUESTS = "w3-hotel-guests"

#: Adds one journal entry as capture.js stores it - a write to w3-hotel-guests answered "ok",
#: its body a Blob (a file of its own on disk) - and its outcome; resolves with its seq.
ADD_ENTRY_JS = """async (text) => {
    const db = await new Promise((resolve, reject) => {
        const open = indexedDB.open('backstay-journal');
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
    });
    try {
        const start = Date.now() - 50;
        const seq = await new Promise((resolve, reject) => {
            const tx = db.transaction(['entries', 'outcomes'], 'readwrite', {durability: 'strict'});
            const add = tx.objectStore('entries').add({
                key: 'w3-hotel-guests', collection: '', op: 'set', initial: false, hasBody: true,
                body: new Blob([text]), start, tab: 'a-closed-tab', via: 'fetch', tabSeq: 1,
                inFlight: []});
            add.onsuccess = () => tx.objectStore('outcomes').put(
                {seq: add.result, status: 'ok', httpStatus: 200, end: start + 20});
            tx.oncomplete = () => resolve(add.result);
            tx.onerror = tx.onabort = () => reject(tx.error);
        });
        return seq;
    } finally {
        db.close();
    }
}"""


def test_a_journal_body_whose_file_is_gone_is_read_from_the_store_and_the_journal_goes_on(
        disk_page: Any, server: Server, tmp_path: Path) -> None:
    page = started(disk_page, server)
    # No engine runs while the damaged entry is made.
    open_origin_without_engine(page, server.url)
    page.wait_for_timeout(1000)
    indexeddb = tmp_path / "profile" / "Default" / "IndexedDB"
    before = files(indexeddb)
    value = [{"id": "g-1", "firstName": "Lost", "notes": "x" * 100_000}]
    server.kv_set(GUESTS, value)  # the write reached the store
    page.evaluate(ADD_ENTRY_JS, json.dumps(value))
    made = {path for path in files(indexeddb) - before if ".indexeddb.blob" in str(path)}
    assert len(made) == 1, made  # the body's file
    made.pop().unlink()
    page.goto(server.url + "/")
    wait_ready(page)
    found = wait_versions(page, 2)
    assert found[0]["createdBy"] == "admin"
    assert "could not be read" in found[0]["description"]
    state = page.evaluate("id => window.backstay.stateAt(id)", found[0]["id"])
    assert state[GUESTS] == value
    # The journal goes on: the next write is recorded from its body, as always.
    page.evaluate("() => window.spark.kv.set('w3-hotel-guests', [{id: 'g-1', firstName: 'Next'}])")
    found = wait_versions(page, 3)
    assert "could not be read" not in found[0]["description"]
    state = page.evaluate("id => window.backstay.stateAt(id)", found[0]["id"])
    assert state[GUESTS] == [{"id": "g-1", "firstName": "Next"}]
    deadline = time.monotonic() + 10
    while status(page)["waiting"] and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert status(page)["waiting"] == 0
    problems = status(page)["problems"]
    assert not [p for p in problems if p["area"] != "notice"]
    # The damage is told, with what became of the write.
    assert any("capture journal on this computer is damaged" in p["message"]
               and "recorded as the store holds it" in p["message"] for p in problems)
    assert len(versions(page)) == 3


def test_a_head_text_whose_file_is_gone_is_rebuilt_from_the_history(
        disk_page: Any, server: Server, tmp_path: Path) -> None:
    page = started(disk_page, server)
    page.evaluate(BIG_WRITE_JS, "Ann")
    wait_versions(page, 2)
    head_texts_written(page)
    # A small change: its version holds only a small delta.
    head_text = version_files(page, tmp_path / "profile", RENAME_JS, "Bea", 3)[-1]
    open_origin_without_engine(page, server.url)
    head_text.unlink()
    page.goto(server.url + "/")
    wait_ready(page)
    # The start's comparison of the store with the head rebuilt it; once idle it is written
    # back (no write needed): the history verifies in full again.
    deadline = time.monotonic() + 30
    while not (report := page.evaluate("() => window.backstay.verify({full: true})"))["ok"]:
        assert time.monotonic() < deadline, report
        assert [p["kind"] for p in report["problems"]] == ["head-value-lost"], report
        page.wait_for_timeout(500)
    problems = status(page)["problems"]
    assert not [p for p in problems if p["area"] != "notice"]
    assert any("rebuilt it from the history" in p["message"] for p in problems)
    assert len(versions(page)) == 3  # nothing was recorded for it
    page.evaluate(RENAME_JS, "Cy")
    found = wait_versions(page, 4)
    changes = page.evaluate("id => window.backstay.getVersion(id)", found[0]["id"])["changes"]
    assert [(c["action"], c["recordId"], c["fields"]) for c in changes] == [
        ("update", "g-1", ["/firstName"])]
    assert page.evaluate("id => window.backstay.stateAt(id)", found[0]["id"])[GUESTS] == server.kv_get(GUESTS)
    assert not [p for p in status(page)["problems"] if p["area"] != "notice"]


def test_history_lost_from_the_disk_is_told_as_such_with_what_to_do(
        disk_page: Any, server: Server, tmp_path: Path) -> None:
    page = started(disk_page, server)
    lose_history(page, server, tmp_path / "profile")  # every file of the history's values gone
    told = [p["message"] for p in status(page)["problems"] if p["area"] == "storage"][0]
    assert "Backstay stopped recording" in told and "lost from the disk" in told
    assert "Reloading does not help" in told and "Start a new history" in told
    # Verify names each value the disk lost, and checks everything else (like restic check).
    report = page.evaluate("() => window.backstay.verify({full: true})")
    assert report["ok"] is False and report["versions"] == 2, report
    lost = [p for p in report["problems"] if p["kind"].endswith("-lost")]
    assert {p["kind"] for p in lost} & {"payload-lost", "blob-lost"}, report
    assert all("lost from this browser's disk" in p["detail"] or p["kind"] == "head-value-lost"
               for p in lost), report
    # Today's data cannot be exported (it needs every write recorded first): said so, with
    # what to do, not "try again in a moment".
    message = page.evaluate(
        "() => window.backstay.exportBackup({download: false}).then(() => 'resolved', e => e.message)")
    assert "Backstay stopped recording" in message and "nothing was exported" in message
    assert "Try again" not in message


def test_a_version_whose_payload_file_is_gone_is_told_as_lost_and_recording_goes_on(
        disk_page: Any, server: Server, tmp_path: Path) -> None:
    """Part of the history lost that today's data does not need (an older version's payload):
    what needs it says so, what does not is read as ever, and recording goes on."""
    page = started(disk_page, server)
    head_texts_written(page)
    # Its version's payload is a file of its own.
    payload = version_files(page, tmp_path / "profile", BIG_WRITE_JS, "Ann", 2)[0]
    page.evaluate(RENAME_JS, "Bea")
    found = wait_versions(page, 3)
    head_texts_written(page)  # today's value is then read from its head text, not the history
    second, third = found[1]["id"], found[0]["id"]
    baseline = page.evaluate("id => window.backstay.stateAt(id)", found[2]["id"])
    open_origin_without_engine(page, server.url)
    payload.unlink()
    page.goto(server.url + "/")
    wait_ready(page)
    for call in ("window.backstay.stateAt(args[0])", "window.backstay.compareVersions(args[1], args[0])",
                 "window.backstay.previewRestore(args[0], {mode: 'full'})"):
        message = page.evaluate(f"""(args) => {call}.then(() => 'resolved', (e) => e.message)""",
                                [third, second])
        assert "lost from the disk" in message and "cannot be read" in message, (call, message)
        assert "try again" not in message.lower(), (call, message)
    # What does not need it is read as ever: the baseline, the list, each version's metadata.
    assert page.evaluate("id => window.backstay.stateAt(id)", found[2]["id"]) == baseline
    assert [v["id"] for v in versions(page)] == [v["id"] for v in found]
    preview = page.evaluate("id => window.backstay.previewRestore(id, {mode: 'full'})", found[2]["id"])
    assert GUESTS in json.dumps(preview)
    # Recording goes on: today's value and the head text do not need the lost payload.
    page.evaluate(RENAME_JS, "Cy")
    newest = wait_versions(page, 4)[0]
    changes = page.evaluate("id => window.backstay.getVersion(id)", newest["id"])["changes"]
    assert [(c["action"], c["recordId"], c["fields"]) for c in changes] == [
        ("update", "g-1", ["/firstName"])]
    assert not [p for p in status(page)["problems"] if p["area"] != "notice"]
