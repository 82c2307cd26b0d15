"""The engine: turns captured KV writes into versions.

Start-up, in order: learn who is signed in; become the tab that drains the journal (Web Locks;
other tabs wait, and meanwhile answer reads); record a baseline of every key on first start;
drain the journal (one version per write, in sequence order); reconcile the head with the live
store (what changed while no page was open becomes a version). Then drain whenever capture.js
announces a new entry. Each version is committed by the core's Chain in one store transaction
that also advances the drained journal sequence number, so no write is recorded twice.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from app.browser.coordination import Coordination
from app.browser.journal import Journal
from app.browser.spark_kv import KvUnavailable, SparkKv
from app.core.chain import Chain
from app.core.errors import CoreError
from app.core.journal_entry import JournalEntry, Step, plan_entry
from app.core.ports import StoreError
from app.core.scope import is_versioned

#: How often the engine looks at the journal even without being told (missed broadcasts).
POLL_SECONDS = 2.0
BATCH = 50


def _now_ms() -> int:
    return int(time.time() * 1000)


class Engine:
    def __init__(self, chain: Chain, journal: Journal, kv: SparkKv, coordination: Coordination) -> None:
        self._chain = chain
        self._journal = journal
        self._kv = kv
        self._coordination = coordination
        self._user = "unknown"
        self._is_admin = False
        self._drainer = False
        self._ready = asyncio.Event()
        self._wake = asyncio.Event()
        self.last_error = ""
        self._drain_error = ""  # the last drain's failure, cleared by a drain that succeeds
        self.timings: dict[str, float] = {}

    # ---- life cycle -------------------------------------------------------------------------

    async def run(self) -> None:
        started = time.perf_counter()
        try:
            user = await self._kv.user()
            self._user = str(user.get("login") or "unknown")
            self._is_admin = bool(user.get("isOwner"))
        except KvUnavailable as error:
            self.last_error = str(error)
        await self._chain.open()
        # Reads are possible at once; a second tab stays a reader until the drainer goes away.
        reader_ready = asyncio.ensure_future(self._mark_ready_if_not_drainer())
        await self._coordination.become_drainer()
        reader_ready.cancel()
        self._drainer = True
        try:
            await self._catch_up()
        except (StoreError, KvUnavailable, CoreError) as error:
            # Nothing half-written: the journal keeps what was not recorded, and the next
            # drain or start tries again. status() and the panel show the error.
            self.last_error = f"{type(error).__name__}: {error}"
        self.timings["start_ms"] = (time.perf_counter() - started) * 1000
        self._ready.set()
        self._coordination.on_journal(self._wake)
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            except TimeoutError:
                pass
            self._wake.clear()
            await self._drain_safely()

    async def _drain_safely(self) -> None:
        """Drain, keeping the engine alive through failures: the entry stays in the journal and
        is tried again on the next wake-up, and the error is shown in status()."""
        try:
            await self._drain()
        except (StoreError, KvUnavailable, CoreError) as error:
            self._drain_error = f"{type(error).__name__}: {error}"
        else:
            self._drain_error = ""

    async def _catch_up(self) -> None:
        await self._chain.open()
        if self._chain.head_version_id is None:
            # The baseline reads the live store, so a reconciliation would read it again for
            # nothing; writes made since are in the journal.
            await self._record_live_state(baseline=True)
            await self._drain()
        else:
            await self._drain()
            await self._record_live_state(baseline=False)

    async def _mark_ready_if_not_drainer(self) -> None:
        await asyncio.sleep(0.5)
        if not self._drainer:
            self._ready.set()

    async def ready(self) -> None:
        await self._ready.wait()

    # ---- recording ------------------------------------------------------------------------

    async def _live_state(self) -> dict[str, str]:
        keys = [key for key in await self._kv.keys() if is_versioned(key)]
        return await self._kv.snapshot(keys)

    async def _record_live_state(self, *, baseline: bool) -> None:
        """Record the live store: the baseline on first start, and at every later start what
        changed while no page was open (the head says what Backstay last saw)."""
        try:
            state = await self._live_state()
        except KvUnavailable as error:
            self.last_error = f"{'baseline' if baseline else 'reconciliation'} postponed: {error}"
            return
        if baseline:
            version = await self._chain.record_state(
                state, created_by=self._user, snapshot=True,
                description=f"Baseline: the {len(state)} keys of the store when Backstay first started")
        else:
            version = await self._chain.record_state(
                state, created_by="unknown",
                description="Changes found in the store that were made while Backstay was not running")
        self._announce(version)

    async def _drain(self) -> None:
        while True:
            entries = await self._journal.after(self._chain.journal_seq, BATCH)
            if not entries:
                return
            for entry in entries:
                step = plan_entry(entry, head_has_key=entry.key in await self._chain.head_keys(),
                                  now_ms=_now_ms())
                if step is Step.WAIT:
                    return  # capture.js announces the outcome when it arrives
                await self._record_entry(entry, step)
            await self._journal.drop_through(self._chain.journal_seq)

    async def _record_entry(self, entry: JournalEntry, step: Step) -> None:
        writes: dict[str, str | None] = {}
        if step is Step.RECORD_BODY:
            writes[entry.key] = entry.body
        elif step is Step.RECORD_DELETE:
            writes[entry.key] = None
        elif step is Step.READ_LIVE:
            writes[entry.key] = await self._kv.get_text(entry.key)
        try:
            version = await self._chain.record(
                writes, created_by=self._user, change_type="auto", journal_seq=entry.seq)
        except ValueError as error:  # a body that is not JSON: the server refused it too
            self.last_error = f"journal entry {entry.seq} skipped: {error}"
            version = await self._chain.record({}, created_by=self._user, journal_seq=entry.seq)
        self._announce(version)

    def _announce(self, version: Any) -> None:
        if version is not None:
            self._coordination.announce_version(version.to_dict())

    # ---- reads (the facade's API) ---------------------------------------------------------

    async def _fresh(self) -> None:
        if not self._drainer:
            await self._chain.open()  # another tab writes; see its latest head

    async def list_versions(self) -> str:
        await self._fresh()
        return json.dumps([version.to_dict() for version in await self._chain.list_versions()])

    async def get_version(self, version_id: str) -> str:
        await self._fresh()
        detail = await self._chain.get_version(version_id)
        return json.dumps(detail.to_dict())

    def status(self) -> str:
        return json.dumps({
            "ready": self._ready.is_set(),
            "drainer": self._drainer,
            "user": self._user,
            "isAdmin": self._is_admin,
            "journalSeq": self._chain.journal_seq,
            "headVersionId": self._chain.head_version_id,
            "lastError": self._drain_error or self.last_error,
            "timings": self.timings,
        })
