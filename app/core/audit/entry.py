"""Audit entries: one action on the backup system, who did it, when, and how it ended.

Stored under ``meta/audit/<entry id>`` as compact JSON (docs/FORMAT.md, "Audit entries"); the
entry id sorts chronologically like a version id. ``details`` holds what the action needs to be
understood later (for a restore: target, mode, modules, records, conflicts and how each was
resolved, the version it made).

Entries are hash-chained: ``prev`` is the previous entry's ``hash`` ("" for the first), and
``hash`` is the SHA-256 of the entry's compact JSON without ``hash``. An edited entry no longer
matches its hash; a removed or reordered one breaks the chain (audit.log.verify_audit).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Literal, cast

from app.core.errors import CorruptData
from app.core.formats.format import FORMAT_VERSION, check_format_version
from app.core.formats.json_value import Json, compact_json, parse_json

AUDIT_PREFIX = "audit/"
Result = Literal["done", "nothing", "failed", "rolled-back", "finished", "denied"]
RESULTS = ("done", "nothing", "failed", "rolled-back", "finished", "denied")


@dataclass(frozen=True)
class AuditEntry:
    id: str
    at: int
    user: str
    action: str
    result: Result
    message: str = ""
    details: dict[str, Json] = field(default_factory=dict)
    prev: str = ""
    hash: str = ""
    #: The format the entry was written in: part of what its hash covers, so an entry keeps it
    #: (an entry of an older release still checks out after the store's format changed).
    format_version: int = FORMAT_VERSION

    def chained(self, prev: str) -> AuditEntry:
        """This entry after the entry whose hash is ``prev``, with its own hash."""
        linked = replace(self, prev=prev, hash="")
        return replace(linked, hash=hashlib.sha256(compact_json(linked._body())).hexdigest())

    @property
    def intact(self) -> bool:
        return self.hash == hashlib.sha256(compact_json(self._body())).hexdigest()

    def _body(self) -> dict[str, Json]:
        return {"formatVersion": self.format_version, "id": self.id, "at": self.at, "user": self.user,
                "action": self.action, "result": self.result, "message": self.message,
                "details": self.details, "prev": self.prev}

    @property
    def key(self) -> str:
        return AUDIT_PREFIX + self.id

    def to_dict(self) -> dict[str, Json]:
        return {**self._body(), "hash": self.hash}

    def encode(self) -> bytes:
        return compact_json(self.to_dict())

    @classmethod
    def decode(cls, data: bytes) -> AuditEntry:
        try:
            raw = parse_json(data)
            if not isinstance(raw, dict):
                raise ValueError("not an object")
            check_format_version(raw, "audit entry")
            result = raw["result"]
            if result not in RESULTS:
                raise ValueError(f"unknown result {result!r}")
            details = raw.get("details") or {}
            if not isinstance(details, dict):
                raise ValueError("details is not an object")
            return cls(str(raw["id"]), int(cast(int, raw["at"])), str(raw["user"]),
                       str(raw["action"]), cast(Result, result), str(raw.get("message", "")),
                       details, str(raw.get("prev", "")), str(raw.get("hash", "")),
                       cast(int, raw["formatVersion"]))
        except (ValueError, KeyError, TypeError) as error:
            raise CorruptData(f"audit entry is unreadable: {error}") from None
