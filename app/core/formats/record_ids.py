"""RecordIds: the record id of each element of an array module (its string ``id``, or None for
an element that is not a record), packed into one string and a table of where each ends.

A list of 150,000 id strings costs about 60 bytes an id in the engine's memory, which never
shrinks; packed, an id costs its characters, 4 bytes of offset and 1 byte of flag. The index of
a module (ModuleText) keeps one of these per array module for as long as the engine runs.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator

#: Each id's end offset in the packed text: 32-bit (a module text, and so its ids, is far
#: shorter than 2**31 characters; JavaScript strings cannot be longer).
OFFSET = "i"


class RecordIds:
    __slots__ = ("_text", "_ends", "_absent")

    def __init__(self, text: str, ends: array[int], absent: bytearray) -> None:
        self._text = text
        self._ends = ends
        self._absent = absent

    @classmethod
    def of(cls, ids: Iterable[str | None]) -> RecordIds:
        parts: list[str] = []
        ends = array(OFFSET)
        absent = bytearray()
        end = 0
        for rid in ids:
            if rid is None:
                absent.append(1)
            else:
                parts.append(rid)
                end += len(rid)
                absent.append(0)
            ends.append(end)
        return cls("".join(parts), ends, absent)

    def __len__(self) -> int:
        return len(self._ends)

    def _start(self, index: int) -> int:
        return self._ends[index - 1] if index else 0

    def __getitem__(self, index: int) -> str | None:
        if index < 0:
            index += len(self._ends)
        if self._absent[index]:
            return None
        return self._text[self._start(index):self._ends[index]]

    def __iter__(self) -> Iterator[str | None]:
        start = 0
        for end, absent in zip(self._ends, self._absent, strict=True):
            yield None if absent else self._text[start:end]
            start = end

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RecordIds):
            return NotImplemented
        return (self._text, self._ends, self._absent) == (other._text, other._ends, other._absent)

    def encode(self) -> tuple[bytes, bytes]:
        """(the ends, little-endian int32, then one flag byte per element: 1 for no id;
        the ids' text, UTF-8 with surrogates passed through), as a saved index stores them."""
        ends = array(OFFSET, self._ends)
        if sys.byteorder == "big":  # pragma: no cover - the browser and CI are little-endian
            ends.byteswap()
        return ends.tobytes() + bytes(self._absent), self._text.encode("utf-8", "surrogatepass")

    @classmethod
    def decode(cls, count: int, table: memoryview | bytes, text: memoryview | bytes) -> RecordIds | None:
        """The ids ``encode`` wrote for ``count`` elements; None when they do not fit together
        (ValueError for text that is not UTF-8)."""
        if len(table) != 5 * count:
            return None
        ends = array(OFFSET)
        ends.frombytes(table[:4 * count])
        if sys.byteorder == "big":  # pragma: no cover
            ends.byteswap()
        absent = bytearray(table[4 * count:])
        decoded = str(text, "utf-8", "surrogatepass")
        previous = 0
        for end, flag in zip(ends, absent, strict=True):  # never backwards, nor past the text
            if end < previous or flag > 1 or (flag and end != previous):
                return None
            previous = end
        if previous != len(decoded):
            return None
        return cls(decoded, ends, absent)

    def window(self, first: int, last: int) -> list[str | None]:
        """The ids of elements ``first`` to ``last`` (excluded)."""
        return [self[index] for index in range(first, last)]

    def to_list(self) -> list[str | None]:
        return list(self)

    def spliced(self, first: int, last: int, new: list[str | None]) -> RecordIds:
        """These ids with those of elements ``first`` to ``last`` (excluded) replaced by ``new``."""
        window = RecordIds.of(new)
        head_end = self._start(first)
        tail_start = self._start(last)
        shift = head_end + len(window._text) - tail_start
        tail = self._ends[last:]
        ends = self._ends[:first] + array(OFFSET, map(head_end.__add__, window._ends))
        ends += array(OFFSET, map(shift.__add__, tail)) if shift else tail
        return RecordIds(self._text[:head_end] + window._text + self._text[tail_start:], ends,
                         self._absent[:first] + window._absent + self._absent[last:])

    def positions(self, rid: str) -> Iterator[int]:
        """The elements whose id is ``rid``, in order."""
        if not rid:  # the empty id: an element whose id takes no characters and is present
            start = 0
            for index, (end, absent) in enumerate(zip(self._ends, self._absent, strict=True)):
                if end == start and not absent:
                    yield index
                start = end
            return
        at = self._text.find(rid)
        while at >= 0:
            index = bisect_right(self._ends, at)  # the id whose characters hold offset ``at``
            if (index < len(self._ends) and self._start(index) == at
                    and self._ends[index] == at + len(rid)):
                yield index
            at = self._text.find(rid, at + 1)

    def all_records(self) -> bool:
        """Every element is a record (has an id) and no two share one."""
        if any(self._absent):
            return False
        return len(set(self)) == len(self._ends)


__all__ = ["RecordIds"]
