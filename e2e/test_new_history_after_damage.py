"""A history that lost what recording needs (files of the browser's storage gone from the disk)
stops recording; the way on is to start a new history, in one click (Backup files) or call. The
damaged history is removed and today's data becomes the new history's first version; the
settings, permissions, passphrase and audit trail are kept as they were. Tried as an unlucky
hotel would: two administrators confirming at once, a disk that is full as well. Real Chromium,
a profile on disk, real IndexedDB."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from damage import RENAME_JS, error, fill, lose_history, started
from faults import add_fault, clear_faults
from harness import Server, status, versions, wait_ready, wait_versions

GUESTS = "w3-hotel-guests"
START = "window.backstay.startNewHistory({confirm: true})"


def _new_history_recorded(page: Any, server: Server) -> list[dict[str, Any]]:
    """Wait for the new history: the baseline of today's data, then the write that waited in
    the journal (g-1 renamed "Bea"), by its author; its versions, newest first."""
    deadline = time.monotonic() + 30
    while len(found := versions(page)) < 2:
        assert time.monotonic() < deadline, found
        page.wait_for_timeout(200)
    assert [v["seq"] for v in found] == [2, 1], found
    assert "started a new history" in found[1]["description"]
    assert found[0]["createdBy"] == "admin"
    assert page.evaluate("id => window.backstay.stateAt(id)", found[0]["id"])[GUESTS] == server.kv_get(GUESTS)
    assert server.kv_get(GUESTS)[0]["firstName"] == "Bea"
    return found


def _lost_in(page: Any) -> None:
    """Wait for ``page`` (a tab that does not drain) to learn that the history was lost."""
    deadline = time.monotonic() + 15  # it learns it from the draining tab's next round
    while not status(page)["historyLost"]:
        assert time.monotonic() < deadline, status(page)
        page.wait_for_timeout(300)


def _second_tab(page: Any, server: Server) -> Any:
    """A second PMS tab (its engine waits for the lock), once it learnt the history was lost."""
    second = page.context.new_page()
    second.goto(server.url + "/")
    wait_ready(second)
    _lost_in(second)
    return second


def _audited(page: Any) -> list[tuple[str, str]]:
    return [(e["action"], e["result"]) for e in page.evaluate("() => window.backstay.auditLog()")]


def test_an_administrator_starts_a_new_history_keeping_settings_and_audit_trail(
        disk_page: Any, server: Server, tmp_path: Path) -> None:
    """A history that lost what recording needs stops recording; the way on is one click (Backup
    files) or call: the damaged history is removed, the settings, permissions, passphrase and
    audit trail are kept as they were, and today's data becomes the first version of a new
    history. Never done for a history that is not damaged."""
    page = started(disk_page, server)
    assert "not damaged" in error(page, START)
    page.evaluate("() => window.backstay.setSettings({retention: {maxVersions: 500}})")
    page.evaluate("() => window.backstay.setPermission('export', ['admin', 'accounts'])")
    page.evaluate("() => window.backstay.setPassphrase({passphrase: 'a long passphrase for the hotel'})")
    lose_history(page, server, tmp_path / "profile")
    # A second PMS tab, open throughout (its engine waits for the lock, and answers reads).
    second = page.context.new_page()
    second.goto(server.url + "/")
    wait_ready(second)
    assert status(second)["drainer"] is False
    _lost_in(second)
    assert "confirm" in error(page, "window.backstay.startNewHistory({})")
    assert len(versions(page)) == 2  # nothing deleted without the confirmation
    # One click and a confirmation in the backup panel.
    page.get_by_test_id("nav-settings").click()
    page.get_by_test_id("open-backups").click()
    page.get_by_test_id("backups-section").locator("summary").click()
    offer = page.get_by_test_id("new-history")
    offer.get_by_role("button", name="Start a new history").click()
    offer.get_by_role("button", name="Cancel").click()  # changed their mind: nothing happens
    offer.get_by_role("button", name="Start a new history").click()
    assert len(versions(page)) == 2
    offer.get_by_role("button", name="Yes, start a new history").click()
    page.get_by_test_id("new-history-started").wait_for(timeout=30_000)
    assert page.get_by_test_id("new-history").count() == 0
    found = _new_history_recorded(page, server)
    problems = status(page)["problems"]
    assert not [p for p in problems if p["area"] != "notice"], problems
    told = " ".join(p["message"] for p in problems)
    assert "admin started a new history" in told and "(2 versions" in told
    assert "This browser has no Backstay history" not in told
    # The other tab reads the new history; asked there, it is told that it was started.
    deadline = time.monotonic() + 30
    while [v["id"] for v in versions(second)] != [v["id"] for v in found]:
        assert time.monotonic() < deadline, (versions(second), found)
        second.wait_for_timeout(300)
    again = error(second, START)
    assert "admin started a new history" in again and "Nothing more to do" in again
    assert len(versions(page)) == 2
    # What was kept: the settings, permissions, passphrase and audit trail (which goes on).
    assert page.evaluate("() => window.backstay.settings()")["retention"]["maxVersions"] == 500
    granted = page.evaluate("() => window.backstay.permissions()")["permissions"]["export"]
    assert sorted(granted) == ["accounts", "admin"]
    assert page.evaluate("() => window.backstay.passphrase()")["set"] is True
    audit = _audited(page)
    assert audit[-1] == ("new-history", "done") and ("settings", "done") in audit, audit
    last = page.evaluate("() => window.backstay.auditLog()")[-1]
    assert last["details"]["versions"] == 2 and last["details"]["device"] and last["user"] == "admin"
    assert ("set-permission", "done") in audit, audit
    assert page.evaluate("() => window.backstay.verify({full: true})")["ok"]
    # Recording goes on.
    page.evaluate(RENAME_JS, "Cy")
    newest = wait_versions(page, 3)[0]
    changes = page.evaluate("id => window.backstay.getVersion(id)", newest["id"])["changes"]
    assert [(c["action"], c["recordId"], c["fields"]) for c in changes] == [
        ("update", "g-1", ["/firstName"])]


def test_two_tabs_confirming_at_once_start_one_new_history(
        disk_page: Any, server: Server, tmp_path: Path) -> None:
    """Two administrators, in two PMS tabs, confirm at the same moment: one new history is
    started, the other is told it was, and the audit trail says it once."""
    page = started(disk_page, server)
    lose_history(page, server, tmp_path / "profile")
    second = _second_tab(page, server)
    ask = f"""() => {{ window.asked = {START}.then(
        (r) => JSON.stringify(r), (e) => 'refused: ' + e.message); }}"""
    page.evaluate(ask)
    second.evaluate(ask)
    answers = sorted((str(tab.evaluate("() => window.asked")) for tab in (page, second)), reverse=True)
    assert answers[0] == '{"versions":2}', answers
    assert answers[1].startswith("refused: admin started a new history"), answers
    assert "Nothing more to do" in answers[1], answers
    _new_history_recorded(page, server)
    assert _audited(page).count(("new-history", "done")) == 1
    for tab in (page, second):
        deadline = time.monotonic() + 15
        while status(tab)["historyLost"] or [p for p in status(tab)["problems"] if p["area"] != "notice"]:
            assert time.monotonic() < deadline, status(tab)
            tab.wait_for_timeout(300)


def test_a_new_history_on_a_full_disk_removes_nothing_and_says_to_free_space(
        browser_type: Any, browser_type_launch_args: dict[str, Any], small_disk: Path,
        server: Server) -> None:
    """The disk is full as well: the damaged history is not half-removed, no audit entry or
    notice says it was, the user is told to free space; once there is room it is started."""
    profile = small_disk / "profile"
    context = browser_type.launch_persistent_context(str(profile), **browser_type_launch_args)
    try:
        page = started(context.pages[0], server)
        lose_history(page, server, profile)
        before = versions(page)
        filler = fill(small_disk)
        message = error(page, START)
        assert "storage is full" in message and "was not removed" in message, message
        assert "free space on this computer's disk" in message, message
        told = status(page)
        assert told["historyLost"] is True, told
        assert "started a new history" not in told["lastError"], told
        # The browser closed the database on the failed write, and cannot open it again while
        # the disk is full: said so, with what to do.
        deadline = time.monotonic() + 15
        while "disk is full, free space" not in (told := status(page))["lastError"]:
            assert time.monotonic() < deadline, told
            page.wait_for_timeout(300)
        filler.unlink()  # room again: Backstay opens its storage again by itself
        deadline = time.monotonic() + 15
        while error(page, "window.backstay.listVersions()") != "resolved":
            assert time.monotonic() < deadline, status(page)
            page.wait_for_timeout(300)
        assert [v["id"] for v in versions(page)] == [v["id"] for v in before]  # nothing removed
        assert ("new-history", "done") not in _audited(page)
        assert status(page)["historyLost"] is True
        assert error(page, START) == "resolved"
        _new_history_recorded(page, server)
        assert _audited(page)[-1] == ("new-history", "done")
        assert page.evaluate("() => window.backstay.verify({full: true})")["ok"]
    finally:
        context.close()


def test_a_new_history_started_while_the_store_is_down_and_another_tab_writes_records_every_write(
        disk_page: Any, fault_server: Server, tmp_path: Path) -> None:
    """The PMS data server stops answering reads just as the new history is started, while
    another PMS tab goes on writing: the damaged history is removed all the same, the store
    being down is told, and once it is back the new history has today's data and every write
    made meanwhile, each by its author - none lost, none invented."""
    server = fault_server
    page = started(disk_page, server)
    lose_history(page, server, tmp_path / "profile")
    second = _second_tab(page, server)
    add_fault(server.url, method="GET", path="/_spark/kv", action="refuse", status=503, count=100_000)
    burst = """async (n) => { for (let i = 0; i < n; i++) {
        await window.spark.kv.set('w3-hotel-guests', [{id: 'g-1', firstName: 'Burst ' + i}]); } }"""
    second.evaluate(f"() => {{ window.burst = ({burst})(5); }}")
    assert error(page, START) == "resolved"
    second.evaluate("() => window.burst")
    deadline = time.monotonic() + 30
    while "did not answer" not in (told := status(page))["lastError"]:
        assert time.monotonic() < deadline, json.dumps(told)
        page.wait_for_timeout(300)
    assert told["historyLost"] is False, told
    clear_faults(server.url)  # the store answers again
    expected = [{"id": "g-1", "firstName": "Burst 4"}]
    assert server.kv_get(GUESTS) == expected
    deadline = time.monotonic() + 60
    while not (found := versions(page)) or status(page)["waiting"] or page.evaluate(
            "id => window.backstay.stateAt(id)", found[0]["id"]).get(GUESTS) != expected:
        assert time.monotonic() < deadline, (found, status(page))
        page.wait_for_timeout(300)
    found = versions(page)
    assert "started a new history" in found[-1]["description"], found
    assert len(found) >= 2, found  # the baseline, then the writes that waited
    assert {v["createdBy"] for v in found[:-1]} == {"admin"}, found
    assert not [v for v in found if "not running" in v["description"]], found
    assert not [v for v in found if "read back" in v["description"]], found
    # Each version holds a value the store held, in the order it held them.
    held = ["Bea"] + [f"Burst {n}" for n in range(5)]
    names = [page.evaluate("id => window.backstay.stateAt(id)", v["id"])[GUESTS][0]["firstName"]
             for v in reversed(found[:-1])]
    order = [held.index(name) for name in names]
    assert order == sorted(set(order)) and names[-1] == "Burst 4", names
    assert page.evaluate("() => window.backstay.verify({full: true})")["ok"]
    assert not [p for p in status(page)["problems"] if p["area"] != "notice"]
