"""The backup panel's markup, computed from plain version data (no DOM here, so it is tested
in CPython). app/browser/panel_main.py puts it on the page."""

from __future__ import annotations

import datetime as _dt
from html import escape
from typing import Any

from app.core.diff.summary import module_label

CHANGE_TYPE_LABELS = {"auto": "Automatic", "manual": "Manual", "scheduled": "Scheduled"}
ACTION_SYMBOLS = {"create": "+", "update": "~", "delete": "−"}


def when(timestamp_ms: int) -> str:
    """A local-time label for an epoch-milliseconds timestamp (UTC when no zone is known)."""
    moment = _dt.datetime.fromtimestamp(timestamp_ms / 1000, tz=_dt.UTC).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def version_rows(versions: list[dict[str, Any]]) -> str:
    if not versions:
        return '<p class="bs-empty" data-testid="no-versions">No versions yet.</p>'
    rows = "".join(_row(version) for version in versions)
    return (
        '<table class="bs-versions" data-testid="version-list"><thead><tr>'
        "<th>When</th><th>Who</th><th>Type</th><th>Modules</th><th>Changes</th><th>Description</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def _row(version: dict[str, Any]) -> str:
    modules = ", ".join(module_label(m) for m in version.get("modules", [])) or "—"
    change_type = str(version.get("changeType", ""))
    return (
        f'<tr data-version-id="{escape(str(version["id"]))}" data-testid="version-row">'
        f'<td>{escape(when(int(version["timestamp"])))}</td>'
        f'<td>{escape(str(version.get("createdBy", "")))}</td>'
        f'<td><span class="bs-type bs-type-{escape(change_type)}">'
        f'{escape(CHANGE_TYPE_LABELS.get(change_type, change_type))}</span></td>'
        f"<td>{escape(modules)}</td>"
        f'<td data-testid="change-count">{int(version.get("changeCount", 0))}</td>'
        f'<td>{escape(str(version.get("description", "")))}</td>'
        "</tr>"
    )


def change_list(detail: dict[str, Any]) -> str:
    """The ChangeLog of one version, record by record."""
    items = []
    for change in detail.get("changes", []):
        action = str(change.get("action", ""))
        fields = change.get("fields") or []
        what = f" ({', '.join(escape(str(f)) for f in fields[:8])})" if action == "update" and fields else ""
        items.append(
            f'<li class="bs-change bs-{escape(action)}" data-testid="change">'
            f'<b>{ACTION_SYMBOLS.get(action, "?")}</b> {escape(module_label(str(change.get("module", ""))))} '
            f'<code>{escape(str(change.get("recordId", "")))}</code>{what}</li>'
        )
    body = "".join(items) or "<li>No record changes.</li>"
    return (
        f'<h3>{escape(str(detail.get("description", "")) or "Version")}</h3>'
        f'<p>{escape(when(int(detail["timestamp"])))} · {escape(str(detail.get("createdBy", "")))}</p>'
        f'<ul class="bs-changes" data-testid="change-list">{body}</ul>'
    )
