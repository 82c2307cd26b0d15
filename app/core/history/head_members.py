"""Reading the head pointer's records (``meta/head``, ``meta/head/<key>``, and a version's
``head`` member): a record's JSON object, and the members that say, per KV key, its last live
read, drain progress and head text (``liveReads``/``liveRead``, ``drainedEnds``/``drainedEnd``,
``drainedWrites``/``drainedWrite``, ``headText``), and which keys' head texts are stale
(``staleHeads``, before format 4). Each is checked: CorruptData for one of the wrong shape,
except ``headText``, a hint ignored when odd (docs/FORMAT.md, "Head pointer"). ``moduleHash``
and ``stale`` are checked where a key's record is read (``head._put_key``)."""

from __future__ import annotations

from typing import cast

from app.core.errors import CorruptData
from app.core.formats.json_value import Json, parse_json


def json_object(data: bytes, what: str) -> dict[str, Json]:
    """``data`` parsed: a JSON object, or CorruptData naming ``what``."""
    try:
        obj = parse_json(data)
    except ValueError as error:
        raise CorruptData(f"{what} is not JSON: {error}") from None
    if not isinstance(obj, dict):
        raise CorruptData(f"{what} is not a JSON object")
    return obj


def head_text(raw: Json) -> tuple[str, int] | None:
    """The optional ``headText`` member ([SHA-256 hex, length]). Only a hint that spares reading
    the live value: one of another shape is ignored (the value is then read and compared)."""
    if (isinstance(raw, list) and len(raw) == 2 and isinstance(raw[0], str) and len(raw[0]) == 64
            and all(c in "0123456789abcdef" for c in raw[0]) and type(raw[1]) is int and raw[1] >= 0):
        return raw[0], raw[1]
    return None


def live_reads(raw: Json) -> dict[str, tuple[int, int]]:
    """The optional ``liveReads`` member: {key: [start, end]}."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CorruptData("head pointer: liveReads is not an object")
    reads: dict[str, tuple[int, int]] = {}
    for key, span in raw.items():
        if not (isinstance(span, list) and len(span) == 2 and all(type(t) is int for t in span)):
            raise CorruptData(f"head pointer: liveReads[{key!r}] is not [start, end]")
        reads[key] = (cast(int, span[0]), cast(int, span[1]))
    return reads


def drained_writes(raw: Json) -> dict[str, tuple[str, int]]:
    """The optional ``drainedWrites`` member: {key: [tab, tabSeq]}."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CorruptData("head pointer: drainedWrites is not an object")
    writes: dict[str, tuple[str, int]] = {}
    for key, write in raw.items():
        if not (isinstance(write, list) and len(write) == 2 and isinstance(write[0], str)
                and type(write[1]) is int):
            raise CorruptData(f"head pointer: drainedWrites[{key!r}] is not [tab, tabSeq]")
        writes[key] = (write[0], write[1])
    return writes


def stale_heads(raw: Json) -> tuple[str, ...]:
    """The optional ``staleHeads`` member: [key, ...]."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(key, str) for key in raw):
        raise CorruptData("head pointer: staleHeads is not a list of keys")
    return tuple(sorted(set(cast(list[str], raw))))


def drained_ends(raw: Json) -> dict[str, int]:
    """The optional ``drainedEnds`` member: {key: ms}."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(type(value) is int for value in raw.values()):
        raise CorruptData("head pointer: drainedEnds is not an object of integers")
    return {key: cast(int, value) for key, value in raw.items()}
