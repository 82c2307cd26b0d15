"""A one-line description of a ChangeLog, for versions whose author gave none.

"Updated guest Grace Hopper (lastName)", "Created reservation r-104",
"guests: 2 created, 1 updated; rooms: 1 deleted".
"""

from __future__ import annotations

from collections import Counter

from app.core.diff.changelog import Change
from app.core.formats.json_value import Json

#: Record fields that name a record for people, best first.
LABEL_FIELDS = ("invoiceNumber", "orderNumber", "roomNumber", "employeeId", "username", "name", "title")
VERBS = {"create": "Created", "update": "Updated", "delete": "Deleted"}
PAST = {"create": "created", "update": "updated", "delete": "deleted"}
MAX_FIELDS = 4


def module_label(module: str) -> str:
    """'w3-hotel-finance-invoices' → 'finance invoices'."""
    return module.removeprefix("w3-hotel-").replace("-", " ")


def record_noun(module: str) -> str:
    """'w3-hotel-finance-invoices' → 'invoice': the last word of the label, in the singular."""
    word = module_label(module).split(" ")[-1]
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def record_label(change: Change) -> str:
    record = change.after if change.after is not None else change.before
    if isinstance(record, dict):
        first, last = record.get("firstName"), record.get("lastName")
        if isinstance(first, str) and isinstance(last, str) and (first or last):
            return f"{first} {last}".strip()
        for name in LABEL_FIELDS:
            value: Json = record.get(name)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
                return str(value)
    return change.record_id


def describe(changes: list[Change]) -> str:
    """A short description of what ``changes`` did; "" when there are none."""
    if not changes:
        return ""
    if len(changes) == 1:
        change = changes[0]
        if not change.record_id:
            return f"{VERBS[change.action]} {module_label(change.module)}"
        text = f"{VERBS[change.action]} {record_noun(change.module)} {record_label(change)}"
        if change.action == "update" and change.fields:
            shown = [path.lstrip("/").split("/")[0] for path in change.fields]
            unique = list(dict.fromkeys(shown))
            more = f", +{len(unique) - MAX_FIELDS}" if len(unique) > MAX_FIELDS else ""
            text += f" ({', '.join(unique[:MAX_FIELDS])}{more})"
        return text
    parts = []
    by_module: dict[str, Counter[str]] = {}
    for change in changes:
        by_module.setdefault(change.module, Counter())[change.action] += 1
    for module, counts in by_module.items():
        done = ", ".join(f"{counts[a]} {PAST[a]}" for a in ("create", "update", "delete") if counts[a])
        parts.append(f"{module_label(module)}: {done}")
    return "; ".join(parts)
