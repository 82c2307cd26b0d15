"""Journal entries (written by static/capture.js) and what the engine does with each one.

docs/FORMAT.md, "Journal entries", is the normative description. ``plan_entry`` is the whole
decision, kept here so it is tested without a browser; app/browser/engine.py carries it out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from app.core.errors import CorruptData
from app.core.scope import is_versioned

#: How long an entry may wait for its request's outcome before the engine stops waiting and
#: reads the key's live value instead (the tab that sent it has probably closed).
PENDING_GRACE_MS = 15_000
STATUSES = ("pending", "ok", "failed", "unknown")
OPS = ("set", "delete")


@dataclass(frozen=True)
class JournalEntry:
    """One captured KV write."""

    seq: int
    key: str
    collection: str
    op: str
    initial: bool
    body: str | None
    time: int
    status: str
    http_status: int

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> JournalEntry:
        try:
            entry = cls(
                seq=int(raw["seq"]),
                key=str(raw["key"]),
                collection=str(raw.get("collection") or ""),
                op=str(raw.get("op", "set")),
                initial=bool(raw.get("initial", False)),
                body=None if raw.get("body") is None else str(raw["body"]),
                time=int(raw.get("time") or 0),
                status=str(raw.get("status", "pending")),
                http_status=int(raw.get("httpStatus") or 0),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise CorruptData(f"malformed journal entry {dict(raw)!r}: {error}") from None
        if entry.op not in OPS or entry.status not in STATUSES:
            raise CorruptData(f"journal entry {entry.seq} has op {entry.op!r}, status {entry.status!r}")
        return entry


class Step(Enum):
    """What the engine does with a journal entry."""

    WAIT = "wait"            # the outcome has not arrived: stop draining, come back later
    NOTHING = "nothing"      # record no change, only that the entry was drained
    RECORD_BODY = "body"     # the key's new value is the entry's body
    RECORD_DELETE = "delete"  # the key was deleted
    READ_LIVE = "live"       # the outcome is unknown: the key's live value says what happened


def plan_entry(entry: JournalEntry, *, head_has_key: bool, now_ms: int) -> Step:
    if entry.status == "pending" and now_ms - entry.time < PENDING_GRACE_MS:
        return Step.WAIT
    if entry.status == "failed" or not is_versioned(entry.key, entry.collection):
        return Step.NOTHING
    if entry.status in ("pending", "unknown"):
        return Step.READ_LIVE
    if entry.op == "delete":
        return Step.RECORD_DELETE
    if entry.initial and head_has_key:
        return Step.NOTHING  # a get-or-set default for a key that exists changes nothing
    if entry.body is None:
        return Step.READ_LIVE  # the body could not be read when the request was made
    return Step.RECORD_BODY
