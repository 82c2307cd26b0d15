"""The engine: turns captured KV writes into versions, and never stops silently.

Start-up, in order: learn who is signed in; become the tab that drains the journal (Web Locks;
other tabs wait, and meanwhile answer reads); check that the journal is the one the history
counts in; on first start record a baseline from the live store; drain the journal (the steps
of app.core.capture.drain_plan); reconcile the head with the live store (what changed while no page was
open becomes a version). Then drain whenever capture.js announces an entry, and at least every
POLL_SECONDS. Each step is committed by the core's Chain in one store transaction that also
advances the drained journal seq, so no write is recorded twice.

The engine holds the life cycle, the work lock and the status; its rounds use three parts:
JournalDrain (app/browser/journal_drain.py: the journal's entries and announced writes become
versions), LiveState (app/browser/live_state.py: the baseline, and what changed while no page was
open) and HeadUpkeep (app/browser/head_upkeep.py: head texts and indexes written when idle).

Every failure leaves the engine running: it is reported in status() (``problems``, with what to
do), the journal keeps what was not recorded, and the next wake-up tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from app.browser.access import Access, acting
from app.browser.audit_writer import AuditWriter
from app.browser.coordination import Handler, NoDrainer
from app.browser.head_upkeep import HeadUpkeep
from app.browser.history_marker import HistoryMarker
from app.browser.idb_store import IdbStore, StorageClosed
from app.browser.journal import Journal, JournalClosed
from app.browser.journal_drain import BATCH, POLL_SECONDS, JournalDrain
from app.browser.live_state import LiveState
from app.browser.notices import Notices
from app.browser.problems import (
    DATA_LOST,
    NEW_HISTORY_NOTICE,
    NOT_LOST,
    RETRYING,
    STORAGE_FULL,
    STORE_DOWN,
    ApiError,
    Problems,
    describe,
    new_history_message,
)
from app.browser.restorer import Restorer
from app.browser.spark_kv import KvUnavailable, SparkKv
from app.core.chain import Chain
from app.core.clock import now_ms
from app.core.errors import CoreError
from app.core.history.version import Version
from app.core.ports import DataLost, StoreError, StoreFull
from app.core.retention.new_history import clearing

#: A worker that recorded a baseline and holds at least this much WebAssembly memory asks the
#: page to replace it (``renew`` in the status): its heap keeps the high-water mark of reading
#: the whole hotel (280 MiB on the large sample hotel) for as long as the page stays open, and a
#: new worker starts from the history at a bare Pyodide's 30 MiB.
RENEW_AT_MIB = 64.0
#: A round reads the body of the journal's first entry with the entries (one call less for the
#: usual round, a single write) when it is at most this many bytes: a larger one, read for
#: nothing should that entry not be recorded from its body, would cost more than the call.
READ_BODY_AT_MOST = 1024 * 1024


class Engine:
    def __init__(
        self,
        open_chain: Callable[[], Awaitable[Chain]],
        open_journal: Callable[[], Awaitable[Journal]],
        kv: SparkKv,
        coordination: Any,
        notices: Notices,
        heap_mib: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self._open_chain = open_chain
        self._heap_mib = heap_mib
        # This worker holds the work lock for good: it is about to be stopped (retire).
        self._retired = False
        self._open_journal = open_journal
        self._chain: Chain | None = None
        self._journal: Journal | None = None
        self._kv = kv
        self._coordination = coordination
        self._notices = notices
        self._marker = HistoryMarker(kv)
        self._user = "unknown"
        self._access = Access()
        # Read-modify-writes of meta/access and meta/settings, made by the draining engine only.
        self.settings_lock = asyncio.Lock()
        self._drainer = False
        self._listening = False
        self._ready = asyncio.Event()
        self._wake = asyncio.Event()
        self._needs_reconcile = True
        # The history lost what recording needs (DATA_LOST): only a new history goes on. In a
        # tab that does not drain, as the draining engine last said (its status broadcasts).
        self.history_lost = False
        self._drainer_lost = False
        # What the last new history started here said (a second request is told it).
        self._new_history_said = ""
        self._problems = Problems(self._announce_status)
        self.timings: dict[str, float] = {}
        self._last_version_ms = 0
        self._last_heard_ms = 0
        # Held by each round of work and by a restore: a restore never interleaves with a drain.
        self._work = asyncio.Lock()
        self._drain = JournalDrain(kv, notices, self._announce, lambda: self._user,
                                   self._coordination.tell_journal)
        self._live = LiveState(kv, notices, self.timings, lambda: self._user)
        self._upkeep = HeadUpkeep(lambda: self._chain, self._work, self._report,
                                  self._drain.waiting_text, self.timings, self._live.head_sizes)
        #: Appends the backup system's actions to the audit chain.
        self.auditor = AuditWriter(self.fresh_chain,
                                   lambda: self._chain.device if self._chain is not None else None,
                                   lambda: self._drainer, self.ask_drainer, lambda: self.access)
        self.restorer = Restorer(kv, coordination, notices, self.auditor.audit)
        # What this engine does for other tabs' requests once it drains (Api.serve).
        self._serve: Handler | None = None

    def _report(self, area: str, message: str) -> None:
        self._problems.report(area, message)

    def _clear(self, *areas: str) -> None:
        self._problems.clear(*areas)

    def _announce_status(self) -> None:
        try:
            self._coordination.announce_status(self.status_dict())
        except Exception:  # noqa: BLE001 - a lost broadcast is not worth stopping for
            pass

    # ---- life cycle -------------------------------------------------------------------------

    async def run(self) -> None:
        """Run for the life of the page. Even an error of the engine itself only pauses it."""
        while True:
            try:
                await self._run()
            except Exception as error:  # noqa: BLE001 - reported; the engine starts over
                self._report("engine", f"Backstay stopped on an unexpected error ({describe(error)}) and restarts in a few seconds; if this persists, reload the page")  # noqa: E501
                self._ready.set()
                await asyncio.sleep(5)

    async def _run(self) -> None:
        started = time.perf_counter()
        try:
            user = await self._kv.user()
            self._user = str(user.get("login") or "unknown")
            self._access.set_user(user)
        except KvUnavailable as error:
            self._report("store", f"{STORE_DOWN} ({error})")
        if not await self._open_safely():
            self._ready.set()
        self.timings["open_ms"] = (time.perf_counter() - started) * 1000
        if not self._listening:
            # Before the lock and before the first round: a write announced by a tab that then
            # closes before journaling it is read back even when the engine that heard it too
            # went away first (its tab closed, or it was a worker replaced by this one).
            self._coordination.on_journal(self._wake, self._heard)
            self._coordination.on_status(self._heard_status)
            self._listening = True
        if not self._drainer:
            reader_ready = asyncio.ensure_future(self._mark_ready_if_not_drainer())
            await self._coordination.become_drainer()
            reader_ready.cancel()
            self._drainer = True
            if self._serve is not None:
                self._coordination.serve(self._serve)
        await self._step_safely()
        self.timings["start_ms"] = (time.perf_counter() - started) * 1000
        self._ready.set()
        await self._upkeep.start()
        while True:
            timeout = POLL_SECONDS
            retry_at = self._drain.retry_at
            if retry_at:
                timeout = min(timeout, max(0.05, (retry_at - now_ms()) / 1000))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                # The page is writing (it said so moments ago): capture.js announces the
                # entries once the page is idle; working now would slow the page down.
                retry_due = bool(self._drain.retry_at) and now_ms() >= self._drain.retry_at
                if not retry_due and now_ms() - self._last_heard_ms < POLL_SECONDS * 1000:
                    continue
            self._wake.clear()
            await self._step_safely()
            await self._upkeep.after_round(lambda: self._drain.waiting, lambda: self._last_version_ms)

    def _heard(self, message: dict[str, Any]) -> None:
        """A journal message (JournalDrain.heard says which ones wake the engine)."""
        self._last_heard_ms = now_ms()
        if self._drain.heard(message, drainer=self._drainer):
            self._wake.set()

    def _heard_status(self, status: dict[str, Any]) -> None:
        """The draining engine's status, as it broadcasts it (this tab's panel offers a new
        history when that engine says recording stopped on a damaged history)."""
        if not self._drainer and status.get("drainer") is True:
            self._drainer_lost = bool(status.get("historyLost"))

    async def _open_safely(self) -> bool:
        try:
            await self._open()
        except DataLost as error:
            self.history_lost = True
            self._report("start", f"{DATA_LOST} ({error})")
            return False
        except Exception as error:  # noqa: BLE001 - reported; the loop tries again
            self._report("start", f"Backstay could not open its storage: {describe(error)}. If this computer's disk is full, free space (Backstay opens it again by itself); else reload the page, and if this persists, check the browser's storage settings")  # noqa: E501
            return False
        self._clear("start")
        return True

    def _close(self) -> None:
        """Drop the database connections (the next round opens them again)."""
        if self._chain is not None:
            store = self._chain.store
            if isinstance(store, IdbStore):
                store.close()
        if self._journal is not None:
            self._journal.close()
        self._chain = None
        self._journal = None

    async def _open(self) -> None:
        if self._chain is None:
            self._chain = await self._open_chain()
            await self._notices.attach(self._chain.store)
        if self._journal is None:
            self._journal = await self._open_journal()
        await self._chain.open(upgrade=self._drainer)

    async def _mark_ready_if_not_drainer(self) -> None:
        await asyncio.sleep(0.5)
        if not self._drainer:
            self._ready.set()

    async def ready(self) -> None:
        await self._ready.wait()

    async def _step_safely(self) -> None:
        """One round of work: catch up with the journal and the store. Whatever fails is
        reported and tried again at the next wake-up; nothing stops the engine."""
        async with self._work:
            await self._step()

    async def _step(self) -> None:
        started = time.perf_counter()
        try:
            if self._chain is None or self._journal is None:
                if not await self._open_safely():
                    return
            await self._catch_up()
        except DataLost as error:
            self.history_lost = True
            self._new_history_said = ""
            self._report("storage", f"{DATA_LOST} ({error}). {self._drain.waiting_text()}")
            self._announce_status()  # every round: a tab opened since learns it (historyLost)
        except StoreFull:
            self._report("storage", f"{STORAGE_FULL}. {self._drain.waiting_text()}")
        except (StorageClosed, JournalClosed):
            await self._storage_lost()
        except KvUnavailable as error:
            self._report("store", f"{STORE_DOWN} ({error}). {self._drain.waiting_text()}")
        except (StoreError, CoreError) as error:
            self._report("engine", f"Backstay could not record: {describe(error)}. " + RETRYING)
        except Exception as error:  # noqa: BLE001 - never stop silently
            self._report("engine", f"Backstay hit an unexpected error: {describe(error)}. " + RETRYING)
        else:
            self.history_lost = False
            self._clear("storage", "store", "engine")
        finally:
            self.timings["busy_ms"] = self.timings.get("busy_ms", 0.0) + (
                time.perf_counter() - started) * 1000

    # ---- catching up ------------------------------------------------------------------------

    async def _catch_up(self) -> None:
        chain, journal = self._require()
        await chain.open()
        read_after = chain.journal_seq
        epoch, entries, first_body = await journal.read(read_after, BATCH, READ_BODY_AT_MOST)
        if await self._drain.check_epoch(chain, epoch):
            self._needs_reconcile = True
        if chain.head_version_id is not None:
            await self.restorer.recover(chain)  # before anything reads the store as found
        if chain.head_version_id is None:
            lost = await self._marker.lost_history()
            if lost and not (await self._notices.text("storage-lost")
                             or await self._notices.text(NEW_HISTORY_NOTICE)):
                await self._notices.add("history-missing", lost)
            version = await self._live.record(chain, journal, baseline=True)
            self._upkeep.baseline_recorded()  # before the announcement, which may fail
            self._announce(version)
            self._needs_reconcile = False
            entries = None  # read again: the baseline moved the history
        # The entries read with the epoch serve the first step unless the history moved since
        # (a journal counted anew, a baseline, a restore settled): then they are read again.
        await self._drain.drain(chain, journal, entries if chain.journal_seq == read_after else None,
                                first_body)
        await self._drain.settle_orphans(chain, journal)
        if self._needs_reconcile:
            self._announce(await self._live.record(chain, journal, baseline=False))
            self._needs_reconcile = False
        await self._marker.write(chain.store, seq=chain.head_seq, head_version_id=chain.head_version_id,
                                 user=self._user)
        await self._access.refresh(chain)
        lost = chain.lost_head_texts
        if lost:
            await self._notices.add("head-text-lost", (
                f"Part of Backstay's storage in this browser was lost from the disk: the current "
                f"value of {', '.join(sorted(lost))} (its file is gone or damaged). Backstay "
                "rebuilt it from the history and goes on recording; nothing was lost from the "
                "data. If this happens again, check this computer's disk."))
            chain.lost_told(lost)

    def _require(self) -> tuple[Chain, Journal]:
        if self._chain is None or self._journal is None:
            raise StoreError("storage is not open")
        return self._chain, self._journal

    async def _storage_lost(self) -> None:
        """Backstay's database (or its journal) was deleted while the page was open, or the
        browser closed the connection (a full disk): open them again; a history that is gone is
        told, and a new one starts from the store."""
        had = self._chain.head_version_id if self._chain is not None else None
        self._close()
        if not await self._open_safely():
            return
        chain, _ = self._require()
        if had is not None and chain.head_version_id is None:
            await self._notices.add(
                "storage-lost",
                "Backstay's version history was deleted from this browser while the page was "
                f"open (its last version was {had}). A new history starts from the store as it is now.")
        self._needs_reconcile = True
        self._wake.set()

    def _announce(self, version: Version | None) -> None:
        if version is not None:
            self._last_version_ms = now_ms()
            self._coordination.announce_version(version.to_dict())

    # ---- for the API (app/browser/api.py) ---------------------------------------------------

    @property
    def access(self) -> Access:
        """Who the user is and what they may do: this tab's, or, while another tab's request is
        carried out here, that tab's user (``acting_as``)."""
        return acting() or self._access

    @property
    def user(self) -> str:
        """The login that takes the actions being carried out (see ``access``)."""
        return self.access.login if acting() else self._user

    @property
    def drainer(self) -> bool:
        return self._drainer

    def serve_requests(self, handle: Handler) -> None:
        """``handle`` carries out other tabs' requests while this engine drains."""
        self._serve = handle
        if self._drainer:
            self._coordination.serve(handle)

    def announce_deleted(self, version_ids: list[str]) -> None:
        """Tell the other tabs (their panels list the versions again); a broadcast that fails
        loses nothing: those panels refresh at the next version."""
        if version_ids:
            with contextlib.suppress(Exception):
                self._coordination.announce_deleted(version_ids)

    async def ask_drainer(self, kind: str, args: list[Any]) -> str:
        """Have the draining engine (another tab's) carry out a request; its JSON answer."""
        try:
            return str(await self._coordination.ask(kind, args, self.access.user))
        except NoDrainer:
            raise ApiError("The PMS tab that runs Backstay's engine did not answer; try again in a "
                           "moment (or reload this page)") from None

    async def fresh_chain(self) -> Chain:
        """The chain, at the latest head (another tab's engine may be the one writing)."""
        if self._chain is None:
            # A round may be opening the storage again (it was deleted under the page): it
            # holds the work lock until it is done.
            async with self._work:
                pass
        if self._chain is None:
            raise ApiError("Backstay's storage is not open yet: " + self._problems.text())
        chain = self._chain
        if self._drainer:
            store = chain.store
            if (isinstance(store, IdbStore) and store.closed and not self._work.locked()
                    and not self._retired):
                # The browser closed the connection (a full disk, site data cleared): opened
                # again now, rather than failing this call until the next round does it.
                async with self._work:
                    if self._chain is chain:
                        await self._storage_lost()
        else:
            try:
                await chain.open(upgrade=False)
            except StorageClosed:  # its database was deleted under this tab (site data cleared)
                async with self._work:  # one reopen, however many reads failed at once
                    if self._chain is chain:
                        self._close()
                        if not await self._open_safely():
                            raise ApiError("Backstay's storage is not open: "
                                           + self._problems.text()) from None
        if self._chain is None:
            raise ApiError("Backstay's storage is not open yet: " + self._problems.text())
        return self._chain

    @asynccontextmanager
    async def exclusive(self, done: str = "restored") -> AsyncIterator[Chain]:
        """The chain caught up with every write made so far, with the engine's rounds held off
        until the block ends (a restore runs in it). ``done``: what the refusals say was not
        done ("nothing was restored")."""
        if not self._drainer:
            raise ApiError("Another open PMS tab runs Backstay's engine: do this from the tab "
                           "that was opened first, or close the other PMS tabs and try again")
        async with self._work:
            try:
                await self._catch_up()
            except DataLost as error:
                raise ApiError(f"{DATA_LOST} ({error}); nothing was {done}") from None
            except Exception as error:  # noqa: BLE001 - the caller is told; nothing was written
                raise ApiError(f"Backstay could not first record the latest writes "
                               f"({describe(error)}); nothing was {done}. Try again in a moment") from None
            chain, journal = self._require()
            waiting = len(await journal.after(chain.journal_seq, BATCH)) or len(self._drain.intents)
            if waiting:
                raise ApiError(f"{waiting} write(s) to the PMS are still being recorded; nothing was "
                               f"{done}. Try again in a few seconds")
            yield chain
        self._wake.set()

    async def start_new_history(self) -> dict[str, Any]:
        """Remove a history that lost what recording needs, leaving the hotel's records of the
        store as they are (app.core.retention.new_history), in one store transaction; the next
        round records today's data as a new history's first version, as at a first start. The
        engine's rounds are held off meanwhile; the caller checked who asks. Returns
        {versions}: how many versions the old history held."""
        async with self._work:
            if self._chain is None:
                raise ApiError("Backstay's storage is not open: " + self._problems.text())
            if not self.history_lost:
                raise ApiError(f"{self._new_history_said} Nothing more to do." if self._new_history_said
                               else NOT_LOST)
            store = self._chain.store
            plan = await clearing(store)
            message = new_history_message(self.user, plan.versions, plan.restore_pending, plan.lost)
            entry = self.auditor.action_entry("new-history", "done", message, {
                "versions": plan.versions, "lost": list(plan.lost)})
            # The history goes, and the audit entry and notice that say so come, at once.
            async with self.auditor.lock:
                await self.auditor.put(plan.batch, store, entry)
                told = self._notices.put(plan.batch, NEW_HISTORY_NOTICE, message)
                await store.apply(plan.batch)  # StoreFull: nothing removed, nothing told
                told()
            self.history_lost = False
            self._new_history_said = message
            self._needs_reconcile = True
            self._close()  # the next chain opens on a store with no history
            if not await self._open_safely():
                raise ApiError("The damaged history was removed, but Backstay's storage could not "
                               "be opened again (it tries again by itself): " + self._problems.text())
            self._clear("start", "storage", "engine")
        self._wake.set()
        return {"versions": plan.versions}

    async def acknowledge_notices(self) -> None:
        await self._notices.clear()
        self._announce_status()

    def status_dict(self) -> dict[str, Any]:
        problems = self._problems.items()
        problems += [{"area": "notice", "message": text} for text in self._notices.cached()]
        return {
            "ready": self._ready.is_set(),
            "drainer": self._drainer,
            "user": self._user,
            "isAdmin": self._access.identity.is_admin,
            "role": self._access.identity.role,
            "can": self._access.can(),
            "journalSeq": self._chain.journal_seq if self._chain else 0,
            "headVersionId": self._chain.head_version_id if self._chain else None,
            "waiting": self._drain.waiting,
            # Recording stopped for good on a damaged history: only a new one goes on.
            "historyLost": self.history_lost if self._drainer else self._drainer_lost,
            "lastError": " ".join(item["message"] for item in problems),
            "problems": problems,
            "timings": self.timings,
            "indexes": self._chain.index_counts if self._chain else {},
            "indexesDeferred": self._chain.indexes_deferred if self._chain else 0,
            "headTextsRead": self._chain.head_texts_read if self._chain else 0,
            "baselineTiled": self._live.baseline_tiled,
            "startUnsent": self._live.start_unsent,
            # The worker's WebAssembly memory: it only ever grows (a diagnostic).
            "heapMiB": round(self._heap_mib(), 1),
            "renew": self.wants_renewal(),
        }

    def wants_renewal(self) -> bool:
        """Whether the page should replace this worker with a new one: it recorded a baseline,
        wrote what that left to write (head texts, indexes, the kept compiled modules; so the new
        worker reads no text and builds no index at its start), is healthy and idle (no write
        waiting, no write of a closed tab awaited, no round or restore running, no other tab's
        request being carried out), and holds at least RENEW_AT_MIB of memory it will never give
        back."""
        return not self._work.locked() and self._idle_and_heavy()

    def _idle_and_heavy(self) -> bool:
        """wants_renewal but for the work lock (retire checks it again holding the lock)."""
        chain = self._chain
        drain = self._drain
        return (self._upkeep.baseline_finished and self._drainer and not self._retired
                and not drain.waiting and not drain.intents and not drain.retry_at
                and not self._coordination.serving
                and not self._problems.items()
                and "index_ms" in self.timings and "modules_kept" in self.timings
                and chain is not None and chain.all_heads_written() and not chain.unsaved_indexes
                and self._heap_mib() >= RENEW_AT_MIB)

    async def retire(self) -> dict[str, Any]:
        """Make this worker ready to be stopped, if it still wants to be replaced: it takes the
        work lock for good (no round, flush or restore starts any more) and takes up no more
        requests of other tabs. The page stops it next, and the new worker drains. Returns
        {retired}."""
        if not self.wants_renewal():
            return {"retired": False}
        # Free, but a task woken for it may go first: then what it did is checked again.
        await self._work.acquire()
        if not self._idle_and_heavy():
            self._work.release()
            return {"retired": False}
        self._retired = True
        self._coordination.stop_serving()
        return {"retired": True}

    def status(self) -> str:
        return json.dumps(self.status_dict())

