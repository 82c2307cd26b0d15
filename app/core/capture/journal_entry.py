"""Journal entries: the KV writes captured by static/capture.js, as the engine reads them.

docs/FORMAT.md, "Journal", is the normative description. What the engine does with the entries
is decided by app.core.capture.drain_plan; this module only reads and checks them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.core.errors import CorruptData

STATUSES = ("pending", "ok", "failed", "unknown")
OPS = ("set", "delete")
VIA = ("fetch", "xhr", "beacon")

#: One write as its recorder names it: (tab, start, key, tabSeq). The recorder (a tab, or
#: Backstay's service worker for every tab) numbers its writes (``tab_seq``): two writes of one
#: recorder can start in the same millisecond, to the same key too (saves not awaited, or two
#: tabs under the one service worker). Journal messages and intents name writes this way; a
#: write recorded without a number (0: a capture.js from before it said one) is named by the
#: other three.
WriteId = tuple[str, int, str, int]


@dataclass(frozen=True)
class JournalEntry:
    """One captured KV write. Times are ms since the epoch, taken from the browser's clock.

    ``start`` is when the request was made, ``end`` when its outcome was seen (0 while
    ``pending``; for a beacon, whose outcome is never seen, the time by which it is assumed to
    have reached the store). ``has_body`` is False when the body could not be kept (storage
    full, a stream body): the key's live value then says what was written.
    """

    seq: int
    key: str
    collection: str = ""
    op: str = "set"
    initial: bool = False
    has_body: bool = True
    start: int = 0
    end: int = 0
    tab: str = ""
    status: str = "pending"
    http_status: int = 0
    via: str = "fetch"
    #: The restore this write's page had not read again (its data may predate it), or "".
    stale_restore: str = ""
    #: The write's number in its tab (1, 2, ... in call order; 0 when not recorded), and the
    #: numbers of the tab's earlier writes whose outcome the tab had not seen at this call: two
    #: writes of one tab overlap exactly when the earlier one is among the later one's
    #: ``in_flight`` (their times alone cannot tell within a millisecond).
    tab_seq: int = 0
    in_flight: tuple[int, ...] = ()

    @property
    def write_id(self) -> WriteId:
        return self.tab, self.start, self.key, self.tab_seq

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> JournalEntry:
        """Read an entry as stored (journal format 2, or a format-1 entry with ``time``,
        ``body`` and its outcome inline); raise CorruptData when it is malformed."""
        try:
            start = int(raw.get("start") or raw.get("time") or 0)
            status = str(raw.get("status", "pending"))
            end = int(raw.get("end") or 0)
            if "start" not in raw and status != "pending":
                end = end or start  # format 1 kept no outcome time
            entry = cls(
                seq=int(raw["seq"]),
                key=str(raw["key"]),
                collection=str(raw.get("collection") or ""),
                op=str(raw.get("op", "set")),
                initial=bool(raw.get("initial", False)),
                has_body=bool(raw["hasBody"]) if "hasBody" in raw else raw.get("body") is not None,
                start=start,
                end=end,
                tab=str(raw.get("tab") or ""),
                status=status,
                http_status=int(raw.get("httpStatus") or 0),
                via=str(raw.get("via") or "fetch"),
                stale_restore=str(raw.get("staleRestore") or ""),
                tab_seq=int(raw.get("tabSeq") or 0),
                in_flight=tuple(int(n) for n in raw.get("inFlight") or ()),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise CorruptData(f"malformed journal entry {dict(raw)!r}: {error}") from None
        if entry.op not in OPS or entry.status not in STATUSES or entry.via not in VIA:
            raise CorruptData(
                f"journal entry {entry.seq} has op {entry.op!r}, status {entry.status!r}, via {entry.via!r}")
        return entry

    def settled(self, outcome: Mapping[str, Any]) -> JournalEntry:
        """This entry with the outcome record ``{status, httpStatus, end}`` applied."""
        status = str(outcome.get("status", self.status))
        if status not in STATUSES:
            raise CorruptData(f"journal outcome of entry {self.seq} has status {status!r}")
        return JournalEntry(
            seq=self.seq, key=self.key, collection=self.collection, op=self.op,
            initial=self.initial, has_body=self.has_body, start=self.start,
            end=int(outcome.get("end") or self.end), tab=self.tab, status=status,
            http_status=int(outcome.get("httpStatus") or 0), via=self.via,
        )
