"""What the engine does next with the capture journal: the whole decision, without a browser.

The store's order is the truth. Writes to one key that overlap in flight (their request
intervals [start, end] intersect: several tabs, or saves that are not awaited) may be applied by
the store in any order, so their bodies cannot say which one the store kept. Such a group is
settled by reading the key back once every write of the group has finished; the read is
recorded, and its interval becomes the key's *live read* (kept in the head pointer). Then:

- an entry that finished before the key's last live read started is already in the head
  (the read saw it or something newer): it records nothing;
- an entry whose interval intersects the last live read may or may not be in what was read:
  the key is read again once it has finished;
- an entry that overlaps no other write of its key, and starts after the last live read ended
  and after the last write recorded from its body ended (``drained_ends``: an entry can reach
  the journal after one it overlapped was recorded), was applied after everything recorded so
  far and before anything that starts after it ends: its body is the key's next state.

So every recorded state of a key is a state the store held, in the order it held them (see
docs/ARCHITECTURE.md, "The invariant"). Writes that failed change nothing and are left out.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from app.core.capture.journal_entry import JournalEntry, WriteId
from app.core.capture.scope import is_versioned

#: A request still unanswered this long after it was made, in a tab that is still open, is
#: given up on: its outcome is treated as unknown (the store is read).
PENDING_LIMIT_MS = 60_000
#: A request whose tab closed before the answer may still reach the store for a while; after
#: this long from its start it is taken to have reached it or never to.
CLOSED_TAB_GRACE_MS = 10_000

#: An engine that does not drain (it waits for the lock) keeps a write announced to it this long
#: at most, and at most MAX_HEARD_INTENTS of them: by then the engine that drains has settled it.
HEARD_INTENT_MS = 10 * 60_000
MAX_HEARD_INTENTS = 1_000

#: A key's last live read: (start, end) in ms since the epoch.
LiveRead = tuple[int, int]


class Action(Enum):
    WAIT = "wait"        # an outcome is not known yet: stop draining, come back later
    SKIP = "skip"        # record nothing for this entry (failed, out of scope, already in the head)
    BODY = "body"        # the key's new value is the entry's body
    DELETE = "delete"    # the key was deleted
    READ = "read"        # read the key's live value (the outcome or the order is not known)


@dataclass(frozen=True)
class Step:
    action: Action
    entry: JournalEntry
    reason: str = ""
    #: For WAIT: when it is worth looking again (ms since the epoch; 0 = at the next wake-up).
    retry_at: int = 0
    #: For READ: how many captured writes the read settles.
    writes: int = 1


def settled_at(entry: JournalEntry, *, now_ms: int, live_tabs: Collection[str]) -> int | None:
    """When the entry's request was over (no later effect on the store), or None if it may
    still be going on."""
    if entry.status != "pending":
        return entry.end or entry.start
    if entry.tab and entry.tab not in live_tabs:
        return entry.start + CLOSED_TAB_GRACE_MS
    if now_ms - entry.start >= PENDING_LIMIT_MS:
        return entry.start + PENDING_LIMIT_MS
    return None


def _matters(entry: JournalEntry, head_keys: Collection[str]) -> bool:
    """Whether the entry may have changed the store."""
    if entry.status == "failed" or not is_versioned(entry.key, entry.collection):
        return False
    # A get-or-set default is stored only when the key is absent.
    return not (entry.initial and entry.key in head_keys)


def _overlap(a: tuple[int, int | None], b: tuple[int, int | None]) -> bool:
    a_end = a[1] if a[1] is not None else float("inf")
    b_end = b[1] if b[1] is not None else float("inf")
    return a[0] <= b_end and b[0] <= a_end


def _after_in_its_tab(entry: JournalEntry, recorded: tuple[str, int] | None) -> bool:
    """Whether ``entry`` was made by the tab of the ``recorded`` write (tab, tabSeq) after that
    tab had seen the recorded write's answer."""
    if recorded is None or not entry.tab or not entry.tab_seq:
        return False
    tab, tab_seq = recorded
    return tab == entry.tab and 0 < tab_seq < entry.tab_seq and tab_seq not in entry.in_flight


def _concurrent(a: JournalEntry, b: JournalEntry, intervals: Mapping[int, tuple[int, int | None]]) -> bool:
    """Whether two writes may have reached the store in either order. Two writes of one tab
    that both carry their call numbers overlap exactly when the later was made before the tab
    saw the earlier one's outcome; otherwise their time intervals decide."""
    if a.tab and a.tab == b.tab and a.tab_seq and b.tab_seq:
        earlier, later = (a, b) if a.tab_seq < b.tab_seq else (b, a)
        return earlier.tab_seq in later.in_flight
    return _overlap(intervals[a.seq], intervals[b.seq])


def plan_next(
    entries: Sequence[JournalEntry],
    *,
    live_reads: Mapping[str, LiveRead],
    drained_ends: Mapping[str, int] | None = None,
    drained_writes: Mapping[str, tuple[str, int]] | None = None,
    head_keys: Collection[str],
    now_ms: int,
    live_tabs: Collection[str],
) -> Step | None:
    """The step for ``entries[0]`` (entries: the undrained journal, in seq order), or None when
    there is nothing to drain."""
    if not entries:
        return None
    first = entries[0]
    if not _matters(first, head_keys):
        return Step(Action.SKIP, first, "failed" if first.status == "failed" else "not versioned")
    intervals = {
        entry.seq: (entry.start, settled_at(entry, now_ms=now_ms, live_tabs=live_tabs))
        for entry in entries
        if entry.key == first.key and entry.collection == first.collection and _matters(entry, head_keys)
    }
    start, end = intervals[first.seq]
    read = live_reads.get(first.key)
    if read is not None and end is not None and end < read[0]:
        return Step(Action.SKIP, first, "already in the head")
    if end is None:
        return Step(Action.WAIT, first, "waiting for the answer to this write")
    # The group: every write of the key linked to this one by overlapping intervals.
    by_seq = {entry.seq: entry for entry in entries if entry.seq in intervals}
    group = {first.seq}
    frontier = [first.seq]
    while frontier:
        current = by_seq[frontier.pop()]
        for seq in intervals:
            if seq not in group and _concurrent(current, by_seq[seq], intervals):
                group.add(seq)
                frontier.append(seq)
    reasons = []
    if len(group) > 1:
        reasons.append(f"{len(group)} writes overlapped")
    if first.status != "ok":
        reasons.append("its outcome is unknown")
    if first.op == "set" and not first.has_body:
        reasons.append("its body was not kept")
    if first.initial:
        reasons.append("a default is stored only if the key is absent")
    if read is not None and start <= read[1]:
        reasons.append("it overlapped the last read of the key")
    if start <= (drained_ends or {}).get(first.key, -1) and not _after_in_its_tab(
            first, (drained_writes or {}).get(first.key)):
        # Its entry reached the journal after a write it overlapped was recorded.
        reasons.append("it overlapped a write already recorded")
    if not reasons:
        return Step(Action.DELETE if first.op == "delete" else Action.BODY, first)
    ends = [intervals[seq][1] for seq in group]
    if any(value is None for value in ends):
        return Step(Action.WAIT, first, "waiting for overlapping writes to finish")
    last = max(value for value in ends if value is not None)
    if now_ms <= last:
        return Step(Action.WAIT, first, "waiting until the writes have reached the store",
                    retry_at=last + 1)
    return Step(Action.READ, first, "; ".join(reasons), writes=len(group))


@dataclass(frozen=True)
class Intent:
    """A write announced by a tab at call time, before its journal entry was stored.
    ``error``: why that tab could not store the entry (its message "unjournaled", sent once the
    write was answered: the disk is full, the journal failed); empty while it may still be
    stored. ``end``: then, when the write is taken to have reached the store (a beacon's is
    later than its answer)."""

    key: str
    collection: str
    tab: str
    start: int
    error: str = ""
    end: int = 0
    #: The write's number in its recorder (its entry's ``tabSeq``), 0 when not said.
    tab_seq: int = 0

    @classmethod
    def from_dict(cls, raw: Mapping[str, object]) -> Intent:
        failed = raw.get("type") == "unjournaled"
        return cls(key=str(raw.get("key") or ""), collection=str(raw.get("collection") or ""),
                   tab=str(raw.get("tab") or ""), start=int(str(raw.get("start") or 0)),
                   error=str(raw.get("error") or "") if failed else "",
                   end=int(str(raw.get("end") or 0)) if failed else 0,
                   tab_seq=int(str(raw.get("tabSeq") or 0)))

    @property
    def write_id(self) -> WriteId:
        return self.tab, self.start, self.key, self.tab_seq


def mark_unjournaled(intents: Sequence[Intent], message: Mapping[str, object]) -> list[Intent]:
    """The intents once a tab said (``message``, of type "unjournaled") that it could not store
    the journal entry of one of its writes: that write's intent carries the reason (added if
    this engine did not hear it announced), so it is read back without waiting for the tab to
    close."""
    failed = Intent.from_dict(message)
    kept = [intent for intent in intents if intent.write_id != failed.write_id]
    return [*kept, failed]


def plan_orphans(
    intents: Sequence[Intent],
    *,
    journaled: Collection[WriteId],
    busy_keys: Collection[str],
    now_ms: int,
    live_tabs: Collection[str],
) -> tuple[set[str], list[Intent]]:
    """Which keys to read back because a tab closed before storing the journal entry of a
    write it announced (``journaled``: the names of entries seen in the journal, WriteId), or
    said it could not store it (``Intent.error``; read once the write is taken to have reached
    the store), and which intents to keep waiting on. A key with undrained entries
    (``busy_keys``) waits: those entries settle it."""
    orphans: set[str] = set()
    waiting: list[Intent] = []
    # An intent without a number (said by a page loaded before intents carried one) is settled
    # by an entry of its tab, start and key.
    unnumbered = {name[:3] for name in journaled} if any(not i.tab_seq for i in intents) else set()
    for intent in intents:
        stored = intent.write_id in journaled or (not intent.tab_seq and intent.write_id[:3] in unnumbered)
        if stored or not is_versioned(intent.key, intent.collection):
            continue
        if intent.key in busy_keys or (now_ms <= intent.end if intent.error else (
                intent.tab in live_tabs or now_ms <= intent.start + CLOSED_TAB_GRACE_MS)):
            waiting.append(intent)
        else:
            orphans.add(intent.key)
    return orphans, waiting


def forget_heard(intents: Sequence[Intent], message: Mapping[str, object], *, now_ms: int,
                 waiting: bool) -> list[Intent]:
    """The intents an engine still keeps once it heard ``message`` on the journal channel. A
    journal message naming a write (its tab, start, key and tabSeq) says its entry is stored: the
    journal records it, so its intent is settled. An engine that does not drain (``waiting``
    for the lock) keeps the others for when it takes over: the engine that drains may go away
    (its tab closes, or it is a worker being replaced) before it reads back the write of a tab
    that closed without journaling it. A settled message (``{type: "settled", writes: [{tab,
    start, key}]}``) names intents the engine that drains has settled (it read the keys back,
    or found their entries): they go too, so that an engine taking over does not read a key
    back again for them. It drops old intents and the oldest beyond MAX_HEARD_INTENTS; the
    engine that drains keeps every intent until it is settled."""
    gone = {_named(message)} if message.get("type") == "journal" else set()
    writes = message.get("writes")
    if message.get("type") == "settled" and isinstance(writes, list):
        gone = {_named(write) for write in writes if isinstance(write, Mapping)}
    gone.discard(None)
    if gone:
        intents = [intent for intent in intents if intent.write_id not in gone]
    if not waiting:
        return list(intents)
    kept = [intent for intent in intents if intent.start >= now_ms - HEARD_INTENT_MS]
    return kept[-MAX_HEARD_INTENTS:]


def _named(message: Mapping[str, object]) -> WriteId | None:
    """The write a journal message names: (tab, start, key, tabSeq), or None when it names none."""
    tab, start, key = message.get("tab"), message.get("start"), message.get("key")
    if not (tab and start and key):
        return None
    try:
        return str(tab), int(str(start)), str(key), int(str(message.get("tabSeq") or 0))
    except ValueError:
        return None


def settled_message(intents: Sequence[Intent]) -> dict[str, object]:
    """The journal message that tells every engine these intents are settled."""
    return {"type": "settled",
            "writes": [{"tab": i.tab, "start": i.start, "key": i.key, "tabSeq": i.tab_seq} for i in intents]}
