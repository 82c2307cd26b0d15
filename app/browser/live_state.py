"""Recording the live store as found: the baseline on first start, and at every later start
what changed while no page was open (the head says what Backstay last saw).

The engine (app/browser/engine.py) runs it in a round, under its work lock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from app.browser.idb_store import IdbStore
from app.browser.journal import Journal
from app.browser.journal_drain import BATCH
from app.browser.notices import Notices
from app.browser.problems import NEW_HISTORY_NOTICE
from app.browser.spark_kv import SparkKv, decode
from app.core.capture.scope import is_versioned
from app.core.chain import Chain
from app.core.clock import now_ms
from app.core.formats.module_text import ModuleText
from app.core.formats.tiling import index_stepwise
from app.core.history.head_texts import INDEX_AT
from app.core.history.version import Version
from app.core.ports import DataLost


class LiveState:
    def __init__(self, kv: SparkKv, notices: Notices, timings: dict[str, float],
                 user: Callable[[], str]) -> None:
        self._kv = kv
        self._notices = notices
        self._timings = timings
        self._user = user
        #: The keys whose baseline index was made from the browser's tiling of their text.
        self.baseline_tiled: list[str] = []
        #: How many keys the live store, at the latest comparison with it (at start, and again
        #: after a lost journal), said still hold the head text the head pointer names, sending
        #: none of it (headText, If-None-Match).
        self.start_unsent = 0
        #: The byte length of each head text the start found unchanged (HeadUpkeep indexes the
        #: largest first).
        self.head_sizes: dict[str, int] = {}

    async def record(self, chain: Chain, journal: Journal, *, baseline: bool) -> Version | None:
        """Record the live store (``baseline``: as the first version); the version, if one was
        made. Keys with writes still in the journal are left to those writes."""
        # Keys with writes still in the journal (and, below, keys found unchanged) are kept.
        keep = {entry.key for entry in await journal.after(chain.journal_seq, BATCH)}
        started = now_ms()
        keys = [key for key in await self._kv.keys() if is_versioned(key) and key not in keep]
        if baseline:
            try:
                version = await self._record_baseline(chain, keys, keep, started)
            finally:
                self._release_snapshot()
            self._timings["baseline_record_ms"] = float(now_ms() - started) - self._timings[
                "baseline_read_ms"]
            self._timings["baseline_ms"] = float(now_ms() - started)
            return version
        # One key at a time, keeping only what changed: the hotel is not held twice.
        reconcile_started = time.perf_counter()
        state = {}
        self.start_unsent = 0
        for key in keys:
            # An unchanged key (the usual case) is compared with the stored head text in
            # JavaScript: neither is copied into Python's memory, which never shrinks.
            if chain.head_is_stored(key) and isinstance(chain.store, IdbStore):
                try:
                    verdict, text_hash, size = await self._kv.matches_head(
                        chain.store, key, chain.head_text_digest(key))
                except DataLost:  # its stored head text is gone: compared below, rebuilt
                    verdict, text_hash, size = "lost", None, 0
                if verdict in ("same", "unsent"):
                    self.start_unsent += verdict == "unsent"
                    keep.add(key)
                    chain.head_text_hashes_to(key, text_hash or "", size)
                    self.head_sizes[key] = size
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
        self._timings["reconcile_read_ms"] = (time.perf_counter() - reconcile_started) * 1000
        return await chain.record_state(
            state, created_by="unknown", live_reads={key: (started, now_ms()) for key in keys},
            keep=frozenset(keep),
            description="Changes found in the store that were made while Backstay was not running")

    async def _record_baseline(self, chain: Chain, keys: list[str], keep: set[str],
                               started: int) -> Version | None:
        """Read ``keys`` and record them as the first version (a checkpoint). The browser finds
        where the elements of each large module are: Python then hashes them instead of
        reading them one by one (formats.tiling)."""
        state, tilings, digests = await self._kv.snapshot_tiled(keys, INDEX_AT)
        self._timings["baseline_read_ms"] = float(now_ms() - started)
        indexes: dict[str, ModuleText] = {}
        for key, tiling in tilings.items():
            module = await index_stepwise(state[key], tiling)
            if module is not None:
                indexes[key] = module
        self.baseline_tiled = sorted(indexes)
        self._timings["baseline_index_ms"] = float(now_ms() - started) - self._timings[
            "baseline_read_ms"]
        anew = await self._notices.text(NEW_HISTORY_NOTICE)  # kept notices may name an older loss
        lost = await self._notices.text("storage-lost") or await self._notices.text("history-missing")
        why = ("started a new history" if anew else
               "started again after its storage was lost" if lost else "first started")
        return await chain.record_state(
            state, created_by=self._user(), snapshot=True,
            live_reads={key: (started, now_ms()) for key in keys}, keep=frozenset(keep),
            indexes=indexes, text_digests=digests,
            description=f"Baseline: the {len(state)} keys of the store when Backstay {why}")

    def _release_snapshot(self) -> None:
        """Drop what the baseline's reading had compressed ahead and did not use (it holds
        bodies of the whole hotel); a failure here must not hide the baseline's own."""
        try:
            self._timings["baseline_gzipped_ahead"] = float(self._kv.release_snapshot())
        except Exception:  # noqa: BLE001 - the baseline's outcome is what is reported
            pass
