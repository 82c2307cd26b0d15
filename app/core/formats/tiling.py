"""Tiling: where the elements of an array module are, as the browser found them, and the index
(ModuleText) made from it by hashing each element's text without parsing it.

The browser (static/backstay/tiling.mjs) reads a module with its own JSON and checks that the
text is exactly each element's ``JSON.stringify`` joined by commas between brackets: then each
element's text is its canonical text (docs/FORMAT.md, "Canonical text"), and its digest is the
SHA-256 of that text. This module checks what it is told (the framing of every element, and a
sample of elements parsed again here: their end, canonical text and id) and refuses a tiling
that does not hold, so that the index is then built by parsing (``ModuleText.build``).
"""

from __future__ import annotations

from array import array
from collections.abc import Generator
from dataclasses import dataclass
from hashlib import sha256

from app.core.formats.array_text import finish, finish_stepwise, parse_element
from app.core.formats.json_value import canonical_text
from app.core.formats.module_text import ModuleText, record_id
from app.core.formats.record_ids import RecordIds

#: How many elements are hashed between two yields of ``index_steps``.
STEP = 2000


@dataclass(frozen=True)
class Tiling:
    """Each element's start and length (in code points) in the module's text, their record ids,
    whether they are records (every element has an id, no two the same), and the text's length
    in code points."""

    starts: array[int]
    lengths: array[int]
    ids: RecordIds
    records: bool
    length: int


def index(text: str, tiling: Tiling) -> ModuleText | None:
    """The index of ``text`` from ``tiling``; None when the tiling does not hold."""
    module: ModuleText | None = finish(index_steps(text, tiling))
    return module


async def index_stepwise(text: str, tiling: Tiling) -> ModuleText | None:
    """``index``, letting other tasks run between steps."""
    module: ModuleText | None = await finish_stepwise(index_steps(text, tiling))
    return module


def index_steps(text: str, tiling: Tiling) -> Generator[None, None, ModuleText | None]:
    """``index``, yielding every STEP elements (a large module takes a second)."""
    starts, lengths = tiling.starts, tiling.lengths
    count = len(starts)
    if (len(text) != tiling.length or len(lengths) != count or len(tiling.ids) != count
            or not text.startswith("[") or not text.endswith("]") or (count == 0 and text != "[]")):
        return None
    digests = bytearray()
    expected = 1  # where the next element starts: after "[" or ","
    try:
        for element in range(count):
            start, length = starts[element], lengths[element]
            end = start + length
            if start != expected or length <= 0 or text[end] != ("]" if element == count - 1 else ","):
                return None
            digests += sha256(text[start:end].encode("utf-8")).digest()
            expected = end + 1
            if element % STEP == STEP - 1:
                yield
    except (IndexError, UnicodeEncodeError):  # past the text; a lone surrogate (not canonical)
        return None
    if expected != (len(text) if count else 1):  # after the closing bracket ("[]": at it)
        return None
    for element in sorted({0, count - 1, count // 3, 2 * count // 3} if count else set()):
        start, length = starts[element], lengths[element]
        try:
            value, end = parse_element(text, start)
        except ValueError:
            return None
        if (end != start + length or canonical_text(value) != text[start:end]
                or record_id(value) != tiling.ids[element]):
            return None
    return ModuleText.tiled(text, array("q", starts), array("q", lengths), digests, tiling.ids,
                            tiling.records)


__all__ = ["STEP", "Tiling", "index", "index_stepwise", "index_steps"]
