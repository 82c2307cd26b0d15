"""Access and the audit trail, end to end: a front-desk clerk cannot open the panel or restore
(and the attempts are audited); admins' actions are audited with their results; an edited audit
entry is found by verify; the CSV export opens with Python's csv module."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from harness import ENGINE_TIMEOUT_MS, Server, wait_ready, wait_versions
from test_panel import open_panel

GUESTS = "w3-hotel-guests"
SYSTEM_USERS = "w3-hotel-system-users"

AUDIT_JS = """() => new Promise((resolve, reject) => {
  const req = indexedDB.open('backstay');
  req.onerror = () => reject(req.error);
  req.onsuccess = () => {
    const store = req.result.transaction('meta').objectStore('meta');
    const keys = store.getAllKeys();
    const values = store.getAll();
    values.onsuccess = () => resolve(keys.result
        .map((key, i) => [key, new TextDecoder().decode(values.result[i])])
        .filter(([key]) => key.startsWith('audit/')).map(([, text]) => JSON.parse(text)));
  };
})"""

EDIT_AUDIT_JS = """(message) => new Promise((resolve, reject) => {
  const req = indexedDB.open('backstay');
  req.onsuccess = () => {
    const tx = req.result.transaction('meta', 'readwrite');
    const store = tx.objectStore('meta');
    const keys = store.getAllKeys();
    keys.onsuccess = () => {
      const key = keys.result.filter((k) => k.startsWith('audit/')).sort()[0];
      const get = store.get(key);
      get.onsuccess = () => {
        const entry = JSON.parse(new TextDecoder().decode(get.result));
        entry.message = message;
        store.put(new TextEncoder().encode(JSON.stringify(entry)), key);
      };
    };
    tx.oncomplete = () => resolve(true);
    tx.onerror = () => reject(tx.error);
  };
})"""


def error_of(page: Any, expression: str, *args: Any) -> str:
    return str(page.evaluate(
        f"(args) => ({expression}).then(() => 'no error', (e) => e.message)", list(args)))


def test_a_front_desk_clerk_can_neither_open_the_panel_nor_restore(page: Any, clerk_server: Server) -> None:
    clerk_server.kv_set(GUESTS, [{"id": "g1", "name": "Ada"}])
    open_panel(page, clerk_server)
    denied = page.get_by_test_id("panel-denied")
    denied.wait_for(timeout=ENGINE_TIMEOUT_MS)
    assert "Only administrators" in denied.inner_text()
    assert "frontdesk (role staff) may not open Version Control" in page.get_by_test_id(
        "backstay-panel").inner_text()
    status = page.evaluate("() => window.backstay.status()")
    assert status["isAdmin"] is False and status["can"]["restore"] is False
    head = status["headVersionId"]
    restore = error_of(page, "window.backstay.restoreVersion(args[0])", head)
    assert restore.startswith("frontdesk (role staff) may not restore, merge and revert versions")
    assert "ask the hotel's administrator" in restore
    listing = error_of(page, "window.backstay.listVersions()")
    assert "may not open Version Control" in listing
    audit = page.evaluate(AUDIT_JS)
    assert {(e["action"], e["result"], e["user"]) for e in audit} >= {
        ("open-panel", "denied", "frontdesk"), ("restore", "denied", "frontdesk"),
        ("list-versions", "denied", "frontdesk")}
    assert all(e["details"]["permission"] for e in audit)


def test_a_system_user_with_role_admin_is_an_admin(page: Any, clerk_server: Server) -> None:
    clerk_server.kv_set(SYSTEM_USERS, [
        {"id": "su1", "username": "frontdesk", "email": "x@hotel.example", "role": "admin",
         "isActive": True}])
    open_panel(page, clerk_server)
    page.get_by_test_id("version-row").first.wait_for(timeout=ENGINE_TIMEOUT_MS)
    status = page.evaluate("() => window.backstay.status()")
    assert (status["isAdmin"], status["role"]) == (True, "admin")
    # Deactivated: no longer an admin (the next version of the key says so).
    page.evaluate("""(key) => window.spark.kv.set(key, [{id: 'su1', username: 'frontdesk',
        email: 'x@hotel.example', role: 'admin', isActive: false}])""", SYSTEM_USERS)
    deadline = time.monotonic() + 30
    while page.evaluate("() => window.backstay.status()")["isAdmin"]:
        assert time.monotonic() < deadline, "still an admin after being deactivated"
        page.wait_for_timeout(200)


def test_admin_actions_are_audited_and_an_edited_entry_is_found(page: Any, server: Server) -> None:
    server.kv_set(GUESTS, [{"id": "g1", "name": "=HYPERLINK(\"http://x\")"}])
    page.goto(server.url + "/")
    wait_ready(page)
    baseline = wait_versions(page, 1)[0]["id"]
    page.evaluate("(key) => window.spark.kv.set(key, [{id: 'g1', name: 'Ada'}, {id: 'g2'}])", GUESTS)
    wait_versions(page, 2)
    page.evaluate("(id) => window.backstay.restoreVersion(id)", baseline)
    assert page.evaluate("() => window.backstay.verify()")["ok"] is True
    exported = page.evaluate("() => window.backstay.exportAuditTrail('csv')")
    rows = list(csv.DictReader(io.StringIO(exported["text"])))
    assert list(rows[0]) == ["time", "timestampMs", "kind", "user", "device", "action", "module",
                             "recordId", "result", "message", "versionId", "id"]
    writes = [r for r in rows if r["kind"] == "write"]
    assert {r["device"] for r in rows} == {rows[0]["device"]}  # one browser did everything
    assert rows[0]["device"].startswith("Chrome") or rows[0]["device"].startswith("Chromium")
    assert {(r["action"], r["recordId"]) for r in writes} >= {("update", "g1"), ("create", "g2"),
                                                              ("delete", "g2")}
    assert any(r["kind"] == "backup" and r["action"] == "restore" and r["result"] == "done" for r in rows)
    assert any(r["action"] == "verify" and r["result"] == "done" for r in rows)
    assert all(not r["message"].startswith("=") for r in rows)
    page.evaluate("() => window.backstay.setPermission('export', ['admin', 'accounts'])")
    audit = page.evaluate("() => window.backstay.auditLog()")
    assert [(e["action"], e["result"]) for e in audit] == [
        ("restore", "done"), ("verify", "done"), ("export-audit", "done"), ("set-permission", "done")]
    assert page.evaluate("() => window.backstay.permissions()")["permissions"]["export"] == [
        "accounts", "admin"]

    page.evaluate(EDIT_AUDIT_JS, "nothing to see here")
    report = page.evaluate("() => window.backstay.verify()")
    assert report["ok"] is False
    assert [p["detail"] for p in report["problems"] if p["kind"] == "audit"] == [
        "the entry was edited: its content no longer matches its hash"]


def test_permission_grants_made_at_once_in_two_tabs_all_hold(context: Any, server: Server) -> None:
    first, second = context.new_page(), context.new_page()
    for page in (first, second):
        page.goto(server.url + "/")
        wait_ready(page)
    wait_versions(first, 1)
    assert first.evaluate("() => window.backstay.status()")["drainer"] != \
        second.evaluate("() => window.backstay.status()")["drainer"]
    start = """([permission, roles]) => { window.__grant = window.backstay.setPermission(permission, roles)
        .then(() => 'ok', (e) => e.message); }"""
    for round_ in range(5):
        first.evaluate(start, ["import", ["admin", f"manager{round_}"]])
        second.evaluate(start, ["export", ["admin", f"accounts{round_}"]])
        assert first.evaluate("() => window.__grant") == "ok"
        assert second.evaluate("() => window.__grant") == "ok"
        granted = first.evaluate("() => window.backstay.permissions()")["permissions"]
        assert (granted["import"], granted["export"]) == (
            sorted(["admin", f"manager{round_}"]), sorted(["admin", f"accounts{round_}"])), granted
    audit = [(e["action"], e["result"]) for e in first.evaluate("() => window.backstay.auditLog()")]
    assert audit.count(("set-permission", "done")) == 10


def test_a_request_carried_out_by_another_tabs_engine_acts_for_the_user_who_asked(
        context: Any, server: Server) -> None:
    """The tab that runs the engine may have a different user signed in (a session that changed
    since it opened): a request it carries out for another tab is checked and audited for the
    user of the tab that asked."""
    server.kv_set(GUESTS, [{"id": "g1", "name": "Ada"}])
    clerk = context.new_page()
    clerk.route("**/_spark/user", lambda route: route.fulfill(json={
        "login": "frontdesk", "email": "frontdesk@example.com", "id": 7, "isOwner": False,
        "avatarUrl": ""}))
    clerk.goto(server.url + "/")
    wait_ready(clerk)
    clerk.wait_for_function("() => window.backstay.status().then((s) => s.headVersionId !== null)",
                            timeout=ENGINE_TIMEOUT_MS)
    status = clerk.evaluate("() => window.backstay.status()")
    assert (status["drainer"], status["user"], status["isAdmin"]) == (True, "frontdesk", False)
    admin = context.new_page()
    admin.goto(server.url + "/")
    wait_ready(admin)
    assert admin.evaluate("() => window.backstay.status()")["drainer"] is False
    first = wait_versions(admin, 1)[-1]
    admin.evaluate("(key) => window.spark.kv.set(key, [{id: 'g1', name: 'Ada Lovelace'}])", GUESTS)
    wait_versions(admin, 2)

    result = admin.evaluate("(id) => window.backstay.restoreVersion(id)", first["id"])
    assert result["version"]["createdBy"] == "admin"
    assert server.kv_get(GUESTS) == [{"id": "g1", "name": "Ada"}]
    assert error_of(clerk, "window.backstay.restoreVersion(args[0])", first["id"]).startswith(
        "frontdesk (role staff) may not restore")
    audit = admin.evaluate("() => window.backstay.auditLog()")
    assert sorted((e["result"], e["user"]) for e in audit if e["action"] == "restore") == [
        ("denied", "frontdesk"), ("done", "admin")]


def test_a_tab_that_could_not_learn_its_user_is_not_served_as_the_engines_user(
        context: Any, server: Server) -> None:
    """A tab whose /_spark/user failed asks the engine's tab to restore: it is carried out for
    nobody in particular (a user with staff's permissions), never as the admin of the engine's tab."""
    server.kv_set(GUESTS, [{"id": "g1", "name": "Ada"}])
    admin = context.new_page()
    admin.goto(server.url + "/")
    wait_ready(admin)
    first = wait_versions(admin, 1)[-1]
    assert admin.evaluate("() => window.backstay.status()")["drainer"] is True
    admin.evaluate("() => window.backstay.setPermission('view', ['admin', 'staff'])")
    admin.evaluate("() => window.backstay.setPermission('restore', ['admin', 'staff'])")
    admin.evaluate("(key) => window.spark.kv.set(key, [{id: 'g1', name: 'Ada Lovelace'}])", GUESTS)
    wait_versions(admin, 2)

    anonymous = context.new_page()
    anonymous.route("**/_spark/user", lambda route: route.fulfill(status=503, body="down"))
    anonymous.goto(server.url + "/")
    wait_ready(anonymous)
    assert anonymous.evaluate("() => window.backstay.status()")["drainer"] is False
    result = anonymous.evaluate("(id) => window.backstay.restoreVersion(id)", first["id"])
    assert result["version"]["createdBy"] != "admin", result
    restores = [e for e in admin.evaluate("() => window.backstay.auditLog()") if e["action"] == "restore"]
    assert [(e["result"], e["user"] == "admin") for e in restores] == [("done", False)], restores
    # Without restore for staff, the same request is refused.
    admin.evaluate("() => window.backstay.setPermission('restore', ['admin'])")
    assert "may not restore" in error_of(anonymous, "window.backstay.restoreVersion(args[0])", first["id"])
