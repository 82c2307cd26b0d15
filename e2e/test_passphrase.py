"""The hotel's encryption passphrase, end to end (real Chromium, the real server, IndexedDB and
WebCrypto): once it is set, every exported backup is sealed with it, even by a clerk who does
not know it; the file opens with the passphrase alone (an independent reader, and another
instance), and here without it; changing or removing it needs the current one and the
`passphrase` permission; it never reaches the audit trail, the store or the server."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

from harness import Server, wait_ready, wait_versions
from test_access import AUDIT_JS, error_of
from test_backups import EXPORT_JS, GUEST_LIST, GUESTS, _call, other_server, seal_open
from test_panel import open_panel

__all__ = ["other_server"]  # the fixture, used by name

PASSPHRASE = "harbour lantern quietly 1987"
KEYRING_COUNT_JS = """() => new Promise((resolve, reject) => {
  const req = indexedDB.open('backstay-keyring');
  req.onerror = () => reject(req.error);
  req.onsuccess = () => {
    const count = req.result.transaction('keys').objectStore('keys').count();
    count.onsuccess = () => { resolve(count.result); req.result.close(); };
  };
})"""
DROP_RECORD_JS = """() => new Promise((resolve, reject) => {
  const req = indexedDB.open('backstay');
  req.onsuccess = () => {
    const tx = req.result.transaction('meta', 'readwrite');
    tx.objectStore('meta').delete('passphrase');
    tx.oncomplete = () => { resolve(true); req.result.close(); };
    tx.onerror = () => reject(tx.error);
  };
})"""
NEW_PASSPHRASE = "seven blue umbrellas at dawn"


def _meta_texts(page: Any) -> str:
    """Every value of Backstay's meta store and the journal, as one text (to look for secrets)."""
    return str(page.evaluate("""() => new Promise((resolve, reject) => {
      const req = indexedDB.open('backstay');
      req.onerror = () => reject(req.error);
      req.onsuccess = () => {
        const values = req.result.transaction('meta').objectStore('meta').getAll();
        values.onsuccess = () => resolve(values.result.map((v) => new TextDecoder().decode(v)).join('\\n'));
      };
    })"""))


def test_the_hotel_passphrase_seals_every_backup_and_opens_it_anywhere(
        page: Any, context: Any, server: Server, other_server: Server) -> None:
    server.kv_set(GUESTS, GUEST_LIST)
    page.goto(server.url + "/")
    wait_ready(page)
    wait_versions(page, 1)
    assert page.evaluate("() => window.backstay.passphrase()") == {"set": False, "usable": False}
    assert page.evaluate(EXPORT_JS, {})["encrypted"] is False

    assert "at least 12 characters" in error_of(page, "window.backstay.setPassphrase({passphrase: 'short'})")
    status = page.evaluate("(p) => window.backstay.setPassphrase({passphrase: p})", PASSPHRASE)
    assert (status["set"], status["usable"], status["setBy"]) == (True, True, "admin")

    exported = page.evaluate(EXPORT_JS, {})
    assert (exported["encrypted"], exported["sealedWith"]) == (True, "hotel-passphrase")
    envelope = json.loads(base64.b64decode(exported["data"]))
    assert envelope["format"] == "backstay-backup-encrypted"
    plain = json.loads(gzip.decompress(seal_open(envelope, PASSPHRASE)))  # the passphrase alone opens it
    assert plain["format"] == "backstay-backup"
    # Files sealed with the hotel's key share its salt: the key is derived once, and kept.
    assert json.loads(base64.b64decode(page.evaluate(EXPORT_JS, {})["data"]))["salt"] == envelope["salt"]

    # Here it imports without typing the passphrase.
    here = _call(page, "previewImport", exported["data"], {"mode": "full"})
    assert "error" not in here, here
    # Another instance needs the passphrase, and then imports it exactly.
    other = context.new_page()
    other.goto(other_server.url + "/")
    wait_ready(other)
    wait_versions(other, 1)
    assert "encrypted" in _call(other, "importBackup", exported["data"], {"mode": "full"})["error"]
    done = _call(other, "importBackup", exported["data"], {"mode": "full", "passphrase": PASSPHRASE})
    assert "error" not in done, done
    assert other_server.kv_get(GUESTS) == GUEST_LIST

    # Changing it needs the current one; afterwards the old files still open with the old one.
    assert "enter the current one" in error_of(
        page, "window.backstay.setPassphrase({passphrase: args[0]})", NEW_PASSPHRASE)
    assert "current passphrase is wrong" in error_of(
        page, "window.backstay.setPassphrase({passphrase: args[0], current: 'not the passphrase'})",
        NEW_PASSPHRASE)
    page.evaluate("([p, c]) => window.backstay.setPassphrase({passphrase: p, current: c})",
                  [NEW_PASSPHRASE, PASSPHRASE])
    changed = json.loads(base64.b64decode(page.evaluate(EXPORT_JS, {})["data"]))
    assert changed["salt"] != envelope["salt"]
    assert json.loads(gzip.decompress(seal_open(changed, NEW_PASSPHRASE)))["format"] == "backstay-backup"
    old_file = _call(page, "previewImport", exported["data"], {"mode": "full", "passphrase": PASSPHRASE})
    assert "error" not in old_file, old_file

    # Removing it: exports are plain again.
    assert "current passphrase is wrong" in error_of(
        page, "window.backstay.setPassphrase({passphrase: null, current: args[0]})", PASSPHRASE)
    page.evaluate("(c) => window.backstay.setPassphrase({passphrase: null, current: c})", NEW_PASSPHRASE)
    assert page.evaluate(EXPORT_JS, {})["encrypted"] is False

    audited = [(e["action"], e["result"], e["details"].get("doing"))
               for e in page.evaluate("() => window.backstay.auditLog()") if e["action"] == "passphrase"]
    assert audited == [("passphrase", "failed", "set"), ("passphrase", "done", "set"),
                       ("passphrase", "failed", "change"), ("passphrase", "failed", "change"),
                       ("passphrase", "done", "change"), ("passphrase", "failed", "remove"),
                       ("passphrase", "done", "remove")]
    stored = _meta_texts(page)
    for secret in (PASSPHRASE, NEW_PASSPHRASE):
        assert secret not in stored
        assert secret not in json.dumps(page.evaluate("() => window.backstay.auditLog()"))


def test_a_clerk_exports_sealed_files_but_cannot_change_the_passphrase(page: Any, tmp_path: Path) -> None:
    """The owner set the passphrase and let front-desk staff export: their files are sealed with
    the hotel's passphrase they do not know, another passphrase typed at export is refused, and
    their attempt to change the passphrase is refused and audited."""
    data = tmp_path / "hotel"
    data.mkdir()
    owner = Server(data=data)
    owner.start()
    try:
        owner.kv_set(GUESTS, GUEST_LIST)
        page.goto(owner.url + "/")
        wait_ready(page)
        wait_versions(page, 1)
        page.evaluate("(p) => window.backstay.setPassphrase({passphrase: p})", PASSPHRASE)
        page.evaluate("() => window.backstay.setPermission('export', ['admin', 'staff'])")
    finally:
        owner.stop()
    clerk = Server(data=data, port=owner.port,
                   user={"BACKSTAY_USER_LOGIN": "frontdesk", "BACKSTAY_USER_OWNER": "0"})
    clerk.start()
    try:
        page.reload()
        wait_ready(page)
        assert page.evaluate("() => window.backstay.status()")["user"] == "frontdesk"
        exported = page.evaluate(EXPORT_JS, {})
        assert (exported["encrypted"], exported["sealedWith"]) == (True, "hotel-passphrase")
        envelope = json.loads(base64.b64decode(exported["data"]))
        assert json.loads(gzip.decompress(seal_open(envelope, PASSPHRASE)))["format"] == "backstay-backup"
        own = "window.backstay.exportBackup({download: false, passphrase: args[0]})"
        assert "not it" in error_of(page, own, "a passphrase of my own")
        refused = error_of(page, "window.backstay.setPassphrase({passphrase: args[0]})", NEW_PASSPHRASE)
        assert refused.startswith("frontdesk (role staff) may not set or change the encryption passphrase")
        audited = [(e["user"], e["action"], e["result"]) for e in page.evaluate(AUDIT_JS)]
        assert ("frontdesk", "passphrase", "denied") in audited
        assert ("frontdesk", "export", "failed") in audited and ("frontdesk", "export", "done") in audited
    finally:
        clerk.stop()


def test_exports_stay_sealed_when_the_store_loses_the_record_and_removal_drops_the_key(
        page: Any, server: Server) -> None:
    """Fail closed: the record kept beside the key in this browser still applies when Backstay's
    store no longer has it. Removing the passphrase drops the key from the browser too."""
    server.kv_set(GUESTS, GUEST_LIST)
    page.goto(server.url + "/")
    wait_ready(page)
    wait_versions(page, 1)
    page.evaluate("(p) => window.backstay.setPassphrase({passphrase: p})", PASSPHRASE)
    salt = json.loads(base64.b64decode(page.evaluate(EXPORT_JS, {})["data"]))["salt"]
    assert page.evaluate(KEYRING_COUNT_JS) == 1
    page.evaluate(DROP_RECORD_JS)
    again = page.evaluate(EXPORT_JS, {})
    assert again["sealedWith"] == "hotel-passphrase", again
    assert json.loads(base64.b64decode(again["data"]))["salt"] == salt
    assert page.evaluate("() => window.backstay.passphrase()")["set"] is True
    page.evaluate("(c) => window.backstay.setPassphrase({passphrase: null, current: c})", PASSPHRASE)
    assert page.evaluate(KEYRING_COUNT_JS) == 0
    assert page.evaluate("() => window.backstay.passphrase()") == {"set": False, "usable": False}
    assert page.evaluate(EXPORT_JS, {})["encrypted"] is False


def test_the_panel_sets_the_passphrase_and_exports_sealed(page: Any, server: Server) -> None:
    server.kv_set(GUESTS, GUEST_LIST)
    open_panel(page, server)
    page.get_by_test_id("backups-section").locator("summary").click()
    page.get_by_test_id("passphrase-state").wait_for()
    assert "No encryption passphrase is set" in page.get_by_test_id("passphrase-state").inner_text()
    page.get_by_test_id("passphrase-new").fill(PASSPHRASE)
    page.get_by_test_id("passphrase-repeat").fill(PASSPHRASE + "x")
    page.locator('[data-action="save-passphrase"]').click()
    page.get_by_test_id("passphrase-result").filter(has_text="differ").wait_for()
    page.get_by_test_id("passphrase-new").fill(PASSPHRASE)
    page.get_by_test_id("passphrase-repeat").fill(PASSPHRASE)
    page.locator('[data-action="save-passphrase"]').click()
    page.get_by_test_id("passphrase-saved").wait_for()
    assert "encrypted with the hotel's passphrase" in page.get_by_test_id("passphrase-state").inner_text()
    with page.expect_download() as download:
        page.locator('[data-action="export-backup"]').click()
    saved = json.loads(download.value.path().read_bytes())
    assert json.loads(gzip.decompress(seal_open(saved, PASSPHRASE)))["format"] == "backstay-backup"
    assert "encrypted" in page.get_by_test_id("export-outcome").inner_text()


def test_the_same_words_typed_composed_or_decomposed_open_the_same_file(page: Any, server: Server) -> None:
    """One keyboard types é as one character, another as e and an accent: the key is derived from
    the passphrase in Unicode NFC, so either spelling opens the file."""
    decomposed, composed = "re\u0301ception de nuit 2026", "r\u00e9ception de nuit 2026"
    server.kv_set(GUESTS, GUEST_LIST)
    page.goto(server.url + "/")
    wait_ready(page)
    wait_versions(page, 1)
    exported = page.evaluate(EXPORT_JS, {"passphrase": decomposed})
    envelope = json.loads(base64.b64decode(exported["data"]))
    assert json.loads(gzip.decompress(seal_open(envelope, composed)))["format"] == "backstay-backup"
    preview = _call(page, "previewImport", exported["data"], {"mode": "full", "passphrase": composed})
    assert "error" not in preview, preview


DELETE_KEYRING_JS = """() => new Promise((resolve, reject) => {
  const req = indexedDB.deleteDatabase('backstay-keyring');
  req.onsuccess = () => resolve(true);
  req.onerror = () => reject(req.error);
  req.onblocked = () => reject(new Error('blocked'));
})"""


def test_a_keyring_deleted_mid_session_fails_closed_until_the_passphrase_is_given(
        page: Any, server: Server) -> None:
    """The browser's keyring database deleted while the page is open (site data cleared by hand,
    a cleaner extension): an export is refused with what to do, never written unsealed; the
    passphrase given once seals it and is kept again, so later exports need it no more."""
    server.kv_set(GUESTS, GUEST_LIST)
    page.goto(server.url + "/")
    wait_ready(page)
    wait_versions(page, 1)
    page.evaluate("(p) => window.backstay.setPassphrase({passphrase: p})", PASSPHRASE)
    assert page.evaluate(DELETE_KEYRING_JS) is True
    assert page.evaluate("() => window.backstay.passphrase()")["usable"] is False
    refused = error_of(page, "window.backstay.exportBackup({download: false})")
    assert "no longer holds its key" in refused and "give the hotel's passphrase" in refused, refused
    wrong = error_of(page, "window.backstay.exportBackup({download: false, passphrase: args[0]})",
                     NEW_PASSPHRASE)
    assert "not it" in wrong, wrong
    sealed = page.evaluate(EXPORT_JS, {"passphrase": PASSPHRASE})
    assert sealed["sealedWith"] == "hotel-passphrase", sealed
    envelope = json.loads(base64.b64decode(sealed["data"]))
    assert json.loads(gzip.decompress(seal_open(envelope, PASSPHRASE)))["formatVersion"] >= 1
    assert page.evaluate("() => window.backstay.passphrase()")["usable"] is True
    assert page.evaluate(EXPORT_JS, {})["sealedWith"] == "hotel-passphrase"


def test_two_tabs_setting_the_passphrase_at_once_leave_exactly_one(context: Any, server: Server) -> None:
    """Two admins in two tabs set a passphrase at the same moment: one is set, the other is told
    that a passphrase is set now and it needs the current one; exports of both tabs are sealed
    with the one set, and the keyring holds that key alone."""
    server.kv_set(GUESTS, GUEST_LIST)
    first, second = context.new_page(), context.new_page()
    for page in (first, second):
        page.goto(server.url + "/")
        wait_ready(page)
    wait_versions(first, 1)
    start = """(p) => { window.__setting = window.backstay.setPassphrase({passphrase: p})
        .then(() => 'set', (e) => e.message); }"""
    first.evaluate(start, PASSPHRASE)  # not awaited: both calls are in flight at once
    second.evaluate(start, NEW_PASSPHRASE)
    answers = [first.evaluate("() => window.__setting"), second.evaluate("() => window.__setting")]
    assert sorted(answer == "set" for answer in answers) == [False, True], answers
    refused = next(answer for answer in answers if answer != "set")
    assert "current" in refused.lower(), refused
    winner = PASSPHRASE if answers[0] == "set" else NEW_PASSPHRASE
    for page in (first, second):
        envelope = json.loads(base64.b64decode(page.evaluate(EXPORT_JS, {})["data"]))
        assert json.loads(gzip.decompress(seal_open(envelope, winner)))["formatVersion"] >= 1
    assert first.evaluate(KEYRING_COUNT_JS) == 1
