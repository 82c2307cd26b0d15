"""The journal drain: records the capture journal's entries as versions, one commit each, in the
steps app.core.capture.drain_plan decides; and reads back the writes of tabs that closed before
they could journal them, or that could not (their "intents", heard on the journal channel).

The engine (app/browser/engine.py) runs it under its work lock; errors go up to the engine's
round, which reports them and tries again. A body that can never be read (its file is gone) is
not an error: that write is recorded as the store holds it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.browser.journal import BodyUnreadable, Journal
from app.browser.notices import Notices
from app.browser.spark_kv import SparkKv
from app.core.capture.drain_plan import (
    CLOSED_TAB_GRACE_MS,
    Action,
    Intent,
    Step,
    forget_heard,
    mark_unjournaled,
    plan_next,
    plan_orphans,
    settled_message,
)
from app.core.capture.journal_entry import JournalEntry, WriteId
from app.core.chain import Chain
from app.core.clock import now_ms
from app.core.history.version import Version

#: How often the engine looks at the journal even without being told (missed broadcasts).
POLL_SECONDS = 2.0
BATCH = 1000


class JournalDrain:
    def __init__(self, kv: SparkKv, notices: Notices, announce: Callable[[Version | None], None],
                 user: Callable[[], str], tell: Callable[[dict[str, Any]], None]) -> None:
        self._kv = kv
        self._notices = notices
        self._announce = announce
        self._user = user
        # Says a journal message to every engine (the intents this one settled).
        self._tell = tell
        #: Writes announced by capture.js at call time, not yet settled.
        self.intents: list[Intent] = []
        # The names (WriteId) of the entries seen in the journal, while intents wait.
        self._journaled: set[WriteId] = set()
        #: How many entries of the latest batch are not recorded yet.
        self.waiting = 0
        #: When a waiting entry or intent is worth looking at again (ms; 0: at the next wake-up).
        self.retry_at = 0
        # (seq, body) of the first entry of a drain, when its body was read with the entries.
        self._read_body: tuple[int, str] | None = None

    def waiting_text(self) -> str:
        return f"{self.waiting} write(s) wait to be recorded." if self.waiting else ""

    def heard(self, message: dict[str, Any], *, drainer: bool) -> bool:
        """A journal message; whether it wakes the engine. An entry stored or settled does
        (capture.js sends it when the page is idle); a write announced at its call (an intent)
        does not: the page is busy sending it; nor does the engine that drains saying which
        intents it settled. A write whose entry its tab could not store (unjournaled) does. An
        engine that does not drain (it waits for the lock) keeps only the writes that may still
        need it: announced, not yet said to be journaled or settled, and recent (forget_heard)."""
        kind = message.get("type")
        if kind == "intent":
            self.intents.append(Intent.from_dict(message))
        elif kind == "unjournaled":  # its tab could not store the entry: read back at once
            self.intents = mark_unjournaled(self.intents, message)
        if self.intents and (not drainer or kind in ("journal", "settled")):
            self.intents = forget_heard(self.intents, message, now_ms=now_ms(), waiting=not drainer)
        return drainer and kind not in ("intent", "settled")

    async def check_epoch(self, chain: Chain, epoch: str) -> bool:
        """The history counts journal seqs of one journal (its epoch). A journal created anew
        (deleted by the browser or by hand) starts again at seq 1: say so, count in the new
        one, and (returns True) compare the store with the head, since writes may have been
        lost with it."""
        if chain.journal_epoch == epoch:
            return False
        if chain.journal_epoch and chain.head_version_id is not None:
            await self._notices.add(
                "journal-reset",
                "Backstay's capture journal was deleted (by the browser or by hand) and started "
                "anew. Writes it held that were not yet recorded are recorded from the store as "
                "found, by 'unknown'.")
            await chain.start_journal(epoch, seq=0)
            return True
        await chain.start_journal(epoch, seq=chain.journal_seq)
        return False

    async def drain(self, chain: Chain, journal: Journal, first: list[JournalEntry] | None,
                    first_body: str | None = None) -> None:
        """Record the journal's entries after the history's journal seq (``first``: those
        entries, when just read; ``first_body``: the body of the first of them, when read with
        them)."""
        self.retry_at = 0
        self._read_body = (first[0].seq, first_body) if first and first_body is not None else None
        try:
            await self._drain(chain, journal, first)
        finally:
            self._read_body = None

    async def _drain(self, chain: Chain, journal: Journal, first: list[JournalEntry] | None) -> None:
        while True:
            entries = first if first is not None else await journal.after(chain.journal_seq, BATCH)
            first = None
            self.waiting = len(entries)
            if not entries:
                return
            # Which tabs are open matters only for a write still unanswered (drain_plan.settled_at).
            live_tabs = (await journal.live_tabs() if any(entry.status == "pending" for entry in entries)
                         else set())
            self._journaled.update(entry.write_id for entry in entries)
            for index in range(len(entries)):
                step = plan_next(entries[index:], live_reads=chain.live_reads,
                                 drained_ends=chain.drained_ends,
                                 drained_writes=chain.drained_writes,
                                 head_keys=set(await chain.head_keys()), now_ms=now_ms(),
                                 live_tabs=live_tabs)
                if step is None:
                    break
                if step.action is Action.WAIT:
                    self.retry_at = step.retry_at
                    await journal.drop_through(chain.journal_seq)
                    return
                await self._apply(chain, journal, step)
                self.waiting = len(entries) - index - 1
            await journal.drop_through(chain.journal_seq)

    async def _apply(self, chain: Chain, journal: Journal, step: Step) -> None:
        entry = step.entry
        key = entry.key
        seq = entry.seq
        if step.action is Action.SKIP:
            await chain.record({}, created_by=self._user(), journal_seq=seq)
            return
        writes: dict[str, str | None] = {}
        reads: dict[str, tuple[int, int]] = {}
        ends: dict[str, int] = {}
        description = ""
        if step.action is Action.BODY:
            read, self._read_body = self._read_body, None
            try:
                body = read[1] if read is not None and read[0] == seq else await journal.body(seq)
            except BodyUnreadable as error:
                body = None
                description = ("Recorded as the store holds it: the journal's copy of this write "
                               "could not be read")
                await self._notices.add("journal-damaged", (
                    f"Backstay's capture journal on this computer is damaged ({error}). The write "
                    f"to {key} was recorded as the store holds it, so nothing was lost; if this "
                    "happens again, check the computer's disk."))
            if body is None:  # kept no body after all: the store says what was written
                step = Step(Action.READ, entry, "its body is missing")
            else:
                writes[key] = body
                ends[key] = entry.end
        elif step.action is Action.DELETE:
            writes[key] = None
            ends[key] = entry.end
        if step.action is Action.READ:
            started = now_ms()
            writes[key] = await self._kv.get_text(key)
            reads[key] = (started, now_ms())
            if step.writes > 1:
                description = (f"{step.writes} overlapping writes to {key}; the store kept this one")
        if entry.stale_restore:
            description = (f"Saved by a page that had not reloaded after restore "
                           f"{entry.stale_restore}: this write may undo that restore. "
                           + description).strip()
        try:
            version = await chain.record(writes, created_by=self._user(), change_type="auto",
                                         description=description, journal_seq=seq, live_reads=reads,
                                         drained_ends=ends, drained_writes={
                                             k: (entry.tab, entry.tab_seq) for k in ends if entry.tab_seq})
        except ValueError as error:
            await self._notices.add(
                f"unrecordable-{seq}",
                f"A write to {key} could not be recorded ({error}); the store refused or cannot "
                "hold such a value either, so nothing was lost from the data.")
            version = await chain.record({}, created_by=self._user(), journal_seq=seq, live_reads=reads)
        self._announce(version)

    async def settle_orphans(self, chain: Chain, journal: Journal) -> None:
        """A tab that closed right after a write may not have stored its journal entry, though
        the write reached the store: once that tab is gone (and its grace is over), read back
        every key it announced that the journal never got."""
        if not self.intents:
            return
        live_tabs = await journal.live_tabs()
        pending = await journal.after(chain.journal_seq, BATCH)
        self._journaled.update(entry.write_id for entry in pending)
        heard = self.intents
        orphans, self.intents = plan_orphans(
            heard, journaled=self._journaled, busy_keys={entry.key for entry in pending},
            now_ms=now_ms(), live_tabs=live_tabs)
        if not self.intents:
            self._journaled.clear()
        else:
            # Not sooner than the next poll: an intent of a live tab waits for its entry (the
            # journal worker may store a big body over a few idle periods).
            self.retry_at = self.retry_at or max(
                min(i.start for i in self.intents) + CLOSED_TAB_GRACE_MS + 1,
                now_ms() + int(POLL_SECONDS * 1000))
        # The engines that wait for the lock forget the settled intents too (one that took over
        # would read a key back again, and might take a live tab's write in flight then for the
        # closed tab's): those found journaled at once, each orphan key's once it is recorded.
        kept = set(self.intents)
        by_key: dict[str | None, list[Intent]] = {}
        for intent in heard:
            if intent not in kept:
                by_key.setdefault(intent.key if intent.key in orphans else None, []).append(intent)
        if by_key.get(None):
            self._tell(settled_message(by_key[None]))
        keys = sorted(orphans)
        for index, key in enumerate(keys):
            errors = sorted({intent.error for intent in by_key.get(key, []) if intent.error})
            description = (
                f"Writes to {key} that could not be stored in Backstay's journal on this computer "
                f"({'; '.join(errors)}), read back from the store" if errors else
                f"Writes to {key} from a tab that closed before it could journal them")
            try:
                started = now_ms()
                text = await self._kv.get_text(key)
                version = await chain.record(
                    {key: text}, created_by=self._user(), live_reads={key: (started, now_ms())},
                    description=description)
            except BaseException:
                # Not read back (the store is down, the storage full...): the next round tries
                # again for this key and those after it.
                self.intents.extend(i for later in keys[index:] for i in by_key.get(later, []))
                raise
            self._announce(version)
            if by_key.get(key):
                self._tell(settled_message(by_key[key]))
