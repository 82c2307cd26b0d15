"""Deleting versions and cleaning up by the retention settings, end to end (real Chromium,
the real server, IndexedDB): what is left reads back exactly as before, today's version cannot
be deleted, and every deletion, cleanup and settings change is audited."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from harness import Server, versions, wait_ready, wait_versions
from stores import load_store_into_browser, open_origin_without_engine

from app.core.audit.entry import AuditEntry
from app.core.audit.log import append, new_entry_id
from app.core.memory_store import MemoryStore

GUESTS = "w3-hotel-guests"


def _error(page: Any, expression: str, *args: Any) -> str:
    return str(page.evaluate(f"(args) => ({expression}).then(() => '', (e) => e.message)", list(args)))


def _states(page: Any, ids: list[str]) -> dict[str, Any]:
    return {version_id: page.evaluate("(id) => window.backstay.stateAt(id)", version_id)
            for version_id in ids}


def test_delete_and_clean_up_keep_every_other_version_exact(page: Any, server: Server) -> None:
    server.kv_set(GUESTS, [{"id": "g0", "lastName": "Perera"}])
    page.goto(server.url + "/")
    wait_ready(page)
    wait_versions(page, 1)
    for n in range(1, 6):
        guests = [{"id": "g0", "lastName": "Perera"}, *({"id": f"g{i}"} for i in range(1, n + 1))]
        page.evaluate("([k, v]) => window.spark.kv.set(k, v)", [GUESTS, guests])
        wait_versions(page, n + 1)
    listed = [v["id"] for v in versions(page)]  # newest first
    before = _states(page, listed)

    # One version, in the middle: gone, and every other still reads back as before.
    doomed = listed[3]
    assert page.evaluate("(id) => window.backstay.deleteVersion(id)", doomed) == {"deleted": [doomed]}
    left = [v["id"] for v in versions(page)]
    assert left == [v for v in listed if v != doomed]
    assert _states(page, left) == {v: before[v] for v in left}
    assert "today's data: it cannot be deleted" in _error(
        page, "window.backstay.deleteVersion(args[0])", left[0])
    assert "No version" in _error(page, "window.backstay.deleteVersion('nope')")

    # Retention: keep the newest 3. A dry run lists, the cleanup deletes, oldest first.
    assert "at least 2" in _error(page, "window.backstay.setSettings({retention: {maxVersions: 1}})")
    saved = page.evaluate("() => window.backstay.setSettings({retention: {maxVersions: 3}})")
    assert saved["retention"] == {"maxAgeDays": 365, "maxVersions": 3, "keepBackups": True,
                                  "auditMaxAgeDays": None}
    assert page.evaluate("() => window.backstay.settings()") == saved
    dry = page.evaluate("() => window.backstay.cleanup({dryRun: true})")
    assert dry["wouldDelete"] == list(reversed(left[3:])) and dry["kept"] == 3
    assert [v["id"] for v in versions(page)] == left  # a dry run deletes nothing
    done = page.evaluate("() => window.backstay.cleanup()")
    assert done["deleted"] == dry["wouldDelete"]
    assert [v["id"] for v in versions(page)] == left[:3]
    assert _states(page, left[:3]) == {v: before[v] for v in left[:3]}
    assert page.evaluate("() => window.backstay.verify({full: true})")["ok"] is True
    again = page.evaluate("() => window.backstay.cleanup()")
    assert again["deleted"] == []

    audit = [(e["action"], e["result"]) for e in page.evaluate("() => window.backstay.auditLog()")]
    assert audit == [("delete", "done"), ("delete", "failed"), ("settings", "failed"),
                     ("settings", "done"), ("cleanup", "done"), ("verify", "done"), ("cleanup", "nothing")]


def test_a_clerk_can_neither_delete_nor_clean_up_nor_change_settings(page: Any, clerk_server: Server) -> None:
    page.goto(clerk_server.url + "/")
    wait_ready(page)
    head = page.evaluate("() => window.backstay.status()")["headVersionId"]
    assert _error(page, "window.backstay.deleteVersion(args[0])", head).startswith(
        "frontdesk (role staff) may not delete versions and clean up")
    assert _error(page, "window.backstay.cleanup()").startswith("frontdesk (role staff) may not delete")
    assert _error(page, "window.backstay.setSettings({retention: {maxAgeDays: 1}})").startswith(
        "frontdesk (role staff) may not change Backstay's settings")


def test_delete_and_clean_up_from_the_panel(page: Any, context: Any, server: Server) -> None:
    server.kv_set(GUESTS, [{"id": "g0"}])
    page.goto(server.url + "/")
    wait_ready(page)
    wait_versions(page, 1)
    for n in range(1, 5):
        page.evaluate("([k, v]) => window.spark.kv.set(k, v)",
                      [GUESTS, [{"id": f"g{i}"} for i in range(n + 1)]])
        wait_versions(page, n + 1)
    page.get_by_test_id("nav-settings").click()
    page.get_by_test_id("open-backups").click()
    rows = page.get_by_test_id("version-row")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=version-row]').length === 5")
    assert rows.first.get_by_test_id("delete-version").count() == 0  # today's version: no delete
    rows.nth(2).get_by_test_id("delete-version").click()
    page.get_by_test_id("delete-title").wait_for()
    assert "Every other version still reads back" in page.get_by_test_id("version-detail").inner_text()
    other = context.new_page()  # another tab with the panel open sees the deletion too
    other.goto(server.url + "/")
    wait_ready(other)
    other.get_by_test_id("nav-settings").click()
    other.get_by_test_id("open-backups").click()
    other.wait_for_function("() => document.querySelectorAll('[data-testid=version-row]').length === 5")
    page.get_by_test_id("confirm-delete").click()
    page.get_by_test_id("delete-outcome").wait_for()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=version-row]').length === 4")
    other.wait_for_function("() => document.querySelectorAll('[data-testid=version-row]').length === 4")
    other.close()

    page.get_by_test_id("retention-section").locator("summary").click()
    page.get_by_test_id("retention-count").fill("2")
    page.get_by_test_id("save-retention").click()
    page.get_by_test_id("retention-saved").wait_for()
    page.get_by_test_id("preview-cleanup").click()
    page.get_by_test_id("cleanup-summary").wait_for()
    assert "deletes 2 version(s) and keeps 2" in page.get_by_test_id("cleanup-summary").inner_text()
    page.get_by_test_id("confirm-cleanup").click()
    page.get_by_test_id("cleanup-outcome").wait_for()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=version-row]').length === 2")
    page.get_by_test_id("retention-days").fill("-3")
    page.get_by_test_id("save-retention").click()
    page.get_by_test_id("restore-error").wait_for()
    assert "maxAgeDays is a whole number" in page.get_by_test_id("restore-error").inner_text()
    assert page.evaluate("() => window.backstay.settings()")["retention"]["maxVersions"] == 2


def test_the_audit_retention_removes_only_old_entries_and_says_so(page: Any, server: Server) -> None:
    """Audit entries kept from 500 days ago (a chain made by the core, put into the browser's
    store before the engine starts): with auditMaxAgeDays 400, a cleanup removes them in one
    batch with an audit-prune entry, and verify still passes on what is kept."""
    long_ago = int(time.time() * 1000) - 500 * 86_400_000

    async def old_entries() -> dict[str, bytes]:
        store = MemoryStore()
        for n in range(3):
            await append(store, AuditEntry(new_entry_id(long_ago + n), long_ago + n, "night-manager",
                                           "export", "done", f"Exported file {n}", {}))
        return await store.get_many("meta", await store.keys("meta"))

    with ThreadPoolExecutor(1) as thread:  # Playwright's own event loop runs in this one
        meta = thread.submit(asyncio.run, old_entries()).result()
    open_origin_without_engine(page, server.url)
    assert load_store_into_browser(page, {"meta": meta}) == {"meta": 4}
    server.kv_set(GUESTS, [{"id": "g0"}])
    page.goto(server.url + "/")
    wait_ready(page)
    wait_versions(page, 1)
    assert page.evaluate("() => window.backstay.verify()")["ok"] is True
    page.evaluate("() => window.backstay.setSettings({retention: {auditMaxAgeDays: 400}})")

    # A one-run override never removes audit entries; the stored setting does.
    override = page.evaluate("() => window.backstay.cleanup({dryRun: true, retention: {maxAgeDays: 30}})")
    assert override["auditWouldRemove"] == 0, override
    preview = page.evaluate("() => window.backstay.cleanup({dryRun: true})")
    assert preview["auditWouldRemove"] == 3, preview
    done = page.evaluate("() => window.backstay.cleanup()")
    assert done["auditRemoved"] == 3 and done["deleted"] == [], done

    log = page.evaluate("() => window.backstay.auditLog()")
    assert not [e for e in log if e["user"] == "night-manager"]
    pruned = [e for e in log if e["action"] == "audit-prune"]
    assert len(pruned) == 1 and pruned[0]["details"]["removed"] == 3, pruned
    assert [e for e in log if e["action"] == "cleanup"][0]["details"]["auditRemoved"] == 3
    report = page.evaluate("() => window.backstay.verify()")
    assert report["ok"] is True, report["problems"]
    assert page.evaluate("() => window.backstay.cleanup({dryRun: true})")["auditWouldRemove"] == 0
