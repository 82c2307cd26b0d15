"""A module's text as the PMS wrote it, indexed so a write costs what its change costs.

For a module whose value is an array, ModuleText keeps where each element's text starts and
ends, each element's digest (SHA-256 of its canonical text, format 2) and each record's id.
``splice`` compares a new text of the module with this one: the common prefix and suffix are
found by comparing text, and only the elements in between are parsed. It returns the elements
that changed (old and new), enough to diff them, and the new index, whose module hash is
updated from the changed elements' digests. Parsed values are never kept.

Module hash (format 2): for an array, SHA-256 of ``[`` followed by the raw 32-byte digests of
its elements in order; for any other value, SHA-256 of its canonical text.
"""

from __future__ import annotations

import hashlib
import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Generator
from dataclasses import dataclass, replace
from hashlib import sha256 as _sha256
from typing import cast

from app.core.formats.array_text import (
    Ends,
    common_prefix,
    common_suffix,
    finish,
    finish_stepwise,
    parse_element,
    scan_array,
    scan_window,
    skip,
)
from app.core.formats.format import FORMAT_VERSION
from app.core.formats.json_value import (
    Json,
    canonical_pair,
    canonical_text,
    compact_json,
    parse_json,
)
from app.core.formats.record_ids import RecordIds

#: The formats whose saved indexes are read (their layout and hashes are the same).
INDEX_FORMATS = (2, 3, 4)


def element_digest(value: Json) -> tuple[bytes, str]:
    """The element's digest and its canonical text."""
    text, data = canonical_pair(value)
    return _sha256(data).digest(), text


def module_hash_of(value: Json) -> str:
    """The format-2 module hash of a value (see the module docstring)."""
    if type(value) is list:
        digest = hashlib.sha256(b"[")
        for element in value:
            digest.update(element_digest(element)[0])
        return digest.hexdigest()
    return hashlib.sha256(canonical_text(value).encode("utf-8")).hexdigest()


def record_id(value: Json) -> str | None:
    if type(value) is dict:
        rid = value.get("id")
        if type(rid) is str:
            return rid
    return None


@dataclass
class Window:
    """Where a splice changed an array: elements ``old[start:start+len(old)]`` became
    ``new`` (parsed), at the same ``start``; everything else is unchanged."""

    start: int
    old: list[Json]
    new: list[Json]


@dataclass
class ModuleText:
    text: str
    module_hash: str
    #: False when the text is not the canonical text of its value (whitespace, number
    #: spellings, escapes): its canonical text must then be written out to store it.
    canonical: bool
    is_array: bool = False
    #: Element offsets and lengths, 8 bytes each (a list would take 36 per element).
    starts: array[int] | None = None
    lengths: array[int] | None = None
    digests: bytearray | None = None
    ids: RecordIds | None = None
    #: Elements whose text is not canonical.
    odd: int = 0
    #: The sum of ``lengths``.
    total: int = 0
    #: Every element is a record (an object with a string ``id``) and the ids are unique: the
    #: array is diffed record by record, matched by id.
    records: bool = False

    # ---- building -------------------------------------------------------------------------

    @classmethod
    def build(cls, text: str) -> ModuleText:
        """Index ``text`` (ValueError if it is not one JSON value)."""
        module: ModuleText = finish(cls._build_steps(text))
        return module

    @classmethod
    async def build_stepwise(cls, text: str) -> ModuleText:
        """build, letting other tasks run between steps (a large module takes seconds)."""
        module: ModuleText = await finish_stepwise(cls._build_steps(text))
        return module

    @classmethod
    def _build_steps(cls, text: str) -> Generator[None, None, ModuleText]:
        digests = bytearray()
        ids: list[str | None] = []
        odd = 0

        def index(start: int, length: int, value: Json) -> None:
            # Each element is hashed as it is read and then dropped: the parsed values of a
            # large module would take ten times its text.
            nonlocal odd
            digest, canonical = element_digest(value)
            digests.extend(digest)
            ids.append(record_id(value))
            if len(canonical) != length or text[start:start + length] != canonical:
                odd += 1

        array = yield from scan_array(text, index)
        if array is None:
            value = parse_json(text)
            canonical = canonical_text(value)
            return cls(text, hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
                       canonical == text)
        starts, lengths, _ = array
        module = cls(text, "", False, True, _int64(starts), _int64(lengths), digests, RecordIds.of(ids), odd,
                     sum(lengths), _unique_records(ids))
        module._rehash()
        return module

    @classmethod
    def tiled(cls, text: str, starts: array[int], lengths: array[int], digests: bytearray,
              ids: RecordIds, records: bool) -> ModuleText:
        """The index of an array text whose every element's text is its canonical text, from
        its parts (see formats.tiling, which checks them)."""
        module = cls(text, "", False, True, starts, lengths, digests, ids, 0, sum(lengths), records)
        module._rehash()
        return module

    def _rehash(self, text_length: int | None = None) -> None:
        assert self.digests is not None and self.lengths is not None
        self.module_hash = hashlib.sha256(b"[" + self.digests).hexdigest()
        count = len(self.lengths)
        framing = 2 + self.total + max(count - 1, 0)
        length = len(self.text) if text_length is None else text_length
        self.canonical = self.odd == 0 and framing == length

    # ---- the saved index (meta/index/<key>) ------------------------------------------------

    def text_hash(self) -> str:
        """SHA-256 of the text's UTF-8 (what a saved index names its text by)."""
        return hash_text(self.text)

    def detached(self) -> ModuleText:
        """This index without its text (which the store holds): ``attached`` puts it back."""
        return replace(self, text="")

    def attached(self, text: str) -> ModuleText:
        return replace(self, text=text)

    def encode_index(self, text_hash: str | None = None, text_length: int | None = None) -> bytes:
        """The index of an array module as stored under ``meta/index/<key>``: a JSON header
        line, then the element starts and lengths (little-endian int64), digests and record
        ids (RecordIds.encode: their ends and flags, then their text). A cache:
        a start reads it back instead of parsing the module again. ``text_hash`` and
        ``text_length``: the text's, when this index is detached from it."""
        assert self.is_array and self.starts is not None and self.lengths is not None
        assert self.digests is not None and self.ids is not None
        starts, lengths = array("q", self.starts), array("q", self.lengths)
        if sys.byteorder == "big":  # pragma: no cover - the browser and CI are little-endian
            starts.byteswap()
            lengths.byteswap()
        offsets = starts.tobytes() + lengths.tobytes()
        id_table, id_text = self.ids.encode()
        header = compact_json({
            "formatVersion": FORMAT_VERSION, "moduleHash": self.module_hash,
            "textHash": text_hash or hash_text(self.text), "textLength": text_length or len(self.text),
            "offsetsHash": _sha256(offsets).hexdigest(), "count": len(self.starts), "odd": self.odd,
            "idBytes": len(id_text), "records": self.records,
        })
        return header + b"\n" + offsets + bytes(self.digests) + id_table + id_text

    @staticmethod
    def is_current_index(data: bytes) -> bool:
        """Whether a saved index is in the layout encode_index writes (its ids packed after the
        digests), not an earlier one (which a writer replaces)."""
        return b'"idBytes":' in data[:max(data.find(b"\n"), 0)]

    @staticmethod
    def header_names(line: bytes, module_hash: str, text_hash: str) -> int | None:
        """The text length a saved index's header line (its bytes before the first newline)
        names, if it is a header of the current layout naming ``module_hash`` and ``text_hash``,
        with its offsets' hash; None otherwise. The rest of the index is checked when it is read
        (``from_index_detached``)."""
        try:
            header = parse_json(line)
        except ValueError:
            return None
        if (not isinstance(header, dict) or header.get("formatVersion") not in INDEX_FORMATS
                or header.get("moduleHash") != module_hash or header.get("textHash") != text_hash
                or type(header.get("idBytes")) is not int or type(header.get("count")) is not int
                or not isinstance(header.get("offsetsHash"), str)):
            return None
        length = header.get("textLength")
        return length if type(length) is int and length >= 0 else None

    @classmethod
    def from_index(cls, text: str, data: bytes, module_hash: str) -> ModuleText | None:
        """The index saved by encode_index, if it is the index of exactly ``text`` with
        ``module_hash`` (checked: the text's hash, the sizes, the offsets' hash when saved, the
        module hash over the digests, and a sample of elements parsed again); None otherwise
        (build it then)."""
        found = cls._read_index(data, module_hash, hash_text(text), need_length=False)
        if found is None:
            return None
        module = found[0].attached(text)
        module._rehash()
        return module if module.sample_holds() else None

    @classmethod
    def from_index_detached(cls, data: bytes, module_hash: str,
                            text_hash: str) -> tuple[ModuleText, int] | None:
        """The index saved by encode_index, without its text, and the text's length, if it is
        the index of the text whose hash is ``text_hash`` (the stored head text's, hashed by the
        store) with ``module_hash`` (checked: the sizes, the offsets' hash and the module hash
        over the digests; its elements are checked when the text is attached for a write, by its
        hash); None otherwise, or for an index saved without its text's length or offsets' hash."""
        return cls._read_index(data, module_hash, text_hash, need_length=True)

    @classmethod
    def _read_index(cls, data: bytes, module_hash: str, text_hash: str,
                    *, need_length: bool) -> tuple[ModuleText, int] | None:
        """The saved index (with no text) and its text's length (-1 when not saved), if its
        header names ``module_hash`` and ``text_hash``, its sizes agree, its offsets hash to
        ``offsetsHash`` (required with ``need_length``, else checked when present) and its
        digests to ``module_hash``."""
        try:
            split = data.find(b"\n")
            header = parse_json(data[:split]) if split >= 0 else None
            if not isinstance(header, dict) or header.get("formatVersion") not in INDEX_FORMATS:
                return None
            # The binary part is read through a view: no copy of it but the digests kept.
            rest = memoryview(data)[split + 1:]
            count, length = header.get("count"), header.get("textLength", -1)
            offsets_hash, odd = header.get("offsetsHash"), header.get("odd")
            # The ids: packed after the digests ("idBytes", with "records"), or (as written
            # before) a list in the header ("ids").
            id_bytes, records, listed = header.get("idBytes"), header.get("records"), header.get("ids")
            if (type(count) is not int or count < 0 or type(length) is not int or type(odd) is not int
                    or header.get("moduleHash") != module_hash or header.get("textHash") != text_hash
                    or (need_length and (length < 0 or offsets_hash is None))):
                return None
            if id_bytes is None:
                if (not isinstance(listed, list) or len(listed) != count
                        or not all(rid is None or type(rid) is str for rid in listed)
                        or len(rest) != 48 * count):
                    return None
            elif (type(id_bytes) is not int or type(records) is not bool
                    or len(rest) != 53 * count + id_bytes):
                return None
            if offsets_hash is not None and offsets_hash != _sha256(rest[:16 * count]).hexdigest():
                return None
            if id_bytes is None:
                listed_ids = cast(list[str | None], listed)
                ids: RecordIds | None = RecordIds.of(listed_ids)
                records = _unique_records(listed_ids)
            else:
                ids = RecordIds.decode(count, rest[48 * count:53 * count], rest[53 * count:])
            if ids is None:
                return None
            del header, listed
            starts, lengths = array("q"), array("q")
            starts.frombytes(rest[:8 * count])
            lengths.frombytes(rest[8 * count:16 * count])
            if sys.byteorder == "big":  # pragma: no cover
                starts.byteswap()
                lengths.byteswap()
            module = cls("", module_hash, False, True, starts, lengths,
                         bytearray(rest[16 * count:48 * count]), ids, odd,
                         sum(lengths), bool(records))
        except (ValueError, KeyError, TypeError):
            return None
        module._rehash(max(length, 0))
        if module.module_hash != module_hash:
            return None
        return module, length

    def sample_holds(self) -> bool:
        """A few elements (first, last, spread between) parse where the index says, hash to
        its digests and have its record ids."""
        assert self.starts is not None and self.lengths is not None and self.digests is not None
        count = len(self.starts)
        for index in sorted({0, count - 1, count // 3, 2 * count // 3} if count else set()):
            start, length = self.starts[index], self.lengths[index]
            try:
                value, end = parse_element(self.text, start)
            except ValueError:
                return False
            if end != start + length or element_digest(value)[0] != bytes(
                    self.digests[32 * index:32 * index + 32]):
                return False
            if self.ids is not None and self.ids[index] != record_id(value):
                return False
        return True

    def canonical_bytes(self) -> bytes:
        """The canonical text of the module's value, UTF-8 (what a checkpoint stores)."""
        if self.canonical:
            return self.text.encode("utf-8")
        return canonical_text(parse_json(self.text)).encode("utf-8")

    def value(self) -> Json:
        return parse_json(self.text)

    def element(self, index: int) -> Json:
        assert self.starts is not None and self.lengths is not None
        start = self.starts[index]
        return parse_element(self.text, start)[0]

    # ---- splicing -------------------------------------------------------------------------

    def splice(self, text: str) -> tuple[ModuleText, Window] | None:
        """The index of ``text`` and the window of elements that differ from this one's, or
        None when the texts are not both arrays that differ in a window (build it whole then).
        Raises ValueError when the new text is not JSON where it differs."""
        if not self.is_array or not text.startswith("[", skip(text, 0)):
            return None
        assert self.starts is not None and self.lengths is not None and self.ids is not None
        assert self.digests is not None
        old = self.text
        prefix = common_prefix(old, text)
        suffix = common_suffix(old, text, min(len(old), len(text)) - prefix)
        opening = old.index("[")
        closing = old.rindex("]")
        if prefix <= opening or suffix < len(old) - closing:
            return None
        count = len(self.starts)
        ends = Ends(self.starts, self.lengths)
        first = bisect_left(ends, prefix)  # elements ending before the prefix ends are kept
        last = bisect_right(self.starts, len(old) - suffix)  # from here on, kept (shifted)
        last = max(last, first)
        shift = len(text) - len(old)
        begin = self.starts[first - 1] + self.lengths[first - 1] if first else opening + 1
        stop = self.starts[last] + shift if last < count else closing + shift
        if first == 0 and last == count:
            return None  # every element may have changed: build the whole index
        parsed = scan_window(text, begin, stop, lead=first > 0, tail=last < count)
        if parsed is None:
            return None
        new_starts, new_lengths, new_values = parsed
        old_values = [self.element(index) for index in range(first, last)]
        digests = bytearray()
        new_ids: list[str | None] = []
        odd_new = 0
        for start, length, value in zip(new_starts, new_lengths, new_values, strict=True):
            digest, canonical = element_digest(value)
            digests += digest
            new_ids.append(record_id(value))
            if len(canonical) != length or text[start:start + length] != canonical:
                odd_new += 1
        odd_old = sum(
            1 for index in range(first, last)
            if self.digests[32 * index:32 * index + 32] != hashlib.sha256(
                old[self.starts[index]:self.starts[index] + self.lengths[index]].encode("utf-8")
            ).digest()
        ) if self.odd else 0
        starts = self.starts[:first] + array("q", new_starts)
        if shift:
            starts += array("q", [start + shift for start in self.starts[last:]])
        else:
            starts += self.starts[last:]
        module = ModuleText(
            text, "", False, True, starts,
            self.lengths[:first] + array("q", new_lengths) + self.lengths[last:],
            self.digests[:32 * first] + digests + self.digests[32 * last:],
            self.ids.spliced(first, last, new_ids),
            self.odd - odd_old + odd_new,
            self.total - sum(self.lengths[first:last]) + sum(new_lengths),
        )
        assert module.ids is not None
        module.records = self._still_records(first, last, new_ids, module.ids)
        module._rehash()
        return module, Window(first, old_values, new_values)

    def _still_records(self, first: int, last: int, new_ids: list[str | None], ids: RecordIds) -> bool:
        """Whether the spliced array is a record array: checked on the window alone when this
        one was (an id of the window must not occur outside it), else on the whole."""
        if not self.records:
            return ids.all_records()
        if None in new_ids or len(set(new_ids)) != len(new_ids):
            return False
        assert self.ids is not None
        gone = set(self.ids.window(first, last))
        fresh = [rid for rid in new_ids if rid not in gone]
        if len(fresh) > 16:
            outside = {rid for index, rid in enumerate(self.ids) if not first <= index < last}
            return not any(rid in outside for rid in fresh)
        # Not in the window (so outside it, if anywhere in the old ids).
        return not any(next(self.ids.positions(rid), None) is not None
                       for rid in fresh if rid is not None)


#: Texts are hashed this many characters at a time (never a UTF-8 copy of a whole large module:
#: the engine's memory never shrinks once grown).
HASH_CHUNK = 1 << 20


def hash_text(text: str) -> str:
    """SHA-256 of ``text``'s UTF-8, hex (what a saved index names its text by)."""
    return text_digest(text)[0]


def text_digest(text: str) -> tuple[str, int]:
    """SHA-256 of ``text``'s UTF-8, hex, and the length of that UTF-8."""
    digest = _sha256()
    length = 0
    for at in range(0, len(text), HASH_CHUNK):  # a slice never splits a code point
        chunk = text[at:at + HASH_CHUNK].encode("utf-8", "surrogatepass")
        digest.update(chunk)
        length += len(chunk)
    return digest.hexdigest(), length


def _int64(values: list[int]) -> array[int]:
    return array("q", values)


def _unique_records(ids: list[str | None]) -> bool:
    return None not in ids and len(set(ids)) == len(ids)


__all__ = ["ModuleText", "Window", "element_digest", "hash_text", "module_hash_of", "record_id"]
