"""The restore dialog's markup: the form, the preview (with conflicts to resolve and records to
pick) and the outcome. Plain data in, escaped HTML out (tested in CPython)."""

from __future__ import annotations

from html import escape
from typing import Any

from app.browser.panel_view import button, field_label, module_changes, text, when
from app.core.diff.comparison import lookup
from app.core.diff.summary import module_label

MODE_LABELS = {
    "full": "Full — the modules become exactly what they were then",
    "merge": "Merge — bring back what was deleted or changed, keep what was added since",
}


def restore_form(version: dict[str, Any], mode: str, modules: list[str]) -> str:
    """What to restore: the mode and the modules (those that differ from today)."""
    version_id = str(version["id"])
    title = ("Revert this version: undo what it did, keep everything since" if mode == "revert"
             else f"Restore to {when(int(version['timestamp']))}")
    modes = "" if mode == "revert" else "".join(
        f'<label><input type="radio" name="bs-mode" value="{value}" data-testid="mode-{value}"'
        f'{" checked" if value == mode else ""}> {escape(label)}</label>'
        for value, label in MODE_LABELS.items())
    boxes = "".join(
        f'<label><input type="checkbox" name="bs-module" value="{escape(module)}" checked '
        f'data-testid="module-choice"> {escape(module_label(module))}</label>'
        for module in modules) or "<p>No module differs from today.</p>"
    return (
        f'<h3 data-testid="restore-title">{escape(title)}</h3>'
        f'<p class="bs-muted">{escape(str(version.get("description", "")))}</p>'
        f'<form class="bs-restore" data-testid="restore-form" data-version-id="{escape(version_id)}"'
        f' data-mode="{escape(mode)}"><fieldset><legend>How</legend>{modes}</fieldset>'
        f'<fieldset><legend>Modules</legend>{boxes}</fieldset>'
        + button("Preview", "preview", version_id)
        + '</form><div data-testid="restore-preview" aria-live="polite"></div>')


def conflict_view(conflict: dict[str, Any], keep: str | None = None) -> str:
    module, record_id = str(conflict.get("module", "")), str(conflict.get("recordId", ""))
    fields = [str(f) for f in conflict.get("fields", [])]
    today, target = conflict.get("today"), conflict.get("target")
    rows = "".join(
        f'<tr><th>{escape(field_label(path))}</th>'
        f'<td class="bs-before">{text(lookup(today, path)[1])}</td>'
        f'<td class="bs-after">{text(lookup(target, path)[1])}</td></tr>' for path in fields)
    keep = keep or str(conflict.get("keep", "today"))
    choice = "".join(
        f'<option value="{value}"{" selected" if value == keep else ""}>{label}</option>'
        for value, label in (("today", "Keep today's value"), ("target", "Take the restored value")))
    return (
        f'<li data-testid="conflict"><b>{escape(module_label(module))}</b> '
        f'<code>{escape(record_id or "(whole value)")}</code>'
        f'<table class="bs-fields"><thead><tr><th>Field</th><th>Today</th><th>Restored</th></tr>'
        f'</thead><tbody>{rows}</tbody></table>'
        f'<select data-testid="conflict-choice" data-module="{escape(module)}" '
        f'data-record-id="{escape(record_id)}">{choice}</select></li>')


def preview_view(preview: dict[str, Any], shown: dict[str, int] | None = None,
                 picked: frozenset[tuple[str, str]] = frozenset(),
                 choices: dict[tuple[str, str], str] | None = None) -> str:
    """Exactly what the restore will change, before anything is written; the records the user
    picked and the choices made for conflicts stay as they were (a "Show more" redraws it)."""
    if preview.get("nothingToDo"):
        return ('<p data-testid="preview-nothing">Nothing to change: the data already is what '
                "this restore would make it.</p>")
    totals = preview.get("totals", {})
    modules = preview.get("modules", [])
    conflicts = preview.get("conflicts", [])
    summary = (f'creates {int(totals.get("created", 0))} records, deletes '
               f'{int(totals.get("deleted", 0))} and changes {int(totals.get("updated", 0))}, in '
               f'{len(modules)} module(s)')
    conflict_part = ""
    if conflicts:
        items = "".join(conflict_view(c, (choices or {}).get(_ref(c))) for c in conflicts)
        conflict_part = (
            f'<h4>{len(conflicts)} conflict(s): changed differently since — choose per record</h4>'
            f'<ul class="bs-conflicts">{items}</ul>')
    return (
        f'<p data-testid="preview-summary">This restore {escape(summary)}. Nothing is '
        "written until you confirm; the restore is recorded as a version you can undo.</p>"
        + conflict_part + module_changes(modules, shown, pickable=True, picked=picked)
        + button("Restore now", "confirm", str(preview.get("target", "")),
                 head=str(preview.get("headVersionId", "")))
        + button("Restore only the picked records", "confirm-picked", str(preview.get("target", "")),
                 head=str(preview.get("headVersionId", ""))))


def _ref(conflict: dict[str, Any]) -> tuple[str, str]:
    return str(conflict.get("module", "")), str(conflict.get("recordId", ""))


def outcome_view(result: dict[str, Any], what: str = "restore") -> str:
    """How a restore (or an import: ``what``) ended, with its undo."""
    testid = f"{what}-outcome"
    if result.get("nothingToDo"):
        return f'<p data-testid="{testid}">{escape(str(result.get("message", "")))}</p>'
    version = result.get("version") or {}
    return (f'<p data-testid="{testid}">Done: {escape(str(version.get("description", "")))}'
            f' ({int(version.get("changeCount", 0))} record changes).</p>'
            + button(f"Undo this {what}", "undo-restore", str(version.get("id", "")),
                     parent=str(version.get("parentId", ""))))


def failure_view(message: str) -> str:
    return f'<p class="bs-problem" role="alert" data-testid="restore-error">{escape(message)}</p>'
