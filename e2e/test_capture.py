"""Every write to the store becomes a version: through the demo UI, before Python has loaded,
while no page was open, and from two tabs at once. Real Chromium, real server, real IndexedDB."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from faults import add_fault, list_faults
from harness import (
    RECORDERS,
    RequestLog,
    Server,
    choose_service_worker,
    create_guest_through_the_ui,
    recorded_by,
    versions,
    wait_ready,
    wait_versions,
)

GUESTS = "w3-hotel-guests"


def open_app(page: Any, server: Server) -> None:
    page.goto(server.url + "/")
    wait_ready(page)


def spark_set(page: Any, key: str, value: Any) -> None:
    page.wait_for_function("() => window.spark && window.spark.kv")
    page.evaluate("([key, value]) => window.spark.kv.set(key, value)", [key, value])


def guest(guest_id: str, first: str, last: str = "Okafor") -> dict[str, Any]:
    return {"id": guest_id, "firstName": first, "lastName": last, "phone": "+44 20 7946 0000",
            "loyaltyPoints": 0, "totalStays": 0, "totalSpent": 0, "createdAt": 1, "updatedAt": 1}


def test_create_edit_delete_through_the_ui_gives_three_versions(page: Any, server: Server,
                                                                requests_seen: RequestLog) -> None:
    server.kv_set(GUESTS, [guest("g-1", "Ada")])
    open_app(page, server)
    baseline = wait_versions(page, 1)
    assert len(baseline) == 1 and baseline[0]["changeType"] == "auto"

    create_guest_through_the_ui(page, "Grace", "Hopper", "+1 555 0100")
    created = wait_versions(page, 2)
    assert len(created) == 2
    new_id = next(g["id"] for g in server.kv_get(GUESTS) if g["firstName"] == "Grace")

    row = page.locator(f'tr[data-record-id="{new_id}"]')
    row.get_by_test_id("edit-record").click()
    page.get_by_test_id("record-form").locator('[name="lastName"]').fill("Murray Hopper")
    page.get_by_test_id("save-record").click()
    wait_versions(page, 3)

    page.locator(f'tr[data-record-id="{new_id}"]').get_by_test_id("delete-record").click()
    page.get_by_test_id("confirm-yes").click()
    found = wait_versions(page, 4)
    assert len(found) == 4

    delete, update, create = (page.evaluate("id => window.backstay.getVersion(id)", v["id"])
                              for v in found[:3])
    assert [c["action"] for c in create["changes"]] == ["create"]
    assert create["changes"][0]["module"] == GUESTS
    assert create["changes"][0]["recordId"] == new_id
    assert create["changes"][0]["before"] is None
    assert create["changes"][0]["after"]["firstName"] == "Grace"

    assert [c["action"] for c in update["changes"]] == ["update"]
    assert update["changes"][0]["recordId"] == new_id
    assert update["changes"][0]["before"]["lastName"] == "Hopper"
    assert update["changes"][0]["after"]["lastName"] == "Murray Hopper"

    assert [c["action"] for c in delete["changes"]] == ["delete"]
    assert delete["changes"][0]["before"]["lastName"] == "Murray Hopper"
    assert delete["changes"][0]["after"] is None
    for detail in (create, update, delete):
        assert detail["createdBy"] == "admin"
        assert detail["modules"] == [GUESTS]
    assert requests_seen.outside(server.url) == []


def test_a_write_made_before_python_loaded_is_captured(page: Any, server: Server,
                                                        requests_seen: RequestLog) -> None:
    open_app(page, server)  # first start records the baseline
    wait_versions(page, 1)
    page.goto(server.url + "/", wait_until="commit")
    page.wait_for_function("() => window.__backstayCapture !== undefined")
    engine_was_ready = page.evaluate(
        """async () => {
            const ready = Boolean(window.backstay && window.backstay.isReady);
            await fetch('/_spark/kv/w3-hotel-guests', {method: 'POST', body: JSON.stringify(
                [{id: 'early-1', firstName: 'Early', lastName: 'Bird'}])});
            return ready;
        }""")
    assert engine_was_ready is False
    wait_ready(page)
    found = wait_versions(page, 2)
    assert len(found) == 2
    detail = page.evaluate("id => window.backstay.getVersion(id)", found[0]["id"])
    assert [(c["action"], c["recordId"]) for c in detail["changes"]] == [("create", "early-1")]
    assert "while Backstay was not running" not in detail["description"]
    assert requests_seen.outside(server.url) == []


def test_a_write_made_while_no_page_was_open_is_reconciled(page: Any, server: Server,
                                                           requests_seen: RequestLog) -> None:
    server.kv_set(GUESTS, [guest("g-1", "Ada")])
    open_app(page, server)
    wait_versions(page, 1)
    page.goto("about:blank")
    server.kv_set(GUESTS, [guest("g-1", "Ada", "Lovelace"), guest("g-2", "Charles", "Babbage")])
    open_app(page, server)
    found = wait_versions(page, 2)
    assert len(found) == 2
    detail = page.evaluate("id => window.backstay.getVersion(id)", found[0]["id"])
    assert sorted((c["action"], c["recordId"]) for c in detail["changes"]) == [
        ("create", "g-2"), ("update", "g-1")]
    assert "while Backstay was not running" in detail["description"]
    assert requests_seen.outside(server.url) == []


def test_while_no_page_was_open_a_same_length_edit_and_a_deleted_key_are_found(
        page: Any, server: Server) -> None:
    """The start compares each live value with the stored head text byte for byte: an edit that
    keeps the text's length, and a key deleted from the store, are both found; untouched keys
    are not recorded again."""
    server.kv_set(GUESTS, [guest(f"g-{n}", "Ada") for n in range(300)])
    server.kv_set("w3-hotel-rooms", [{"id": "r1", "number": "101"}])
    server.kv_set("w3-hotel-settings", {"currency": "LKR"})
    open_app(page, server)
    wait_versions(page, 1)
    page.goto("about:blank")
    edited = [guest(f"g-{n}", "Ada") for n in range(300)]
    edited[150] = guest("g-150", "Bob")  # the same length as "Ada"
    server.kv_set(GUESTS, edited)
    server.kv_delete("w3-hotel-rooms")
    open_app(page, server)
    found = wait_versions(page, 2)
    detail = page.evaluate("id => window.backstay.getVersion(id)", found[0]["id"])
    assert sorted((c["module"], c["action"], c["recordId"]) for c in detail["changes"]) == [
        ("w3-hotel-guests", "update", "g-150"), ("w3-hotel-rooms", "delete", "r1")]
    assert sorted(detail["modules"]) == ["w3-hotel-guests", "w3-hotel-rooms"]


def test_an_unchanged_large_key_is_indexed_at_start_without_reading_its_text(page: Any,
                                                                             server: Server) -> None:
    """A start that finds a large key unchanged checks its saved index by its header against
    the hash of its stored text, and leaves both in the store until a write needs them (the
    first write reads them and records exactly its change). The head pointer names that
    hash (headText, from the baseline), so the server, asked If-None-Match, sends nothing for
    it. An edit far into the text, of the same length, made while no page was open, is still
    found (the server sends the new value, compared as it streams in); and the next write
    records exactly its change."""
    people = [guest(f"g-{n}", "Ada") for n in range(3000)]  # about 500 KB: a released text
    server.kv_set(GUESTS, people)
    open_app(page, server)
    wait_versions(page, 1)
    status_js = "async () => JSON.parse(JSON.stringify(await window.backstay.status()))"
    for step in ("unchanged", "edited while away"):
        page.goto("about:blank")
        if step == "edited while away":
            people[2990] = guest("g-2990", "Bob")
            server.kv_set(GUESTS, people)
        open_app(page, server)
        deadline = time.monotonic() + 60
        status = page.evaluate(status_js)
        while "index_ms" not in status["timings"] and time.monotonic() < deadline:
            page.wait_for_timeout(200)
            status = page.evaluate(status_js)
        if step == "unchanged":
            # Its saved index is checked by its header and left in the store until a write.
            assert status["indexes"] == {"built": 0, "loaded": 0}, json.dumps(status)
            assert status["indexesDeferred"] == 1, json.dumps(status)
            assert 16 < status["heapMiB"] < 1024, json.dumps(status)  # the worker's WebAssembly memory
            assert status["headTextsRead"] == 0, json.dumps(status)
            assert status["startUnsent"] == 1, json.dumps(status)
            assert len(versions(page)) == 1
            people[7] = guest("g-7", "Eve")
            spark_set(page, GUESTS, people)
            found = wait_versions(page, 2)
            detail = page.evaluate("id => window.backstay.getVersion(id)", found[0]["id"])
            assert [(c["action"], c["recordId"]) for c in detail["changes"]] == [("update", "g-7")]
            status = page.evaluate(status_js)
            assert status["indexes"] == {"built": 0, "loaded": 1}, json.dumps(status)
        else:
            assert status["startUnsent"] == 0, json.dumps(status)
    found = wait_versions(page, 3)
    detail = page.evaluate("id => window.backstay.getVersion(id)", found[0]["id"])
    assert [(c["action"], c["recordId"]) for c in detail["changes"]] == [("update", "g-2990")]
    people[5] = guest("g-5", "Grace")
    spark_set(page, GUESTS, people)
    found = wait_versions(page, 4)
    detail = page.evaluate("id => window.backstay.getVersion(id)", found[0]["id"])
    assert [(c["action"], c["recordId"]) for c in detail["changes"]] == [("update", "g-5")]


def test_a_baseline_of_large_modules_is_indexed_from_the_browsers_tiling(page: Any, server: Server) -> None:
    """The first start tiles each large module in the browser (tiling.mjs): a module
    whose text is its elements' JSON.stringify - emoji (two UTF-16 units, one code point),
    escapes, U+2028 - is indexed from where the browser found its elements; one spelled
    otherwise (spaces), with a lone surrogate in an id, or nested deep, is read by Python. Either way the
    history verifies in full, and an edit of each records exactly its change."""
    people = [guest(f"g-{n}", "Ada 😀" if n % 7 == 0 else "Ada") for n in range(1500)]
    people[3]["notes"] = 'a "quote", a \\ backslash, a new\nline, \u0001 and \u2028'
    # What JSON.stringify writes for these values (compact, only what it escapes escaped).
    server.kv_set_text(GUESTS, json.dumps(people, separators=(",", ":"), ensure_ascii=False))
    stays = [{"id": f"r-{n}", "guestId": f"g-{n}", "nights": n % 9} for n in range(1200)]
    server.kv_set_text("w3-hotel-reservations", json.dumps(stays))  # ", " and ": ": not canonical
    rooms = ",".join(f'{{"id":"{n}","floor":{n % 5}}}' for n in range(1100))
    server.kv_set_text("w3-hotel-rooms", '[{"id":"room-\\ud800","floor":0},' + rooms + "]")
    # Nested deeper than the browser's reading is trusted with (Python reads it, as any other).
    tasks = ",".join(f'{{"id":"t-{n}"}}' for n in range(1000))
    deep = f'{{"id":"t-deep","x":{"[" * 150}{"]" * 150}}}'
    server.kv_set_text("w3-hotel-housekeeping-tasks", f"[{tasks},{deep}]")
    open_app(page, server)
    wait_versions(page, 1)
    status = page.evaluate("async () => JSON.parse(JSON.stringify(await window.backstay.status()))")
    assert status["baselineTiled"] == [GUESTS], json.dumps(status)
    assert page.evaluate("() => window.backstay.verify({full: true})")["ok"] is True
    people[14] = {**people[14], "lastName": "Lovelace 🙂"}
    spark_set(page, GUESTS, people)
    found = wait_versions(page, 2)
    detail = page.evaluate("id => window.backstay.getVersion(id)", found[0]["id"])
    assert [(c["action"], c["recordId"]) for c in detail["changes"]] == [("update", "g-14")]
    stays[600] = {**stays[600], "nights": 30}
    spark_set(page, "w3-hotel-reservations", stays)
    found = wait_versions(page, 3)
    detail = page.evaluate("id => window.backstay.getVersion(id)", found[0]["id"])
    assert [(c["action"], c["recordId"]) for c in detail["changes"]] == [("update", "r-600")]
    assert page.evaluate("() => window.backstay.verify({full: true})")["ok"] is True


def test_a_large_baseline_is_compressed_on_another_thread(page: Any, server: Server) -> None:
    """The first start hands each large body it reads to a worker of its own (gzip.mjs), which
    compresses it for the baseline's checkpoint while the engine indexes it: the checkpoint uses
    those blobs (a module spelled otherwise is compressed from its canonical text instead), the
    history verifies in full and a state read back from the checkpoint is the store's."""
    people = [guest(f"g-{n}", "Ada 😀" if n % 7 == 0 else "Ada", "Okafor " * 8) for n in range(12000)]
    server.kv_set_text(GUESTS, json.dumps(people, separators=(",", ":"), ensure_ascii=False))
    stays = [{"id": f"r-{n}", "guestId": f"g-{n}", "nights": n % 9, "notes": "late " * 20}
             for n in range(12000)]
    server.kv_set_text("w3-hotel-reservations", json.dumps(stays))  # ", " and ": ": not canonical
    assert min(len(server.kv_get_text(key).encode()) for key in (GUESTS, "w3-hotel-reservations")) > 1 << 20
    open_app(page, server)
    wait_versions(page, 1)
    status = page.evaluate("async () => JSON.parse(JSON.stringify(await window.backstay.status()))")
    assert status["timings"]["baseline_gzipped_ahead"] == 1, json.dumps(status["timings"])
    assert status["baselineTiled"] == [GUESTS]
    assert page.evaluate("() => window.backstay.verify({full: true})")["ok"] is True
    baseline = versions(page)[0]["id"]
    state = page.evaluate("id => window.backstay.stateAt(id)", baseline)
    assert state[GUESTS] == people and state["w3-hotel-reservations"] == stays
    people[3] = {**people[3], "firstName": "Grace"}
    spark_set(page, GUESTS, people)
    found = wait_versions(page, 2)
    detail = page.evaluate("id => window.backstay.getVersion(id)", found[0]["id"])
    assert [(c["action"], c["recordId"]) for c in detail["changes"]] == [("update", "g-3")]


def test_a_large_baseline_is_compressed_here_when_the_compressing_worker_cannot_start(
        page: Any, fault_server: Server) -> None:
    """The browser refuses the compressing worker (its script does not load): the first start
    compresses the baseline's checkpoint in the engine's own worker instead, and the history is
    the same."""
    people = [guest(f"g-{n}", "Ada", "Okafor " * 8) for n in range(12000)]
    fault_server.kv_set_text(GUESTS, json.dumps(people, separators=(",", ":"), ensure_ascii=False))
    assert len(fault_server.kv_get_text(GUESTS).encode()) > 1 << 20  # handed over when it can be
    add_fault(fault_server.url, method="GET", path="/static/backstay/gzip_worker.mjs", action="refuse",
              status=404)
    open_app(page, fault_server)
    wait_versions(page, 1)
    assert sum(rule["hits"] for rule in list_faults(fault_server.url)) >= 1
    status = page.evaluate("async () => JSON.parse(JSON.stringify(await window.backstay.status()))")
    assert status["timings"]["baseline_gzipped_ahead"] == 0 and status["lastError"] == "", json.dumps(status)
    assert page.evaluate("() => window.backstay.verify({full: true})")["ok"] is True
    assert page.evaluate("id => window.backstay.stateAt(id)", versions(page)[0]["id"])[GUESTS] == people


def test_two_tabs_writing_give_each_write_exactly_once(context: Any, server: Server,
                                                       requests_seen: RequestLog) -> None:
    """The first tab records its writes itself; the second, opened once Backstay's service
    worker is chosen and active, has them recorded by that worker."""
    first, second = context.new_page(), context.new_page()
    open_app(first, server)
    wait_versions(first, 1)
    choose_service_worker(first, reload_under_it=False)
    open_app(second, server)
    assert first.evaluate("() => window.__backstayCapture.writer()") == "worker"
    assert second.evaluate("() => window.__backstayCapture.writer()") == "service-worker"
    records: list[dict[str, Any]] = []
    writes = 10
    for n in range(writes):
        records = [*records, guest(f"t-{n}", f"Guest {n}")]
        spark_set(first if n % 2 == 0 else second, GUESTS, records)
    found = wait_versions(first, 1 + writes)
    first.wait_for_timeout(1500)  # anything duplicated would show up by now
    found = versions(first)
    assert len(found) == 1 + writes
    created = []
    for version in reversed(found[:-1]):
        detail = first.evaluate("id => window.backstay.getVersion(id)", version["id"])
        created.extend(c["recordId"] for c in detail["changes"] if c["action"] == "create")
    assert created == [f"t-{n}" for n in range(writes)]
    assert versions(second) == found
    assert requests_seen.outside(server.url) == []


def test_reload_keeps_the_history(page: Any, server: Server, requests_seen: RequestLog) -> None:
    open_app(page, server)
    spark_set(page, GUESTS, [guest("g-1", "Ada")])
    spark_set(page, GUESTS, [guest("g-1", "Ada", "Lovelace")])
    before = wait_versions(page, 3)
    assert len(before) == 3
    page.reload()
    wait_ready(page)
    assert versions(page) == before
    assert requests_seen.outside(server.url) == []


def test_keys_of_backstay_itself_are_never_versioned(page: Any, server: Server) -> None:
    open_app(page, server)
    wait_versions(page, 1)
    spark_set(page, "backstay:probe", {"x": 1})
    spark_set(page, GUESTS, [guest("g-1", "Ada")])
    found = wait_versions(page, 2)
    page.wait_for_timeout(500)
    found = versions(page)
    assert len(found) == 2
    assert found[0]["modules"] == [GUESTS]


@pytest.mark.parametrize("recorder", RECORDERS)
def test_a_write_the_server_refused_is_not_a_version(page: Any, server: Server, recorder: str) -> None:
    """Not JSON, or JSON whose bytes are not UTF-8 (a byte body sent as is): the server answers
    400, and whoever records the write leaves it out."""
    open_app(page, server)
    wait_versions(page, 1)
    recorded_by(page, recorder)
    statuses = page.evaluate("""async () => [
        (await fetch('/_spark/kv/w3-hotel-guests', {method: 'POST', body: '{not json'})).status,
        (await fetch('/_spark/kv/w3-hotel-guests', {method: 'POST',
            body: new Uint8Array([0x5b, 0x22, 0xff, 0xfe, 0x22, 0x5d])})).status]""")
    assert statuses == [400, 400]
    # Both were recorded (as refused): leaving them out is the engine's choice, not a miss.
    page.wait_for_function("() => window.__backstayCapture.stats.recorded === 2")
    spark_set(page, GUESTS, [guest("g-1", "Ada")])
    found = wait_versions(page, 2)
    page.wait_for_timeout(500)
    found = versions(page)
    assert len(found) == 2
    detail = page.evaluate("id => window.backstay.getVersion(id)", found[0]["id"])
    assert [(c["action"], c["recordId"]) for c in detail["changes"]] == [("create", "g-1")]
    assert page.evaluate("() => window.backstay.status()")["lastError"] == ""


def engine_error(page: Any) -> str:
    return str(page.evaluate("() => window.backstay.status()")["lastError"])


def wait_engine_error(page: Any, present: bool, timeout_s: float = 30) -> str:
    deadline = time.monotonic() + timeout_s
    error = engine_error(page)
    while bool(error) != present and time.monotonic() < deadline:
        page.wait_for_timeout(200)
        error = engine_error(page)
    return error


@pytest.mark.parametrize("recorder", RECORDERS)
def test_a_write_while_the_server_is_down_is_reported_and_loses_nothing(page: Any, server: Server,
                                                                        recorder: str) -> None:
    server.kv_set(GUESTS, [guest("g-1", "Ada")])
    open_app(page, server)
    wait_versions(page, 1)
    recorded_by(page, recorder)
    server.stop()
    outcome = page.evaluate("""async () => {
        try { await fetch('/_spark/kv/w3-hotel-guests', {method: 'POST', body: '[]'}); return 'answered'; }
        catch (error) { return 'no answer'; } }""")
    assert outcome == "no answer"
    # The write's outcome is unknown, and the store cannot be asked: the engine says so.
    error = wait_engine_error(page, present=True)
    assert "did not answer" in error
    server.start()
    # Back up: the store shows the write never happened, so there is no version for it.
    assert wait_engine_error(page, present=False) == ""
    page.wait_for_timeout(500)
    found = versions(page)
    assert len(found) == 1
    assert page.evaluate("() => window.backstay.status()")["journalSeq"] >= 1


# The journal worker (named "backstay-journal", started from a blob: URL of capture.js's own
# source). These stand-ins make it fail in the ways a browser could: it cannot be started, it
# stops after taking a write, or it never answers. Other workers (the engine's) start as usual.
NO_BLOB_WORKER = """(() => {
  window.Worker = class extends window.Worker {
    constructor(url, options) {
      if ((options || {}).name === 'backstay-journal') throw new DOMException('refused', 'SecurityError');
      super(url, options);
    }
  };
})();"""
FAILING_BLOB_WORKER = """(() => {
  window.Worker = class extends window.Worker {
    constructor(url, options) {
      if ((options || {}).name !== 'backstay-journal') { super(url, options); return; }
      const fake = {onmessage: null, onerror: null, terminate() {}, failed: false,
        postMessage() {
          if (fake.failed) return;
          fake.failed = true;
          const crash = {message: 'the worker crashed', preventDefault() {}};
          setTimeout(() => fake.onerror && fake.onerror(crash), 50);
        }};
      return fake;
    }
  };
})();"""

SILENT_BLOB_WORKER = """(() => {
  window.Worker = class extends window.Worker {
    constructor(url, options) {
      if ((options || {}).name !== 'backstay-journal') { super(url, options); return; }
      return {onmessage: null, onerror: null, terminate() {}, postMessage() {}};
    }
  };
})();"""


@pytest.mark.parametrize(("setup", "writer"), [("", "worker"), (NO_BLOB_WORKER, "page"),
                                               (FAILING_BLOB_WORKER, "page"), (SILENT_BLOB_WORKER, "page")],
                         ids=["journal worker", "no worker can start", "the worker stops",
                              "the worker never answers"])
def test_every_write_of_a_burst_is_journaled_once_whoever_writes_the_journal(
        page: Any, server: Server, setup: str, writer: str) -> None:
    if setup:
        page.add_init_script(setup)
    open_app(page, server)
    wait_versions(page, 1)
    # Five writes sent at once (none awaited), the first one big (the journal worker gets it in
    # parts: capture.js PART_CHARS).
    page.evaluate("""async () => {
        const big = Array.from({length: 30000},
            (_, i) => ({id: 'b-' + i, firstName: 'Zoë ' + i, lastName: 'Ünal'}));
        const sends = [fetch('/_spark/kv/w3-hotel-guests', {method: 'POST', body: JSON.stringify(big)})];
        for (let n = 0; n < 4; n++) {
            const body = JSON.stringify([{id: 'x', n}]);
            sends.push(fetch('/_spark/kv/burst-' + n, {method: 'POST', body}));
        }
        await Promise.all(sends);
        await window.__backstayCapture.flushed();
    }""")
    assert page.evaluate("() => window.__backstayCapture.writer()") == writer
    found = wait_versions(page, 6)
    page.wait_for_timeout(1000)  # anything recorded twice would show up by now
    found = versions(page)
    assert len(found) == 6
    assert sorted(key for version in found[:5] for key in version["modules"]) == [
        "burst-0", "burst-1", "burst-2", "burst-3", GUESTS]
    assert page.evaluate("() => window.__backstayCapture.stats.failed") == 0
    assert page.evaluate("id => window.backstay.stateAt(id)", found[0]["id"])[GUESTS] == server.kv_get(GUESTS)
