"""The mark a restore leaves while it writes, and what to do when one was interrupted.

Before its first write to the store, a restore stores ``meta/restore/pending``: for every key it
writes, the SHA-256 of the key's text before and after (null: the key is absent). It is removed
once the restore is recorded. Found at a start (the page closed half-way, the store stopped
answering), it is settled from what the store holds now:

* every key holds its "after" text, or the mark says every write was applied (``applied``, set
  once the last write succeeded): the restore is recorded (``finish``) for the keys that still
  hold their "after" text, unless the head already has it (``recorded``); a key someone wrote
  since is left to that write;
* no key holds its "after" text: nothing was applied (``nothing``);
* otherwise it was applied half-way and is rolled back: the keys that hold their "after" text
  get their "before" text back (the head still has it). A key holding neither was written by
  someone else since; it is left as it is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal, cast

from app.core.errors import CorruptData
from app.core.formats.format import FORMAT_VERSION, check_format_version
from app.core.formats.json_value import Json, compact_json, parse_json

PENDING_KEY = "restore/pending"
Outcome = Literal["recorded", "finish", "nothing", "roll-back"]


def text_hash(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PendingRestore:
    id: str
    started_at: int
    user: str
    description: str
    keys: dict[str, tuple[str | None, str | None]]  # key -> (hash before, hash after)
    details: dict[str, Json] = field(default_factory=dict)  # for the audit entry
    applied: bool = False  # every write reached the store; only recording it was left

    def encode(self) -> bytes:
        return compact_json({
            "formatVersion": FORMAT_VERSION, "id": self.id, "startedAt": self.started_at,
            "user": self.user, "description": self.description,
            "keys": {key: {"before": before, "after": after}
                     for key, (before, after) in self.keys.items()},
            "details": self.details, "applied": self.applied,
        })

    @classmethod
    def decode(cls, data: bytes) -> PendingRestore:
        try:
            raw = cast(dict[str, Json], parse_json(data))
            check_format_version(raw, "pending restore")
            keys = cast(dict[str, dict[str, Json]], raw["keys"])
            return cls(str(raw["id"]), int(cast(int, raw["startedAt"])), str(raw["user"]),
                       str(raw["description"]),
                       {key: (cast("str | None", item["before"]), cast("str | None", item["after"]))
                        for key, item in keys.items()},
                       cast(dict[str, Json], raw.get("details") or {}),
                       raw.get("applied") is True)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise CorruptData(f"the pending restore mark is unreadable: {error}") from None


@dataclass
class Recovery:
    outcome: Outcome
    #: roll-back: the texts to write back (None: delete the key); finish: the texts to record.
    texts: dict[str, str | None] = field(default_factory=dict)
    #: keys someone else wrote since (left as they are).
    others: list[str] = field(default_factory=list)


def plan_recovery(
    pending: PendingRestore, live: dict[str, str | None], head: dict[str, str | None]
) -> Recovery:
    """``live``: each key's text in the store now; ``head``: its head text (None: absent)."""
    after = [key for key, (_, want) in pending.keys.items() if text_hash(live[key]) == want]
    others = [key for key, (was, want) in pending.keys.items()
              if text_hash(live[key]) not in (was, want)]
    if pending.applied and after:  # all of it was written: record what still holds it
        if all(live[key] == head[key] for key in after):
            return Recovery("recorded", others=others)
        return Recovery("finish", {key: live[key] for key in after}, others)
    if len(after) == len(pending.keys):
        if all(live[key] == head[key] for key in after):
            return Recovery("recorded")
        return Recovery("finish", {key: live[key] for key in after})
    if not after:
        return Recovery("nothing", others=others)
    back = {key: head[key] for key in after if text_hash(head[key]) == pending.keys[key][0]}
    others += [key for key in after if key not in back]
    return Recovery("roll-back", back, others)
