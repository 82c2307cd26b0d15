"""The audit trail: who changed what, and when - every captured write (from the versions'
ChangeLogs) and every action on the backup system (the audit log) - as rows to filter, show and
export (CSV, JSON)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from app.core.audit.entry import AuditEntry
from app.core.formats.json_value import Json, compact_json

COLUMNS = ("time", "timestampMs", "kind", "user", "device", "action", "module", "recordId",
           "result", "message", "versionId", "id")


@dataclass(frozen=True)
class TrailFilter:
    user: str = ""
    module: str = ""
    action: str = ""
    kind: str = ""  # "write" | "backup" | ""
    since: int = 0
    until: int = 0
    text: str = ""

    @classmethod
    def parse(cls, raw: Json) -> TrailFilter:
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise ValueError("a filter is an object, e.g. {user: 'maria', module: 'w3-hotel-guests'}")
        unknown = set(raw) - {"user", "module", "action", "kind", "since", "until", "text"}
        if unknown:
            raise ValueError(f"unknown filter(s): {', '.join(sorted(unknown))}")
        def text(name: str) -> str:
            return str(raw.get(name) or "")

        def number(name: str) -> int:
            value = raw.get(name) or 0
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"filter {name} is a time in ms since 1970")
            return int(value)

        return cls(text("user"), text("module"), text("action"), text("kind"), number("since"),
                   number("until"), text("text"))

    def keeps(self, row: Mapping[str, str]) -> bool:
        at = int(row["timestampMs"])
        return ((not self.user or row["user"].casefold() == self.user.casefold())
                and (not self.module or row["module"] == self.module)
                and (not self.action or row["action"] == self.action)
                and (not self.kind or row["kind"] == self.kind)
                and (not self.since or at >= self.since) and (not self.until or at <= self.until)
                and (not self.text or self.text.casefold() in " ".join(row.values()).casefold()))


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def write_rows(version: Mapping[str, Json], changes: Iterable[Mapping[str, Json]]) -> list[dict[str, str]]:
    """One row per record a version changed (a captured write, a restore, an upgrade)."""
    at = int(version.get("timestamp") or 0)  # type: ignore[arg-type]
    return [{
        "time": _iso(at), "timestampMs": str(at), "kind": "write",
        "user": str(version.get("createdBy") or ""), "device": str(version.get("device") or ""),
        "action": str(change.get("action") or ""),
        "module": str(change.get("module") or ""), "recordId": str(change.get("recordId") or ""),
        "result": str(version.get("changeType") or ""), "message": str(version.get("description") or ""),
        "versionId": str(version.get("id") or ""), "id": str(version.get("id") or ""),
    } for change in changes]


def backup_rows(entries: Iterable[AuditEntry]) -> list[dict[str, str]]:
    """One row per action on the backup system."""
    rows = []
    for entry in entries:
        details = entry.details
        records = details.get("records")
        first = records[0] if isinstance(records, list) and records and isinstance(records[0], dict) else {}
        modules = details.get("changedModules")
        module = first.get("module") or (modules[0] if isinstance(modules, list) and len(modules) == 1
                                         else "")
        rows.append({
            "time": _iso(entry.at), "timestampMs": str(entry.at), "kind": "backup",
            "user": entry.user, "device": str(details.get("device") or ""), "action": entry.action,
            "module": str(module or ""),
            "recordId": str(first.get("recordId") or ""), "result": entry.result,
            "message": entry.message, "versionId": str(details.get("versionId") or ""),
            "id": entry.id,
        })
    return rows


def trail(rows: Iterable[dict[str, str]], keep: TrailFilter) -> list[dict[str, str]]:
    """The rows ``keep`` keeps, newest first."""
    return sorted((row for row in rows if keep.keeps(row)),
                  key=lambda row: (int(row["timestampMs"]), row["id"]), reverse=True)


def to_json(rows: list[dict[str, str]]) -> str:
    return compact_json(rows).decode("utf-8")
