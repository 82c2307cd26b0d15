"""validate_json: is a request body one JSON value (RFC 8259) in UTF-8? Checked in bounded memory.

json.loads over a 200 MB body would hold the body ~5 times over (the text, then the Python
objects) and keep the GIL for seconds. Here the body is decoded a window at a time (_CHUNK bytes)
and each value that fits the window is checked by the json module's C scanner, one value per
call: what it builds is dropped at once, and the GIL is free between calls. An array or object
still open after _MAX_ATTEMPT characters is walked member by member instead, at any depth. A
single string or number longer than the window is checked whole (the window grows to hold it).

The rules and error messages are those of ``json.loads(body.decode("utf-8"))``, with one
difference: integers longer than Python's int-conversion limit (4,300 digits) are valid JSON and
accepted (json.loads raised ValueError). NaN, Infinity and -Infinity are refused (browsers'
JSON.parse rejects them); 1e400 and lone-surrogate escapes such as "\\ud800" are accepted, as
JSON.parse accepts them. When the body is both not UTF-8 and not JSON, the UTF-8 error is the one
reported, as when the whole body was decoded first. Nesting deeper than the C scanner's recursion
limit (about 1,000 levels) is refused as too deep to check.
"""

from __future__ import annotations

import codecs
import json
import mmap
import re
from collections.abc import Callable
from typing import NoReturn

Buffer = bytes | bytearray | memoryview | mmap.mmap

#: Bytes decoded per step.
_CHUNK = 256 << 10
#: An array or object not yet closed after this many characters is checked member by member.
#: With _CHUNK, this bounds the text one scanner call reads, so the GIL is never held long.
_MAX_ATTEMPT = 256 << 10
#: Containers walked into, at most (the C scanner refuses ~1,000 levels below each on its own).
_MAX_WALK_DEPTH = 1000
#: A scanner error this close to the end of the decoded window may be caused by the cut.
_NEAR_END = 16
_NOT_WHITESPACE = re.compile(r"[^ \t\n\r]")
_NEXT_ITEM = re.compile(r"[ \t\n\r]*,[ \t\n\r]*")
_NEXT_MEMBER = re.compile(r'[ \t\n\r]*,[ \t\n\r]*(?=")')
_NAME_SEPARATOR = re.compile(r"[ \t\n\r]*:[ \t\n\r]*")
_CLOSER = {"[": "]", "{": "}"}
_VALUE, _FIRST, _AFTER = 0, 1, 2


class InvalidJson(ValueError):
    """The body is not UTF-8 text of exactly one JSON value; the message says where and why."""


class _RefusedConstant(Exception):
    pass


def _refuse_constant(name: str) -> object:
    raise _RefusedConstant(name)


# The values are dropped, so objects are not built (object_pairs_hook=len) and integers are not
# converted (parse_int=len): their digits are checked by the scanner's pattern, and int() fails
# beyond 4,300 digits.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_int=len, object_pairs_hook=len)
#: The decoder's C scanner: (text, index) -> (value, end); raises StopIteration at no value.
_SCAN: Callable[[str, int], tuple[object, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def validate_json(body: Buffer) -> None:
    """Return if `body` is UTF-8 text of exactly one JSON value; raise InvalidJson otherwise.

    Leading and trailing JSON whitespace is allowed; a byte order mark is not. Memory used is a
    few MiB beyond `body` (plus the size of the largest single string or number). Thread-safe.
    """
    _Validation(body).run()


class _Validation:
    """One pass over one body: a decoded window `text` of the body, read at `pos`."""

    def __init__(self, body: Buffer) -> None:
        self._view = memoryview(body).cast("B")
        self._decoded = 0  # bytes of the body decoded so far
        self._done = False  # every byte decoded
        self.text = ""
        self.pos = 0
        self._base = 0  # characters of the body before text[0]
        self._lines = 0  # newlines before text[0]
        self._line_start = -1  # absolute index of the last newline before text[0]

    def run(self) -> None:
        stack: list[str] = []
        state = _VALUE
        while True:
            if state == _AFTER and stack:
                self._skip_members(stack[-1] == "{")
            self._skip_whitespace()
            char = self._peek()
            if state == _VALUE:
                if not char or (char == "\ufeff" and not self._base + self.pos):
                    self._fail("Unexpected UTF-8 BOM (decode using utf-8-sig)" if char else "Expecting value",
                               self.pos)
                if self._whole_value(container=char in _CLOSER):
                    state = _AFTER
                elif len(stack) >= _MAX_WALK_DEPTH:
                    self._too_deep()
                else:
                    stack.append(char)
                    self.pos += 1
                    state = _FIRST
            elif not stack:
                break
            elif char == _CLOSER[stack[-1]]:
                stack.pop()
                self.pos += 1
                state = _AFTER
            elif state == _AFTER and char != ",":
                self._fail("Expecting ',' delimiter", self.pos)
            else:
                if state == _AFTER:
                    self.pos += 1
                    if stack[-1] == "{":
                        self._skip_whitespace()
                if stack[-1] == "{":
                    self._member_name()
                state = _VALUE
        if self.pos < len(self.text):
            self._fail("Extra data", self.pos)

    def _whole_value(self, *, container: bool) -> bool:
        """Check the value at pos with the C scanner and step over it; False: walk into it."""
        while True:
            try:
                _, end = _DECODER.raw_decode(self.text, self.pos)
            except RecursionError:
                self._too_deep()
            except _RefusedConstant as refused:
                self._check_rest_is_utf8()
                raise InvalidJson(f"the body is not JSON: {refused} is not valid JSON") from None
            except json.JSONDecodeError as error:
                cut = error.msg.startswith("Unterminated string") or error.pos >= len(self.text) - _NEAR_END
                if not cut or self._done:
                    self._fail(error.msg, error.pos)
                if container and len(self.text) - self.pos >= _MAX_ATTEMPT:
                    return False
                self._grow()
                continue
            if end > len(self.text) - _NEAR_END and not self._done:
                self._grow()  # a number may go on past the window: check it again, whole
                continue
            self.pos = end
            return True

    def _skip_members(self, named: bool) -> None:
        """After a member of a walked container: step over the next members while each fits well
        inside the window and is valid (the common case, at two or three C calls a member). The
        general loop checks whatever stops this, error or window end, again."""
        text, pos, limit = self.text, self.pos, len(self.text) - _NEAR_END
        separator = _NEXT_MEMBER if named else _NEXT_ITEM
        try:
            while True:
                found = separator.match(text, pos)
                if found is None:
                    break
                start = found.end()
                if named:
                    _, start = _SCAN(text, start)
                    found = _NAME_SEPARATOR.match(text, start)
                    if found is None:
                        break
                    start = found.end()
                if start >= limit:
                    break
                _, end = _SCAN(text, start)
                if end >= limit:
                    break
                pos = end
        except (StopIteration, ValueError, RecursionError, _RefusedConstant):
            pass
        self.pos = pos

    def _member_name(self) -> None:
        if self._peek() != '"':
            self._fail("Expecting property name enclosed in double quotes", self.pos)
        self._whole_value(container=False)
        self._skip_whitespace()
        if self._peek() != ":":
            self._fail("Expecting ':' delimiter", self.pos)
        self.pos += 1

    def _skip_whitespace(self) -> None:
        while True:
            found = _NOT_WHITESPACE.search(self.text, self.pos)
            if found:
                self.pos = found.start()
                return
            self.pos = len(self.text)
            if not self._more():
                return

    def _peek(self) -> str:
        while self.pos >= len(self.text):
            if not self._more():
                return ""
        return self.text[self.pos]

    def _grow(self) -> None:
        """At least double the window after pos (so a long value is scanned O(1) times over)."""
        self._more(wanted=2 * (len(self.text) - self.pos))

    def _more(self, wanted: int = 0) -> bool:
        """Decode the next chunk(s) onto the window, until it holds `wanted` characters after pos,
        dropping what is behind pos; False at the end of the body."""
        if self._done:
            return False
        parts = [self._decode_next()]
        size = len(self.text) - self.pos + len(parts[0])
        while size < wanted and not self._done:
            parts.append(self._decode_next())
            size += len(parts[-1])
        if self.pos:
            behind = self.pos
            newlines = self.text.count("\n", 0, behind)
            if newlines:
                self._lines += newlines
                self._line_start = self._base + self.text.rfind("\n", 0, behind)
            self._base += behind
            self.text = self.text[behind:]
            self.pos = 0
        self.text += "".join(parts)
        return True

    def _decode_next(self) -> str:
        start = self._decoded
        end = min(start + _CHUNK, len(self._view))
        final = end == len(self._view)
        try:
            decoded, used = codecs.utf_8_decode(self._view[start:end], "strict", final)
        except UnicodeDecodeError as error:
            raise InvalidJson(f"the body is not UTF-8 text (byte {start + error.start})") from None
        self._decoded += used
        self._done = final
        return decoded

    def _check_rest_is_utf8(self) -> None:
        while not self._done:
            self._decode_next()

    def _too_deep(self) -> NoReturn:
        self._check_rest_is_utf8()
        raise InvalidJson("the body is JSON nested too deeply to check") from None

    def _fail(self, message: str, pos: int) -> NoReturn:
        line = self._lines + self.text.count("\n", 0, pos) + 1
        last = self.text.rfind("\n", 0, pos)
        column = pos - last if last >= 0 else self._base + pos - self._line_start
        where = f"line {line} column {column} (char {self._base + pos})"
        self._check_rest_is_utf8()  # a UTF-8 error anywhere is the one reported
        raise InvalidJson(f"the body is not JSON: {message}: {where}")
