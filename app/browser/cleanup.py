"""Deleting versions and cleaning up by the retention settings; reading and changing settings.

Deleting needs the ``delete`` permission, changing settings the ``settings`` one; every
deletion, cleanup and settings change is audited with its result, and a refusal too. Only the
engine that drains the journal writes the history: another tab's request is carried out there.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from app.browser.engine import Engine
from app.browser.problems import ApiError
from app.core.audit.entry import AuditEntry, Result
from app.core.audit.log import new_entry_id
from app.core.chain import Chain
from app.core.errors import CannotDeleteHead, CorruptData, VersionNotFound
from app.core.formats.json_value import Json, compact_json, parse_json
from app.core.ports import Batch, StoreFull
from app.core.retention.policy import (
    DAY_MS,
    SETTINGS_KEY,
    RetentionPolicy,
    Settings,
    SettingsError,
    plan_cleanup,
)

Allowed = Callable[[str, str], Awaitable[Chain]]
#: A cleanup's audit entry names at most this many of the versions it deleted.
LISTED = 100


def _now_ms() -> int:
    return int(time.time() * 1000)


class Cleanup:
    def __init__(self, engine: Engine, allowed: Allowed) -> None:
        self._engine = engine
        self._allowed = allowed

    async def settings(self) -> str:
        chain = await self._allowed("view", "read-settings")
        return _text({"retention": (await _stored(chain)).retention.to_dict()})

    async def set_settings(self, settings_text: str) -> str:
        """Change the settings given ({retention: {...}}); the others stay. Audited."""
        chain = await self._allowed("settings", "settings")
        raw = _parsed(settings_text)
        try:
            if not isinstance(raw, dict) or set(raw) - {"retention"}:
                raise SettingsError("settings are {retention: {maxAgeDays, maxVersions, keepBackups}}")
            current = (await _stored(chain)).retention.to_dict()
            policy = RetentionPolicy.from_dict({**current, **_object(raw.get("retention", {}))})
        except SettingsError as error:
            await self._audit("settings", "failed", str(error), {"asked": raw})
            raise ApiError(str(error)) from None
        batch = Batch()
        batch.put("meta", SETTINGS_KEY, Settings(policy).encode())
        try:
            await chain.store.apply(batch)
        except StoreFull:
            raise ApiError("This browser's storage is full, so the settings were not saved: free "
                           "space (or delete old versions) and try again") from None
        await self._audit("settings", "done", f"Retention: {_describe(policy)}",
                          {"retention": policy.to_dict()})
        return _text({"retention": policy.to_dict()})

    async def delete_version(self, version_id: str) -> str:
        await self._allowed("delete", "delete")
        if not self._engine.drainer:
            return await self._engine.ask_drainer("delete", [version_id])
        async with self._engine.exclusive() as chain:
            try:
                version = (await chain.history()).get(version_id)
                await chain.delete_version(version_id)
            except VersionNotFound:
                raise ApiError(f"No version {version_id!r}") from None
            except CannotDeleteHead:
                message = ("This version is today's data: it cannot be deleted (delete older "
                           "versions, or restore another version first)")
                await self._audit("delete", "failed", message, {"versionId": version_id})
                raise ApiError(message) from None
            except StoreFull:
                raise ApiError("This browser's storage is full, so nothing was deleted: free "
                               "space and try again") from None
        await self._audit("delete", "done", f"Deleted version {version.seq} ({version.description})",
                          {"versionId": version_id, "seq": version.seq, "timestamp": version.timestamp})
        return _text({"deleted": [version_id]})

    async def cleanup(self, options_text: str) -> str:
        """Delete what the retention settings (or ``options.retention``) say; ``options.dryRun``:
        only list it. {deleted | wouldDelete: [ids], kept, retention}."""
        await self._allowed("delete", "cleanup")
        if not self._engine.drainer:
            return await self._engine.ask_drainer("cleanup", [options_text])
        options = _object(_parsed(options_text or "null") or {})
        if set(options) - {"retention", "dryRun"}:
            raise ApiError("cleanup options are {retention?, dryRun?}")
        async with self._engine.exclusive() as chain:
            stored = (await _stored(chain)).retention
            try:
                policy = (RetentionPolicy.from_dict({**stored.to_dict(), **_object(options["retention"])})
                          if "retention" in options else stored)
            except SettingsError as error:
                raise ApiError(str(error)) from None
            versions = list(reversed(await chain.list_versions()))
            doomed = plan_cleanup(versions, policy, _now_ms())
            if options.get("dryRun") is True:
                return _text({"wouldDelete": [v.id for v in doomed], "kept": len(versions) - len(doomed),
                              "retention": policy.to_dict()})
            deleted: list[str] = []
            try:
                for version in doomed:
                    await chain.delete_version(version.id)
                    deleted.append(version.id)
            except StoreFull:
                await self._audit("cleanup", "failed", f"Storage full after deleting {len(deleted)} "
                                  f"of {len(doomed)} versions", _details(deleted, policy))
                raise ApiError(f"This browser's storage is full: {len(deleted)} of {len(doomed)} old "
                               "versions were deleted (each one whole); free space and clean up "
                               "again") from None
            pruned = 0
            if policy.audit_max_age_days is not None:
                now = _now_ms()
                pruned = await self._engine.prune_audit(
                    now - policy.audit_max_age_days * DAY_MS,
                    AuditEntry(new_entry_id(now), now, self._engine.access.identity.login,
                               "audit-prune", "done", "Removed the audit entries older than "
                               f"{policy.audit_max_age_days} days (the audit retention)", {}))
        removed = f"; removed {pruned} old audit entries" if pruned else ""
        await self._audit("cleanup", "done" if deleted or pruned else "nothing",
                          f"Deleted {len(deleted)} version(s) by the retention settings "
                          f"({_describe(policy)}){removed}",
                          {**_details(deleted, policy), "auditRemoved": pruned})
        return _text({"deleted": deleted, "kept": len(versions) - len(deleted),
                      "auditRemoved": pruned, "retention": policy.to_dict()})

    async def _audit(self, action: str, result: Result, message: str, details: dict[str, Json]) -> None:
        now = _now_ms()
        await self._engine.audit(AuditEntry(new_entry_id(now), now, self._engine.access.identity.login,
                                            action, result, message, details))


async def _stored(chain: Chain) -> Settings:
    try:
        return Settings.decode(await chain.store.get("meta", SETTINGS_KEY))
    except CorruptData as error:
        raise ApiError(f"The stored settings cannot be read ({error}); save them again") from None


def _details(deleted: list[str], policy: RetentionPolicy) -> dict[str, Json]:
    return {"count": len(deleted), "versionIds": list[Json](deleted[:LISTED]),
            "retention": policy.to_dict()}


def _describe(policy: RetentionPolicy) -> str:
    parts = [f"versions older than {policy.max_age_days} days" if policy.max_age_days else "",
             f"beyond the newest {policy.max_versions}" if policy.max_versions else ""]
    what = " and ".join(part for part in parts if part) or "nothing (no limit)"
    audit = (f"; audit entries older than {policy.audit_max_age_days} days are removed"
             if policy.audit_max_age_days else "; the audit trail is kept whole")
    return (f"delete {what}" + ("; manual and scheduled backups are kept" if policy.keep_backups else "")
            + audit)


def _parsed(text: str) -> Json:
    try:
        return parse_json(text)
    except ValueError:
        raise ApiError("the arguments must be JSON values") from None


def _object(value: Json) -> dict[str, Json]:
    if not isinstance(value, dict):
        raise ApiError("expected an object, e.g. {maxAgeDays: 90}")
    return value


def _text(value: Json) -> str:
    return compact_json(value).decode("utf-8")
