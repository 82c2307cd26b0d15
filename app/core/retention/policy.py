"""Retention: which versions a cleanup deletes, and the settings that say so (``meta/settings``).

A cleanup deletes versions older than ``max_age_days`` and beyond the newest ``max_versions``
(either limit may be off), oldest first, and never: the head (it is today's data), a manual or
scheduled backup while ``keep_backups`` holds, or a version newer than the limits. Each deletion
keeps every other version exact (app.core.retention.deletion). Audit entries are removed only
when ``audit_max_age_days`` is set, which is never less than ``max_age_days`` (the audit trail
outlives the versions it speaks of), and the removal is itself an audit entry
(app.core.audit.log.prune).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from app.core.errors import CorruptData
from app.core.formats.format import FORMAT_VERSION, check_format_version
from app.core.formats.json_value import Json
from app.core.history.version import Version

SETTINGS_KEY = "settings"
DAY_MS = 86_400_000
#: Change types that are backups someone asked for (kept by ``keep_backups``).
BACKUP_TYPES = frozenset({"manual", "scheduled"})


class SettingsError(ValueError):
    """Settings that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class RetentionPolicy:
    #: Versions older than this many days are deleted (None: no age limit).
    max_age_days: int | None = 365
    #: At most this many versions are kept, the newest (None: no count limit).
    max_versions: int | None = None
    #: Manual and scheduled backups are kept whatever their age and number.
    keep_backups: bool = True
    #: Audit entries older than this many days are removed by a cleanup (None: kept forever).
    #: Never fewer days than ``max_age_days``: the audit trail outlives the versions.
    audit_max_age_days: int | None = None

    def to_dict(self) -> dict[str, Json]:
        return {"maxAgeDays": self.max_age_days, "maxVersions": self.max_versions,
                "keepBackups": self.keep_backups, "auditMaxAgeDays": self.audit_max_age_days}

    @classmethod
    def from_dict(cls, raw: Json) -> RetentionPolicy:
        """Settings as given by a user or stored: SettingsError for anything unusable."""
        if not isinstance(raw, dict):
            raise SettingsError("retention is an object: {maxAgeDays, maxVersions, keepBackups}")
        unknown = set(raw) - {"maxAgeDays", "maxVersions", "keepBackups", "auditMaxAgeDays"}
        if unknown:
            raise SettingsError(f"Unknown retention setting(s): {', '.join(sorted(unknown))}")
        default = cls()
        days = raw.get("maxAgeDays", default.max_age_days)
        count = raw.get("maxVersions", default.max_versions)
        keep = raw.get("keepBackups", default.keep_backups)
        audit = raw.get("auditMaxAgeDays", default.audit_max_age_days)
        for name, value, least in (("maxAgeDays", days, 1), ("maxVersions", count, 2),
                                   ("auditMaxAgeDays", audit, 1)):
            if value is not None and (type(value) is not int or value < least):
                raise SettingsError(f"{name} is a whole number of at least {least}, or null for no limit")
        if type(keep) is not bool:
            raise SettingsError("keepBackups is true or false")
        if audit is not None and (days is None or cast(int, audit) < cast(int, days)):
            raise SettingsError("auditMaxAgeDays must be at least maxAgeDays (and needs an age limit "
                                "for versions): the audit trail is kept longer than the versions")
        return cls(cast("int | None", days), cast("int | None", count), keep, cast("int | None", audit))


@dataclass(frozen=True)
class Settings:
    retention: RetentionPolicy = RetentionPolicy()

    def encode(self) -> bytes:
        return json.dumps({"formatVersion": FORMAT_VERSION, "retention": self.retention.to_dict()},
                          separators=(",", ":")).encode("utf-8")

    @classmethod
    def decode(cls, data: bytes | None) -> Settings:
        if data is None:
            return cls()
        try:
            obj = json.loads(data)
        except ValueError as error:
            raise CorruptData(f"settings are not JSON: {error}") from None
        if not isinstance(obj, dict):
            raise CorruptData("settings are not a JSON object")
        check_format_version(obj, "settings")
        try:
            return cls(RetentionPolicy.from_dict(obj.get("retention", {})))
        except SettingsError as error:
            raise CorruptData(f"settings: {error}") from None


def plan_cleanup(oldest_first: Sequence[Version], policy: RetentionPolicy, now_ms: int) -> list[Version]:
    """The versions a cleanup deletes under ``policy`` at ``now_ms``, oldest first."""
    if not oldest_first:
        return []
    head = oldest_first[-1]
    cutoff = None if policy.max_age_days is None else now_ms - policy.max_age_days * DAY_MS
    beyond = len(oldest_first) - policy.max_versions if policy.max_versions is not None else 0
    doomed = []
    for index, version in enumerate(oldest_first):
        if version.id == head.id or (policy.keep_backups and version.change_type in BACKUP_TYPES):
            continue
        too_old = cutoff is not None and version.timestamp < cutoff
        too_many = index < beyond
        if too_old or too_many:
            doomed.append(version)
    return doomed
