"""Restorer: applies a restore plan to the live store and records it as one version.

The plan (app.core.restore) says what each key becomes; the Restorer writes it with the same
Spark KV requests the PMS makes (POST of the JSON text, DELETE), so the PMS and every other
device see the restored data. Never half-done:

* a mark (``meta/restore/pending``: each key's text hash before and after) is stored before the
  first write; a full browser storage refuses the restore before anything is written;
* a write the store refuses rolls back the keys already written; if even that fails, the mark
  stays and the engine rolls back (or finishes) at its next round (``recover``);
* the version is recorded after the writes; if that fails, ``recover`` records it.

Every restore, and every recovery, is audited; every open PMS tab is told (``restored``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from app.browser.coordination import Coordination
from app.browser.notices import Notices
from app.browser.spark_kv import KvUnavailable, SparkKv
from app.core.audit.entry import AuditEntry, Result
from app.core.audit.log import new_entry_id
from app.core.chain import Chain
from app.core.errors import CoreError
from app.core.formats.json_value import Json
from app.core.history.version import Version
from app.core.ports import Batch
from app.core.restore.pending import PENDING_KEY, PendingRestore, plan_recovery, text_hash
from app.core.restore.request import RequestError, RestoreRequest

if TYPE_CHECKING:
    from app.core.restore.plan import RestorePlan


class RestoreFailed(Exception):
    """The restore could not be applied; the message says what happened to the data."""


def _now_ms() -> int:
    return int(time.time() * 1000)


class Restorer:
    def __init__(self, kv: SparkKv, coordination: Coordination, notices: Notices,
                 audit: Callable[[AuditEntry], Awaitable[None]]) -> None:
        self._kv = kv
        self._append_audit = audit  # AuditWriter.audit: one writer of the chain
        self._coordination = coordination
        self._notices = notices
        self._maybe_pending = True

    async def restore(self, chain: Chain, request: RestoreRequest, user: str) -> dict[str, Any]:
        """Plan and apply ``request``; the new version's metadata, or ``nothingToDo``.
        RequestError for a request that cannot be carried out; RestoreFailed when the store
        refused (the message says what became of the data)."""
        return await self.apply(chain, request, user, lambda: chain.plan_restore(request))

    async def apply(
        self, chain: Chain, request: RestoreRequest, user: str,
        planner: Callable[[], Awaitable[RestorePlan]], *, action: str = "restore",
        describe: Callable[[RestorePlan], str] | None = None,
        extra: dict[str, Json] | None = None,
    ) -> dict[str, Any]:
        """Plan (``planner``, against the head) and apply a restore - or an import (``action``
        "import": its version's changeType and its audit entries' action); as ``restore``.
        ``describe``: the version's description of the plan (app.core.restore.sides
        ``describe_restore`` when None; imported here, so the engine's start spares it)."""
        if describe is None:
            from app.core.restore.sides import describe_restore as describe
        plan = await self._against_the_store(chain, planner, await planner())
        unresolved = plan.unresolved
        if unresolved and request.require_resolutions:
            listed = ", ".join(f"{c.module}/{c.record_id or '(whole value)'}" for c in unresolved)
            raise RequestError(f"{len(unresolved)} conflict(s) need a choice (keep 'today' or "
                               f"'target') before restoring: {listed}")
        details = {**plan.details(), **(extra or {}), **({"action": action} if action != "restore" else {})}
        description = describe(plan)
        if plan.nothing_to_do:
            message = f"Nothing to change: the data already is what this {action} would make it"
            await self._audit(user, "nothing", message, details, action)
            return {"nothingToDo": True, "message": message}
        texts = plan.texts()
        before = {key: await chain.head_text(key) for key in texts}
        pending = PendingRestore(new_entry_id(_now_ms()), _now_ms(), user, description,
                                 {key: (text_hash(before[key]), text_hash(texts[key]))
                                  for key in texts}, details)
        await self._mark(chain, pending)
        started = _now_ms()
        written: list[str] = []
        try:
            for key, text in texts.items():
                written.append(key)  # a write that fails may still have reached the store
                await self._write(key, text)
        except KvUnavailable as error:
            await self._undo_writes(chain, user, pending, written, before, details, error, action)
        with contextlib.suppress(Exception):  # only sharpens a recovery; the writes are done
            await self._mark(chain, replace(pending, applied=True))
        try:
            version = await chain.record_restore(plan, created_by=user, change_type=action,
                                                 description=description,
                                                 live_reads={key: (started, _now_ms()) for key in texts})
        except Exception as error:
            self._maybe_pending = True
            raise RestoreFailed(
                f"The data was {'imported' if action == 'import' else 'restored'}, but Backstay could "
                f"not record it yet ({error}); it "
                "records it as soon as its storage works again.") from None
        await self._finished(chain, pending, user, version, "done", description, details)
        return {"nothingToDo": False, "version": version.to_dict() if version else None}

    async def _against_the_store(
        self, chain: Chain, planner: Callable[[], Awaitable[RestorePlan]], plan: RestorePlan
    ) -> RestorePlan:
        """The plan is made against the history's head. A key the store holds otherwise (written
        from another browser since this one last looked) is recorded first, and the restore is
        planned again (with ``expectHead``, that refuses: the preview is out of date)."""
        started = _now_ms()
        live = {key: await self._kv.get_text(key) for key in plan.writes}
        drifted = {key: text for key, text in live.items() if text != await chain.head_text(key)}
        if not drifted:
            return plan
        await chain.record(drifted, created_by="unknown",
                           description="Changes found in the store that were made outside this browser",
                           live_reads={key: (started, _now_ms()) for key in drifted})
        return await planner()

    async def _undo_writes(
        self, chain: Chain, user: str, pending: PendingRestore, written: list[str],
        before: dict[str, str | None], details: dict[str, Json], error: KvUnavailable,
        action: str,
    ) -> None:
        try:
            # Every key written is put back, the one that got no answer too: that write may
            # still land, and a store that applies requests in order then ends with this one.
            for key in reversed(written):
                await self._write(key, before[key])
        except KvUnavailable:
            self._maybe_pending = True
            await self._audit(user, "failed", f"The store stopped answering half-way "
                              f"({error}); rolled back when it answers again", details, action)
            raise RestoreFailed(
                f"The {action} stopped half-way: the store did not answer ({error}). Backstay "
                "puts the data back as it was as soon as the store answers again; then try "
                f"the {action} again.") from None
        await self._clear_mark(chain)
        await self._audit(user, "failed", f"The store refused a write ({error}); "
                          "nothing was changed", details, action)
        raise RestoreFailed(f"The {action} could not be applied: {error}. Nothing was changed; "
                            "try again when the store answers.") from None

    async def _write(self, key: str, text: str | None) -> None:
        if text is None:
            await self._kv.delete(key)
        else:
            await self._kv.set_text(key, text)

    async def _mark(self, chain: Chain, pending: PendingRestore) -> None:
        batch = Batch()
        batch.put("meta", PENDING_KEY, pending.encode())
        await chain.store.apply(batch)  # StoreFull here: refused before anything is written

    async def _clear_mark(self, chain: Chain) -> None:
        batch = Batch()
        batch.delete("meta", PENDING_KEY)
        await chain.store.apply(batch)

    async def _finished(
        self, chain: Chain, pending: PendingRestore, user: str, version: Version | None,
        result: Result, message: str, details: dict[str, Json],
    ) -> None:
        await self._clear_mark(chain)
        if version is not None:  # first: an open page must not save its old data over it
            self._coordination.announce_version(version.to_dict())
            self._coordination.announce_restored(version.to_dict(), sorted(pending.keys))
        try:
            await self._audit(user, result, message,
                              {**details, "versionId": version.id if version else None},
                              str(details.get("action") or "restore"))
        except Exception as error:  # noqa: BLE001 - the restore itself is done; say so apart
            with contextlib.suppress(Exception):  # kept in memory (status) even if not stored
                await self._notices.add(f"audit-{pending.id}", (
                    f"A restore was done, but Backstay could not write its audit entry ({error}). "
                    "Free space in this browser; the version it made is in the history."))

    async def _audit(self, user: str, result: Result, message: str,
                     details: dict[str, Json], action: str = "restore") -> None:
        await self._append_audit(AuditEntry(new_entry_id(_now_ms()), _now_ms(), user, action,
                                            result, message, details))

    # ---- an interrupted restore --------------------------------------------------------------

    async def recover(self, chain: Chain) -> None:
        """Settle a restore that was interrupted (see app.core.restore.pending)."""
        if not self._maybe_pending:
            return
        stored = await chain.store.get("meta", PENDING_KEY)
        if stored is None:
            self._maybe_pending = False
            return
        try:
            pending = PendingRestore.decode(stored)
        except CoreError as error:  # never let an unreadable mark stop the engine for good
            batch = Batch()
            batch.put("meta", PENDING_KEY + "-unreadable", stored)
            batch.delete("meta", PENDING_KEY)
            await chain.store.apply(batch)
            await self._notices.add("restore-unreadable", (
                f"Backstay found the mark of an interrupted restore but cannot read it ({error}); "
                "it was set aside. Compare today's data with the versions before and after the "
                "restore, and restore again if needed."))
            self._maybe_pending = False
            return
        live = {key: await self._kv.get_text(key) for key in pending.keys}
        head = {key: await chain.head_text(key) for key in pending.keys}
        recovery = plan_recovery(pending, live, head)
        others = (f" {', '.join(recovery.others)} had been changed by someone else since and "
                  "were left as they are." if recovery.others else "")
        started = _now_ms()
        kind = "an import" if pending.details.get("action") == "import" else "a restore"
        noun = kind.split()[1]
        if recovery.outcome == "roll-back":
            for key, text in recovery.texts.items():
                await self._write(key, text)
            message = (f"{kind.capitalize()} started by {pending.user} was interrupted half-way; the "
                       f"data it had changed was put back as it was before it.{others} Try the "
                       f"{noun} again.")
            result: Result = "rolled-back"
            version = None
        elif recovery.outcome == "finish":
            version = await chain.record(
                recovery.texts, created_by=pending.user,
                change_type=str(pending.details.get("action") or "restore"),
                description=pending.description + " (recorded after an interruption)",
                live_reads={key: (started, _now_ms()) for key in recovery.texts})
            message = (f"{kind.capitalize()} started by {pending.user} was interrupted after it had "
                       f"written all its data; it was finished and recorded now.{others}")
            result = "finished"
        else:
            version = None
            message = (f"{kind.capitalize()} was interrupted before it wrote anything; the data is "
                       f"unchanged.{others}" if recovery.outcome == "nothing" else "")
            result = "finished" if recovery.outcome == "recorded" else "failed"
        if message:
            await self._notices.add(f"restore-{pending.id}", message)
        await self._finished(chain, pending, pending.user, version, result,
                             message or "recorded before the interruption", pending.details)
        self._maybe_pending = False
