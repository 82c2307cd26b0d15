"""A capture journal damaged on disk: the file that holds a write's body is gone (deleted by a
disk cleaner, or lost with a bad sector). The engine cannot read that body, ever: it records
the write from the store instead, says so, and goes on with the journal - it never stays stuck
retrying a read that cannot succeed. Real Chromium, a profile on disk, real IndexedDB."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

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


def _files(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


def test_a_journal_body_whose_file_is_gone_is_read_from_the_store_and_the_journal_goes_on(
        disk_page: Any, server: Server, tmp_path: Path) -> None:
    page = disk_page
    page.goto(server.url + "/")
    wait_ready(page)
    wait_versions(page, 1)
    # No engine runs while the damaged entry is made.
    open_origin_without_engine(page, server.url)
    page.wait_for_timeout(1000)
    indexeddb = tmp_path / "profile" / "Default" / "IndexedDB"
    before = _files(indexeddb)
    value = [{"id": "g-1", "firstName": "Lost", "notes": "x" * 100_000}]
    server.kv_set(GUESTS, value)  # the write reached the store
    page.evaluate(ADD_ENTRY_JS, json.dumps(value))
    made = {path for path in _files(indexeddb) - before if ".indexeddb.blob" in str(path)}
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
