"""Head upkeep: what the engine writes and reads in idle moments so that recording a write costs
what the change costs. The head texts versions left stale are written, each head key is indexed
after a start, and the indexes of large modules are saved for the next start. None of it is
history: the versions already hold the data, so a failure here loses nothing, and the next idle
moment tries again.

The engine (app/browser/engine.py) calls it between its rounds; each step takes the engine's
work lock, so a head pointer written here is never one a commit has moved past.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from app.browser.idb_store import StorageClosed
from app.browser.journal import JournalClosed
from app.browser.problems import DATA_LOST_READ, RETRYING, STORAGE_FULL, describe
from app.core.chain import Chain
from app.core.clock import now_ms
from app.core.ports import DataLost, StoreFull

#: After this long without a new version, the indexes of changed modules are saved.
INDEX_SAVE_IDLE_MS = 30_000
#: After this long without a new version, the head texts the versions left stale are written.
HEAD_FLUSH_IDLE_MS = 2_000


class HeadUpkeep:
    def __init__(self, chain: Callable[[], Chain | None], work: asyncio.Lock,
                 report: Callable[[str, str], None], waiting_text: Callable[[], str],
                 timings: dict[str, float], head_sizes: dict[str, int]) -> None:
        self._chain = chain
        self._work = work
        self._report = report
        self._waiting_text = waiting_text
        self._timings = timings
        self._head_sizes = head_sizes
        #: A baseline was recorded, and its head texts, indexes and compiled modules written.
        self.baseline_finished = False
        # A baseline was recorded whose head texts and indexes are not yet written.
        self._baseline_unflushed = False
        self._indexing: asyncio.Future[None] | None = None

    def baseline_recorded(self) -> None:
        """Its head texts and the indexes it built are written once the engine is ready
        (``start``): the baseline is committed, and they only spare the next start rebuilding or
        parsing anything."""
        self._baseline_unflushed = True

    @property
    def indexed(self) -> bool:
        """The head keys were indexed after the start (or that was given up)."""
        return self._indexing is not None and self._indexing.done()

    async def start(self) -> None:
        """Once the engine is ready: write what a baseline left to write, then index the head."""
        if self._indexing is None:
            self._indexing = asyncio.ensure_future(self._index_head())
            # Let it take the work lock first: the baseline's texts are written (and leave
            # memory) before a round that a write heard meanwhile asks for.
            await asyncio.sleep(0)

    async def after_round(self, waiting: Callable[[], int], last_version_ms: Callable[[], int]) -> None:
        """Between rounds: the upkeep that is due once the writes have paused (``waiting``: how
        many writes wait to be recorded; ``last_version_ms``: when the latest version was made;
        asked again after each wait for the work lock, during which a restore may commit)."""
        if self._baseline_unflushed and self.indexed:
            # A baseline recorded after the start (its first round failed, or the storage was
            # lost): its head texts and indexes are written as the first start's are.
            self._indexing = asyncio.ensure_future(self._index_head())
        if not waiting() and now_ms() - last_version_ms() >= HEAD_FLUSH_IDLE_MS:
            async with self._work:
                await self._flush_heads()
        if self.indexed and not waiting() and now_ms() - last_version_ms() >= INDEX_SAVE_IDLE_MS:
            async with self._work:
                # Large texts a burst of writes kept at hand leave memory (the next write reads
                # its own back); writing another large key releases them sooner.
                chain = self._chain()
                if chain is not None:
                    chain.release_texts()
                await self._save_indexes()

    async def _finish_baseline(self) -> None:
        """Write the baseline's head texts (one key at a time) and the indexes it built, right
        after the engine said it is ready: until then the whole hotel is in memory. The
        baseline itself is committed; should the page close first, the next start finds its
        keys in ``staleHeads`` and reads them from the baseline's checkpoint."""
        async with self._work:
            flushed = now_ms()
            await self._flush_heads()
            self._timings["baseline_flush_ms"] = float(now_ms() - flushed)
            chain = self._chain()
            if chain is not None:
                chain.release_texts()  # the whole hotel was in memory: none of it stays
            await self._save_indexes()
            self.baseline_finished = True

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
        chain = self._chain()
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
        self._timings["index_ms"] = (time.perf_counter() - started) * 1000
        async with self._work:
            await self._save_indexes()

    async def _flush_heads(self) -> None:
        """Write the head texts that versions left stale, and those the store lost (the
        versions already hold the data: a failure here loses nothing, and the next idle moment
        tries again)."""
        chain = self._chain()
        if chain is None:
            return
        try:
            await chain.flush_heads()
        except DataLost as error:
            # Recording stops only if a write needs what was lost (the round then says so).
            self._report("storage", f"{DATA_LOST_READ} ({error}). {self._waiting_text()}")
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
        chain = self._chain()
        if chain is None:
            return
        try:
            await chain.save_indexes()
        except Exception:  # noqa: BLE001 - a cache; storage problems surface on the next write
            pass
