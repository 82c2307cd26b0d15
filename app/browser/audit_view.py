"""The panel's audit trail and permissions: markup from plain data (tested in CPython), every
value escaped."""

from __future__ import annotations

from html import escape
from typing import Any

from app.browser.panel_view import button

#: Rows shown in the panel (the export has them all).
SHOWN = 200


def trail_form() -> str:
    kinds = "".join(f'<option value="{value}">{label}</option>' for value, label in (
        ("", "Writes and backup actions"), ("write", "Writes to PMS data"),
        ("backup", "Backup actions")))
    return (
        '<form class="bs-trail-filter" data-testid="trail-filter">'
        '<input name="user" placeholder="User" aria-label="User">'
        '<input name="module" placeholder="Module key" aria-label="Module">'
        f'<select name="kind" aria-label="Kind">{kinds}</select>'
        '<input name="text" placeholder="Contains…" aria-label="Contains">'
        + button("Filter", "trail") + button("Export CSV", "export-csv")
        + button("Export JSON", "export-json") + button("Verify", "verify")
        + '</form><div data-testid="trail-result" aria-live="polite"></div>'
        '<div data-testid="trail-rows"></div>')


def trail_rows(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return '<p class="bs-empty" data-testid="trail-empty">Nothing matches.</p>'
    body = "".join(
        f'<tr data-testid="trail-row" class="bs-result-{escape(str(r.get("result", "")))}">'
        + "".join(f"<td>{escape(str(r.get(name, '')))}</td>" for name in
                  ("time", "user", "kind", "action", "module", "recordId", "result", "message"))
        + "</tr>" for r in rows[:SHOWN])
    more = (f'<p class="bs-muted">{len(rows) - SHOWN} more rows: export them.</p>'
            if len(rows) > SHOWN else "")
    return ('<table class="bs-audit" data-testid="trail-list"><thead><tr><th>When (UTC)</th>'
            "<th>Who</th><th>Kind</th><th>Action</th><th>Module</th><th>Record</th><th>Result</th>"
            f"<th>What</th></tr></thead><tbody>{body}</tbody></table>{more}")


def verify_result(report: dict[str, Any]) -> str:
    problems = report.get("problems") or []
    if not problems:
        return (f'<p data-testid="verify-ok">Verified {int(report.get("versions", 0))} versions '
                "and the audit trail: no problems.</p>")
    items = "".join(f'<li>{escape(str(p.get("subject", "")))}: {escape(str(p.get("detail", "")))}</li>'
                    for p in problems)
    return (f'<div class="bs-problem" role="alert" data-testid="verify-problems">'
            f"<p>Verify found {len(problems)} problem(s):</p><ul>{items}</ul></div>")


def permissions_view(data: dict[str, Any]) -> str:
    """Each permission with the roles that hold it (editable with the 'settings' permission)."""
    can_edit = bool((data.get("can") or {}).get("settings"))
    rows = []
    for name, roles in (data.get("permissions") or {}).items():
        description = str((data.get("descriptions") or {}).get(name, ""))
        value = escape(", ".join(str(role) for role in roles))
        field = (f'<input data-testid="roles-{escape(name)}" data-permission="{escape(name)}" '
                 f'value="{value}" aria-label="Roles that may {escape(description)}">'
                 + button("Save", "save-permission", permission=name)
                 if can_edit else value)
        rows.append(f"<tr><th>{escape(name)}</th><td>{escape(description)}</td><td>{field}</td></tr>")
    you = data.get("you") or {}
    return (f'<p>You are {escape(str(you.get("login", "")))} (role {escape(str(you.get("role", "")))}).'
            " The owner may always do everything; roles are those of the PMS's system users "
            '(admin, accounts, …) or "staff".</p>'
            '<table class="bs-audit" data-testid="permissions"><thead><tr><th>Permission</th>'
            f'<th>Allows</th><th>Roles</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')
