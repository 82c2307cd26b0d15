"""Restore, end to end: real Chromium, the real server and IndexedDB.

The night manager's case: 30 reservations vanished; bookings were made since; a merge brings
the 30 back and keeps the new ones; the restore is one version, audited, announced to every
open tab, and undone by one more restore. Then the unlucky cases: the store refusing a write
half-way, and the tab closed while a restore was writing.
"""

from __future__ import annotations

import errno
import time
from pathlib import Path
from typing import Any

from faults import add_fault, clear_faults
from harness import Server, versions, wait_for, wait_ready, wait_versions

RESERVATIONS = "w3-hotel-reservations"
GUESTS = "w3-hotel-guests"


def booking(n: int) -> dict[str, Any]:
    return {"id": f"r{n}", "guestId": f"g{n % 7}", "status": "confirmed", "nights": 1 + n % 4}


def pms_write(page: Any, key: str, value: Any) -> None:
    """A write as the PMS makes it (window.spark.kv.set: captured by Backstay)."""
    page.evaluate("([k, v]) => window.spark.kv.set(k, v)", [key, value])


def call(page: Any, expression: str, *args: Any) -> Any:
    return page.evaluate(f"(args) => {expression}", list(args))


def error_of(page: Any, expression: str, *args: Any) -> str:
    return str(page.evaluate(
        f"(args) => ({expression}).then(() => 'no error', (e) => e.message)", list(args)))


def test_night_manager_gets_30_reservations_back_and_keeps_the_new_bookings(
    page: Any, server: Server, context: Any
) -> None:
    server.kv_set(RESERVATIONS, [booking(n) for n in range(30)])
    page.goto(server.url + "/")
    wait_ready(page)
    before_loss = wait_versions(page, 1)[0]["id"]
    # 22:42: the 30 vanish; since then, 5 new bookings.
    pms_write(page, RESERVATIONS, [])
    pms_write(page, RESERVATIONS, [booking(n) for n in range(100, 105)])
    wait_versions(page, 3)
    other = context.new_page()  # a second PMS tab, holding the old data in memory
    other.goto(server.url + "/#/reservations")
    wait_ready(other)
    other.evaluate("""() => { window.__restored = null;
        window.addEventListener('backstay:restored', (e) => { window.__restored = e.detail; }); }""")

    preview = call(page, "window.backstay.previewRestore(args[0], {mode: 'merge'})", before_loss)
    module = next(m for m in preview["modules"] if m["module"] == RESERVATIONS)
    assert (module["created"], module["deleted"], module["updated"]) == (30, 0, 0)
    assert preview["conflicts"] == [] and preview["nothingToDo"] is False
    assert len(versions(page)) == 3  # a preview writes nothing

    result = call(page, "window.backstay.restoreVersion(args[0], {mode: 'merge'})", before_loss)
    restored = result["version"]
    assert restored["changeType"] == "restore" and result["nothingToDo"] is False
    assert restored["description"] == f"Restored all modules to {before_loss} (merge)"
    stored = server.kv_get(RESERVATIONS)
    assert sorted(r["id"] for r in stored) == sorted(
        [f"r{n}" for n in range(30)] + [f"r{n}" for n in range(100, 105)])
    detail = call(page, "window.backstay.getVersion(args[0])", restored["id"])
    assert sum(1 for c in detail["changes"] if c["action"] == "create") == 30
    # The other tab was told; the demo PMS re-reads its data, so no reload prompt.
    wait_for(other, lambda: other.evaluate("() => window.__restored"), "the other tab to hear")
    assert other.evaluate("() => window.__restored.keys") == [RESERVATIONS]
    assert other.locator("[data-testid=backstay-restored]").count() == 0
    # A PMS page that does not handle the event (never calls preventDefault on it) is asked to
    # reload before it saves.
    other.evaluate("""() => { const handled = Event.prototype.preventDefault;
        Event.prototype.preventDefault = function () {
            if (this.type !== 'backstay:restored') handled.call(this); }; }""")

    # Undo this restore: one more restore, to the version before it - asked from the other tab,
    # whose engine does not drain: the draining engine carries it out.
    before_restore = versions(page)[1]["id"]
    assert other.evaluate("() => window.backstay.status()")["drainer"] is False
    undo = call(other, "window.backstay.restoreVersion(args[0])", before_restore)
    assert sorted(r["id"] for r in server.kv_get(RESERVATIONS)) == [f"r{n}" for n in range(100, 105)]
    assert undo["version"]["changeType"] == "restore"
    wait_for(other, lambda: other.locator("[data-testid=backstay-restored]").count() == 1,
             "the reload prompt")
    assert "Reload this page" in other.locator("[data-testid=backstay-restored]").inner_text()
    # That page saves anyway, with the data it held: its version is flagged.
    pms_write(other, RESERVATIONS, [booking(n) for n in range(100, 106)])
    flagged = wait_versions(page, 6)[0]
    assert flagged["description"].startswith(
        f"Saved by a page that had not reloaded after restore {undo['version']['id']}")
    undo_flagged = call(page, "window.backstay.restoreVersion(args[0])", undo["version"]["id"])
    assert undo_flagged["version"]["changeType"] == "restore"

    # Restoring what already is writes nothing, and says so.
    again = call(page, "window.backstay.restoreVersion(args[0])", undo["version"]["id"])
    assert again["nothingToDo"] is True and "Nothing to change" in again["message"]
    assert len(versions(page)) == 7

    audit = call(page, "window.backstay.auditLog()")
    assert [(e["action"], e["result"]) for e in audit] == [
        ("restore", "done"), ("restore", "done"), ("restore", "done"), ("restore", "nothing")]
    assert audit[0]["details"]["mode"] == "merge" and audit[0]["user"] == "admin"
    assert audit[0]["details"]["versionId"] == restored["id"]


def test_selective_record_restore_and_compare(page: Any, server: Server) -> None:
    server.kv_set(GUESTS, [{"id": "g1", "name": "Grace", "vip": False}, {"id": "g2", "name": "Alan"}])
    page.goto(server.url + "/")
    wait_ready(page)
    tuesday = wait_versions(page, 1)[0]["id"]
    pms_write(page, GUESTS, [{"id": "g1", "name": "Grace H.", "vip": True}, {"id": "g3", "name": "Ada"}])
    wait_versions(page, 2)
    comparison = call(page, "window.backstay.compareVersions(args[0], 'today')", tuesday)
    guests = comparison["modules"][0]
    assert (guests["created"], guests["deleted"], guests["updated"]) == (1, 1, 1)
    updated = next(r for r in guests["records"] if r["action"] == "update")
    assert {f["path"]: (f["before"], f["after"]) for f in updated["fields"]} == {
        "/name": ("Grace", "Grace H."), "/vip": (False, True)}
    # "Just this guest, as she was on Tuesday".
    call(page, "window.backstay.restoreVersion(args[0], {records: [{module: args[1], recordId: 'g1'}]})",
         tuesday, GUESTS)
    assert server.kv_get(GUESTS) == [{"id": "g1", "name": "Grace", "vip": False},
                                     {"id": "g3", "name": "Ada"}]
    messages = [
        error_of(page, "window.backstay.restoreVersion('nope')"),
        error_of(page, "window.backstay.restoreVersion(args[0], {modules: ['w3-hotel-ghosts']})", tuesday),
        error_of(page, "window.backstay.restoreVersion(args[0], {records: args[1]})",
                 tuesday, [{"module": GUESTS, "recordId": "zz"}]),
        error_of(page, "window.backstay.previewRestore(args[0], {mode: 'sideways'})", tuesday),
    ]
    assert messages[0] == "No version 'nope'"
    assert messages[1].startswith("Unknown module 'w3-hotel-ghosts'")
    assert messages[2].startswith("Unknown record 'zz'")
    assert messages[3].startswith("mode must be one of")


def two_keys_then_edits(page: Any, server: Server) -> str:
    """Guests and reservations at the baseline, then one PMS write to each; the baseline's id."""
    server.kv_set(GUESTS, [{"id": "g1"}])
    server.kv_set(RESERVATIONS, [booking(1)])
    page.goto(server.url + "/")
    wait_ready(page)
    first = str(wait_versions(page, 1)[0]["id"])
    pms_write(page, GUESTS, [{"id": "g1"}, {"id": "g2"}])
    pms_write(page, RESERVATIONS, [booking(1), booking(2)])
    wait_versions(page, 3)
    return first


def test_a_write_refused_half_way_changes_nothing(page: Any, fault_server: Server) -> None:
    server = fault_server
    first = two_keys_then_edits(page, server)
    # The second key the restore writes is refused: the first is put back.
    add_fault(server.url, method="POST", path=f"/_spark/kv/{RESERVATIONS}", action="refuse", count=1)
    message = error_of(page, "window.backstay.restoreVersion(args[0])", first)
    clear_faults(server.url)
    assert "Nothing was changed" in message
    assert server.kv_get(GUESTS) == [{"id": "g1"}, {"id": "g2"}]
    assert server.kv_get(RESERVATIONS) == [booking(1), booking(2)]
    assert len(versions(page)) == 3
    assert call(page, "window.backstay.auditLog()")[-1]["result"] == "failed"


def test_a_store_that_stops_answering_half_way_is_rolled_back_when_it_answers_again(
        page: Any, fault_server: Server) -> None:
    """The store takes the first write of a restore, then never answers that key. Each request
    is given its 90 s (the roll-back writes the unanswered key back first, since its write may
    still land); the restore says it stopped half-way and that the data is put back once the
    store answers; the engine then puts the first key back by itself and says so. Nothing of the
    half-done restore is recorded as a version."""
    server = fault_server
    first = two_keys_then_edits(page, server)
    add_fault(server.url, method="POST", path=f"/_spark/kv/{RESERVATIONS}", action="hang")
    started = time.monotonic()
    message = error_of(page, "window.backstay.restoreVersion(args[0])", first)
    assert time.monotonic() - started >= 89  # the request was given its whole timeout
    assert message.startswith("The restore stopped half-way: the store did not answer"), message
    assert "puts the data back as it was as soon as the store answers again" in message
    clear_faults(server.url)  # the store answers again (its reads already did)
    wait_for(page, lambda: server.kv_get(GUESTS) == [{"id": "g1"}, {"id": "g2"}], "the roll-back")
    assert server.kv_get(RESERVATIONS) == [booking(1), booking(2)]
    wait_for(page, lambda: call(page, "window.backstay.auditLog()")[-1]["result"] == "rolled-back",
             "the roll-back to be audited")
    status = page.evaluate("() => window.backstay.status()")
    assert any("interrupted half-way" in p["message"] for p in status["problems"]), status
    assert [v["changeType"] for v in versions(page)].count("restore") == 0
    done = call(page, "window.backstay.restoreVersion(args[0])", first)
    assert done["version"]["changeType"] == "restore"
    assert server.kv_get(GUESTS) == [{"id": "g1"}] and server.kv_get(RESERVATIONS) == [booking(1)]


def test_a_tab_closed_while_a_restore_writes_is_rolled_back_at_the_next_start(
    browser_type: Any, browser_type_launch_args: dict[str, Any], tmp_path: Path, fault_server: Server
) -> None:
    server = fault_server
    context = browser_type.launch_persistent_context(str(tmp_path / "profile"), **browser_type_launch_args)
    page = context.pages[0] if context.pages else context.new_page()
    first = two_keys_then_edits(page, server)
    # The restore writes guests, then hangs on reservations; the browser is closed meanwhile.
    add_fault(server.url, method="POST", path=f"/_spark/kv/{RESERVATIONS}", action="hang")
    page.evaluate("(id) => { window.backstay.restoreVersion(id).catch(() => {}); }", first)
    wait_for(page, lambda: server.kv_get(GUESTS) == [{"id": "g1"}], "the first restore write")
    context.close()
    clear_faults(server.url)
    assert server.kv_get(GUESTS) == [{"id": "g1"}]  # half-applied, for now

    context = browser_type.launch_persistent_context(str(tmp_path / "profile"), **browser_type_launch_args)
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(server.url + "/")
    wait_ready(page)
    assert server.kv_get(GUESTS) == [{"id": "g1"}, {"id": "g2"}]  # rolled back
    assert server.kv_get(RESERVATIONS) == [booking(1), booking(2)]
    status = page.evaluate("() => window.backstay.status()")
    assert any("interrupted half-way" in p["message"] and "put back" in p["message"]
               for p in status["problems"]), status
    assert [v["changeType"] for v in versions(page)].count("restore") == 0
    assert page.evaluate("() => window.backstay.auditLog()")[-1]["result"] == "rolled-back"
    context.close()


def test_a_key_changed_from_another_browser_is_recorded_before_the_restore(
    page: Any, server: Server
) -> None:
    server.kv_set(GUESTS, [{"id": "g1"}])
    page.goto(server.url + "/")
    wait_ready(page)
    first = wait_versions(page, 1)[0]["id"]
    pms_write(page, GUESTS, [{"id": "g1"}, {"id": "g2"}])
    wait_versions(page, 2)
    only_g2 = {"records": [{"module": GUESTS, "recordId": "g2"}]}
    preview = call(page, "window.backstay.previewRestore(args[0], args[1])", first, only_g2)
    assert preview["modules"][0]["deleted"] == 1
    # Another browser (not captured here) books a guest after this preview.
    server.kv_set(GUESTS, [{"id": "g1"}, {"id": "g2"}, {"id": "g3-other-browser"}])
    message = error_of(page, "window.backstay.restoreVersion(args[0], args[1])",
                       first, {**only_g2, "expectHead": preview["headVersionId"]})
    assert "preview it again" in message
    assert versions(page)[0]["description"] == (
        "Changes found in the store that were made outside this browser")
    # Planned again against the store: the other browser's guest is kept.
    call(page, "window.backstay.restoreVersion(args[0], args[1])", first, only_g2)
    assert server.kv_get(GUESTS) == [{"id": "g1"}, {"id": "g3-other-browser"}]


def fill_to_the_last_byte(filler: Path) -> None:
    """Write ``filler`` until its disk is full, however much the browser writes meanwhile (a
    size read first could be gone by the time it is written)."""
    with filler.open("wb", buffering=0) as out:
        for chunk in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    out.write(b"\0" * chunk)
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise


def test_a_restore_on_a_full_disk_changes_nothing_and_works_once_there_is_room(
        browser_type: Any, browser_type_launch_args: dict[str, Any], small_disk: Path,
        server: Server) -> None:
    """The browser's disk is full when the night manager restores. Either the restore is refused
    before it writes anything (its mark could not be stored) and works once there is room, or
    the data was restored and only its version could not be recorded: the user is told, and the
    version is recorded once there is room. Either way nothing is lost or half-done."""

    server.kv_set(RESERVATIONS, [booking(n) for n in range(30)])
    context = browser_type.launch_persistent_context(str(small_disk / "profile"), **browser_type_launch_args)
    try:
        page = context.pages[0]
        page.goto(server.url + "/")
        wait_ready(page)
        target = wait_versions(page, 1)[0]["id"]
        pms_write(page, RESERVATIONS, [])
        wait_versions(page, 2)
        page.wait_for_timeout(3000)  # the engine settles (head texts, indexes written)
        filler = small_disk / "filler"
        fill_to_the_last_byte(filler)
        error = error_of(page, "window.backstay.restoreVersion(args[0], {mode: 'merge'})", target)
        refused = "nothing was restored" in error
        if refused:
            assert "storage is full" in error, error
            assert server.kv_get(RESERVATIONS) == []
        else:
            assert error.startswith("The data was restored, but Backstay could not record it yet"), error
            assert len(server.kv_get(RESERVATIONS)) == 30
        filler.unlink()
        def recovered() -> bool:
            try:  # while the browser reopens the storage, calls answer with what happened
                state = page.evaluate("() => window.backstay.status()")
                problems = [p for p in state["problems"] if p["area"] != "notice"]
                return not problems and state["waiting"] == 0 and len(versions(page)) == (2 if refused else 3)
            except Exception as error:  # noqa: BLE001
                assert "storage in this browser failed" in str(error) or "storage is full" in str(error)
                return False

        wait_for(page, recovered, "the engine to recover", timeout_s=90)
        if refused:
            done = call(page, "window.backstay.restoreVersion(args[0], {mode: 'merge'})", target)
            assert done["version"]["changeType"] == "restore"
        newest = versions(page)[0]
        assert newest["changeType"] == "restore" and len(server.kv_get(RESERVATIONS)) == 30
        state = page.evaluate("(id) => window.backstay.stateAt(id)", newest["id"])
        assert state[RESERVATIONS] == server.kv_get(RESERVATIONS)
        audit = [(e["action"], e["result"]) for e in call(page, "window.backstay.auditLog()")]
        assert audit[-1] == ("restore", "done" if refused else "finished"), audit
        if not refused:  # the admin is told what happened, until they read it
            notices = [p["message"] for p in page.evaluate("() => window.backstay.status()")["problems"]]
            assert any("it was finished and recorded now" in text for text in notices), notices
    finally:
        filler_path = small_disk / "filler"
        if filler_path.exists():
            filler_path.unlink()
        context.close()
