"""The engine: turns captured KV writes into versions, and never stops silently.

Start-up, in order: learn who is signed in; become the tab that drains the journal (Web Locks;
other tabs wait, and meanwhile answer reads); check that the journal is the one the history
counts in; on first start record a baseline from the live store; drain the journal (the steps
of app.core.capture.drain_plan); reconcile the head with the live store (what changed while no page was
open becomes a version). Then drain whenever capture.js announces an entry, and at least every
POLL_SECONDS. Each step is committed by the core's Chain in one store transaction that also
advances the drained journal seq, so no write is recorded twice.

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
from dataclasses import replace
from typing import Any

from app.browser.access import Access, acting
from app.browser.coordination import Handler, NoDrainer
from app.browser.history_marker import HistoryMarker
from app.browser.idb_store import IdbStore, StorageClosed
from app.browser.journal import Journal, JournalClosed
from app.browser.notices import Notices
from app.browser.problems import RETRYING, STORAGE_FULL, STORE_DOWN, ApiError, Problems, describe
from app.browser.restorer import Restorer
from app.browser.spark_kv import KvUnavailable, SparkKv, decode
from app.core.audit.entry import AuditEntry, Result
from app.core.audit.log import append, new_entry_id, prune
from app.core.capture.drain_plan import (
    CLOSED_TAB_GRACE_MS,
    Action,
    Intent,
    Step,
    forget_heard,
    plan_next,
    plan_orphans,
)
from app.core.capture.journal_entry import JournalEntry
from app.core.capture.scope import is_versioned
from app.core.chain import Chain
from app.core.errors import CoreError
from app.core.formats.json_value import Json
from app.core.formats.module_text import ModuleText
from app.core.formats.tiling import index_stepwise
from app.core.history.head_texts import INDEX_AT
from app.core.history.version import Version
from app.core.ports import StoreError, StoreFull

#: How often the engine looks at the journal even without being told (missed broadcasts).
POLL_SECONDS = 2.0
BATCH = 1000
#: After this long without a new version, the indexes of changed modules are saved.
INDEX_SAVE_IDLE_MS = 30_000
#: After this long without a new version, the head texts the versions left stale are written.
HEAD_FLUSH_IDLE_MS = 2_000
#: A worker that recorded a baseline and holds at least this much WebAssembly memory asks the
#: page to replace it (``renew`` in the status): its heap keeps the high-water mark of reading
#: the whole hotel (280 MiB on the large sample hotel) for as long as the page stays open, and a
#: new worker starts from the history at a bare Pyodide's 30 MiB.
RENEW_AT_MIB = 64.0


def _now_ms() -> int:
    return int(time.time() * 1000)


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
        # This worker recorded a baseline and wrote everything it left to write.
        self._baseline_finished = False
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
        # Audit entries are chained: one append at a time (they come only through this engine).
        self._audit_lock = asyncio.Lock()
        # Read-modify-writes of meta/access and meta/settings, made by the draining engine only.
        self.settings_lock = asyncio.Lock()
        self._drainer = False
        self._listening = False
        self._ready = asyncio.Event()
        self._wake = asyncio.Event()
        self._needs_reconcile = True
        self._retry_at = 0
        self._waiting = 0
        self._problems = Problems(self._announce_status)
        # Writes announced by capture.js at call time, and those seen in the journal.
        self._intents: list[Intent] = []
        self._journaled: set[tuple[str, int]] = set()
        self.timings: dict[str, float] = {}
        #: The keys whose baseline index was made from the browser's tiling of their text.
        self.baseline_tiled: list[str] = []
        #: How many keys the live store, at the latest comparison with it (at start, and again
        #: after a lost journal), said still hold the head text the head pointer names, sending
        #: none of it (headText, If-None-Match).
        self.start_unsent = 0
        # The byte length of each head text the start found unchanged (see _index_head).
        self._head_sizes: dict[str, int] = {}
        self._indexing: asyncio.Future[None] | None = None
        # A baseline was recorded whose head texts and indexes are not yet written.
        self._baseline_unflushed = False
        self._last_version_ms = 0
        self._last_heard_ms = 0
        # Held by each round of work and by a restore: a restore never interleaves with a drain.
        self._work = asyncio.Lock()
        self.restorer = Restorer(kv, coordination, notices, self.audit)
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
        if self._indexing is None:
            self._indexing = asyncio.ensure_future(self._index_head())
            # Let it take the work lock first: the baseline's texts are written (and leave
            # memory) before a round that a write heard meanwhile asks for.
            await asyncio.sleep(0)
        while True:
            timeout = POLL_SECONDS
            if self._retry_at:
                timeout = min(timeout, max(0.05, (self._retry_at - _now_ms()) / 1000))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                # The page is writing (it said so moments ago): capture.js announces the
                # entries once the page is idle; working now would slow the page down.
                retry_due = bool(self._retry_at) and _now_ms() >= self._retry_at
                if not retry_due and _now_ms() - self._last_heard_ms < POLL_SECONDS * 1000:
                    continue
            self._wake.clear()
            await self._step_safely()
            if self._baseline_unflushed and self._indexing is not None and self._indexing.done():
                # A baseline recorded after the start (its first round failed, or the storage
                # was lost): its head texts and indexes are written as the first start's are.
                self._indexing = asyncio.ensure_future(self._index_head())
            # Under the work lock: a restore (an API call) commits versions too, and a head
            # pointer written by a flush must never be one a commit has moved past.
            if not self._waiting and _now_ms() - self._last_version_ms >= HEAD_FLUSH_IDLE_MS:
                async with self._work:
                    await self._flush_heads()
            if (self._indexing is not None and self._indexing.done() and not self._waiting
                    and _now_ms() - self._last_version_ms >= INDEX_SAVE_IDLE_MS):
                async with self._work:
                    # Large texts a burst of writes kept at hand leave memory (the next write
                    # reads its own back); writing another large key releases them sooner.
                    if self._chain is not None:
                        self._chain.release_texts()
                    await self._save_indexes()

    def _heard(self, message: dict[str, Any]) -> None:
        """A journal message. An entry stored or settled wakes the engine (capture.js sends it
        when the page is idle); a write announced at its call (an intent) does not: the page
        is busy sending it."""
        self._last_heard_ms = _now_ms()
        if message.get("type") == "intent":
            self._intents.append(Intent.from_dict(message))
        elif self._drainer:
            self._wake.set()
        if not self._drainer:
            # Waiting for the lock, this engine keeps only the writes that may still need it:
            # announced, not yet said to be journaled, and recent.
            self._intents = forget_heard(self._intents, message, now_ms=_now_ms())

    async def _finish_baseline(self) -> None:
        """Write the baseline's head texts (one key at a time) and the indexes it built, right
        after the engine said it is ready: until then the whole hotel is in memory. The
        baseline itself is committed; should the page close first, the next start finds its
        keys in ``staleHeads`` and reads them from the baseline's checkpoint."""
        async with self._work:
            flushed = _now_ms()
            await self._flush_heads()
            self.timings["baseline_flush_ms"] = float(_now_ms() - flushed)
            if self._chain is not None:
                self._chain.release_texts()  # the whole hotel was in memory: none of it stays
            await self._save_indexes()
            self._baseline_finished = True

    async def _index_head(self) -> None:
        """Index every head key once the engine is ready, largest work first when idle, so
        that a key's first write after a start is recorded at the cost of its change too. A large
        key whose saved index names its stored text keeps that index in the store until its
        first write reads it (a fraction of a second): the indexes of modules nobody edits take
        no memory (on the large hotel, 30 MiB of the engine's)."""
        if self._baseline_unflushed:
            self._baseline_unflushed = False
            await self._finish_baseline()
        started = time.perf_counter()
        chain = self._chain
        if chain is None:
            return
        try:
            # The largest first (as far as the start's comparison measured them): its index
            # needs the most memory while it is read, and memory taken is never given back.
            keys = sorted(await chain.head_keys(), key=lambda key: -self._head_sizes.get(key, 0))
            for key in keys:
                await asyncio.sleep(0.05)  # journal work that arrived meanwhile goes first
                await chain.prepare(key, defer=True)
                chain.release_texts()  # one large text in memory at a time, and none after
        except Exception:  # noqa: BLE001 - only a head start: a write indexes its key itself
            return
        self.timings["index_ms"] = (time.perf_counter() - started) * 1000
        async with self._work:
            await self._save_indexes()

    async def _flush_heads(self) -> None:
        """Write the head texts that versions left stale (the versions already hold the data:
        a failure here loses nothing, and the next idle moment tries again)."""
        if self._chain is None:
            return
        try:
            await self._chain.flush_heads()
        except StoreFull:
            self._report("storage", f"{STORAGE_FULL}. {self._waiting_text()}")
        except (StorageClosed, JournalClosed):
            pass  # the next round reopens the storage and says what happened
        except Exception as error:  # noqa: BLE001 - never stop silently
            self._report("engine", f"Backstay could not write its head values: {describe(error)}. "
                         + RETRYING)

    async def _save_indexes(self) -> None:
        """Save the indexes of large modules for the next start (a cache: when it cannot be
        written, the next start parses those modules again, and nothing else is lost)."""
        if self._chain is None:
            return
        try:
            await self._chain.save_indexes()
        except Exception:  # noqa: BLE001 - a cache; storage problems surface on the next write
            pass

    async def _open_safely(self) -> bool:
        try:
            await self._open()
        except Exception as error:  # noqa: BLE001 - reported; the loop tries again
            self._report("start", f"Backstay could not open its storage: {describe(error)}. Reload the page; if this persists, check the browser's storage settings")  # noqa: E501
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
        except StoreFull:
            self._report("storage", f"{STORAGE_FULL}. {self._waiting_text()}")
        except (StorageClosed, JournalClosed):
            await self._storage_lost()
        except KvUnavailable as error:
            self._report("store", f"{STORE_DOWN} ({error}). {self._waiting_text()}")
        except (StoreError, CoreError) as error:
            self._report("engine", f"Backstay could not record: {describe(error)}. " + RETRYING)
        except Exception as error:  # noqa: BLE001 - never stop silently
            self._report("engine", f"Backstay hit an unexpected error: {describe(error)}. " + RETRYING)
        else:
            self._clear("storage", "store", "engine")
        finally:
            self.timings["busy_ms"] = self.timings.get("busy_ms", 0.0) + (
                time.perf_counter() - started) * 1000

    def _waiting_text(self) -> str:
        return f"{self._waiting} write(s) wait to be recorded." if self._waiting else ""

    # ---- catching up ------------------------------------------------------------------------

    async def _catch_up(self) -> None:
        chain, journal = self._require()
        await chain.open()
        read_after = chain.journal_seq
        epoch, entries = await journal.read(read_after, BATCH)
        await self._check_journal(chain, epoch)
        if chain.head_version_id is not None:
            await self.restorer.recover(chain)  # before anything reads the store as found
        if chain.head_version_id is None:
            lost = await self._marker.lost_history()
            if lost and not await self._notices.text("storage-lost"):
                await self._notices.add("history-missing", lost)
            await self._record_live_state(baseline=True)
            self._needs_reconcile = False
            entries = None  # read again: the baseline moved the history
        # The entries read with the epoch serve the first step unless the history moved since
        # (a journal counted anew, a baseline, a restore settled): then they are read again.
        await self._drain(chain, journal, entries if chain.journal_seq == read_after else None)
        await self._settle_orphans(chain, journal)
        if self._needs_reconcile:
            await self._record_live_state(baseline=False)
            self._needs_reconcile = False
        await self._marker.write(chain.store, seq=chain.head_seq, head_version_id=chain.head_version_id,
                                 user=self._user)
        await self._access.refresh(chain)

    def _require(self) -> tuple[Chain, Journal]:
        if self._chain is None or self._journal is None:
            raise StoreError("storage is not open")
        return self._chain, self._journal

    async def _check_journal(self, chain: Chain, epoch: str) -> None:
        """The history counts journal seqs of one journal (its epoch). A journal created anew
        (deleted by the browser or by hand) starts again at seq 1: say so, count in the new
        one, and compare the store with the head, since writes may have been lost with it."""
        if chain.journal_epoch == epoch:
            return
        if chain.journal_epoch and chain.head_version_id is not None:
            await self._notices.add(
                "journal-reset",
                "Backstay's capture journal was deleted (by the browser or by hand) and started "
                "anew. Writes it held that were not yet recorded are recorded from the store as "
                "found, by 'unknown'.")
            self._needs_reconcile = True
            await chain.start_journal(epoch, seq=0)
        else:
            await chain.start_journal(epoch, seq=chain.journal_seq)

    async def _drain(self, chain: Chain, journal: Journal, first: list[JournalEntry] | None) -> None:
        """Record the journal's entries after the history's journal seq (``first``: those
        entries, when just read)."""
        self._retry_at = 0
        while True:
            entries = first if first is not None else await journal.after(chain.journal_seq, BATCH)
            first = None
            self._waiting = len(entries)
            if not entries:
                return
            # Which tabs are open matters only for a write still unanswered (drain_plan.settled_at).
            live_tabs = (await journal.live_tabs() if any(entry.status == "pending" for entry in entries)
                         else set())
            self._journaled.update((entry.tab, entry.start) for entry in entries)
            for index in range(len(entries)):
                step = plan_next(entries[index:], live_reads=chain.live_reads,
                                 drained_ends=chain.drained_ends,
                                 drained_writes=chain.drained_writes,
                                 head_keys=set(await chain.head_keys()), now_ms=_now_ms(),
                                 live_tabs=live_tabs)
                if step is None:
                    break
                if step.action is Action.WAIT:
                    self._retry_at = step.retry_at
                    await journal.drop_through(chain.journal_seq)
                    return
                await self._apply(chain, journal, step)
                self._waiting = len(entries) - index - 1
            await journal.drop_through(chain.journal_seq)

    async def _apply(self, chain: Chain, journal: Journal, step: Step) -> None:
        entry = step.entry
        key = entry.key
        seq = entry.seq
        if step.action is Action.SKIP:
            await chain.record({}, created_by=self._user, journal_seq=seq)
            return
        writes: dict[str, str | None] = {}
        reads: dict[str, tuple[int, int]] = {}
        ends: dict[str, int] = {}
        description = ""
        if step.action is Action.BODY:
            body = await journal.body(seq)
            if body is None:  # kept no body after all: the store says what was written
                step = Step(Action.READ, entry, "its body is missing")
            else:
                writes[key] = body
                ends[key] = entry.end
        elif step.action is Action.DELETE:
            writes[key] = None
            ends[key] = entry.end
        if step.action is Action.READ:
            started = _now_ms()
            writes[key] = await self._kv.get_text(key)
            reads[key] = (started, _now_ms())
            if step.writes > 1:
                description = (f"{step.writes} overlapping writes to {key}; the store kept this one")
        if entry.stale_restore:
            description = (f"Saved by a page that had not reloaded after restore "
                           f"{entry.stale_restore}: this write may undo that restore. "
                           + description).strip()
        try:
            version = await chain.record(writes, created_by=self._user, change_type="auto",
                                         description=description, journal_seq=seq, live_reads=reads,
                                         drained_ends=ends, drained_writes={
                                             k: (entry.tab, entry.tab_seq) for k in ends if entry.tab_seq})
        except ValueError as error:
            await self._notices.add(
                f"unrecordable-{seq}",
                f"A write to {key} could not be recorded ({error}); the store refused or cannot "
                "hold such a value either, so nothing was lost from the data.")
            version = await chain.record({}, created_by=self._user, journal_seq=seq, live_reads=reads)
        self._announce(version)

    async def _settle_orphans(self, chain: Chain, journal: Journal) -> None:
        """A tab that closed right after a write may not have stored its journal entry, though
        the write reached the store: once that tab is gone (and its grace is over), read back
        every key it announced that the journal never got."""
        if not self._intents:
            return
        live_tabs = await journal.live_tabs()
        pending = await journal.after(chain.journal_seq, BATCH)
        self._journaled.update((entry.tab, entry.start) for entry in pending)
        orphans, self._intents = plan_orphans(
            self._intents, journaled=self._journaled, busy_keys={entry.key for entry in pending},
            now_ms=_now_ms(), live_tabs=live_tabs)
        if not self._intents:
            self._journaled.clear()
        else:
            # Not sooner than the next poll: an intent of a live tab waits for its entry (the
            # journal worker may store a big body over a few idle periods).
            self._retry_at = self._retry_at or max(
                min(i.start for i in self._intents) + CLOSED_TAB_GRACE_MS + 1,
                _now_ms() + int(POLL_SECONDS * 1000))
        for key in sorted(orphans):
            started = _now_ms()
            text = await self._kv.get_text(key)
            version = await chain.record(
                {key: text}, created_by=self._user, live_reads={key: (started, _now_ms())},
                description=f"Writes to {key} from a tab that closed before it could journal them")
            self._announce(version)

    async def _record_live_state(self, *, baseline: bool) -> None:
        """Record the live store: the baseline on first start, and at every later start what
        changed while no page was open (the head says what Backstay last saw). Keys with
        writes still in the journal are left to those writes."""
        chain, journal = self._require()
        # Keys with writes still in the journal (and, below, keys found unchanged) are kept.
        keep = {entry.key for entry in await journal.after(chain.journal_seq, BATCH)}
        started = _now_ms()
        keys = [key for key in await self._kv.keys() if is_versioned(key) and key not in keep]
        if baseline:
            try:
                version = await self._record_baseline(chain, keys, keep, started)
            finally:
                self._release_snapshot()
            self.timings["baseline_record_ms"] = float(_now_ms() - started) - self.timings[
                "baseline_read_ms"]
            self.timings["baseline_ms"] = float(_now_ms() - started)
            # Its head texts and the indexes it built are written once the engine is ready
            # (_finish_baseline): the baseline is committed, and they only spare the next start
            # rebuilding or parsing anything.
            self._baseline_unflushed = True
            self._announce(version)
            return
        # One key at a time, keeping only what changed: the hotel is not held twice.
        reconcile_started = time.perf_counter()
        state = {}
        self.start_unsent = 0
        for key in keys:
            # An unchanged key (the usual case) is compared with the stored head text in
            # JavaScript: neither is copied into Python's memory, which never shrinks.
            if chain.head_is_stored(key) and isinstance(chain.store, IdbStore):
                verdict, text_hash, size = await self._kv.matches_head(
                    chain.store, key, chain.head_text_digest(key))
                if verdict in ("same", "unsent"):
                    self.start_unsent += verdict == "unsent"
                    keep.add(key)
                    chain.head_text_hashes_to(key, text_hash or "", size)
                    self._head_sizes[key] = size
                    continue
                if verdict == "absent":
                    continue
            data, head = await asyncio.gather(self._kv.get_data(key), chain.head_data(key))
            if data is None:
                continue
            if data == head:
                keep.add(key)  # unchanged: kept as it is
            else:
                state[key] = decode(data)
        self.timings["reconcile_read_ms"] = (time.perf_counter() - reconcile_started) * 1000
        version = await chain.record_state(
            state, created_by="unknown", live_reads={key: (started, _now_ms()) for key in keys},
            keep=frozenset(keep),
            description="Changes found in the store that were made while Backstay was not running")
        self._announce(version)

    async def _record_baseline(self, chain: Chain, keys: list[str], keep: set[str],
                               started: int) -> Version | None:
        """Read ``keys`` and record them as the first version (a checkpoint). The browser finds
        where the elements of each large module are: Python then hashes them instead of
        reading them one by one (formats.tiling)."""
        state, tilings, digests = await self._kv.snapshot_tiled(keys, INDEX_AT)
        self.timings["baseline_read_ms"] = float(_now_ms() - started)
        indexes: dict[str, ModuleText] = {}
        for key, tiling in tilings.items():
            module = await index_stepwise(state[key], tiling)
            if module is not None:
                indexes[key] = module
        self.baseline_tiled = sorted(indexes)
        self.timings["baseline_index_ms"] = float(_now_ms() - started) - self.timings[
            "baseline_read_ms"]
        lost = await self._notices.text("storage-lost") or await self._notices.text("history-missing")
        why = "started again after its storage was lost" if lost else "first started"
        return await chain.record_state(
            state, created_by=self._user, snapshot=True,
            live_reads={key: (started, _now_ms()) for key in keys}, keep=frozenset(keep),
            indexes=indexes, text_digests=digests,
            description=f"Baseline: the {len(state)} keys of the store when Backstay {why}")

    def _release_snapshot(self) -> None:
        """Drop what the baseline's reading had compressed ahead and did not use (it holds
        bodies of the whole hotel); a failure here must not hide the baseline's own."""
        try:
            self.timings["baseline_gzipped_ahead"] = float(self._kv.release_snapshot())
        except Exception:  # noqa: BLE001 - the baseline's outcome is what is reported
            pass

    async def _storage_lost(self) -> None:
        """Backstay's database (or its journal) was deleted while the page was open: open
        them again, say what was lost, and start a new history from the store."""
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
            self._last_version_ms = _now_ms()
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

    async def audit(self, entry: AuditEntry) -> None:
        """Append ``entry`` to the audit chain (through the draining engine: one writer)."""
        if self._chain is not None and "device" not in entry.details:
            entry = replace(entry, details={**entry.details, "device": self._chain.device})
        if not self._drainer:
            await self.ask_drainer("audit", [entry.encode().decode("utf-8")])
            return
        chain = await self.fresh_chain()
        async with self._audit_lock:
            await append(chain.store, entry)

    def action_entry(self, action: str, result: Result, message: str,
                     details: dict[str, Json]) -> AuditEntry:
        """An audit entry of an action the signed-in user took, now."""
        now = _now_ms()
        return AuditEntry(new_entry_id(now), now, self.access.identity.login, action, result,
                          message, details)

    async def audit_action(self, action: str, result: Result, message: str,
                           details: dict[str, Json]) -> None:
        """Audit an action the signed-in user took (see ``audit``)."""
        await self.audit(self.action_entry(action, result, message, details))

    async def prune_audit(self, before_ms: int, entry: AuditEntry) -> int:
        """Remove audit entries older than ``before_ms``, saying so with ``entry`` (the audit
        retention; the draining engine only, as the one writer of the chain)."""
        chain = await self.fresh_chain()
        async with self._audit_lock:
            return await prune(chain.store, before_ms, entry)

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
        if not self._drainer:
            await self._chain.open(upgrade=False)
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
            except Exception as error:  # noqa: BLE001 - the caller is told; nothing was written
                raise ApiError(f"Backstay could not first record the latest writes "
                               f"({describe(error)}); nothing was {done}. Try again in a moment") from None
            chain, journal = self._require()
            waiting = len(await journal.after(chain.journal_seq, BATCH)) or len(self._intents)
            if waiting:
                raise ApiError(f"{waiting} write(s) to the PMS are still being recorded; nothing was "
                               f"{done}. Try again in a few seconds")
            yield chain
        self._wake.set()

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
            "waiting": self._waiting,
            "lastError": " ".join(item["message"] for item in problems),
            "problems": problems,
            "timings": self.timings,
            "indexes": self._chain.index_counts if self._chain else {},
            "indexesDeferred": self._chain.indexes_deferred if self._chain else 0,
            "headTextsRead": self._chain.head_texts_read if self._chain else 0,
            "baselineTiled": self.baseline_tiled,
            "startUnsent": self.start_unsent,
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
        return (self._baseline_finished and self._drainer and not self._retired and not self._waiting
                and not self._intents and not self._retry_at and not self._coordination.serving
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

