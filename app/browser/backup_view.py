"""The panel's backup files section: export and import forms, the import's preview and outcome.
Plain data in, escaped HTML out (tested in CPython)."""

from __future__ import annotations

from html import escape
from typing import Any

from app.browser.panel_view import button, module_changes, when
from app.browser.restore_view import outcome_view
from app.core.diff.summary import module_label

IMPORT_MODES = {
    "full": "Full — each module in the file becomes exactly what the file holds",
    "merge": "Merge — bring back what the file has, keep what was added since",
}


def backup_form(can: dict[str, bool]) -> str:
    """Export today's data; import a file (each part only for those who may)."""
    parts = []
    if can.get("export"):
        parts.append(
            '<form class="bs-backup" data-testid="export-form"><h4>Export a backup file</h4>'
            '<p class="bs-muted">Today\'s data of every module, as a file you can keep elsewhere '
            "or import on another computer.</p>"
            '<label>Passphrase (optional: encrypts the file with it; left empty, the file is '
            "encrypted when the hotel's passphrase is set) <input type=\"password\" "
            'name="passphrase" autocomplete="new-password" data-testid="export-passphrase"></label>'
            '<label><input type="checkbox" name="compress" data-testid="export-compress"> '
            "Compress (gzip)</label>" + button("Export backup", "export-backup") + "</form>")
    if can.get("import"):
        modes = "".join(
            f'<label><input type="radio" name="import-mode" value="{value}" '
            f'data-testid="import-mode-{value}"{" checked" if value == "full" else ""}> '
            f"{escape(label)}</label>" for value, label in IMPORT_MODES.items())
        parts.append(
            '<form class="bs-backup" data-testid="import-form"><h4>Import a backup file</h4>'
            '<input type="file" name="file" accept=".json,.gz,application/json,application/gzip" '
            'data-testid="import-file" aria-label="Backup file">'
            '<label>Passphrase (if the file is encrypted, unless with this hotel\'s passphrase) '
            '<input type="password" name="passphrase" '
            'autocomplete="off" data-testid="import-passphrase"></label>'
            f"<fieldset><legend>How</legend>{modes}</fieldset>"
            + button("Preview import", "preview-import") + "</form>")
    hotel = '<div data-testid="new-history-view"></div><div data-testid="passphrase-view"></div>'
    if not parts:
        return hotel + '<p class="bs-muted">You may neither export nor import backup files.</p>'
    return hotel + "".join(parts) + '<div data-testid="backup-result" aria-live="polite"></div>'


def new_history_view(lost: bool, can: bool, confirming: bool = False) -> str:
    """The way on when the history in this browser lost what recording needs (the engine's
    status says ``historyLost``): for those who may delete versions, start a new one, in two
    steps; "" when the history is sound."""
    if not lost:
        return ""
    if not can:
        return ('<p class="bs-problem" data-testid="new-history-needed">Part of the history in '
                "this browser was lost from the disk and Backstay stopped recording: an "
                "administrator can start a new history here.</p>")
    if confirming:
        return ('<div class="bs-backup" data-testid="new-history"><p><strong>Delete the versions '
                "in this browser and start a new history from today's data?</strong> Versions "
                "not exported are gone for good.</p>"
                + button("Yes, start a new history", "confirm-new-history")
                + button("Cancel", "cancel-new-history") + "</div>")
    return ('<div class="bs-backup" data-testid="new-history"><h4>Start a new history</h4>'
            "<p>Part of the history in this browser was lost from the disk, so Backstay cannot "
            "record on it; the writes made since wait in its journal, and the PMS's data itself "
            "is safe. Export the versions you still need first (below). A new history then keeps "
            "the settings, permissions and audit trail, deletes the damaged versions from this "
            "browser and records today's data as its first version.</p>"
            + button("Start a new history", "new-history") + "</div>")


def passphrase_view(status: dict[str, Any], can_change: bool) -> str:
    """Whether backups are sealed with the hotel's passphrase; set, change or remove it."""
    if status.get("set"):
        state = ('<p data-testid="passphrase-state">Every backup file exported from this browser is '
                 "encrypted with the hotel's "
                 f'passphrase (set by {escape(str(status.get("setBy", "")))}, '
                 f'{escape(when(int(status.get("setAt", 0))))}): it opens with that passphrase on '
                 "any instance.</p>")
        if not status.get("usable"):
            state += ('<p class="bs-problem" data-testid="passphrase-unusable">This browser no longer '
                      "holds its key: set the passphrase again (enter it as the current one and as "
                      "the new one) before exporting.</p>")
    else:
        state = ('<p data-testid="passphrase-state">No encryption passphrase is set: a backup file is '
                 "encrypted only when a passphrase is typed at export.</p>")
    if not can_change:
        return f'<div class="bs-backup"><h4>Encryption passphrase</h4>{state}</div>'
    current = ('<label>Current passphrase <input type="password" name="current" '
               'autocomplete="current-password" data-testid="passphrase-current"></label>'
               if status.get("set") else "")
    remove = button("Remove passphrase", "remove-passphrase") if status.get("set") else ""
    return (
        f'<form class="bs-backup" data-testid="passphrase-form"><h4>Encryption passphrase</h4>{state}'
        f"{current}"
        '<label>New passphrase (at least 12 characters; keep it safe: files encrypted with it '
        'cannot be opened without it) <input type="password" name="new" autocomplete="new-password" '
        'data-testid="passphrase-new"></label>'
        '<label>Repeat it <input type="password" name="repeat" autocomplete="new-password" '
        'data-testid="passphrase-repeat"></label>'
        + button("Change passphrase" if status.get("set") else "Set passphrase", "save-passphrase")
        + remove + '<div data-testid="passphrase-result" aria-live="polite"></div></form>')


def exported_view(answer: dict[str, Any]) -> str:
    sealed = " (encrypted: keep the passphrase safe, the file cannot be opened without it)" \
        if answer.get("encrypted") else ""
    taken = (f", the data of {escape(when(int(answer['timestamp'])))}"
             if isinstance(answer.get("timestamp"), int) else "")
    return (f'<p data-testid="export-outcome">Saved {escape(str(answer.get("filename", "")))}: '
            f'{int(answer.get("size", 0)):,} bytes, {len(answer.get("modules", []))} modules'
            f"{taken}{sealed}.</p>")


def import_preview_view(answer: dict[str, Any]) -> str:
    """What the file holds and what importing it would change."""
    backup = answer.get("backup") or {}
    preview = answer.get("preview") or {}
    source = backup.get("source") or {}
    held = ", ".join(module_label(str(m)) for m in backup.get("modules", []))
    about = (f'<p data-testid="import-about">A backup made {escape(when(int(backup.get("createdAt", 0))))} '
             f'by {escape(str(backup.get("createdBy", "")))}'
             + (f' on {escape(str(backup["device"]))}' if backup.get("device") else "")
             + (f' (version {int(source["seq"])})' if isinstance(source.get("seq"), int) else "")
             + f"; it holds {escape(held or 'no modules')}.</p>")
    if preview.get("nothingToDo"):
        return about + ('<p data-testid="preview-nothing">Nothing to change: the data already is '
                        "what this import would make it.</p>")
    totals = preview.get("totals", {})
    summary = (f'creates {int(totals.get("created", 0))} records, deletes {int(totals.get("deleted", 0))}'
               f' and changes {int(totals.get("updated", 0))}')
    conflicts = preview.get("conflicts", [])
    note = (f" {len(conflicts)} record(s) changed differently on both sides keep today's values."
            if conflicts else "")
    return (about + f'<p data-testid="preview-summary">This import {escape(summary)}.{escape(note)} '
            "Nothing is written until you confirm; the import is recorded as a version you can "
            "undo.</p>" + module_changes(preview.get("modules", []))
            + button("Import now", "confirm-import", head=str(preview.get("headVersionId", ""))))


def imported_view(result: dict[str, Any]) -> str:
    return outcome_view(result, "import")
