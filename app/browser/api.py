"""Api: what window.backstay answers (through engine_main), as JSON text.

Reads (versions, states, comparisons, previews, the audit log) are answered by any tab's engine
at the latest head; a restore runs in the engine that drains the journal, after it has recorded
every write made so far (Engine.exclusive).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from app.browser.access import acting_as
from app.browser.engine import Engine
from app.browser.keyring import Keyring
from app.browser.problems import DATA_LOST_READ, ApiError
from app.browser.restorer import RestoreFailed
from app.core.access.permissions import PERMISSIONS, AccessDenied
from app.core.audit.entry import AuditEntry
from app.core.audit.log import entries, to_csv, verify_audit
from app.core.audit.trail import COLUMNS, TrailFilter, backup_rows, to_json, trail, write_rows
from app.core.chain import Chain
from app.core.errors import VersionNotFound
from app.core.formats.json_value import Json, compact_json, parse_json
from app.core.history.history import History
from app.core.history.version import Version
from app.core.ports import Compressor, DataLost, StoreError, StoreFull
from app.core.restore.request import RequestError, RestoreRequest, Target
from app.core.restore.sides import resolve

if TYPE_CHECKING:
    from app.browser.backups import Backups
    from app.browser.cleanup import Cleanup
    from app.browser.passphrase import Passphrase

#: A preview lists at most this many records per module (and says how many more there are).
PREVIEW_RECORDS = 200


async def answer(work: Awaitable[str]) -> str:
    """JSON text: the result, or ``{"error": message}`` - never a Python traceback."""
    try:
        return await work
    except ApiError as error:
        return json.dumps({"error": str(error)})
    except StoreFull:
        return json.dumps({"error": "This browser's storage is full: free space (or delete old "
                                    "versions), then try again"})
    except DataLost as error:
        return json.dumps({"error": f"{DATA_LOST_READ} ({error})"})
    except StoreError as error:
        return json.dumps({"error": f"Backstay's storage in this browser failed ({error}); it opens "
                                    "it again by itself: try again in a moment, and reload the page "
                                    "if this persists"})
    except Exception as error:  # noqa: BLE001 - the caller gets a message, not a traceback
        return json.dumps({"error": f"Backstay could not answer: {type(error).__name__}: {error}"})


class Api:
    def __init__(self, engine: Engine, compressor: Compressor, keyring: Keyring) -> None:
        self._engine = engine
        self._compressor = compressor
        self._keyring = keyring
        self._backups: Backups | None = None
        self._cleanup: Cleanup | None = None
        self._passphrase: Passphrase | None = None
        engine.serve_requests(self._serve)
        # The audit trail's rows of each version, by its id and payload hash (a version whose
        # payload is rewritten gets a new hash): each payload is read once, not at every look.
        self._rows: dict[tuple[str, str], list[dict[str, str]]] = {}

    # Backup files and deletions are imported on first use: the engine starts without them.
    @property
    def backups(self) -> Backups:
        if self._backups is None:
            from app.browser.backups import Backups
            self._backups = Backups(self._engine, self._allowed, self._compressor, self.passphrase)
        return self._backups

    @property
    def passphrase(self) -> Passphrase:
        if self._passphrase is None:
            from app.browser.passphrase import Passphrase
            self._passphrase = Passphrase(self._engine, self._allowed, self._keyring)
        return self._passphrase

    @property
    def cleanup(self) -> Cleanup:
        if self._cleanup is None:
            from app.browser.cleanup import Cleanup
            self._cleanup = Cleanup(self._engine, self._allowed)
        return self._cleanup

    async def _serve(self, kind: str, args: list[Any], user: dict[str, Any] | None) -> str:
        """Another tab's request, carried out by this (the draining) engine for the user
        signed in there."""
        with acting_as(user):
            return await self._carry_out(kind, args)

    async def _carry_out(self, kind: str, args: list[Any]) -> str:
        if kind == "restore" and len(args) == 2:
            return await answer(self.restore_version(str(args[0]), str(args[1])))
        if kind == "import" and len(args) == 2:
            return await answer(self.backups.import_backup(str(args[0]), str(args[1])))
        if kind == "set-permission" and len(args) == 2:
            return await answer(self.set_permission(str(args[0]), str(args[1])))
        if kind == "settings" and len(args) == 1:
            return await answer(self.cleanup.set_settings(str(args[0])))
        if kind == "export" and len(args) == 1:
            return await answer(self.backups.export(str(args[0])))
        if kind == "delete" and len(args) == 1:
            return await answer(self.cleanup.delete_version(str(args[0])))
        if kind == "passphrase" and len(args) == 1:
            return await answer(self.passphrase.set(str(args[0])))
        if kind == "cleanup" and len(args) == 1:
            return await answer(self.cleanup.cleanup(str(args[0])))
        if kind == "new-history" and len(args) == 1:
            return await answer(self.start_new_history(str(args[0])))
        if kind == "audit" and len(args) == 1:
            await self._engine.auditor.audit(AuditEntry.decode(str(args[0]).encode("utf-8")))
            return json.dumps(True)
        return json.dumps({"error": f"unknown request {kind!r}"})

    async def _allowed(self, permission: str, what: str) -> Chain:
        """The chain, if the user holds ``permission``; else the attempt is audited and refused."""
        chain = await self._engine.fresh_chain()
        try:
            await self._engine.access.check(chain, permission)
        except AccessDenied as denied:
            await self._engine.auditor.audit_action(what, "denied", str(denied), {
                "permission": permission, "role": self._engine.access.identity.role})
            raise ApiError(str(denied)) from None
        return chain

    async def list_versions(self) -> str:
        chain = await self._allowed("view", "list-versions")
        return _json_text([version.to_dict() for version in await chain.list_versions()])

    async def get_version(self, version_id: str) -> str:
        chain = await self._allowed("view", "read-version")
        with _known_version(version_id):
            detail = await chain.get_version(version_id)
        return _json_text(detail.to_dict())

    async def state_at(self, version_id: str) -> str:
        """The data as it was at a version: {key: value}."""
        chain = await self._allowed("view", "read-state")
        with _known_version(version_id):
            state = await chain.state_at(version_id)
        return _json_text(dict(state))

    async def compare_versions(self, a: str, b: str) -> str:
        """The field-level differences from state ``a`` to state ``b``; each is a version id,
        ``{at: ms}`` or ``"today"`` (JSON text)."""
        chain = await self._allowed("view", "compare")
        with _request():
            a_id = await _version_of(chain, _parsed(a))
            b_id = await _version_of(chain, _parsed(b))
            return _json_text((await chain.compare(a_id, b_id)).to_dict())

    async def preview_restore(self, target: str, options: str) -> str:
        chain = await self._allowed("view", "preview-restore")
        with _request():
            plan = await chain.plan_restore(RestoreRequest.parse(_parsed(target), _parsed(options)))
        return _json_text(plan.to_dict(PREVIEW_RECORDS))

    async def restore_version(self, target: str, options: str) -> str:
        await self._allowed("restore", "restore")
        if not self._engine.drainer:  # one engine writes: the one that drains, in another tab
            return await self._engine.ask_drainer("restore", [target, options])
        with _request():
            request = RestoreRequest.parse(_parsed(target), _parsed(options))
            async with self._engine.exclusive() as chain:
                try:
                    result = await self._engine.restorer.restore(chain, request, self._engine.user)
                except RestoreFailed as error:
                    raise ApiError(str(error)) from None
                except StoreFull:
                    raise ApiError("This browser's storage is full, so nothing was restored: free "
                                   "space (or delete old versions) and try again") from None
        return _json_text(result)

    async def start_new_history(self, options: str) -> str:
        """Remove a history that lost what recording needs and start anew from today's data
        (Engine.start_new_history); ``options``: JSON text {confirm: true}. Carried out by the
        draining engine (asked without opening this tab's storage, which may be what is lost)."""
        parsed = _parsed(options)
        if not isinstance(parsed, dict) or parsed.get("confirm") is not True:
            raise ApiError("Starting a new history removes this browser's versions: export those "
                           "that can still be read first, then confirm with {confirm: true}")
        if not self._engine.drainer:
            return await self._engine.ask_drainer("new-history", [options])
        try:
            await self._allowed("delete", "new-history")
        except DataLost:
            # Who may do what, or the PMS's users, were lost with the history: the signed-in
            # user is checked against the default permissions (the hotel's owner may).
            try:
                self._engine.access.check_by_default("delete")
            except AccessDenied as denied:
                raise ApiError(str(denied)) from None
        try:
            return _json_text(await self._engine.start_new_history())
        except StoreFull:
            raise ApiError("This browser's storage is full, so the damaged history was not removed "
                           "and nothing changed: free space on this computer's disk, then start "
                           "the new history again") from None

    async def audit_log(self) -> str:
        chain = await self._allowed("view", "read-audit")
        return _json_text([entry.to_dict() for entry in await entries(chain.store)])

    async def audit_trail(self, keep: str) -> str:
        """Rows of every captured write and every backup action, newest first, filtered."""
        chain = await self._allowed("view", "read-audit")
        return _json_text(await self._trail(chain, keep))

    async def export_audit_trail(self, file_format: str, keep: str) -> str:
        """The trail as CSV or JSON text (to save as a file)."""
        chain = await self._allowed("export", "export-audit")
        rows = await self._trail(chain, keep)
        if file_format not in ("csv", "json"):
            raise ApiError("The audit trail exports as 'csv' or 'json'")
        text = to_csv(rows, COLUMNS) if file_format == "csv" else to_json(rows)
        await self._engine.auditor.audit_action("export-audit", "done",
                                        f"Exported {len(rows)} audit trail rows as {file_format}",
                                        {"rows": len(rows), "format": file_format})
        return _json_text({"format": file_format, "rows": len(rows), "text": text})

    async def _trail(self, chain: Chain, keep: str) -> list[dict[str, str]]:
        try:
            wanted = TrailFilter.parse(_parsed(keep))
        except (ValueError, RequestError) as error:
            raise ApiError(str(error)) from None
        rows = backup_rows(await entries(chain.store))
        history = await chain.history()
        for version in history.oldest_first():
            if wanted.since and version.timestamp < wanted.since:
                continue
            if wanted.until and version.timestamp > wanted.until:
                continue
            rows += await self._write_rows(history, version)
        return trail(rows, wanted)

    async def _write_rows(self, history: History, version: Version) -> list[dict[str, str]]:
        key = (version.id, version.payload_hash)
        rows = self._rows.get(key)
        if rows is None:
            payload = await history.payload(version.id)
            rows = self._rows[key] = write_rows(
                version.to_dict(), [change.to_dict() for change in payload.changes])
        return rows

    async def verify(self, options: str) -> str:
        """Check the history (``{full: true}``: every payload and snapshot too) and the audit
        chain; every problem found."""
        chain = await self._allowed("view", "verify")
        parsed = _parsed(options)
        full = bool(parsed.get("full")) if isinstance(parsed, dict) else False
        report = (await chain.verify(full=full)).to_dict()
        audit = [{"kind": "audit", "subject": subject, "detail": detail}
                 for subject, detail in await verify_audit(chain.store)]
        problems = [*report["problems"], *audit]  # type: ignore[misc]
        result = {**report, "ok": not problems, "problems": problems}
        await self._engine.auditor.audit_action("verify",
                                        "done" if not problems else "failed",
                                        f"Verify found {len(problems)} problem(s)",
                                        {"full": full, "problems": len(problems)})
        return _json_text(result)

    async def open_panel(self) -> str:
        """May this user open Version Control & Backups? What they may do there."""
        await self._allowed("view", "open-panel")
        return _json_text({"you": self._engine.access.identity.to_dict(),
                           "can": self._engine.access.can()})

    async def permissions(self) -> str:
        chain = await self._allowed("view", "read-permissions")
        permissions = await self._engine.access.permissions(chain)
        return _json_text({"permissions": permissions.to_dict(), "descriptions": dict(PERMISSIONS),
                           "you": self._engine.access.identity.to_dict(),
                           "can": self._engine.access.can()})

    async def set_permission(self, permission: str, roles: str) -> str:
        """Grant ``permission`` to exactly ``roles`` (JSON list); audited. The draining engine
        writes it (one writer, one at a time: two grants made at once both hold)."""
        chain = await self._allowed("settings", "set-permission")
        if not self._engine.drainer:
            return await self._engine.ask_drainer("set-permission", [permission, roles])
        parsed = _parsed(roles)
        if not isinstance(parsed, list):
            raise ApiError("roles is a list of role names, e.g. ['admin', 'accounts']")
        try:
            names = sorted(str(role) for role in parsed)
            async with self._engine.settings_lock:
                changed = await self._engine.access.grant(chain, permission, names)
        except ValueError as error:
            raise ApiError(str(error)) from None
        await self._engine.auditor.audit_action("set-permission", "done",
                                        f"{permission}: {', '.join(names) or 'nobody'}",
                                        {"permission": permission, "roles": list[Json](names)})
        return _json_text(changed.to_dict())



async def _version_of(chain: Chain, raw: Json) -> str:
    if raw == "today":
        head = chain.head_version_id
        if head is None:
            raise RequestError("There is no version yet")
        return head
    return resolve(await chain.history(), Target.parse(raw)).id


def _parsed(text: str) -> Json:
    try:
        return parse_json(text)
    except ValueError:
        raise RequestError("the arguments must be JSON values") from None


def _json_text(value: Any) -> str:
    """JSON text for the facade; values Python's json cannot write as-is (lone surrogates,
    numbers beyond a double) keep their exact spelling."""
    return compact_json(value).decode("utf-8")


@contextmanager
def _request() -> Iterator[None]:
    """Turn the core's request errors into the API's messages."""
    try:
        yield
    except (RequestError, VersionNotFound) as error:
        raise ApiError(str(error)) from None


@contextmanager
def _known_version(version_id: str) -> Iterator[None]:
    """Turn the core's VersionNotFound into the API's message."""
    try:
        yield
    except VersionNotFound:
        raise ApiError(f"No version {version_id!r}") from None
