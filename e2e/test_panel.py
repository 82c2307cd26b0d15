"""The backup panel: Settings → System → Version Control & Backups."""

from __future__ import annotations

from typing import Any

from harness import ENGINE_TIMEOUT_MS, RequestLog, Server, wait_ready

GUESTS = "w3-hotel-guests"


def open_panel(page: Any, server: Server) -> None:
    page.goto(server.url + "/")
    wait_ready(page)
    page.get_by_test_id("nav-settings").click()
    page.get_by_test_id("open-backups").click()


def test_panel_lists_versions_newest_first_and_updates_live(page: Any, server: Server,
                                                            requests_seen: RequestLog) -> None:
    server.kv_set(GUESTS, [{"id": "g-1", "firstName": "Ada", "lastName": "Lovelace"}])
    open_panel(page, server)
    rows = page.get_by_test_id("version-row")
    rows.first.wait_for(timeout=ENGINE_TIMEOUT_MS)
    assert rows.count() == 1
    assert "Baseline" in rows.first.inner_text()

    page.evaluate("""() => window.spark.kv.set('w3-hotel-guests', [
        {id: 'g-1', firstName: 'Ada', lastName: 'King'}])""")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=version-row]').length === 2")
    newest = rows.first
    assert "Updated guest Ada King (lastName)" in newest.inner_text()
    assert "admin" in newest.inner_text()
    assert "Automatic" in newest.inner_text()
    assert newest.get_by_test_id("change-count").inner_text() == "1"
    assert page.get_by_test_id("panel-status").inner_text() == "2 versions"

    newest.click()
    change = page.get_by_test_id("change-list").get_by_test_id("change")
    change.first.wait_for()
    assert change.count() == 1
    assert "g-1" in change.first.inner_text() and "lastName" in change.first.inner_text()

    # Opened again (a new container), it still lists and still follows new versions.
    page.get_by_test_id("nav-guests").click()
    page.get_by_test_id("nav-settings").click()
    page.get_by_test_id("open-backups").click()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=version-row]').length === 2")
    page.evaluate("""() => window.spark.kv.set('w3-hotel-guests', [
        {id: 'g-1', firstName: 'Ada', lastName: 'Byron'}])""")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=version-row]').length === 3")
    assert page.get_by_test_id("panel-status").inner_text() == "3 versions"
    assert requests_seen.outside(server.url) == []


def test_a_clerk_cannot_open_the_panel(page: Any, clerk_server: Server) -> None:
    open_panel(page, clerk_server)
    denied = page.get_by_test_id("panel-denied")
    denied.wait_for(timeout=ENGINE_TIMEOUT_MS)
    assert "Only administrators" in denied.inner_text()
    assert page.get_by_test_id("version-row").count() == 0
    # Versions are still recorded for a clerk's writes: capture does not depend on the panel
    # (the clerk may not list them; the engine's status says the history moved).
    before = page.evaluate("() => window.backstay.status()")["headVersionId"]
    page.evaluate("() => window.spark.kv.set('w3-hotel-guests', [{id: 'c-1', firstName: 'Walk'}])")
    page.wait_for_function("""async (before) => {
        const status = await window.backstay.status();
        return status.headVersionId !== before && status.waiting === 0; }""", arg=before,
                           polling=200)


RESERVATIONS = "w3-hotel-reservations"
EVIL = '<img src=x onerror="window.__xss = 1">'


def test_restore_from_the_panel_with_preview_conflict_choice_and_undo(page: Any, server: Server) -> None:
    """The night manager, in the panel: preview a merge, choose for a conflict, restore, undo."""
    server.kv_set(RESERVATIONS, [{"id": f"r{n}", "status": "confirmed", "note": EVIL} for n in range(30)]
                  + [{"id": "r-vip", "status": "confirmed", "room": "101"}])
    open_panel(page, server)
    rows = page.get_by_test_id("version-row")
    rows.first.wait_for(timeout=ENGINE_TIMEOUT_MS)
    # 22:42: the 30 vanish and the VIP moves to 102; since, two new bookings.
    page.evaluate("""(key) => window.spark.kv.set(key, [
        {id: 'r-vip', status: 'confirmed', room: '102'},
        {id: 'n1', status: 'confirmed'}, {id: 'n2', status: 'confirmed'}])""", RESERVATIONS)
    page.wait_for_function("() => document.querySelectorAll('[data-testid=version-row]').length === 2")

    rows.last.get_by_test_id("compare").click()  # the baseline against today
    totals = page.get_by_test_id("compare-totals")
    totals.wait_for()
    assert totals.inner_text() == "2 created, 30 deleted, 1 changed"
    assert page.get_by_test_id("change").count() == 20  # paged
    page.get_by_test_id("more").first.click()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=change]').length === 33")

    rows.last.get_by_test_id("restore").click()
    page.get_by_test_id("mode-merge").check()
    page.get_by_test_id("preview").click()
    summary = page.get_by_test_id("preview-summary")
    summary.wait_for(timeout=ENGINE_TIMEOUT_MS)
    assert "creates 30 records, deletes 0 and changes 0" in summary.inner_text()
    assert page.get_by_test_id("conflict").count() == 1  # r-vip's room: 101 then, 102 now
    assert server.kv_get(RESERVATIONS)[0]["room"] == "102"  # nothing written by a preview
    page.get_by_test_id("conflict-choice").select_option("target")
    page.get_by_test_id("confirm").click()
    outcome = page.get_by_test_id("restore-outcome")
    outcome.wait_for(timeout=ENGINE_TIMEOUT_MS)
    assert "Restored reservations to" in outcome.inner_text() and "(merge)" in outcome.inner_text()
    stored = server.kv_get(RESERVATIONS)
    assert len(stored) == 33 and next(r for r in stored if r["id"] == "r-vip")["room"] == "101"
    page.wait_for_function("() => document.querySelectorAll('[data-testid=version-row]').length === 3")
    assert "Restore" in rows.first.inner_text()

    # Undo this restore: previewed, then confirmed.
    page.get_by_test_id("undo-restore").first.click()
    page.get_by_test_id("preview-summary").wait_for(timeout=ENGINE_TIMEOUT_MS)
    page.get_by_test_id("confirm").click()
    page.get_by_test_id("restore-outcome").wait_for(timeout=ENGINE_TIMEOUT_MS)
    assert [r["id"] for r in server.kv_get(RESERVATIONS)] == ["r-vip", "n1", "n2"]
    page.wait_for_function("() => document.querySelectorAll('[data-testid=version-row]').length === 4")

    # The restore log lists both; the record contents were shown as text, never run.
    section = page.get_by_test_id("audit-section")
    section.locator("summary").click()
    section.locator("select[name=kind]").select_option("backup")
    section.get_by_test_id("trail").click()  # Filter
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=trail-row]').length === 2")
    assert "restore" in section.get_by_test_id("trail-row").first.inner_text()
    assert page.evaluate("() => window.__xss") is None


def test_restore_only_the_records_picked_in_the_preview(page: Any, server: Server) -> None:
    server.kv_set(GUESTS, [{"id": "g1"}, {"id": "g2", "name": EVIL}]
                  + [{"id": f"h{n:02d}"} for n in range(25)])
    open_panel(page, server)
    rows = page.get_by_test_id("version-row")
    rows.first.wait_for(timeout=ENGINE_TIMEOUT_MS)
    page.evaluate("(key) => window.spark.kv.set(key, [{id: 'g1'}])", GUESTS)
    page.wait_for_function("() => document.querySelectorAll('[data-testid=version-row]').length === 2")
    rows.last.get_by_test_id("restore").click()
    page.get_by_test_id("preview").click()
    page.get_by_test_id("preview-summary").wait_for(timeout=ENGINE_TIMEOUT_MS)
    page.locator('[data-testid=record-choice][data-record-id="g2"]').check()
    page.get_by_test_id("more").click()  # a redraw keeps the pick
    page.locator('[data-testid=record-choice][data-record-id="h24"]').check()
    assert page.locator('[data-testid=record-choice][data-record-id="g2"]').is_checked()
    page.get_by_test_id("confirm-picked").click()
    outcome = page.get_by_test_id("restore-outcome")
    outcome.wait_for(timeout=ENGINE_TIMEOUT_MS)
    assert "Restored 2 guests to" in outcome.inner_text()
    assert server.kv_get(GUESTS) == [{"id": "g1"}, {"id": "g2", "name": EVIL}, {"id": "h24"}]
    assert page.evaluate("() => window.__xss") is None
