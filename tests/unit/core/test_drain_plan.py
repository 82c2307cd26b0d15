"""The drain planner: examples of each rule, and a property that simulates a store applying
overlapping writes in an order of its own and checks the recorded history against it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.capture.drain_plan import (
    CLOSED_TAB_GRACE_MS,
    HEARD_INTENT_MS,
    MAX_HEARD_INTENTS,
    PENDING_LIMIT_MS,
    Action,
    Intent,
    forget_heard,
    mark_unjournaled,
    plan_next,
    plan_orphans,
    settled_message,
)
from app.core.capture.journal_entry import JournalEntry

KEY = "w3-hotel-guests"
NOW = 1_700_000_100_000
TAB = "tab-a"


def entry(seq: int, start: int, end: int, **fields: Any) -> JournalEntry:
    raw: dict[str, Any] = {"seq": seq, "key": KEY, "op": "set", "hasBody": True, "start": start,
                           "end": end, "tab": TAB, "status": "ok" if end else "pending",
                           "httpStatus": 200 if end else 0}
    return JournalEntry.from_dict({**raw, **fields})


def plan(entries: list[JournalEntry], reads: dict[str, tuple[int, int]] | None = None,
         now: int = NOW, live_tabs: tuple[str, ...] = (TAB,), head_keys: tuple[str, ...] = (KEY,),
         drained_ends: dict[str, int] | None = None,
         drained_writes: dict[str, tuple[str, int]] | None = None) -> Any:
    return plan_next(entries, live_reads=reads or {}, drained_ends=drained_ends,
                     drained_writes=drained_writes, head_keys=head_keys, now_ms=now, live_tabs=live_tabs)


def test_nothing_to_drain() -> None:
    assert plan([]) is None


def test_a_lone_write_records_its_body_or_its_deletion() -> None:
    assert plan([entry(1, NOW - 100, NOW - 50)]).action is Action.BODY
    assert plan([entry(1, NOW - 100, NOW - 50, op="delete", hasBody=False)]).action is Action.DELETE


def test_failed_and_unversioned_writes_record_nothing() -> None:
    assert plan([entry(1, NOW - 100, NOW - 50, status="failed", httpStatus=400)]).action is Action.SKIP
    assert plan([entry(1, NOW - 100, NOW - 50, key="backstay:x")]).action is Action.SKIP
    assert plan([entry(1, NOW - 100, NOW - 50, collection="drafts")]).action is Action.SKIP


def test_writes_of_one_tab_are_ordered_by_what_the_tab_had_seen_not_by_the_clock() -> None:
    # The next write made in the millisecond its predecessor's answer arrived: by the times they
    # would overlap, but the tab had seen the answer (1 is not in flight at 2's call).
    same_ms = [entry(1, NOW - 100, NOW - 50, tabSeq=1, inFlight=[]),
               entry(2, NOW - 50, NOW - 10, tabSeq=2, inFlight=[])]
    assert plan(same_ms).action is Action.BODY
    # Sent before the answer of the first: they may have reached the store in either order.
    concurrent = [entry(1, NOW - 100, NOW - 50, tabSeq=1, inFlight=[]),
                  entry(2, NOW - 50, NOW - 10, tabSeq=2, inFlight=[1])]
    step = plan(concurrent)
    assert (step.action, step.writes) == (Action.READ, 2)
    # Another tab's write at the same millisecond: the times decide (they overlap).
    other_tab = [entry(1, NOW - 100, NOW - 50, tabSeq=1, inFlight=[]),
                 entry(2, NOW - 50, NOW - 10, tab="tab-b", tabSeq=1, inFlight=[])]
    assert plan(other_tab, live_tabs=(TAB, "tab-b")).action is Action.READ
    # A write already recorded whose answer the tab had seen before this call, in the same ms.
    later = [entry(2, NOW - 50, NOW - 10, tabSeq=2, inFlight=[])]
    assert plan(later, drained_ends={KEY: NOW - 50}).action is Action.READ
    assert plan(later, drained_ends={KEY: NOW - 50}, drained_writes={KEY: (TAB, 1)}).action is Action.BODY
    assert plan([entry(2, NOW - 50, NOW - 10, tabSeq=2, inFlight=[1])], drained_ends={KEY: NOW - 50},
                drained_writes={KEY: (TAB, 1)}).action is Action.READ
    assert plan(later, drained_ends={KEY: NOW - 50},
                drained_writes={KEY: ("tab-b", 1)}).action is Action.READ
    # Entries without call numbers (an older capture shim): the times decide too.
    assert plan([entry(1, NOW - 100, NOW - 50), entry(2, NOW - 50, NOW - 10)]).action is Action.READ


def test_a_pending_write_of_an_open_tab_is_waited_for() -> None:
    assert plan([entry(1, NOW - 100, 0)]).action is Action.WAIT


def test_a_pending_write_of_a_closed_tab_is_read_back_after_the_grace() -> None:
    early = entry(1, NOW - 100, 0)
    step = plan([early], live_tabs=())
    assert step.action is Action.WAIT and step.retry_at == early.start + CLOSED_TAB_GRACE_MS + 1
    assert plan([early], live_tabs=(), now=NOW + CLOSED_TAB_GRACE_MS).action is Action.READ


def test_a_write_unanswered_for_too_long_is_read_back() -> None:
    assert plan([entry(1, NOW - PENDING_LIMIT_MS - 1, 0)]).action is Action.READ


def test_an_unknown_outcome_or_a_lost_body_is_read_back() -> None:
    assert plan([entry(1, NOW - 100, NOW - 50, status="unknown", httpStatus=0)]).action is Action.READ
    assert plan([entry(1, NOW - 100, NOW - 50, hasBody=False)]).action is Action.READ


def test_overlapping_writes_are_read_back_once_all_have_finished() -> None:
    a, b = entry(1, NOW - 100, NOW - 40), entry(2, NOW - 90, 0)
    assert plan([a, b]).action is Action.WAIT
    b = entry(2, NOW - 90, NOW - 30)
    step = plan([a, b])
    assert step.action is Action.READ and step.writes == 2
    # Once read, both finished before the read started: they are in the head.
    reads = {KEY: (NOW - 20, NOW - 10)}
    assert plan([a, b], reads).action is Action.SKIP
    assert plan([b], reads).action is Action.SKIP


def test_overlap_is_transitive_and_per_key() -> None:
    a, b, c = entry(1, 0, 10), entry(2, 9, 20), entry(3, 19, 30)
    other = entry(4, 0, 30, key="w3-hotel-rooms")
    assert plan([a, b, c, other], now=100).writes == 3
    assert plan([other], now=100).action is Action.BODY


def test_a_failed_write_does_not_make_others_ambiguous() -> None:
    a, b = entry(1, 0, 10), entry(2, 5, 15, status="failed", httpStatus=503)
    assert plan([a, b], now=100).action is Action.BODY


def test_a_write_that_overlapped_the_last_read_is_read_again() -> None:
    late = entry(1, 100, 300)
    assert plan([late], {KEY: (200, 250)}, now=1000).action is Action.READ
    assert plan([late], {KEY: (50, 90)}, now=1000).action is Action.BODY


def test_a_default_matters_only_for_a_key_the_head_lacks() -> None:
    default = entry(1, 0, 10, initial=True)
    assert plan([default], now=100).action is Action.SKIP
    assert plan([default], now=100, head_keys=()).action is Action.READ


def test_a_beacon_is_read_back_after_it_has_had_time_to_arrive() -> None:
    beacon = entry(1, NOW - 10, NOW + 5000, status="unknown", httpStatus=0, via="beacon")
    assert plan([beacon]).action is Action.WAIT
    assert plan([beacon], now=NOW + 5001).action is Action.READ


# ---- the property --------------------------------------------------------------------------

@dataclass
class Write:
    start: int
    applied: int  # when the store applied it (start < applied < end), or -1: never
    end: int
    value: int
    status: str


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Write], int, set[int]]:
    count = draw(st.integers(1, 8))
    writes = []
    for value in range(1, count + 1):
        start = draw(st.integers(0, 60))
        applied = start + draw(st.integers(1, 20))
        end = applied + draw(st.integers(1, 20))
        status = draw(st.sampled_from(["ok", "ok", "ok", "failed", "unknown"]))
        if status == "failed" or (status == "unknown" and draw(st.booleans())):
            applied = -1
        writes.append(Write(start, applied, end, value, status))
    engine_start = draw(st.integers(0, 100))
    closed = set(draw(st.lists(st.integers(1, count), max_size=2)))  # writes whose tab closed
    return writes, engine_start, closed


def store_at(writes: list[Write], time: float) -> int:
    applied = sorted((w.applied, w.value) for w in writes if 0 <= w.applied < time)
    return applied[-1][1] if applied else 0


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_every_recorded_state_is_one_the_store_held_in_its_order(scenario: Any) -> None:
    writes, engine_start, closed = scenario
    by_seq = sorted(writes, key=lambda w: (w.start, w.value))
    truth = [0] + [value for _, value in sorted((w.applied, w.value) for w in by_seq if w.applied >= 0)]

    # The engine starts: its baseline reads the store over [t, t + 1].
    now = engine_start
    recorded = [store_at(writes, now + 0.5)]
    reads = {KEY: (now, now + 1)}
    now += 1
    drained = 0
    while now < 100_000:
        visible = []
        for seq, w in enumerate(by_seq[drained:], start=drained + 1):
            if w.start > now:
                break
            tab = "closed" if w.value in closed else TAB
            if w.end <= now and tab == TAB:
                visible.append(entry(seq, w.start, w.end, status=w.status, tab=tab))
            else:
                visible.append(entry(seq, w.start, 0, status="pending", tab=tab))
        step = plan(visible, reads, now=now, live_tabs=(TAB,))
        if step is None or step.action is Action.WAIT:
            if drained == len(by_seq) and now > max(w.end for w in writes) + CLOSED_TAB_GRACE_MS:
                break
            now = max(now + 1, step.retry_at if step else 0)
            continue
        if step.action is Action.BODY:
            recorded.append(by_seq[step.entry.seq - 1].value)
        elif step.action is Action.READ:
            recorded.append(store_at(writes, now + 0.5))
            reads = {KEY: (now, now + 1)}
            now += 1
        drained += 1
        now += 1

    assert drained == len(by_seq)
    assert recorded[-1] == truth[-1], (recorded, truth)
    # Collapse repeats: a read that finds what was recorded before is not a new state.
    states = [value for i, value in enumerate(recorded) if i == 0 or value != recorded[i - 1]]
    position = 0
    for value in states:
        while position < len(truth) and truth[position] != value:
            position += 1
        assert position < len(truth), f"recorded {states} is not in the store's order {truth}"


def test_a_write_announced_by_a_closed_tab_but_never_journaled_is_read_back() -> None:
    intent = Intent(key=KEY, collection="", tab="gone", start=NOW - CLOSED_TAB_GRACE_MS - 1)
    orphans, waiting = plan_orphans([intent], journaled=set(), busy_keys=set(), now_ms=NOW,
                                    live_tabs={TAB})
    assert orphans == {KEY} and waiting == []
    # Journaled after all, still in its grace, its tab still open, or its key busy: no read.
    assert plan_orphans([intent], journaled={("gone", intent.start, KEY, 0)}, busy_keys=set(), now_ms=NOW,
                        live_tabs={TAB}) == (set(), [])
    young = Intent(key=KEY, collection="", tab="gone", start=NOW - 10)
    assert plan_orphans([young], journaled=set(), busy_keys=set(), now_ms=NOW,
                        live_tabs=()) == (set(), [young])
    open_tab = Intent(key=KEY, collection="", tab=TAB, start=NOW - CLOSED_TAB_GRACE_MS - 1)
    assert plan_orphans([open_tab], journaled=set(), busy_keys=set(), now_ms=NOW,
                        live_tabs={TAB}) == (set(), [open_tab])
    assert plan_orphans([intent], journaled=set(), busy_keys={KEY}, now_ms=NOW,
                        live_tabs=()) == (set(), [intent])
    unversioned = Intent(key="backstay:history", collection="", tab="gone", start=0)
    assert plan_orphans([unversioned], journaled=set(), busy_keys=set(), now_ms=NOW,
                        live_tabs=()) == (set(), [])


def test_a_write_whose_tab_could_not_journal_it_is_read_back_at_once_unless_its_key_is_busy() -> None:
    announced = Intent.from_dict({"type": "intent", "key": KEY, "collection": "", "tab": TAB,
                                  "start": NOW - 10, "error": "not an unjournaled message"})
    assert announced.error == ""
    other = Intent(key="w3-hotel-rooms", collection="", tab=TAB, start=NOW - 10)
    said = {"type": "unjournaled", "key": KEY, "collection": "", "tab": TAB, "start": NOW - 10,
            "error": "UnknownError: the disk is full", "end": NOW - 5}
    marked = mark_unjournaled([announced, other], said)
    assert marked == [other, Intent(KEY, "", TAB, NOW - 10, "UnknownError: the disk is full", NOW - 5)]
    # Its tab is open and it is young, yet it is read back now: no entry will come.
    assert plan_orphans(marked, journaled=set(), busy_keys=set(), now_ms=NOW,
                        live_tabs={TAB}) == ({KEY}, [other])
    # Not while earlier entries of its key wait to be recorded (they go first).
    assert plan_orphans(marked, journaled=set(), busy_keys={KEY}, now_ms=NOW,
                        live_tabs={TAB}) == (set(), marked)
    # Not before the write is taken to have reached the store (a beacon's end is later).
    beacon = mark_unjournaled([], {**said, "end": NOW + 5000})
    assert plan_orphans(beacon, journaled=set(), busy_keys=set(), now_ms=NOW,
                        live_tabs=()) == (set(), beacon)
    # Nor when its entry was found in the journal after all; an entry of another key stored in
    # the same millisecond by the same recorder (the service worker) does not count.
    assert plan_orphans(marked[1:], journaled={(TAB, NOW - 10, KEY, 0)}, busy_keys=set(), now_ms=NOW,
                        live_tabs={TAB}) == (set(), [])
    assert plan_orphans(marked[1:], journaled={(TAB, NOW - 10, "w3-hotel-rooms", 0)}, busy_keys=set(),
                        now_ms=NOW, live_tabs={TAB}) == ({KEY}, [])
    # An engine that never heard it announced learns it from the message alone.
    assert mark_unjournaled([], said) == [marked[1]]


def test_two_writes_of_one_recorder_to_one_key_in_one_millisecond_are_told_apart_by_their_number() -> None:
    """Saves not awaited, or two tabs under the one service worker: the recorder numbers its
    writes (tabSeq). The first write's entry is stored, the second's is not (the disk filled
    between them): the second is read back, and the first's journal message settles only the
    first's intent."""
    first = Intent.from_dict({"type": "intent", "key": KEY, "collection": "", "tab": "sw-1",
                              "start": NOW - 10, "tabSeq": 7})
    second = Intent.from_dict({"type": "intent", "key": KEY, "collection": "", "tab": "sw-1",
                               "start": NOW - 10, "tabSeq": 8})
    assert (first.tab_seq, second.tab_seq) == (7, 8)
    stored = {"type": "journal", "seq": 3, "pending": True, "tab": "sw-1", "start": NOW - 10,
              "key": KEY, "tabSeq": 7}
    assert forget_heard([first, second], stored, now_ms=NOW, waiting=False) == [second]
    said = {"type": "unjournaled", "key": KEY, "collection": "", "tab": "sw-1", "start": NOW - 10,
            "tabSeq": 8, "error": "QuotaExceededError", "end": NOW - 5}
    marked = mark_unjournaled([first, second], said)
    assert [intent.tab_seq for intent in marked] == [7, 8] and marked[1].error
    entry = JournalEntry.from_dict({"seq": 3, "key": KEY, "tab": "sw-1", "start": NOW - 10, "tabSeq": 7})
    assert plan_orphans(marked, journaled={entry.write_id}, busy_keys=set(), now_ms=NOW,
                        live_tabs={"sw-1"}) == ({KEY}, [])
    # The engine that drains tells every engine which it settled, by the same names.
    told = settled_message(marked)
    assert told["writes"] == [{"tab": "sw-1", "start": NOW - 10, "key": KEY, "tabSeq": 7},
                              {"tab": "sw-1", "start": NOW - 10, "key": KEY, "tabSeq": 8}]
    assert forget_heard(marked, told, now_ms=NOW, waiting=True) == []
    # An intent said without a number (a page loaded before intents carried one) is settled by
    # an entry of its tab, start and key.
    unnumbered = Intent(key=KEY, collection="", tab="sw-1", start=NOW - 10)
    assert plan_orphans([unnumbered], journaled={entry.write_id}, busy_keys=set(), now_ms=NOW,
                        live_tabs=()) == (set(), [])


def test_a_journal_message_settles_its_intent_and_a_waiting_engine_keeps_only_recent_ones() -> None:
    a = Intent(key=KEY, collection="", tab="a", start=NOW - 5)
    b = Intent(key=KEY, collection="", tab="b", start=NOW - 5)
    same_time = Intent(key="w3-hotel-rooms", collection="", tab="a", start=NOW - 5)
    stored_a = {"type": "journal", "seq": 3, "pending": True, "tab": "a", "start": a.start, "key": KEY}
    for waiting in (True, False):
        # Another intent, a version, or a journal message that does not name a write (an
        # outcome's, or one of a page that has not reloaded since an upgrade): nothing goes.
        for message in ({"type": "intent", "tab": "a", "start": a.start, "key": KEY},
                        {"type": "journal", "seq": 3}, {"type": "version"},
                        {"type": "journal", "seq": 3, "tab": "a", "start": a.start}):
            assert forget_heard([a, b], message, now_ms=NOW, waiting=waiting) == [a, b]
        # A journal message names the write whose entry is stored: only that intent goes (not
        # another write of its tab in the same millisecond).
        assert forget_heard([a, same_time, b], stored_a, now_ms=NOW, waiting=waiting) == [same_time, b]
        assert forget_heard([a, b], {**stored_a, "start": a.start + 1}, now_ms=NOW,
                            waiting=waiting) == [a, b]
    # An engine waiting for the lock drops old intents and keeps only the newest
    # MAX_HEARD_INTENTS; the engine that drains keeps each until it is settled.
    old = Intent(key=KEY, collection="", tab="c", start=NOW - HEARD_INTENT_MS - 1)
    assert forget_heard([old, a], {"type": "intent"}, now_ms=NOW, waiting=True) == [a]
    assert forget_heard([old, a], {"type": "intent"}, now_ms=NOW, waiting=False) == [old, a]
    many = [Intent(key=KEY, collection="", tab="d", start=NOW - i) for i in range(MAX_HEARD_INTENTS + 5)]
    assert forget_heard(many, {"type": "intent"}, now_ms=NOW, waiting=True) == many[5:]


def test_a_settled_message_names_the_intents_the_draining_engine_settled() -> None:
    a = Intent(key=KEY, collection="", tab="a", start=NOW - 5)
    b = Intent(key=KEY, collection="", tab="b", start=NOW - 5)
    rooms = Intent(key="w3-hotel-rooms", collection="", tab="a", start=NOW - 5)
    message = settled_message([a, rooms])
    assert message == {"type": "settled", "writes": [
        {"tab": "a", "start": a.start, "key": KEY, "tabSeq": 0},
        {"tab": "a", "start": a.start, "key": "w3-hotel-rooms", "tabSeq": 0}]}
    for waiting in (True, False):
        assert forget_heard([a, b, rooms], message, now_ms=NOW, waiting=waiting) == [b]
        # Malformed or foreign messages settle nothing.
        for odd in ({"type": "settled"}, {"type": "settled", "writes": "a"},
                    {"type": "settled", "writes": [None, {"tab": "a", "start": "x", "key": KEY},
                                                   {"tab": "a", "key": KEY}]},
                    {"type": "version", "writes": message["writes"]}):
            assert forget_heard([a, b], odd, now_ms=NOW, waiting=waiting) == [a, b]


def test_a_write_that_reached_the_journal_after_one_it_overlapped_was_recorded_is_read_back() -> None:
    # Two tabs: b's entry was stored late, after a's (which it overlapped) was recorded alone.
    b = entry(2, 100, 300, tab="tab-b")
    assert plan([b], drained_ends={KEY: 250}, now=1000).action is Action.READ
    assert plan([b], drained_ends={KEY: 90}, now=1000).action is Action.BODY


def test_the_head_keeps_which_write_of_which_tab_was_recorded_last() -> None:
    from app.core.history.head import HeadPointer
    from app.core.ports import Batch
    head = HeadPointer(drained_ends={KEY: NOW}, drained_writes={KEY: (TAB, 7)})
    batch = Batch()
    head.put(batch, None)
    again = HeadPointer.from_meta({key: value for _, key, value in batch.puts})
    assert (again.drained_ends, again.drained_writes) == ({KEY: NOW}, {KEY: (TAB, 7)})
    assert "drainedWrites" not in HeadPointer(drained_ends={KEY: NOW}).to_dict()
