"""Capture in Backstay's service worker (static/capture_sw.js): a page it controls wraps nothing,
every kind of write is recorded once, by its author, and the PMS's own work after a write is no
longer charged to Backstay's scripts. Real Chromium, real server, real IndexedDB."""

from __future__ import annotations

from typing import Any

from faults import add_fault, clear_faults
from harness import (
    JOURNAL_JS,
    Server,
    choose_service_worker,
    create_guest_through_the_ui,
    settled_history,
    versions,
    wait_ready,
    wait_versions,
)

GUESTS = "w3-hotel-guests"
ADA = {"id": "g-1", "firstName": "Ada", "lastName": "Okafor", "phone": "+44 20 7946 0000"}

#: Whether the page's write calls are the browser's own (nothing of Backstay's wraps them).
NATIVE_CALLS_JS = """() => [window.fetch, XMLHttpRequest.prototype.send, XMLHttpRequest.prototype.open,
    navigator.sendBeacon].every((call) => String(call).includes('[native code]'))"""

#: Makes one write whose answer is followed by 120 ms of work in the continuation of `fetch`
#: (as the PMS renders after a save), and gives the long animation frames seen meanwhile: the
#: script each of their scripts' time is charged to.
LONG_FRAME_AFTER_WRITE_JS = """async (key) => {
    const frames = [];
    const observer = new PerformanceObserver((list) => {
        for (const frame of list.getEntries()) frames.push(...frame.scripts.map((s) => ({
            source: s.sourceURL, invoker: s.invoker, ms: s.duration})));
    });
    observer.observe({type: 'long-animation-frame'});
    await fetch('/_spark/kv/' + key, {method: 'POST', body: JSON.stringify([{id: 'r-1', n: 1}])})
        .then(() => { const until = performance.now() + 120; while (performance.now() < until) {} });
    await new Promise((resolve) => setTimeout(resolve, 300));
    observer.disconnect();
    return frames;
}"""


def open_app(page: Any, server: Server) -> None:
    page.goto(server.url + "/")
    wait_ready(page)


def stop_service_workers(page: Any) -> None:
    """Stops the browser's service workers over CDP (as the browser does an idle or crashed
    one), and waits until one is reported stopped."""
    cdp = page.context.new_cdp_session(page)
    states: list[str] = []
    cdp.on("ServiceWorker.workerVersionUpdated", lambda event: states.extend(
        version["runningStatus"] for version in event["versions"]))
    cdp.send("ServiceWorker.enable")
    page.wait_for_timeout(200)
    states.clear()  # only what follows the stop counts
    cdp.send("ServiceWorker.stopAllWorkers")
    for _ in range(50):
        if "stopped" in states:
            break
        page.wait_for_timeout(100)
    assert "stopped" in states, states


def open_under_service_worker(page: Any, server: Server) -> None:
    open_app(page, server)
    choose_service_worker(page)


def test_a_page_the_service_worker_controls_wraps_nothing_and_every_kind_of_write_is_recorded_once(
        page: Any, server: Server) -> None:
    server.kv_set(GUESTS, [ADA])
    open_app(page, server)
    wait_versions(page, 1)
    assert page.evaluate("() => window.__backstayCapture.writer()") == "worker"
    assert page.evaluate(NATIVE_CALLS_JS) is False  # the first load records in the page
    open_under_service_worker(page, server)
    assert page.evaluate(NATIVE_CALLS_JS) is True

    # A guest created through the PMS's own UI, then a write by each way a page can send one.
    create_guest_through_the_ui(page, "Grace", "Hopper", "+1 555 0100")
    wait_versions(page, 2)
    page.evaluate("""async () => {
        await fetch('/_spark/kv/sw-fetch', {method: 'POST', body: JSON.stringify({via: 'fetch'})});
        await new Promise((resolve) => {
            const xhr = new XMLHttpRequest();
            xhr.open('POST', '/_spark/kv/sw-xhr');
            xhr.onloadend = resolve;
            xhr.send(JSON.stringify({via: 'xhr'}));
        });
        navigator.sendBeacon('/_spark/kv/sw-beacon', JSON.stringify({via: 'beacon'}));
        await fetch('/_spark/kv/sw-fetch', {method: 'DELETE'});
        // A named collection's write is journaled too (and never versioned): the worker's
        // routes take writes whatever their query.
        await fetch('/_spark/kv/sw-other?collection=other', {method: 'POST', body: '{"named": true}'});
    }""")
    found = wait_versions(page, 6)
    page.wait_for_timeout(1500)  # anything recorded twice would show up by now
    found = versions(page)
    assert len(found) == 6, [(v["modules"], v["description"]) for v in found]
    # (the beacon is sent when the browser gets to it, the writes after it need not wait)
    assert sorted(version["modules"][0] for version in found[:4]) == [
        "sw-beacon", "sw-fetch", "sw-fetch", "sw-xhr"]
    assert found[4]["modules"] == [GUESTS]
    created = page.evaluate("id => window.backstay.getVersion(id)", found[4]["id"])
    assert [(c["action"], c["after"]["firstName"]) for c in created["changes"]] == [("create", "Grace")]
    assert {version["createdBy"] for version in found[:5]} == {"admin"}
    today = page.evaluate("id => window.backstay.stateAt(id)", found[0]["id"])
    assert today["sw-beacon"] == {"via": "beacon"} and today["sw-xhr"] == {"via": "xhr"}
    assert "sw-fetch" not in today
    # The page heard of each of its writes from the service worker.
    assert page.evaluate("() => window.__backstayCapture.stats") == {
        "recorded": 6, "withoutBody": 0, "failed": 0, "lastError": None}
    assert page.evaluate("() => window.backstay.verify({full: true})")["ok"] is True


def test_the_pms_work_after_a_write_is_charged_to_the_pms_not_to_backstay(page: Any, server: Server) -> None:
    open_app(page, server)
    wait_versions(page, 1)
    # In a page that records its own writes, Chromium charges the work after a write to the
    # script that wrapped fetch (this is what the service worker is for).
    wrapped = page.evaluate(LONG_FRAME_AFTER_WRITE_JS, "loaf-1")
    assert any("capture.js" in script["source"] for script in wrapped), wrapped
    open_under_service_worker(page, server)
    frames = page.evaluate(LONG_FRAME_AFTER_WRITE_JS, "loaf-2")
    assert frames and sum(script["ms"] for script in frames) >= 100, frames
    assert not [script for script in frames if "/static/" in script["source"]], frames
    found = wait_versions(page, 3)
    assert [version["modules"] for version in found[:2]] == [["loaf-2"], ["loaf-1"]]


def test_a_restore_written_by_the_engine_is_not_recorded_again_by_the_service_worker(
        page: Any, server: Server) -> None:
    server.kv_set(GUESTS, [{"id": "g-1", "firstName": "Ada"}])
    open_under_service_worker(page, server)
    page.evaluate("() => window.spark.kv.set('w3-hotel-guests', [{id: 'g-1', firstName: 'Bea'}])")
    found = wait_versions(page, 2)
    # Every write the service worker takes is announced on the journal channel ("intent").
    page.evaluate("""() => { window.__intents = [];
        new BroadcastChannel('backstay-journal').onmessage = (event) => {
            if (event.data.type === 'intent') window.__intents.push(event.data); }; }""")
    page.evaluate("() => window.spark.kv.set('before-restore', 1)")
    page.wait_for_function("() => window.__intents.length === 1")
    done = page.evaluate("id => window.backstay.restoreVersion(id)", found[1]["id"])
    assert done["nothingToDo"] is False
    page.wait_for_timeout(2000)  # a restore recorded twice would show up by now
    assert server.kv_get(GUESTS) == [{"id": "g-1", "firstName": "Ada"}]
    assert [intent["key"] for intent in page.evaluate("() => window.__intents")] == ["before-restore"]
    after = versions(page)
    assert [version["changeType"] for version in after] == ["restore", "auto", "auto", "auto"]


def test_a_tab_closed_while_its_write_is_in_flight_is_recorded_by_the_service_worker(
        context: Any, fault_server: Server) -> None:
    server = fault_server
    watcher = context.new_page()
    open_app(watcher, server)
    wait_versions(watcher, 1)
    writer = context.new_page()
    open_under_service_worker(writer, server)
    add_fault(server.url, method="POST", path="/_spark/kv/w3-hotel-guests", action="delay", ms=1500, count=1)
    writer.evaluate("""() => { fetch('/_spark/kv/w3-hotel-guests', {method: 'POST',
        body: JSON.stringify([{id: 'late-1', firstName: 'Late'}])}); }""")
    writer.wait_for_timeout(300)
    writer.close()
    # Recorded with the outcome the worker saw, soon after the answer: a write left unanswered
    # by a closed tab would wait for CLOSED_TAB_GRACE_MS (10 s after its start) to be read back.
    found = wait_versions(watcher, 2, timeout_s=8)
    clear_faults(server.url)
    watcher.wait_for_timeout(1500)
    found = versions(watcher)
    assert len(found) == 2
    detail = watcher.evaluate("id => window.backstay.getVersion(id)", found[0]["id"])
    assert [(c["action"], c["recordId"]) for c in detail["changes"]] == [("create", "late-1")]
    today = watcher.evaluate("id => window.backstay.stateAt(id)", found[0]["id"])
    assert today[GUESTS] == server.kv_get(GUESTS)


def test_a_service_worker_stopped_while_a_write_is_in_flight_leaves_it_read_back_from_the_store(
        page: Any, fault_server: Server) -> None:
    """The browser stops Backstay's service worker (as it may, or as a crash does) while a write
    it sent waits for its answer: the engine sees the worker's lock gone and reads the key back,
    so the history still ends with what the store holds."""
    server = fault_server
    open_under_service_worker(page, server)
    wait_versions(page, 1)
    add_fault(server.url, method="POST", path="/_spark/kv/w3-hotel-guests", action="hang")
    page.evaluate("""() => { fetch('/_spark/kv/w3-hotel-guests', {method: 'POST',
        body: JSON.stringify([{id: 'cut-1', firstName: 'Cut'}])}).catch(() => undefined); }""")
    # Its entry stored, without an outcome: the write is in flight.
    deadline = 100
    while deadline and not [e for e in page.evaluate(JOURNAL_JS) if e["key"] == GUESTS]:
        page.wait_for_timeout(100)
        deadline -= 1
    assert deadline, "the entry was not journaled"
    stop_service_workers(page)
    clear_faults(server.url)  # the held request is answered 503: nothing was written
    server.kv_set(GUESTS, [{"id": "later-1", "firstName": "Later"}])  # the store changes anyway
    # Read back once the stopped worker's lock is gone, well before an unanswered write's own
    # limit (60 s: drain_plan PENDING_LIMIT_MS).
    found = wait_versions(page, 2, timeout_s=30)
    page.wait_for_timeout(1500)
    found = versions(page)
    assert len(found) == 2, found
    today = page.evaluate("id => window.backstay.stateAt(id)", found[0]["id"])
    assert today[GUESTS] == server.kv_get(GUESTS)
    assert page.evaluate("() => window.backstay.verify({full: true})")["ok"] is True
    # The next write is recorded by the service worker, started again.
    page.evaluate("() => window.spark.kv.set('w3-hotel-guests', [{id: 'later-1', firstName: 'Again'}])")
    newest = wait_versions(page, 3)[0]
    assert page.evaluate("id => window.backstay.stateAt(id)", newest["id"])[GUESTS] == [
        {"id": "later-1", "firstName": "Again"}]


REGISTRATIONS_JS = "() => navigator.serviceWorker.getRegistrations().then((found) => found.length)"


def test_the_service_worker_is_registered_only_where_chosen_and_unregistered_once_unchosen(
        page: Any, server: Server) -> None:
    open_app(page, server)
    wait_versions(page, 1)
    page.reload()
    wait_ready(page)
    assert page.evaluate(REGISTRATIONS_JS) == 0  # not chosen: the page records itself
    assert page.evaluate("() => window.__backstayCapture.writer()") == "worker"
    choose_service_worker(page)
    assert page.evaluate(REGISTRATIONS_JS) == 1
    page.evaluate("() => localStorage.removeItem('backstay:capture')")
    page.reload()  # still under the worker: it records this load's writes, then is unregistered
    wait_ready(page)
    assert page.evaluate("() => window.__backstayCapture.writer()") == "service-worker"
    page.evaluate("() => window.spark.kv.set('last-under-it', 1)")
    tries = 50
    while page.evaluate(REGISTRATIONS_JS) and tries:
        page.wait_for_timeout(100)
        tries -= 1
    assert page.evaluate(REGISTRATIONS_JS) == 0
    page.reload()
    wait_ready(page)
    assert page.evaluate("() => window.__backstayCapture.writer()") == "worker"
    assert page.evaluate(NATIVE_CALLS_JS) is False
    page.evaluate("() => window.spark.kv.set('after-it', 1)")
    wait_versions(page, 3)
    page.wait_for_timeout(1000)
    assert [version["modules"] for version in versions(page)[:2]] == [["after-it"], ["last-under-it"]]


def test_two_tabs_under_the_service_worker_writing_one_key_at_once_leave_the_store_s_last_value(
        context: Any, server: Server) -> None:
    """Two tabs, both under the one service worker, each send 6 writes of one key without
    waiting for their answers: the worker records each write once, for the tab that made it,
    and the history ends with what the store kept (the engine reads the key back where writes
    overlapped), verified in full."""
    first, second = context.new_page(), context.new_page()
    open_under_service_worker(first, server)
    wait_versions(first, 1)
    open_app(second, server)
    assert second.evaluate("() => window.__backstayCapture.writer()") == "service-worker"
    journal_before = first.evaluate("() => window.backstay.status()")["journalSeq"]
    # Both tabs start their 6 writes at the same moment (one clock for the browser's pages).
    burst = """([name, at]) => {
        const records = (n) => Array.from({length: n + 1}, (_, i) => ({id: name + i, firstName: name}));
        window.__burst = new Promise((resolve) => setTimeout(resolve, at - Date.now()))
            .then(() => Promise.all(Array.from({length: 6}, (_, n) =>
                fetch('/_spark/kv/w3-hotel-guests', {method: 'POST', body: JSON.stringify(records(n))})
                .then((response) => response.status)))); }"""
    at = first.evaluate("() => Date.now()") + 1000
    first.evaluate(burst, ["a-", at])
    second.evaluate(burst, ["b-", at])
    assert [page.evaluate("() => window.__burst") for page in (first, second)] == [[200] * 6] * 2
    settled_history(first, server, GUESTS)
    # Each write's entry stored once: the journal grew by 12, and each page heard of its 6.
    assert first.evaluate("() => window.backstay.status()")["journalSeq"] == journal_before + 12
    for page in (first, second):
        page.wait_for_function("() => window.__backstayCapture.stats.recorded === 6")
    recorded = [page.evaluate("() => window.__backstayCapture.stats.recorded") for page in (first, second)]
    assert recorded == [6, 6]
    found = versions(first)
    assert 2 <= len(found) <= 13
    assert all(version["createdBy"] == "admin" and "not running" not in version["description"]
               for version in found[:-1]), [version["description"] for version in found]
    assert first.evaluate("() => window.backstay.verify({full: true})")["ok"] is True


#: Whether Backstay's service worker has stored a page's restore mark (meta/stale/<page>) in
#: the journal database.
STALE_MARKS_JS = """() => new Promise((resolve) => {
  const req = indexedDB.open('backstay-journal');
  req.onsuccess = () => {
    const db = req.result;
    if (!db.objectStoreNames.contains('meta')) { db.close(); resolve(false); return; }
    const marks = IDBKeyRange.bound('stale/', 'stale/\uffff');
    const keys = db.transaction('meta').objectStore('meta').getAllKeys(marks);
    keys.onsuccess = () => { db.close(); resolve(keys.result.length > 0); };
    keys.onerror = () => { db.close(); resolve(false); };
  };
  req.onerror = () => resolve(false);
})"""

#: Makes this PMS page one that does not read its data again after a restore (it never calls
#: preventDefault on backstay:restored), so Backstay asks it to reload first.
IGNORES_RESTORES_JS = """() => { const handled = Event.prototype.preventDefault;
    Event.prototype.preventDefault = function () {
        if (this.type !== 'backstay:restored') handled.call(this); }; }"""


def test_a_page_that_did_not_reload_after_a_restore_has_its_save_flagged_even_after_the_worker_restarts(
        context: Any, server: Server) -> None:
    """Under the service worker, a page told of a restore that it did not read its data again
    after saves anyway: the version says it may undo that restore. The worker keeps the mark
    beside the journal, so it holds after the browser stopped and started the worker again; the
    page that made the restore is not marked."""
    server.kv_set(GUESTS, [ADA])
    restorer, stale = context.new_page(), context.new_page()
    open_under_service_worker(restorer, server)
    wait_versions(restorer, 1)
    open_app(stale, server)
    assert stale.evaluate("() => window.__backstayCapture.writer()") == "service-worker"
    stale.evaluate(IGNORES_RESTORES_JS)
    restorer.evaluate("() => window.spark.kv.set('w3-hotel-guests', [])")
    found = wait_versions(restorer, 2)
    done = restorer.evaluate("id => window.backstay.restoreVersion(id)", found[1]["id"])
    restore_id = done["version"]["id"]
    stale.get_by_test_id("backstay-restored").wait_for(timeout=15_000)
    stale.wait_for_function(STALE_MARKS_JS)  # the worker stored the mark beside the journal
    # The browser stops the worker (as it does when idle): the mark must outlive it.
    stop_service_workers(stale)
    stale.evaluate("() => window.spark.kv.set('w3-hotel-guests', [])")  # the data it held
    flagged = wait_versions(restorer, 4)[0]
    assert flagged["description"].startswith(
        f"Saved by a page that had not reloaded after restore {restore_id}"), flagged["description"]
    restorer.evaluate("""() => window.spark.kv.set('w3-hotel-guests',
        [{id: 'g-1', firstName: 'Ada'}, {id: 'g-2', firstName: 'Bea'}])""")
    newest = wait_versions(restorer, 5)[0]
    assert "restore" not in newest["description"], newest["description"]
