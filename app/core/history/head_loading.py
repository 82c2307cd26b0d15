"""Reading the head pointer from a store, consistently while other writers commit: its stored
records at once, then (format 4) the versions that followed them (docs/FORMAT.md, "Head
pointer", Reading)."""

from __future__ import annotations

from typing import cast

from app.core.errors import CorruptData
from app.core.formats.format import check_format_version
from app.core.history.head import HEAD_KEY, KEY_PREFIX, SPLIT_FORMAT, HeadPointer
from app.core.history.head_members import json_object
from app.core.ports import VersionStore

#: How often a head pointer that another writer moved while it was read is read again.
LOAD_ATTEMPTS = 5


async def load_head(store: VersionStore) -> HeadPointer | None:
    """The stored pointer (None when there is none). Raises CorruptData, UnknownFormatVersion.

    ``meta/head`` and its per-key records are read at once (``prefixed``: one consistent
    read, one transaction in the browser), so another tab's commit cannot land between them;
    in format 4 the versions after the one they name are then read and followed, and the
    records read again: a pointer whose records changed meanwhile (another writer rewrote
    some of them, then committed a version) is read again. A read that does not check out
    (its stateHash) is still read again while ``meta/head`` moves (a store that reads them
    apart); only one that never does is corruption."""
    for attempt in range(LOAD_ATTEMPTS):
        values = await store.prefixed("meta", HEAD_KEY)
        stored = values.get(HEAD_KEY)
        if stored is None:
            return None
        obj = json_object(stored, "head pointer")
        check_format_version(obj, "head pointer")
        if cast(int, obj["formatVersion"]) < SPLIT_FORMAT:
            return HeadPointer.from_dict(obj, {})
        records = {name[len(KEY_PREFIX):]: data for name, data in values.items()
                   if name.startswith(KEY_PREFIX)}
        try:
            head = HeadPointer.from_dict(obj, records)
            if head.has_tail:
                head = head.follow_all(await store.after("versions", head.version_id or ""))
        except CorruptData:
            if attempt == LOAD_ATTEMPTS - 1 or await store.get("meta", HEAD_KEY) == stored:
                raise  # the pointer did not move while it was read: it is corrupt
            continue
        if not head.has_tail or head.tail == 0 or await store.prefixed("meta", HEAD_KEY) == values:
            return head
    raise CorruptData("the head pointer kept moving while it was read")
