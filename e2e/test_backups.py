"""Backup files, end to end: real Chromium, the real server, IndexedDB and WebCrypto.

A backup exported on one instance is imported on another (another origin: its own IndexedDB
and store) and gives back exactly the texts the PMS stored, odd values included; the import is
one version, audited, and undone by restoring the version before it. A passphrase seals the
file (AES-256-GCM); a wrong passphrase, an edited file or a file that is not a backup is
refused with a clear message, and nothing changes.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from harness import Server, versions, wait_ready, wait_versions
from test_access import AUDIT_JS

GUESTS = "w3-hotel-guests"
SETTINGS = "w3-hotel-settings"
#: Valid but odd JSON, as another client might have stored it: a lone surrogate, a number beyond
#: a double, an integer beyond 2^53, members in no sorted order, deep nesting.
ODD_SETTINGS = ('{"zeta":1,"alpha":"Zo\\ud83d","ceiling":1e+400,"big":12345678901234567891,'
                '"deep":' + '{"a":' * 40 + "1" + "}" * 40 + "}")
GUEST_LIST = [{"id": "g1", "firstName": "Tharindu", "lastName": "Perera"},
              {"id": "g2", "firstName": "Ana", "lastName": "Silva",
               "notes": "<img src=x onerror=\"window.__xss = 1\">"}]

#: Export in the page and return the file's bytes (base64) with the answer's metadata.
EXPORT_JS = """async (options) => {
  const answer = await window.backstay.exportBackup({download: false, ...options});
  const bytes = new Uint8Array(await answer.blob.arrayBuffer());
  let text = ""; for (const b of bytes) text += String.fromCharCode(b);
  const {blob, ...meta} = answer;
  return {...meta, data: btoa(text)};
}"""
#: Call window.backstay[name](file, options) with the file's bytes; the answer, or {error}.
CALL_WITH_FILE_JS = """async ([name, data, options]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const file = new File([bytes], "backup.json");
  try { return await window.backstay[name](file, options); }
  catch (error) { return {error: error.message}; }
}"""


@pytest.fixture
def other_server(tmp_path: Path) -> Iterator[Server]:
    """A second instance: another port, so another origin with its own IndexedDB."""
    srv = Server(data=tmp_path / "other-data")
    srv.data.mkdir()
    srv.start()
    yield srv
    srv.stop()


def seal_open(envelope: dict[str, Any], passphrase: str) -> bytes:
    """AES-256-GCM under PBKDF2-SHA-256 (docs/FORMAT.md, "Backup files"), with cryptography."""
    key = PBKDF2HMAC(hashes.SHA256(), 32, base64.b64decode(envelope["salt"]),
                     envelope["iterations"]).derive(passphrase.encode())
    return AESGCM(key).decrypt(base64.b64decode(envelope["iv"]), base64.b64decode(envelope["data"]),
                               b"backstay-backup-encrypted/3")


def _call(page: Any, name: str, data: str, options: Any = None) -> Any:
    return page.evaluate(CALL_WITH_FILE_JS, [name, data, options])


def _audit(page: Any) -> list[tuple[str, str]]:
    return [(entry["action"], entry["result"])
            for entry in page.evaluate("() => window.backstay.auditLog()")]


def test_a_backup_made_here_is_imported_on_another_instance_exactly_and_undone(
        page: Any, context: Any, server: Server, other_server: Server) -> None:
    server.kv_set_text(SETTINGS, ODD_SETTINGS)
    server.kv_set(GUESTS, GUEST_LIST)
    page.goto(server.url + "/")
    wait_ready(page)
    head = wait_versions(page, 1)[0]
    exported = page.evaluate(EXPORT_JS, {})
    assert exported["versionId"] == head["id"] and exported["encrypted"] is False
    assert exported["filename"].startswith("backstay-backup-") and exported["filename"].endswith(".json")
    file = base64.b64decode(exported["data"])
    document = json.loads(file)  # a plain JSON file a person can read
    assert document["format"] == "backstay-backup" and document["formatVersion"] == 3
    assert document["source"]["versionId"] == head["id"]
    assert set(exported["modules"]) >= {GUESTS, SETTINGS}
    assert ODD_SETTINGS.encode() in file  # the text as the store held it, member order kept

    # The other instance: its own hotel data, which the import replaces.
    other_server.kv_set(GUESTS, [{"id": "x1", "firstName": "Other", "lastName": "Hotel"}])
    other = context.new_page()
    other.goto(other_server.url + "/")
    wait_ready(other)
    before = wait_versions(other, 1)[0]
    preview = _call(other, "previewImport", exported["data"], {"mode": "full"})
    assert "error" not in preview, preview
    assert preview["backup"]["source"]["versionId"] == head["id"]
    guests = next(m for m in preview["preview"]["modules"] if m["module"] == GUESTS)
    assert (guests["created"], guests["deleted"]) == (2, 1)
    assert len(versions(other)) == 1  # a preview writes nothing

    result = _call(other, "importBackup", exported["data"], {"mode": "full"})
    assert "error" not in result, result
    imported = result["version"]
    assert imported["changeType"] == "import"
    assert imported["description"].startswith("Imported all modules from the backup of")
    assert other_server.kv_get_text(SETTINGS) == ODD_SETTINGS
    assert other_server.kv_get(GUESTS) == GUEST_LIST
    assert _audit(other)[-1] == ("import", "done")
    assert _audit(page)[-1] == ("export", "done")

    # Undone like any restore: restore the version before the import.
    undo = other.evaluate("(id) => window.backstay.restoreVersion(id)", before["id"])
    assert undo["version"]["changeType"] == "restore"
    assert other_server.kv_get(GUESTS) == [{"id": "x1", "firstName": "Other", "lastName": "Hotel"}]
    assert other_server.kv_get_text(SETTINGS) is None

    # Importing only one module leaves the others as they are.
    only = _call(other, "importBackup", exported["data"], {"modules": [SETTINGS]})
    assert only["version"]["modules"] == [SETTINGS]
    assert other_server.kv_get_text(SETTINGS) == ODD_SETTINGS
    assert other_server.kv_get(GUESTS) == [{"id": "x1", "firstName": "Other", "lastName": "Hotel"}]


def test_a_sealed_backup_needs_its_passphrase_and_a_bad_file_changes_nothing(
        page: Any, server: Server) -> None:
    server.kv_set(GUESTS, GUEST_LIST)
    page.goto(server.url + "/")
    wait_ready(page)
    baseline = wait_versions(page, 1)[0]["id"]
    sealed = page.evaluate(EXPORT_JS, {"passphrase": "correct horse battery staple"})
    assert sealed["encrypted"] is True and sealed["filename"].endswith("-encrypted.json")
    envelope = json.loads(base64.b64decode(sealed["data"]))
    assert envelope["format"] == "backstay-backup-encrypted" and envelope["cipher"] == "AES-256-GCM"
    assert envelope["iterations"] >= 600_000
    assert b"Tharindu" not in base64.b64decode(envelope["data"])  # nothing readable inside
    # An independent reader opens the browser's envelope by the algorithm FORMAT.md gives.
    opened = json.loads(gzip.decompress(seal_open(envelope, "correct horse battery staple")))
    assert opened["format"] == "backstay-backup" and opened["modules"][GUESTS] == GUEST_LIST

    # The data changed since; the backup brings it back, but only with the right passphrase.
    page.evaluate("(k) => window.spark.kv.set(k, [])", GUESTS)
    count = len(wait_versions(page, 2))
    refused = {
        "no passphrase": _call(page, "importBackup", sealed["data"], {}),
        "wrong passphrase": _call(page, "importBackup", sealed["data"], {"passphrase": "wrong"}),
    }
    assert "enter the passphrase it was exported with" in refused["no passphrase"]["error"]
    assert refused["wrong passphrase"]["error"].startswith("The passphrase is wrong")
    tampered = dict(envelope)
    cipher = bytearray(base64.b64decode(envelope["data"]))
    cipher[len(cipher) // 2] ^= 1
    tampered["data"] = base64.b64encode(bytes(cipher)).decode()
    refused["changed file"] = _call(page, "importBackup",
                                    base64.b64encode(json.dumps(tampered).encode()).decode(),
                                    {"passphrase": "correct horse battery staple"})
    assert refused["changed file"]["error"].startswith(
        "The passphrase is wrong, or the encrypted file was changed")

    plain = page.evaluate(EXPORT_JS, {"version": baseline})
    edited = base64.b64decode(plain["data"]).replace(b'"lastName":"Perera"', b'"lastName":"Pereira"')
    assert edited != base64.b64decode(plain["data"])
    refused["edited file"] = _call(page, "importBackup", base64.b64encode(edited).decode(), {})
    assert "damaged or was edited" in refused["edited file"]["error"]
    refused["not a backup"] = _call(page, "importBackup", base64.b64encode(b'{"guests": []}').decode(), {})
    assert "not a Backstay backup" in refused["not a backup"]["error"]
    refused["not JSON"] = _call(page, "importBackup", base64.b64encode(b"\x00\x01garbage").decode(), {})
    assert "not a Backstay backup" in refused["not JSON"]["error"]
    gz = page.evaluate(EXPORT_JS, {"compress": True, "version": baseline})
    cut = base64.b64decode(gz["data"])[:-20]
    refused["cut gzip"] = _call(page, "importBackup", base64.b64encode(cut).decode(), {})
    assert "gzip data is cut short" in refused["cut gzip"]["error"]

    assert len(versions(page)) == count  # nothing was imported
    assert server.kv_get(GUESTS) == []
    failed = [result for action, result in _audit(page) if action == "import"]
    assert failed == ["failed"] * len(refused), refused
    audit = page.evaluate("() => window.backstay.auditLog()")
    assert all("passphrase" not in entry["details"] for entry in audit)
    assert "correct horse" not in json.dumps(audit)

    # The right passphrase brings the guests back.
    done = _call(page, "importBackup", sealed["data"], {"passphrase": "correct horse battery staple"})
    assert "error" not in done, done
    assert server.kv_get(GUESTS) == GUEST_LIST
    # A gzip'd backup imports too.
    assert _call(page, "previewImport", gz["data"], {})["preview"]["nothingToDo"] is True


def test_a_clerk_can_neither_export_nor_import_and_is_audited(page: Any, clerk_server: Server) -> None:
    page.goto(clerk_server.url + "/")
    wait_ready(page)
    error = page.evaluate(
        "() => window.backstay.exportBackup({download: false}).then(() => '', e => e.message)")
    assert error.startswith("frontdesk (role staff) may not export backups")
    refused = _call(page, "importBackup", base64.b64encode(b"{}").decode(), {})
    assert refused["error"].startswith("frontdesk (role staff) may not import backups")


def test_export_and_import_from_the_panel(page: Any, server: Server, tmp_path: Path) -> None:
    """The manager, in the panel: export a sealed backup, lose the guests, import the file back
    (preview first), and see the import in the history with its undo."""
    server.kv_set(GUESTS, GUEST_LIST)
    page.goto(server.url + "/")
    wait_ready(page)
    page.get_by_test_id("nav-settings").click()
    page.get_by_test_id("open-backups").click()
    page.get_by_test_id("version-row").first.wait_for(timeout=60_000)
    page.get_by_test_id("backups-section").locator("summary").click()
    page.get_by_test_id("export-passphrase").fill("night manager's passphrase")
    with page.expect_download() as download_info:
        page.get_by_test_id("export-backup").click()
    download = download_info.value
    assert download.suggested_filename.endswith("-encrypted.json")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert json.loads(saved.read_bytes())["format"] == "backstay-backup-encrypted"
    assert "night manager" not in page.get_by_test_id("export-passphrase").input_value()
    assert "Saved backstay-backup-" in page.get_by_test_id("export-outcome").inner_text()

    page.evaluate("(k) => window.spark.kv.set(k, [])", GUESTS)
    wait_versions(page, 2)
    page.get_by_test_id("import-file").set_input_files(str(saved))
    page.get_by_test_id("import-passphrase").fill("wrong")
    page.get_by_test_id("preview-import").click()
    assert page.get_by_test_id("restore-error").inner_text().startswith("The passphrase is wrong")
    page.get_by_test_id("import-passphrase").fill("night manager's passphrase")
    page.get_by_test_id("preview-import").click()
    summary = page.get_by_test_id("preview-summary")
    summary.wait_for()
    assert "creates 2 records" in summary.inner_text()
    assert "by admin" in page.get_by_test_id("import-about").inner_text()
    assert page.evaluate("() => window.__xss") is None  # the guest's notes are shown as text
    page.get_by_test_id("confirm-import").click()
    page.get_by_test_id("import-outcome").wait_for()
    assert page.get_by_test_id("import-outcome").inner_text().startswith("Done: Imported all modules")
    assert server.kv_get(GUESTS) == GUEST_LIST
    page.wait_for_function("() => document.querySelectorAll('[data-testid=version-row]').length === 3")
    assert "Import" in page.get_by_test_id("version-row").first.inner_text()
    page.get_by_test_id("backup-result").get_by_test_id("undo-restore").click()
    page.get_by_test_id("confirm").click()
    page.get_by_test_id("restore-outcome").wait_for()
    assert server.kv_get(GUESTS) == []


def test_importing_the_system_users_needs_the_settings_permission_too(page: Any, tmp_path: Path) -> None:
    """The owner lets front-desk staff import backups. A backup that holds the PMS's system users
    (who is an administrator) cannot be imported by them whole: that would let an edited file
    make anyone an admin. The other modules of it can."""
    data = tmp_path / "hotel"
    data.mkdir()
    owner = Server(data=data)
    owner.start()
    try:
        owner.kv_set(GUESTS, GUEST_LIST)
        owner.kv_set("w3-hotel-system-users", [{"id": "su1", "username": "gm", "role": "admin",
                                                "isActive": True}])
        page.goto(owner.url + "/")
        wait_ready(page)
        wait_versions(page, 1)
        page.evaluate("() => window.backstay.setPermission('import', ['admin', 'staff'])")
        exported = page.evaluate(EXPORT_JS, {})
        page.evaluate("(k) => window.spark.kv.set(k, [])", GUESTS)  # the guests are lost since
        wait_versions(page, 2)
    finally:
        owner.stop()
    clerk = Server(data=data, port=owner.port,
                   user={"BACKSTAY_USER_LOGIN": "frontdesk", "BACKSTAY_USER_OWNER": "0"})
    clerk.start()
    try:
        page.reload()
        wait_ready(page)
        refused = _call(page, "importBackup", exported["data"], {"mode": "full"})
        assert "holds the PMS's system users" in refused["error"], refused
        assert "may not change Backstay's settings" in refused["error"]
        audited = page.evaluate(AUDIT_JS)  # the clerk may not read the trail: straight from IndexedDB
        assert [(e["user"], e["result"], e["details"]["permission"]) for e in audited
                if e["action"] == "import"] == [("frontdesk", "denied", "settings")]
        done = _call(page, "importBackup", exported["data"], {"modules": [GUESTS]})
        assert "error" not in done, done
        assert done["version"]["createdBy"] == "frontdesk" and done["version"]["modules"] == [GUESTS]
        assert clerk.kv_get(GUESTS) == GUEST_LIST
    finally:
        clerk.stop()
