"""Deleting versions and cleaning up by the retention settings; reading and changing settings.

Deleting needs the ``delete`` permission, changing settings the ``settings`` one; every
deletion, cleanup and settings change is audited with its result, and a refusal too. Only the
engine that drains the journal writes the history: another tab's request is carried out there.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import cast

from app.browser.engine import Engine
from app.browser.problems import ApiError
from app.core.audit.log import entries, verify_audit
from app.core.chain import Chain
from app.core.errors import CannotDeleteHead, CorruptData, UnknownFormatVersion, VersionNotFound
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
        if not self._engine.drainer:  # one writer of the settings: the draining engine
            return await self._engine.ask_drainer("settings", [settings_text])
        async with self._engine.settings_lock:
            return await self._set_settings(chain, settings_text)

    async def _set_settings(self, chain: Chain, settings_text: str) -> str:
        raw = _parsed(settings_text)
        try:
            current = (await _stored(chain)).retention.to_dict()
        except ApiError:  # unreadable: the settings given replace them (on the defaults)
            current = RetentionPolicy().to_dict()
        try:
            if not isinstance(raw, dict) or set(raw) - {"retention"} or not isinstance(
                    raw.get("retention", {}), dict):
                raise SettingsError("settings are {retention: {maxAgeDays, maxVersions, keepBackups, "
                                    "auditMaxAgeDays}}")
            policy = RetentionPolicy.from_dict({**current, **cast(dict[str, Json], raw.get("retention", {}))})
        except SettingsError as error:
            await self._engine.auditor.audit_action("settings", "failed", str(error), {"asked": raw})
            raise ApiError(str(error)) from None
        batch = Batch()
        batch.put("meta", SETTINGS_KEY, Settings(policy).encode())
        try:
            await chain.store.apply(batch)
        except StoreFull:
            raise ApiError("This browser's storage is full, so the settings were not saved: free "
                           "space (or delete old versions) and try again") from None
        await self._engine.auditor.audit_action("settings", "done", f"Retention: {_describe(policy)}",
                          {"retention": policy.to_dict()})
        return _text({"retention": policy.to_dict()})

    async def delete_version(self, version_id: str) -> str:
        await self._allowed("delete", "delete")
        if not self._engine.drainer:
            return await self._engine.ask_drainer("delete", [version_id])
        try:
            async with self._engine.exclusive("deleted") as chain:
                version = (await chain.history()).get(version_id)
                await chain.delete_version(version_id)
        except VersionNotFound:
            raise ApiError(f"No version {version_id!r}") from None
        except CannotDeleteHead:
            message = ("This version is today's data: it cannot be deleted (delete older "
                       "versions, or restore another version first)")
            await self._engine.auditor.audit_action("delete", "failed", message, {"versionId": version_id})
            raise ApiError(message) from None
        except Exception as error:  # noqa: BLE001 - audited, and the user is told
            message = (("This browser's storage is full, so nothing was deleted: free space and "
                        "try again") if isinstance(error, StoreFull) else
                       f"The version could not be deleted ({error}); nothing was changed")
            await self._engine.auditor.audit_action("delete", "failed", message, {"versionId": version_id})
            raise ApiError(message) from None
        await self._engine.auditor.audit_action(
            "delete", "done", f"Deleted version {version.seq} ({version.description})",
            {"versionId": version_id, "seq": version.seq, "timestamp": version.timestamp})
        self._engine.announce_deleted([version_id])
        return _text({"deleted": [version_id]})

    async def cleanup(self, options_text: str) -> str:
        """Delete what the retention settings (or ``options.retention``, for this run) say;
        ``dryRun``: only list it; ``expect``: the ids a preview listed (refused if the plan
        changed since). {deleted | wouldDelete: [ids], kept, auditRemoved | auditWouldRemove,
        retention}. Only the stored settings remove audit entries, never a one-run override."""
        await self._allowed("delete", "cleanup")
        if not self._engine.drainer:
            return await self._engine.ask_drainer("cleanup", [options_text])
        parsed = _parsed(options_text or "null")
        if parsed is not None and not isinstance(parsed, dict):
            raise ApiError("cleanup options are an object: {retention?, dryRun?, expect?}")
        options = parsed or {}
        if set(options) - {"retention", "dryRun", "expect"}:
            raise ApiError("cleanup options are {retention?, dryRun?, expect?}")
        if type(options.get("dryRun", False)) is not bool:
            raise ApiError("dryRun is true or false")
        deleted: list[str] = []
        policy = RetentionPolicy()
        try:
            async with self._engine.exclusive("deleted") as chain:
                stored = (await _stored(chain)).retention
                if "retention" in options:
                    override = {**stored.to_dict(), **_object(options["retention"]), "auditMaxAgeDays": None}
                    policy = RetentionPolicy.from_dict(override)
                else:
                    policy = stored
                versions = list(reversed(await chain.list_versions()))
                doomed = plan_cleanup(versions, policy, _now_ms())
                cutoff = (None if policy.audit_max_age_days is None
                          else _now_ms() - policy.audit_max_age_days * DAY_MS)
                if options.get("dryRun") is True:
                    # The newest audit entry is never removed.
                    old = 0 if cutoff is None else sum(
                        1 for entry in (await entries(chain.store))[:-1] if entry.at < cutoff)
                    return _text({"wouldDelete": [v.id for v in doomed], "kept": len(versions) - len(doomed),
                                  "auditWouldRemove": old, "retention": policy.to_dict()})
                expect = options.get("expect")
                if expect is not None and expect != [v.id for v in doomed]:
                    raise ApiError("The versions changed since this cleanup was previewed: preview "
                                   "it again")
                for version in doomed:
                    await chain.delete_version(version.id)
                    deleted.append(version.id)
                pruned = 0
                if cutoff is not None:
                    problems = await verify_audit(chain.store)
                    if problems:
                        raise ApiError(f"The audit trail has {len(problems)} problem(s) (run verify): "
                                       "its old entries were not removed, so the evidence stays. "
                                       f"{len(deleted)} version(s) were deleted")
                    pruned = await self._engine.auditor.prune(cutoff, self._engine.auditor.action_entry(
                        "audit-prune", "done", f"Removed the audit entries older than "
                        f"{policy.audit_max_age_days} days (the audit retention)", {}))
        except SettingsError as error:
            raise ApiError(str(error)) from None
        except Exception as error:  # noqa: BLE001 - whatever stopped it, what was done is audited
            message = str(error) if isinstance(error, ApiError) else (
                f"This browser's storage is full: {len(deleted)} old version(s) were deleted (each "
                "one whole); free space and clean up again" if isinstance(error, StoreFull) else
                f"The cleanup stopped ({error}) after deleting {len(deleted)} version(s), each one whole")
            if deleted or not isinstance(error, ApiError):
                await self._engine.auditor.audit_action("cleanup", "failed", message,
                                                        _details(deleted, policy))
            self._engine.announce_deleted(deleted)
            raise ApiError(message) from None
        removed = f"; removed {pruned} old audit entries" if pruned else ""
        await self._engine.auditor.audit_action("cleanup", "done" if deleted or pruned else "nothing",
                          f"Deleted {len(deleted)} version(s) by the retention settings "
                          f"({_describe(policy)}){removed}",
                          {**_details(deleted, policy), "auditRemoved": pruned})
        self._engine.announce_deleted(deleted)
        return _text({"deleted": deleted, "kept": len(versions) - len(deleted),
                      "auditRemoved": pruned, "retention": policy.to_dict()})


async def _stored(chain: Chain) -> Settings:
    try:
        return Settings.decode(await chain.store.get("meta", SETTINGS_KEY))
    except (CorruptData, UnknownFormatVersion) as error:
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
        raise ApiError("retention is an object, e.g. {maxAgeDays: 90}")
    return value


def _text(value: Json) -> str:
    return compact_json(value).decode("utf-8")
