"""Where the elements of an array's JSON text are, and what two texts of it share.

The scanning half of module_text: elements are read one at a time by Python's C scanner with
parse_json's number rules (never the whole array at once), optionally a step at a time so a
large array does not hold up other tasks; and the common prefix and suffix of two texts are
found by comparing blocks of text, not by parsing.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Generator, Sequence
from typing import Any

from app.core.formats.json_value import Json, _integer, _number

_WHITESPACE = re.compile(r"[ \t\n\r]*")
#: Block size of the prefix/suffix comparison (compared with one slice comparison each).
_BLOCK = 1 << 16


def _refuse_constant(name: str) -> Json:
    raise ValueError(f"{name} is not JSON")


# Python's C scanner with parse_json's rules for numbers.
_SCAN = json.JSONDecoder(parse_float=_number, parse_int=_integer,  # type: ignore[attr-defined]
                         parse_constant=_refuse_constant).scan_once


def parse_element(text: str, start: int) -> tuple[Json, int]:
    """The element starting at ``start`` and where it ends; ValueError if there is none."""
    try:
        value, end = _SCAN(text, start)
    except StopIteration:
        raise ValueError(f"expected a JSON value at offset {start}") from None
    except RecursionError:
        raise ValueError(f"the value at offset {start} is nested too deeply to read") from None
    return value, end


class Ends:
    """The end offsets of the elements, as a sequence bisect can search without building it."""

    def __init__(self, starts: Sequence[int], lengths: Sequence[int]) -> None:
        self._starts = starts
        self._lengths = lengths

    def __len__(self) -> int:
        return len(self._starts)

    def __getitem__(self, index: int) -> int:
        return self._starts[index] + self._lengths[index]


def common_prefix(a: str, b: str) -> int:
    limit = min(len(a), len(b))
    position = 0
    while position < limit and a[position:position + _BLOCK] == b[position:position + _BLOCK]:
        position += _BLOCK
    position = min(position, limit)
    low, high = position, min(position + _BLOCK, limit)
    # a[:low] == b[:low]; find the first difference in [low, high) by halving
    while low < high:
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def common_suffix(a: str, b: str, limit: int) -> int:
    """Length of the common suffix of ``a`` and ``b``, at most ``limit``."""
    length = 0
    la, lb = len(a), len(b)
    while length < limit:
        step = min(_BLOCK, limit - length)
        if a[la - length - step:la - length] != b[lb - length - step:lb - length]:
            break
        length += step
    else:
        return length
    low, high = length, min(length + _BLOCK, limit)
    while low < high:
        middle = (low + high + 1) // 2
        if a[la - middle:la - low] == b[lb - middle:lb - low]:
            low = middle
        else:
            high = middle - 1
    return low


def skip(text: str, position: int) -> int:
    return _WHITESPACE.match(text, position).end()  # type: ignore[union-attr]


def scan_array(
    text: str, sink: Callable[[int, int, Json], None]
) -> Generator[None, None, _Scan]:
    """Starts and lengths of the elements, if ``text`` is one JSON array; each element is
    handed to ``sink`` (start, length, value) as it is read."""
    position = skip(text, 0)
    if not text.startswith("[", position):
        return None
    closing = text.rindex("]") if "]" in text else -1
    if closing < 0 or skip(text, closing + 1) != len(text):
        raise ValueError("the text is not one JSON value")
    result = yield from scan_steps(text, position + 1, closing, False, False, sink)
    if result is None:
        raise ValueError("the text is not a JSON array")
    return result


#: How many elements a stepwise scan reads between two yields.
STEP = 500

_Scan = tuple[list[int], list[int], list[Json]] | None


def scan_window(
    text: str, begin: int, stop: int, *, lead: bool, tail: bool,
    sink: Callable[[int, int, Json], None] | None = None,
) -> _Scan:
    """Parse the elements of an array's text between ``begin`` and ``stop``.

    ``lead``: an element ends at ``begin`` (so a comma comes first). ``tail``: an element
    starts at ``stop`` (so each element read is followed by a comma); else ``stop`` is the
    array's closing bracket. None when the text there is not such a run of elements.
    """
    scanned: _Scan = finish(scan_steps(text, begin, stop, lead, tail, sink))
    return scanned


def finish(steps: Generator[None, None, Any]) -> Any:
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


async def finish_stepwise(steps: Generator[None, None, Any]) -> Any:
    """``finish``, letting other tasks run between steps."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value
        await asyncio.sleep(0)


def scan_steps(
    text: str, begin: int, stop: int, lead: bool, tail: bool,
    sink: Callable[[int, int, Json], None] | None,
) -> Generator[None, None, _Scan]:
    """_scan_window, yielding after every STEP elements."""
    starts: list[int] = []
    lengths: list[int] = []
    values: list[Json] = []
    position = skip(text, begin)
    if lead and (tail or position != stop):
        if position >= stop or text[position] != ",":
            return None
        position = skip(text, position + 1)
        if not tail and position == stop:
            return None  # a comma before the closing bracket
    while position != stop:
        if position > stop:
            return None
        if starts and not tail:
            if text[position] != ",":
                return None
            position = skip(text, position + 1)
        value, end = parse_element(text, position)
        if end > stop:
            return None
        starts.append(position)
        lengths.append(end - position)
        if sink is None:
            values.append(value)
        else:
            sink(position, end - position, value)
        if len(starts) % STEP == 0:
            yield
        position = skip(text, end)
        if tail:
            if position >= stop or text[position] != ",":
                return None
            position = skip(text, position + 1)
    return starts, lengths, values
