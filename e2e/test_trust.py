"""Trust: one regression test per way the history could go wrong or recording stop silently.
Real Chromium, real server, real IndexedDB."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from damage import fill
from harness import (
    RECORDERS,
    Server,
    choose_service_worker,
    head_state,
    recorded_by,
    settled,
    status,
    versions,
    wait_for,
    wait_ready,
    wait_status,
    wait_versions,
)
from stores import STALE_HEADS_JS

GUESTS = "w3-hotel-guests"


def open_app(page: Any, server: Server) -> None:
    page.goto(server.url + "/")
    wait_ready(page)


def delete_database(page: Any, name: str) -> None:
    """Delete an IndexedDB database of the page's origin, as the browser or a user might."""
    page.evaluate("""(name) => new Promise((resolve) => {
        const req = indexedDB.deleteDatabase(name);
        req.onsuccess = req.onerror = req.onblocked = () => resolve(); })""", name)


def draining_and_waiting_tabs(context: Any, server: Server) -> tuple[Any, Any]:
    """Two PMS tabs: the first drains, the second's engine waits for the lock."""
    first = context.new_page()
    open_app(first, server)
    wait_versions(first, 1)
    second = context.new_page()
    open_app(second, server)
    assert status(second)["drainer"] is False
    return first, second


def announcing_tab(context: Any, server: Server) -> Any:
    """A page that plays a PMS tab announcing a write to w3-hotel-guests (its intent) that it
    never journals: alive (it holds its tab lock, tab "writer") until it is closed."""
    writer = context.new_page()
    writer.goto(server.url + "/static/backstay/panel.css")
    writer.evaluate("""() => new Promise((held) => navigator.locks.request('backstay-tab-writer',
        () => { held(); return new Promise(() => {}); }))""")
    writer.evaluate("""() => { const channel = new BroadcastChannel('backstay-journal');
        channel.postMessage({type: 'intent', key: 'w3-hotel-guests', collection: '', tab: 'writer',
                             start: Date.now()});
        channel.close(); }""")
    return writer


def test_unusual_but_valid_json_is_recorded_and_never_wedges_the_engine(page: Any, server: Server) -> None:
    open_app(page, server)
    wait_versions(page, 1)
    # A name cut in half by a field-length limit: a lone surrogate (JSON.stringify escapes it).
    page.evaluate("""() => window.spark.kv.set('w3-hotel-guests',
        [{id: 'g-1', firstName: '😀'.slice(0, 1), lastName: 'Cut'}])""")
    wait_versions(page, 2)
    # A number beyond a double, written by a client that is not JavaScript.
    server.kv_set_text(
        GUESTS, '[{"id":"g-1","firstName":"A","balance":1e400,"big":123456789012345678901234567890}]')
    page.reload()
    wait_ready(page)  # ready resolves: the engine is not wedged
    found = wait_versions(page, 3)
    detail = page.evaluate("id => window.backstay.getVersion(id)", found[0]["id"])
    assert "while Backstay was not running" in detail["description"]
    after = detail["changes"][0]["after"]
    assert after["balance"] == float("inf")  # JavaScript reads 1e400 as Infinity
    surrogate = page.evaluate("id => window.backstay.stateAt(id)", found[1]["id"])[GUESTS][0]["firstName"]
    assert surrogate == page.evaluate("() => '😀'.slice(0, 1)")
    page.evaluate("() => window.spark.kv.set('w3-hotel-guests', [{id: 'g-2', firstName: 'Next'}])")
    assert len(wait_versions(page, 4)) == 4
    assert status(page)["lastError"] == ""


def test_storage_full_is_reported_and_the_writes_recorded_once_there_is_room(
        browser_type: Any, browser_type_launch_args: dict[str, Any], small_disk: Path,
        server: Server) -> None:
    context = browser_type.launch_persistent_context(str(small_disk / "profile"), **browser_type_launch_args)
    try:
        page = context.pages[0]
        open_app(page, server)
        wait_versions(page, 1)
        # Fill the disk up to 10 MiB: the browser's quota (a share of the disk) is far from
        # reached, the disk itself is full. The filler is what the user frees later.
        filler = small_disk / "filler"
        filler.write_bytes(b"\0" * (shutil.disk_usage(small_disk).free - 10 * 1024 * 1024))
        keys = []
        for n in range(6):
            key = f"w3-hotel-guests-{n}"
            answer = page.evaluate("""async (key) => {
                const guests = Array.from({length: 26000}, (_, i) => ({id: 'g-' + i, firstName: 'Guest ' + i,
                    note: Array.from({length: 12}, () => Math.random().toString(36).slice(2)).join(' ')}));
                const res = await fetch('/_spark/kv/' + key, {method: 'POST', body: JSON.stringify(guests)});
                return res.status; }""", key)
            assert answer == 200  # the PMS's own writes are unaffected
            keys.append(key)
            page.wait_for_timeout(3000)
            if "Storage full" in status(page)["lastError"]:
                break
        assert "Storage full: delete old versions or free space" in status(page)["lastError"]
        banner = page.get_by_test_id("backstay-banner")
        banner.wait_for(timeout=15_000)
        assert "Storage full" in banner.inner_text()
        assert status(page)["waiting"] >= 1
        filler.unlink()  # room again
        wait_for(page, lambda: status(page)["lastError"] == "" and status(page)["waiting"] == 0,
                 f"the waiting writes to be recorded (disk: {shutil.disk_usage(small_disk)})", timeout_s=90)
        head = head_state(page)
        for key in keys:
            assert head[key] == server.kv_get(key)
        banner.wait_for(state="detached", timeout=15_000)
    finally:
        context.close()


@pytest.mark.parametrize("recorder", ["worker", "service-worker"])
def test_a_write_made_while_the_disk_is_full_to_the_last_byte_is_told_and_read_back_by_its_author(
        browser_type: Any, browser_type_launch_args: dict[str, Any], small_disk: Path,
        server: Server, recorder: str) -> None:
    """No room even for the journal entry: the PMS's write is saved on its server all the same,
    the banner says Backstay could not journal it, and the engine reads it back from the store at
    once, as that user's write (not as a change made while Backstay was not running). Recorded
    by the page (its journal worker), or by Backstay's service worker (a page loaded again)."""
    context = browser_type.launch_persistent_context(str(small_disk / "profile"), **browser_type_launch_args)
    try:
        page = context.pages[0]
        open_app(page, server)
        wait_versions(page, 1)
        if recorder == "service-worker":
            choose_service_worker(page)
        assert page.evaluate("() => window.__backstayCapture.writer()") == recorder
        filler = fill(small_disk)
        # A body of 16 KB: more than the slack of the last file-system block of any file the
        # browser appends to (a small entry could still fit in it).
        page.evaluate("""() => window.spark.kv.set('w3-hotel-guests',
            [{id: 'g-1', firstName: 'Full', note: 'n'.repeat(16384)}])""")
        assert server.kv_get(GUESTS) == [{"id": "g-1", "firstName": "Full", "note": "n" * 16384}]
        banner = page.get_by_test_id("backstay-banner")
        wait_for(page, lambda: banner.count() and "could not store 1 write(s) of this page in its journal"
                 in banner.inner_text(), "the banner to say the write was not journaled")
        assert "Backstay reads back from the store" in banner.inner_text()
        filler.unlink()  # room again: Backstay opens its storage again by itself
        wait_for(page, lambda: page.evaluate(
            "() => window.backstay.listVersions().then(() => true, () => false)"), "the storage reopened")
        found = wait_for(page, lambda: [v for v in versions(page) if "could not be stored in Backstay's "
                                        "journal" in v["description"]], "the write read back")
        assert len(found) == 1 and found[0]["createdBy"] == "admin", found
        state = page.evaluate("id => window.backstay.stateAt(id)", found[0]["id"])
        assert state[GUESTS] == server.kv_get(GUESTS)
        assert [v["seq"] for v in versions(page)] == [2, 1]  # recorded once
        # Recording goes on from the journal.
        page.evaluate("""() => window.spark.kv.set('w3-hotel-guests',
            [{id: 'g-1', firstName: 'After', note: 'n'.repeat(16384)}])""")
        newest = wait_versions(page, 3)[0]
        detail = page.evaluate("id => window.backstay.getVersion(id)", newest["id"])
        assert [(c["action"], c["recordId"], c["fields"]) for c in detail["changes"]] == [
            ("update", "g-1", ["/firstName"])]
        assert "read back" not in detail["description"], detail["description"]
        wait_for(page, lambda: not [p for p in status(page)["problems"] if p["area"] != "notice"],
                 "the engine's problems to clear")
    finally:
        context.close()


def test_a_first_start_on_a_full_disk_records_no_half_baseline_and_records_it_once_there_is_room(
        browser_type: Any, browser_type_launch_args: dict[str, Any], small_disk: Path,
        server: Server) -> None:
    """The disk fills before the first start: the baseline (a 6 MB hotel that compresses to
    about half) cannot be written. The user is told, no version is half-written, and once room is
    made the baseline is recorded whole and the next write exactly."""
    guests = [{"id": f"g-{n}", "firstName": f"Guest {n}", "note": os.urandom(100).hex()}
              for n in range(30000)]
    server.kv_set(GUESTS, guests)
    server.kv_set("w3-hotel-rooms", [{"id": "r1", "floor": 1}])
    context = browser_type.launch_persistent_context(str(small_disk / "profile"), **browser_type_launch_args)
    try:
        page = context.pages[0]
        page.goto(server.url + "/_spark/user")  # the profile exists; Backstay has not started
        filler = small_disk / "filler"
        filler.write_bytes(b"\0" * (shutil.disk_usage(small_disk).free - 1024 * 1024))
        page.goto(server.url + "/")
        wait_ready(page)
        full = wait_status(page, lambda s: "Storage full" in s["lastError"], "storage full reported")
        assert full["headVersionId"] is None, json.dumps(full)
        banner = page.get_by_test_id("backstay-banner")
        banner.wait_for(timeout=15_000)
        assert "Storage full" in banner.inner_text()
        filler.unlink()  # room again
        wait_status(page, lambda s: s["lastError"] == "" and s["headVersionId"] is not None,
                    "the baseline recorded once there is room", timeout_s=90)
        found = versions(page)
        assert len(found) == 1 and sorted(found[0]["modules"]) == [GUESTS, "w3-hotel-rooms"]
        assert page.evaluate("() => window.backstay.verify({full: true})")["ok"] is True
        assert page.evaluate("id => window.backstay.stateAt(id)", found[0]["id"])[GUESTS] == guests
        guests[5] = {**guests[5], "firstName": "Changed"}
        page.evaluate("([key, value]) => window.spark.kv.set(key, value)", [GUESTS, guests])
        found = wait_versions(page, 2, timeout_s=60)
        detail = page.evaluate("id => window.backstay.getVersion(id)", found[0]["id"])
        assert [(c["action"], c["recordId"]) for c in detail["changes"]] == [("update", "g-5")]
    finally:
        context.close()


def test_concurrent_writes_to_one_key_end_with_the_value_the_store_kept(context: Any, server: Server) -> None:
    first, second = context.new_page(), context.new_page()
    open_app(first, server)
    wait_versions(first, 1)
    open_app(second, server)
    burst = """(tag) => Promise.all(Array.from({length: 10}, (_, i) => fetch('/_spark/kv/w3-hotel-guests',
        {method: 'POST', body: JSON.stringify([{id: 'g-' + tag + '-' + i, firstName: tag + i}])})))"""
    for _ in range(3):
        first.evaluate(f"() => {{ ({burst})('a'); }}")
        second.evaluate(f"() => {{ ({burst})('b'); }}")
        wait_for(first, lambda: settled(first, server, GUESTS), "the engine to settle")
    # Every version's value of the key is one the store held.
    values = {str(server.kv_get(GUESTS))}
    for tag in "ab":
        values |= {str([{"id": f"g-{tag}-{i}", "firstName": f"{tag}{i}"}]) for i in range(10)}
    for version in versions(first)[:-1]:
        state = first.evaluate("id => window.backstay.stateAt(id)", version["id"])
        assert str(state[GUESTS]) in values


def test_a_first_start_with_queued_writes_invents_no_history(page: Any, server: Server) -> None:
    page.goto(server.url + "/", wait_until="commit")
    page.wait_for_function("() => window.__backstayCapture !== undefined")
    page.evaluate("""async () => {
        for (const name of ['V1', 'V2', 'V3']) {
            await fetch('/_spark/kv/w3-hotel-guests', {method: 'POST',
                body: JSON.stringify([{id: 'g-1', firstName: name}])});
        } }""")
    wait_ready(page)
    page.wait_for_timeout(2500)
    # The engine may start before, between or after the writes: whatever the baseline saw, the
    # history goes forward through what the store held (V1, V2, V3), never back.
    states = [page.evaluate("id => window.backstay.stateAt(id)", v["id"]).get(GUESTS)
              for v in reversed(versions(page))]
    held = [None, *([{"id": "g-1", "firstName": name}] for name in ("V1", "V2", "V3"))]
    positions = [held.index(state) for state in states]
    assert positions == sorted(positions) and len(set(positions)) == len(positions), states
    assert states[-1] == held[-1]


def test_a_deleted_journal_is_reported_and_later_edits_are_versioned(page: Any, server: Server) -> None:
    open_app(page, server)
    page.evaluate("() => window.spark.kv.set('w3-hotel-guests', [{id: 'g-1', firstName: 'Ada'}])")
    wait_versions(page, 2)
    delete_database(page, "backstay-journal")
    page.evaluate("() => window.spark.kv.set('w3-hotel-guests', [{id: 'g-1', firstName: 'Grace'}])")
    wait_for(page, lambda: settled(page, server, GUESTS), "the edit after the reset to be recorded")
    assert "capture journal was deleted" in status(page)["lastError"]
    page.evaluate("() => window.spark.kv.set('w3-hotel-guests', [{id: 'g-1', firstName: 'Linus'}])")
    wait_for(page, lambda: head_state(page)[GUESTS][0]["firstName"] == "Linus", "a later edit")


def test_a_history_deleted_while_the_page_is_open_is_reported_not_hidden(page: Any, server: Server) -> None:
    open_app(page, server)
    page.evaluate("() => window.spark.kv.set('w3-hotel-guests', [{id: 'g-1', firstName: 'Ada'}])")
    wait_versions(page, 2)
    second = page.context.new_page()  # another PMS tab: its engine only reads
    open_app(second, server)
    assert status(second)["drainer"] is False
    delete_database(page, "backstay")
    page.evaluate("() => window.spark.kv.set('w3-hotel-guests', [{id: 'g-1', firstName: 'Grace'}])")
    wait_for(page, lambda: "history was deleted" in status(page)["lastError"], "the loss to be reported")
    wait_for(page, lambda: settled(page, server, GUESTS), "recording to go on")
    # The other tab's connection was closed with the database: it opens the new one to read.
    wait_for(second, lambda: versions(second) == versions(page), "the other tab to read the new history")
    second.close()
    page.reload()
    wait_ready(page)
    assert "history was deleted" in status(page)["lastError"]  # still said after a reload
    page.evaluate("() => window.backstay.acknowledgeNotices()")
    assert "history was deleted" not in status(page)["lastError"]


def test_a_history_wiped_while_no_page_was_open_is_reported(page: Any, server: Server) -> None:
    open_app(page, server)
    page.evaluate("() => window.spark.kv.set('w3-hotel-guests', [{id: 'g-1', firstName: 'Ada'}])")
    wait_versions(page, 2)
    page.reload()  # the marker in the store is refreshed at every start
    wait_ready(page)
    marker = server.kv_get("backstay:history")
    assert marker["versions"] == 2 and marker["by"] == "admin"
    # The browser's storage is cleared while no Backstay page is open.
    page.goto(server.url + "/_spark/user")
    delete_database(page, "backstay")
    open_app(page, server)
    problems = status(page)["lastError"]
    assert "This browser has no Backstay history, but this hotel has one" in problems
    assert "2 versions" in problems
    found = versions(page)
    assert len(found) == 1 and "after its storage was lost" in found[0]["description"]


@pytest.mark.parametrize("recorder", RECORDERS)
def test_xhr_and_beacon_writes_are_captured_with_their_author(page: Any, server: Server,
                                                              recorder: str) -> None:
    open_app(page, server)
    wait_versions(page, 1)
    recorded_by(page, recorder)
    page.evaluate("""() => new Promise((resolve) => {
        const xhr = new XMLHttpRequest();
        xhr.open('POST', '/_spark/kv/w3-hotel-guests');
        xhr.onloadend = resolve;
        xhr.send(JSON.stringify([{id: 'x-1', firstName: 'Xhr'}])); })""")
    found = wait_versions(page, 2)
    assert found[0]["createdBy"] == "admin"
    assert "while Backstay was not running" not in found[0]["description"]
    assert page.evaluate("""() => navigator.sendBeacon('/_spark/kv/w3-hotel-guests',
        JSON.stringify([{id: 'x-1', firstName: 'Xhr'}, {id: 'b-1', firstName: 'Beacon'}]))""")
    found = wait_versions(page, 3, timeout_s=30)
    assert found[0]["createdBy"] == "admin"
    detail = page.evaluate("id => window.backstay.getVersion(id)", found[0]["id"])
    assert [(c["action"], c["recordId"]) for c in detail["changes"]] == [("create", "b-1")]


@pytest.mark.parametrize("recorder", RECORDERS)
def test_fetch_bodies_of_every_kind_are_captured_exactly(page: Any, server: Server, recorder: str) -> None:
    open_app(page, server)
    wait_versions(page, 1)
    recorded_by(page, recorder)
    page.evaluate("""async () => {
        const url = '/_spark/kv/w3-hotel-guests';
        const body = (name) => JSON.stringify([{id: 'g-1', firstName: name}]);
        await fetch(url, {method: 'POST', body: new Blob([body('Blob')])});
        await fetch(url, {method: 'POST', body: new TextEncoder().encode(body('Bytes')).buffer});
        await fetch(url, {method: 'POST', body: new TextEncoder().encode(body('View'))});
        await fetch(new Request(url, {method: 'POST', body: body('Request')}));
    }""")
    found = wait_versions(page, 5)
    names = [page.evaluate("id => window.backstay.stateAt(id)", v["id"])[GUESTS][0]["firstName"]
             for v in reversed(found[:4])]
    assert names == ["Blob", "Bytes", "View", "Request"]
    assert all(v["createdBy"] == "admin" and "not running" not in v["description"] for v in found[:4])


@pytest.mark.parametrize("recorder", RECORDERS)
def test_raw_string_bodies_with_a_lone_surrogate_are_recorded_as_sent_small_and_large(
        page: Any, server: Server, recorder: str) -> None:
    """A client that is not JSON.stringify sends a raw lone surrogate in a string body: fetch
    sends it as U+FFFD, and so does the journal, whether the body is kept as a string (small) or
    as a Blob of its UTF-8 (over 64 Ki characters): each version is what the store holds, taken
    from the body (not read back), and the history verifies in full. The service worker sees
    the bytes fetch sends, so it keeps U+FFFD too."""
    open_app(page, server)
    wait_versions(page, 1)
    recorded_by(page, recorder)
    page.evaluate("""async () => {
        const url = '/_spark/kv/w3-hotel-guests';
        const lone = String.fromCharCode(0xD800);  // raw, not escaped as JSON.stringify would
        const body = (name, pad) =>
            '[{"id":"g-1","firstName":"' + name + lone + '","pad":"' + 'x'.repeat(pad) + '"}]';
        await fetch(url, {method: 'POST', body: body('Small ', 10)});
        await fetch(url, {method: 'POST', body: body('Large ', 70000)});
    }""")
    found = wait_versions(page, 3)
    live = server.kv_get(GUESTS)
    assert live[0]["firstName"] == "Large \ufffd" and len(live[0]["pad"]) == 70000
    states = [page.evaluate("id => window.backstay.stateAt(id)", v["id"])[GUESTS][0]["firstName"]
              for v in reversed(found[:2])]
    assert states == ["Small \ufffd", "Large \ufffd"]
    assert all("not running" not in v["description"] and "store kept" not in v["description"]
               for v in found[:2])
    assert page.evaluate("() => window.backstay.verify({full: true})")["ok"] is True


def test_writes_of_a_tab_closed_mid_burst_keep_their_author(context: Any, server: Server) -> None:
    keeper = context.new_page()
    open_app(keeper, server)
    wait_versions(keeper, 1)
    closing = context.new_page()
    open_app(closing, server)
    closing.evaluate("""() => { for (let i = 0; i < 15; i++) {
        fetch('/_spark/kv/w3-hotel-guests', {method: 'POST',
              body: JSON.stringify(Array.from({length: i + 1},
                                             (_, n) => ({id: 'c-' + n, firstName: 'C' + n})))});
        } }""")
    closing.close()
    wait_for(keeper, lambda: settled(keeper, server, GUESTS), "the burst to be settled", timeout_s=60)
    assert all(version["createdBy"] == "admin" for version in versions(keeper))


def test_a_write_announced_before_the_draining_tab_closed_is_read_back_by_the_engine_that_takes_over(
        context: Any, server: Server) -> None:
    """A tab announces a write (its intent) and never journals it: it closes first. The engine
    that heard it and drains goes away before it reads the key back (its tab closed too), and
    the write reaches the store after the next engine's first round compared the store with the
    head. The next engine heard the intent while it waited for the lock: it reads the key back
    once the writing tab is gone, instead of leaving the write to the next start."""
    first, second = draining_and_waiting_tabs(context, server)
    # The writing tab: alive (it holds its tab lock) until its write has reached the store.
    writer = announcing_tab(context, server)
    first.wait_for_timeout(500)
    first.close()
    wait_for(second, lambda: "start_ms" in status(second)["timings"], "the second tab to take over")
    assert status(second)["drainer"] is True
    before = len(versions(second))
    server.kv_set(GUESTS, [{"id": "late", "firstName": "Late"}])
    writer.close()
    found = wait_for(second, lambda: len(versions(second)) > before and versions(second),
                     "the announced write to be read back", timeout_s=40)
    assert found[0]["description"] == (
        f"Writes to {GUESTS} from a tab that closed before it could journal them")
    assert found[0]["createdBy"] == "admin"
    assert head_state(second)[GUESTS] == [{"id": "late", "firstName": "Late"}]


def test_a_write_the_draining_engine_read_back_is_not_read_back_again_by_the_engine_that_takes_over(
        context: Any, server: Server) -> None:
    """The engine that drains reads back the write of a tab that closed before journaling it,
    and says so on the journal channel: the engine waiting for the lock forgets that write.
    Taking over later, it does not read the key back again for it, so a change made since (here
    by another client of the store, unheard of) is not put down to the closed tab: it is found
    by comparing the store with the head, as any change made while no engine listened."""
    closed_tab = f"Writes to {GUESTS} from a tab that closed before it could journal them"
    first, second = draining_and_waiting_tabs(context, server)
    writer = announcing_tab(context, server)
    server.kv_set(GUESTS, [{"id": "late", "firstName": "Late"}])
    writer.close()
    found = wait_for(first, lambda: len(versions(first)) > 1 and versions(first),
                     "the announced write to be read back", timeout_s=40)
    assert found[0]["description"] == closed_tab
    # Another client of the store changes the key; no engine hears of it.
    server.kv_set(GUESTS, [{"id": "late", "firstName": "Later"}])
    before = len(found)
    first.close()
    wait_for(second, lambda: status(second)["drainer"] and "start_ms" in status(second)["timings"],
             "the second tab to take over")
    found = wait_for(second, lambda: len(versions(second)) > before and versions(second),
                     "the change to be found", timeout_s=20)
    assert [v["description"] for v in found[:len(found) - before]] == [
        "Changes found in the store that were made while Backstay was not running"]
    assert head_state(second)[GUESTS] == [{"id": "late", "firstName": "Later"}]


def test_an_unknown_version_is_a_clear_error(page: Any, server: Server) -> None:
    open_app(page, server)
    message = page.evaluate("""async () => {
        try { await window.backstay.getVersion('no-such-id'); return 'resolved'; }
        catch (error) { return error.message; } }""")
    assert message == "No version 'no-such-id'"


def test_a_reload_before_the_head_texts_are_written_loses_nothing(page: Any, server: Server) -> None:
    """The engine writes a key's head text only when idle: a page reloaded (or closed) right
    after a write starts from the head version's state and records the next write exactly."""
    open_app(page, server)
    wait_versions(page, 1)
    write = """(name) => fetch('/_spark/kv/w3-hotel-guests', {method: 'POST',
        body: JSON.stringify([{id: 'g-1', firstName: name}, {id: 'g-2', firstName: 'Bo'}])})"""
    page.evaluate(write, "Ann")
    wait_versions(page, 2)
    assert page.evaluate(STALE_HEADS_JS) == [GUESTS]  # reloaded before the idle write
    page.reload()
    wait_ready(page)
    page.evaluate(write, "Cy")
    newest = wait_versions(page, 3)[0]
    changes = page.evaluate("id => window.backstay.getVersion(id)", newest["id"])["changes"]
    assert [(c["action"], c["recordId"], c["fields"]) for c in changes] == [
        ("update", "g-1", ["/firstName"])]
    wait_for(page, lambda: settled(page, server, GUESTS), "the head to hold the store")
    wait_for(page, lambda: page.evaluate(STALE_HEADS_JS) == [], "the head texts to be written")
    assert not [p for p in status(page)["problems"] if p["area"] != "notice"]


#: Once the engine is ready: holds a readwrite transaction on the history's `meta` store (kept
#: alive by chained reads until the page closes), so that the engine can write no head text
#: meanwhile, and answers how many keys the head pointer's records, read in it, say are stale.
HOLD_META_JS = """async () => {
    await window.backstay.ready;
    const db = await new Promise((resolve, reject) => {
        const open = indexedDB.open('backstay');
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
    });
    const store = db.transaction('meta', 'readwrite').objectStore('meta');
    return new Promise((resolve) => {
        // The baseline rewrote the pointer's records: each says whether its head text is stale.
        const first = store.getAll(IDBKeyRange.bound('head/', 'head/\\uffff'));
        first.onsuccess = () => {
            const records = first.result.map((bytes) => JSON.parse(new TextDecoder().decode(bytes)));
            resolve(records.filter((record) => record.stale).length);
            const keep = () => { store.get('head').onsuccess = keep; };
            keep();
        };
    });
}"""


def test_a_page_closed_before_the_baselines_head_texts_are_written_loses_nothing(
        context: Any, server: Server) -> None:
    """The first start is ready once its baseline is committed; the baseline's head texts are
    written right after. A page closed before then leaves keys stale: the next start reads them
    from the baseline's checkpoint, records the next write exactly and writes the texts."""
    keys = [GUESTS, "w3-hotel-reservations", "w3-hotel-invoices", "w3-hotel-housekeeping"]
    for n, key in enumerate(keys):
        rows = [{"id": f"{key[9:12]}-{i}", "note": f"row {i} " * 12, "n": n} for i in range(6000)]
        server.kv_set(key, rows)
    first = context.new_page()
    first.goto(server.url + "/")
    first.wait_for_function("() => window.backstay !== undefined", timeout=60_000)
    assert first.evaluate(HOLD_META_JS), "the head texts were written before the engine said it was ready"
    first.close()
    # A page of the origin that runs no engine: the history as the closed page left it.
    bystander = context.new_page()
    bystander.goto(server.url + "/_spark/user")
    assert bystander.evaluate(STALE_HEADS_JS), "the closed page's engine wrote every head text"
    bystander.close()
    page = context.new_page()
    open_app(page, server)
    assert len(versions(page)) == 1
    guests = server.kv_get(GUESTS)
    guests[17] = {**guests[17], "note": "moved to 204"}
    page.evaluate("(body) => fetch('/_spark/kv/w3-hotel-guests', {method: 'POST', body})", json.dumps(guests))
    newest = wait_versions(page, 2)[0]
    changes = page.evaluate("id => window.backstay.getVersion(id)", newest["id"])["changes"]
    assert [(c["action"], c["recordId"], c["fields"]) for c in changes] == [("update", "gue-17", ["/note"])]
    wait_for(page, lambda: page.evaluate(STALE_HEADS_JS) == [], "the head texts to be written")
    assert page.evaluate("() => window.backstay.verify({full: true})")["ok"] is True
    assert head_state(page) == {key: server.kv_get(key) for key in keys}
    assert not [p for p in status(page)["problems"] if p["area"] != "notice"]
