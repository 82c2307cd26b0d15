"""Reading the head pointer's records (``meta/head``, ``meta/head/<key>``, and a version's
``head`` member): a record's JSON object, and the members that say, per KV key, its last live
read, drain progress and head text (``liveReads``/``liveRead``, ``drainedEnds``/``drainedEnd``,
``drainedWrites``/``drainedWrite``, ``headText``), and which keys' head texts are stale
(``staleHeads``, before format 4). Each is checked: CorruptData for one of the wrong shape,
except ``headText``, a hint ignored when odd (docs/FORMAT.md, "Head pointer"). ``moduleHash``
and ``stale`` are checked where a key's record is read (``head._put_key``)."""

from __future__ import annotations

from collections.abc import Callable
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
    pairs = _pairs(raw, "liveReads", "[start, end]", lambda pair: all(type(t) is int for t in pair))
    return {key: (cast(int, start), cast(int, end)) for key, (start, end) in pairs.items()}


def drained_writes(raw: Json) -> dict[str, tuple[str, int]]:
    """The optional ``drainedWrites`` member: {key: [tab, tabSeq]}."""
    pairs = _pairs(raw, "drainedWrites", "[tab, tabSeq]",
                   lambda pair: isinstance(pair[0], str) and type(pair[1]) is int)
    return {key: (cast(str, tab), cast(int, seq)) for key, (tab, seq) in pairs.items()}


def _pairs(raw: Json, member: str, shape: str,
           valid: Callable[[list[Json]], bool]) -> dict[str, tuple[Json, Json]]:
    """An optional member {key: [a, b]} (absent: {}), each pair of the ``shape`` ``valid`` checks."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CorruptData(f"head pointer: {member} is not an object")
    pairs: dict[str, tuple[Json, Json]] = {}
    for key, pair in raw.items():
        if not (isinstance(pair, list) and len(pair) == 2 and valid(pair)):
            raise CorruptData(f"head pointer: {member}[{key!r}] is not {shape}")
        pairs[key] = (pair[0], pair[1])
    return pairs


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
