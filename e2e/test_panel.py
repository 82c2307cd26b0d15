"""The backup panel: Settings → System → Version Control & Backups."""

from __future__ import annotations

from typing import Any

from harness import ENGINE_TIMEOUT_MS, RequestLog, Server, wait_ready, wait_versions

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
    assert "g-1" in change.first.inner_text() and "/lastName" in change.first.inner_text()

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
    # Versions are still recorded for a clerk's writes: capture does not depend on the panel.
    page.evaluate("() => window.spark.kv.set('w3-hotel-guests', [{id: 'c-1', firstName: 'Walk'}])")
    assert len(wait_versions(page, 2)) == 2
