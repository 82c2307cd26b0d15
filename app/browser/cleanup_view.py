"""The panel's retention and deletion markup: the settings form, the cleanup's preview and the
confirmation of a deletion. Plain data in, escaped HTML out (tested in CPython)."""

from __future__ import annotations

from html import escape
from typing import Any

from app.browser.panel_view import button, when


def retention_form(retention: dict[str, Any], can_change: bool, can_delete: bool) -> str:
    days = retention.get("maxAgeDays")
    count = retention.get("maxVersions")
    audit = retention.get("auditMaxAgeDays")
    disabled = "" if can_change else " disabled"
    keep = " checked" if retention.get("keepBackups", True) else ""
    return (
        '<form class="bs-retention" data-testid="retention-form">'
        f'<label>Delete versions older than <input type="number" min="1" name="maxAgeDays" '
        f'value="{"" if days is None else int(days)}" placeholder="no limit" '
        f'data-testid="retention-days"{disabled}> days</label>'
        f'<label>Keep at most <input type="number" min="2" name="maxVersions" '
        f'value="{"" if count is None else int(count)}" placeholder="no limit" '
        f'data-testid="retention-count"{disabled}> versions</label>'
        f'<label><input type="checkbox" name="keepBackups" data-testid="retention-keep-backups"'
        f"{keep}{disabled}> Never delete manual and scheduled backups</label>"
        f'<label>Remove audit entries older than <input type="number" min="1" name="auditMaxAgeDays" '
        f'value="{"" if audit is None else int(audit)}" placeholder="never" '
        f'data-testid="retention-audit-days"{disabled}> days (at least as long as the versions)</label>'
        + (button("Save settings", "save-retention") if can_change else "")
        + (button("Preview cleanup", "preview-cleanup") if can_delete else "")
        + '<p class="bs-muted">Removing audit entries is itself an audit entry; left empty, the '
        "audit trail is kept whole.</p></form>"
        '<div data-testid="cleanup-result" aria-live="polite"></div>')


def cleanup_preview(answer: dict[str, Any], versions: dict[str, dict[str, Any]]) -> str:
    doomed = [str(v) for v in answer.get("wouldDelete", [])]
    if not doomed and answer.get("auditWouldRemove"):
        return (f'<p data-testid="cleanup-summary">No version to delete.{_audit_note(answer)}</p>'
                + button("Clean up now", "confirm-cleanup"))
    if not doomed:
        return ('<p data-testid="cleanup-nothing">Nothing to clean up: every version is within the '
                "retention settings.</p>")
    items = "".join(
        f'<li>{escape(when(int(versions.get(v, {}).get("timestamp", 0))))} — '
        f'{escape(str(versions.get(v, {}).get("description", v)))}</li>' for v in doomed[:20])
    more = f"<li>… and {len(doomed) - 20} more</li>" if len(doomed) > 20 else ""
    return (f'<p data-testid="cleanup-summary">A cleanup deletes {len(doomed)} version(s) and keeps '
            f'{int(answer.get("kept", 0))}. Every version kept still reads back exactly; the '
            f"deleted ones cannot be brought back.{_audit_note(answer)}</p><ul>{items}{more}</ul>"
            + button(f"Delete {len(doomed)} version(s) now", "confirm-cleanup"))


def _audit_note(answer: dict[str, Any]) -> str:
    count = int(answer.get("auditWouldRemove", 0))
    return f" It also removes {count} old audit entries (the audit retention)." if count else ""


def cleaned_view(answer: dict[str, Any]) -> str:
    audit = int(answer.get("auditRemoved", 0))
    return (f'<p data-testid="cleanup-outcome">Deleted {len(answer.get("deleted", []))} version(s); '
            f'{int(answer.get("kept", 0))} kept'
            + (f"; removed {audit} old audit entries" if audit else "") + ".</p>")


def delete_confirm(version: dict[str, Any]) -> str:
    version_id = str(version.get("id", ""))
    return (
        '<h3 data-testid="delete-title">Delete the version of '
        f'{escape(when(int(version.get("timestamp", 0))))}?</h3>'
        f'<p class="bs-muted">{escape(str(version.get("description", "")))}</p>'
        "<p>Every other version still reads back exactly as it was. This version cannot be "
        "brought back; the deletion is in the audit trail.</p>"
        + button("Delete this version", "confirm-delete", version_id))
