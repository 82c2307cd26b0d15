"""The backup panel's markup, computed from plain version data (no DOM here, so it is tested
in CPython). app/browser/panel_main.py puts it on the page. Everything a user or the data could
have typed (names, notes, ids, field names, logins) goes through ``escape``: it is shown as
text, never run."""

from __future__ import annotations

import datetime as _dt
import json
from html import escape
from typing import Any

from app.core.diff.comparison import field_difference
from app.core.diff.summary import module_label
from app.core.errors import PatchError
from app.core.formats.pointer import split

CHANGE_TYPE_LABELS = {"auto": "Automatic", "manual": "Manual", "scheduled": "Scheduled",
                      "restore": "Restore", "upgrade": "Upgrade", "import": "Import"}
ACTION_SYMBOLS = {"create": "+", "update": "~", "delete": "−"}
ACTION_WORDS = {"create": "Created", "update": "Changed", "delete": "Deleted"}
#: Records shown per module in a comparison or preview before "Show more".
PAGE = 20


def when(timestamp_ms: int) -> str:
    """A local-time label for an epoch-milliseconds timestamp (UTC when no zone is known)."""
    moment = _dt.datetime.fromtimestamp(timestamp_ms / 1000, tz=_dt.UTC).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def text(value: Any) -> str:
    """A JSON value as escaped text (strings without their quotes)."""
    if isinstance(value, str):
        return escape(value)
    return escape(json.dumps(value, ensure_ascii=False))


def button(label: str, action: str, version_id: str = "", **data: str) -> str:
    extra = "".join(f' data-{escape(name)}="{escape(value)}"' for name, value in data.items())
    return (f'<button type="button" class="bs-btn" data-action="{escape(action)}" '
            f'data-version-id="{escape(version_id)}" data-testid="{escape(action)}"{extra}>'
            f"{escape(label)}</button>")


def version_rows(versions: list[dict[str, Any]], can_restore: bool = True, can_delete: bool = False) -> str:
    """The versions, newest first, each with what this user may do with it."""
    if not versions:
        return '<p class="bs-empty" data-testid="no-versions">No versions yet.</p>'
    rows = "".join(_row(version, index == 0, can_restore, can_delete)
                   for index, version in enumerate(versions))
    return (
        '<table class="bs-versions" data-testid="version-list"><thead><tr>'
        "<th>When</th><th>Who</th><th>Type</th><th>Modules</th><th>Changes</th><th>Description</th>"
        f"<th>Actions</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _row(version: dict[str, Any], is_head: bool, can_restore: bool, can_delete: bool) -> str:
    modules = ", ".join(module_label(m) for m in version.get("modules", [])) or "—"
    change_type = str(version.get("changeType", ""))
    version_id = str(version["id"])
    actions = button("Compare", "compare", version_id)
    if not is_head and can_restore:
        actions += button("Restore…", "restore", version_id)
    if version.get("parentId") and can_restore:
        actions += button("Revert", "revert", version_id)
    if change_type in ("restore", "import") and version.get("parentId") and can_restore:
        actions += button(f"Undo this {change_type}", "undo-restore", version_id,
                          parent=str(version["parentId"]))
    if not is_head and can_delete:
        actions += button("Delete…", "delete-version", version_id)
    return (
        f'<tr data-version-id="{escape(version_id)}" data-testid="version-row">'
        f'<td>{escape(when(int(version["timestamp"])))}</td>'
        f'<td>{escape(str(version.get("createdBy", "")))}</td>'
        f'<td><span class="bs-type bs-type-{escape(change_type)}">'
        f'{escape(CHANGE_TYPE_LABELS.get(change_type, change_type))}</span></td>'
        f"<td>{escape(modules)}</td>"
        f'<td data-testid="change-count">{int(version.get("changeCount", 0))}</td>'
        f'<td>{escape(str(version.get("description", "")))}</td>'
        f'<td class="bs-actions">{actions}</td>'
        "</tr>"
    )


def field_label(pointer: str) -> str:
    """A field's JSON pointer as people read it: '/address/city' -> 'address › city'."""
    try:
        tokens = split(pointer)
    except PatchError:
        return pointer
    return " › ".join(tokens) if tokens else "(whole value)"


def field_table(fields: list[dict[str, Any]]) -> str:
    """Field | before | after, side by side, the changed values highlighted."""
    rows = []
    for item in fields:
        before = text(item.get("before")) if item.get("op") != "add" else "—"
        after = text(item.get("after")) if item.get("op") != "remove" else "—"
        rows.append(f'<tr data-testid="field"><th>{escape(field_label(str(item.get("path", ""))))}</th>'
                    f'<td class="bs-before">{before}</td><td class="bs-after">{after}</td></tr>')
    if not rows:
        return ""
    return ('<table class="bs-fields"><thead><tr><th>Field</th><th>Before</th><th>After</th>'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table>')


def fields_of_change(change: dict[str, Any]) -> list[dict[str, Any]]:
    """A ChangeLog update's fields with their values before and after."""
    return [field_difference(str(path), change.get("before"), change.get("after")).to_dict()
            for path in change.get("fields") or []]


def record_view(record: dict[str, Any], module: str = "", picked: bool = False) -> str:
    """One record of a ChangeLog, comparison or preview: its action, id and fields; with
    ``module``, a box to pick it (a restore of only the picked records), ticked if ``picked``."""
    action = str(record.get("action", ""))
    record_id = str(record.get("recordId", "")) or "(whole value)"
    pick = (f'<input type="checkbox" class="bs-pick" data-testid="record-choice" '
            f'data-module="{escape(module)}" data-record-id="{escape(str(record.get("recordId", "")))}" '
            f'aria-label="Pick this record"{" checked" if picked else ""}> '
            if module and record.get("recordId") else "")
    if action == "update":
        fields = record.get("fieldValues") or fields_of_change(record)
        body = field_table(fields)
    else:
        body = f'<pre class="bs-value">{text(record.get("after" if action == "create" else "before"))}</pre>'
    return (f'<li class="bs-change bs-{escape(action)}" data-testid="change">{pick}'
            f'<b>{ACTION_SYMBOLS.get(action, "?")}</b> {escape(ACTION_WORDS.get(action, action))} '
            f'<code>{escape(record_id)}</code>{body}</li>')


def change_list(detail: dict[str, Any]) -> str:
    """The ChangeLog of one version, record by record and field by field."""
    by_module: dict[str, list[dict[str, Any]]] = {}
    for change in detail.get("changes", []):
        by_module.setdefault(str(change.get("module", "")), []).append(change)
    sections = "".join(
        f'<h4>{escape(module_label(module))}</h4><ul class="bs-changes">'
        f'{"".join(record_view(change) for change in changes)}</ul>'
        for module, changes in by_module.items())
    return (
        f'<h3>{escape(str(detail.get("description", "")) or "Version")}</h3>'
        f'<p>{escape(when(int(detail["timestamp"])))} · {escape(str(detail.get("createdBy", "")))}</p>'
        f'<div data-testid="change-list">{sections or "<p>No record changes.</p>"}</div>'
    )


def module_changes(modules: list[dict[str, Any]], shown_by_module: dict[str, int] | None = None,
                   pickable: bool = False, picked: frozenset[tuple[str, str]] = frozenset()) -> str:
    """Per module: counts, then its first records field by field (PAGE, or as many as
    ``shown_by_module`` says; "Show more" for the rest); the shape of compareVersions and
    previewRestore."""
    parts = []
    for module in modules:
        name = str(module.get("module", ""))
        shown = (shown_by_module or {}).get(name, PAGE)
        records = [{**record, "fieldValues": record.get("fields")} for record in module.get("records", [])]
        more = len(records) - shown + int(module.get("moreRecords", 0))
        counts = (f'{int(module.get("created", 0))} created, {int(module.get("deleted", 0))} '
                  f'deleted, {int(module.get("updated", 0))} changed')
        items = "".join(record_view(r, name if pickable else "",
                                    (name, str(r.get("recordId", ""))) in picked)
                        for r in records[:shown])
        if module.get("action") == "delete":
            counts += " — the module is deleted"
        parts.append(
            f'<section class="bs-module" data-testid="module-changes" data-module="{escape(name)}">'
            f'<h4>{escape(module_label(name))}: <span data-testid="module-counts">{escape(counts)}'
            f'</span></h4><ul class="bs-changes">{items}</ul>'
            + (button(f"Show {min(more, PAGE)} more", "more", module=name) if more > 0 else "")
            + "</section>")
    return "".join(parts) or '<p data-testid="no-differences">No differences.</p>'


def comparison_view(comparison: dict[str, Any], versions: list[dict[str, Any]], a_id: str,
                    b_id: str, shown: dict[str, int] | None = None) -> str:
    options = '<option value="today">Today</option>' + "".join(
        f'<option value="{escape(str(v["id"]))}"{" selected" if v["id"] == b_id else ""}>'
        f'{escape(when(int(v["timestamp"])))} · {escape(str(v.get("description", "")))}</option>'
        for v in versions if v["id"] != a_id)
    totals = comparison.get("totals", {})
    return (
        f'<h3>Compare</h3><p>From <code>{escape(a_id)}</code> to '
        f'<select data-testid="compare-with" data-version-id="{escape(a_id)}">{options}</select></p>'
        f'<p data-testid="compare-totals">{int(totals.get("created", 0))} created, '
        f'{int(totals.get("deleted", 0))} deleted, {int(totals.get("updated", 0))} changed</p>'
        + module_changes(comparison.get("modules", []), shown))


def audit_rows(entries: list[dict[str, Any]]) -> str:
    """The audit log, newest first."""
    if not entries:
        return '<p class="bs-empty">No restores yet.</p>'
    rows = "".join(
        f'<tr data-testid="audit-row" class="bs-result-{escape(str(e.get("result", "")))}">'
        f'<td>{escape(when(int(e.get("at", 0))))}</td><td>{escape(str(e.get("user", "")))}</td>'
        f'<td>{escape(str(e.get("action", "")))}</td><td>{escape(str(e.get("result", "")))}</td>'
        f'<td>{escape(str(e.get("message", "")))}</td></tr>'
        for e in reversed(entries))
    return ('<table class="bs-audit" data-testid="audit-list"><thead><tr><th>When</th><th>Who</th>'
            f"<th>Action</th><th>Result</th><th>What</th></tr></thead><tbody>{rows}</tbody></table>")
