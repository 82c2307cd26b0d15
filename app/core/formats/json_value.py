"""JSON values: the type, strict parsing, strict equality and the canonical encoding.

Parsing reads every RFC 8259 text, and every value it gives can be encoded back exactly: numbers
beyond the range of a double are kept as RawNumber, strings with lone surrogates (JavaScript
writes ``"\\ud83d"`` for half an emoji) are encoded with the same escape.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal
from itertools import chain, compress, repeat
from json.encoder import c_make_encoder as _c_make_encoder  # type: ignore[attr-defined]
from json.encoder import encode_basestring as _encode_string
from math import isinf
from operator import is_, itemgetter
from typing import TypeAlias

Json: TypeAlias = "dict[str, Json] | list[Json] | str | int | float | bool | RawNumber | None"

#: A JSON number token (RFC 8259): sign, integer part, fraction, exponent.
_NUMBER_TOKEN = re.compile(r"(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?")
#: The normal form of a RawNumber's token.
_RAW_TOKEN = re.compile(r"-?[1-9](?:\.[0-9]*[1-9])?e\+[1-9][0-9]*")


@dataclass(frozen=True, slots=True)
class RawNumber:
    """A JSON number beyond the range of a double (``1e400``), kept exactly as its token.

    JavaScript reads such a number as +-Infinity and Python as ``float('inf')``, which JSON
    cannot write. The token is in normal form, ``-?D(.DDD)?e+N``: one non-zero digit, the
    other significant digits without trailing zeros, and the decimal exponent (``1E+999`` is
    ``1e+999``, ``12.50e399`` is ``1.25e+400``). Equal numbers have equal tokens, so ``==`` and
    ``hash`` are exact; a RawNumber equals no other type. It is encoded as the bare token.
    """

    token: str

    def __post_init__(self) -> None:
        if not (_RAW_TOKEN.fullmatch(self.token) and isinf(float(self.token))):
            raise ValueError(f"{self.token!r} is not a number beyond double range in normal form")

    @classmethod
    def from_token(cls, token: str) -> RawNumber:
        """The RawNumber of any JSON number token beyond double range; ValueError otherwise."""
        match = _NUMBER_TOKEN.fullmatch(token)
        if match is None:
            raise ValueError(f"{token!r} is not a JSON number")
        sign, whole, fraction, exponent = match.groups()
        digits = whole + (fraction or "")
        significant = digits.lstrip("0").rstrip("0")
        if not significant:
            raise ValueError(f"{token!r} is zero, not beyond double range")
        # The power of ten of the first significant digit, relative to the written exponent.
        shift = len(whole) - 1 - (len(digits) - len(digits.lstrip("0")))
        mantissa = significant[0] + ("." + significant[1:] if len(significant) > 1 else "")
        return cls(f"{sign}{mantissa}e+{_shifted(exponent or '0', shift)}")


def _shifted(exponent: str, shift: int) -> str:
    """``int(exponent) + shift`` as text, for exponents longer than ``int()`` converts."""
    context = Context(prec=len(exponent) + 24, Emax=MAX_EMAX, Emin=MIN_EMIN)
    return str(context.add(Decimal(exponent), Decimal(shift)))


def _refuse_constant(name: str) -> Json:
    raise ValueError(f"{name} is not JSON")


#: Integral numbers up to this magnitude are read as integers, whatever their spelling.
_SAFE_INTEGER = 2**53


def _number(token: str) -> int | float | RawNumber:
    number = float(token)
    if number.is_integer() and -_SAFE_INTEGER <= number <= _SAFE_INTEGER:
        return int(number)
    if isinf(number):
        return RawNumber.from_token(token)
    return number


def _integer(token: str) -> int | float | RawNumber:
    try:
        return _big_integer(int(token))
    except ValueError:  # more digits than int() converts (sys.get_int_max_str_digits)
        return RawNumber.from_token(token)


def _big_integer(number: int) -> int | float | RawNumber:
    """An integer beyond 2**53 in its one form: a double when a double holds it exactly (so
    ``1000000000000000000000`` and ``1e+21`` are one number) or JavaScript writes that double
    so (``12345678901234567000`` is the double 12345678901234567168: canonical text reads back
    as the same value), RawNumber beyond double range, else the exact int."""
    if -_SAFE_INTEGER <= number <= _SAFE_INTEGER:
        return number
    try:
        double = float(number)
    except OverflowError:
        return RawNumber.from_token(str(number))
    return double if int(double) == number or js_number(double) == str(number) else number


def _integer_v1(token: str) -> int | RawNumber:
    """Format 1's integers: exact, whatever their size (RawNumber past int()'s digit limit)."""
    try:
        return int(token)
    except ValueError:
        return RawNumber.from_token(token)


def parse_json(text: str | bytes, *, format_version: int = 2) -> Json:
    """Parse standard JSON text; raise ValueError for anything else (NaN and Infinity included).

    JSON has one number type: ``150.0`` and ``150`` are the same number (JavaScript writes the
    latter), so integral numbers within +-2**53 are read as ``int`` and compare and hash alike.
    Other numbers are read as doubles (``1e-400`` is 0, as in JavaScript), integers exactly;
    numbers no double holds (``1e400``) and integers too long for ``int()`` as RawNumber.
    Strings keep lone surrogates (``"\\udc00"``) as they are. ``format_version=1`` reads
    integers as format 1 did: every integer token exactly (objects stored in format 1 hash so).
    """
    value: Json = json.loads(text, parse_constant=_refuse_constant, parse_float=_number,
                             parse_int=_integer if format_version != 1 else _integer_v1)
    return value


def canonical_json(value: Json) -> bytes:
    """The canonical encoding: sorted keys, no whitespace, UTF-8 (not ASCII-escaped); lone
    surrogates as ``\\udxxx`` (lowercase hex, as JavaScript's JSON.stringify writes them),
    RawNumber as its token."""
    return _encode(value, sort_keys=True)


def canonical_text(value: Json) -> str:
    """Format 2's canonical text: what JavaScript's ``JSON.stringify`` writes for the value.

    Members in their order, no whitespace, numbers in JavaScript's spelling (js_number),
    strings escaped as JSON.stringify escapes them (``"``, ``\\``, control characters, lone
    surrogates as ``\\udxxx``), everything else as UTF-8; RawNumber as its token.
    """
    return canonical_pair(value)[0]


def canonical_bytes(value: Json) -> bytes:
    """canonical_text as UTF-8."""
    return canonical_pair(value)[1]


def canonical_pair(value: Json) -> tuple[str, bytes]:
    """canonical_text and its UTF-8 encoding (made together: the encoding finds surrogates)."""
    text = _fast_compact(value)
    if text is None or _python_exponent(text):
        # Python spells some doubles otherwise (1e+16, 1e-05); rare, so write them one by one.
        parts: list[str] = []
        _exact(value, False, parts, js_numbers=True)
        text = "".join(parts)
    try:
        return text, text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: only inside strings, each becomes an escape
        text = _SURROGATE.sub(_escape_surrogate, text)
        return text, text.encode("utf-8")


def _not_json(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is not a JSON type")


# Python's C encoder, made once: compact, member order kept, no circular check (JSON values
# are trees). Its doubles are spelled as Python spells them (see _python_exponent).
_COMPACT = (
    _c_make_encoder(None, _not_json, _encode_string, None, ":", ",", False, False, False)
    if _c_make_encoder is not None else None
)


def _fast_compact(value: Json) -> str | None:
    """Compact JSON of ``value`` by C code, or None when it holds a RawNumber."""
    try:
        if _COMPACT is not None:
            return "".join(_COMPACT(value, 0))
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except TypeError:
        return None


#: An exponent as Python writes one (``1e+16``, ``1.5e-07``), or the ``.0`` of an integral
#: double beyond 2**53 (``9007199254740994.0``), if preceded by a digit.
_EXPONENT = re.compile(r"e[+-][0-9]|\.0(?![0-9])")


def _python_exponent(text: str) -> bool:
    return any(match.start() and text[match.start() - 1] in "0123456789"
               for match in _EXPONENT.finditer(text))


def js_number(number: float) -> str:
    """How JavaScript writes a double (ECMAScript Number::toString): the shortest digits that
    read back as the same double, positional from 1e-7 up to 1e21, else ``d.ddde+N``."""
    if number == 0:
        return "0"
    text = repr(number)
    sign = "-" if text[0] == "-" else ""
    mantissa, _, exponent = text.lstrip("-").partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + int(exponent or "0")  # the decimal point's position in ``digits``
    leading = len(digits) - len(digits.lstrip("0"))
    digits = digits[leading:].rstrip("0")
    point -= leading
    count = len(digits)
    if count <= point <= 21:
        return sign + digits + "0" * (point - count)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    power = point - 1
    mantissa = digits if count == 1 else digits[0] + "." + digits[1:]
    return f"{sign}{mantissa}e{'+' if power >= 0 else '-'}{abs(power)}"


def compact_json(value: object) -> bytes:
    """Compact UTF-8 JSON for stored objects (key order kept); exact like canonical_json."""
    return _encode(value, sort_keys=False)


def copy_json(value: Json) -> Json:
    """A deep copy of a JSON value: its objects and arrays are new, its scalars shared."""
    kind = type(value)
    if kind is dict:
        return {key: copy_json(member) for key, member in value.items()}  # type: ignore[union-attr]
    if kind is list:
        return [copy_json(element) for element in value]  # type: ignore[union-attr]
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_surrogate(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _encode(value: object, *, sort_keys: bool) -> bytes:
    # The fast path is the C encoder; values holding a RawNumber or a lone surrogate are rare.
    try:
        text = json.dumps(value, sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
    except TypeError:  # a RawNumber (or something that is not JSON: _exact raises again)
        parts: list[str] = []
        _exact(value, sort_keys, parts)
        text = "".join(parts)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: only inside strings, each becomes an escape
        return _SURROGATE.sub(_escape_surrogate, text).encode("utf-8")


def _exact(value: object, sort_keys: bool, parts: list[str], *, js_numbers: bool = False) -> None:
    """Append the compact JSON of ``value`` to ``parts`` (lone surrogates left unescaped);
    doubles in JavaScript's spelling with ``js_numbers``."""
    if isinstance(value, RawNumber):
        parts.append(value.token)
    elif js_numbers and type(value) is float:
        parts.append(js_number(value))
    elif isinstance(value, dict):
        items = sorted(value.items(), key=itemgetter(0)) if sort_keys else value.items()
        parts.append("{")
        for index, (key, member) in enumerate(items):
            if not isinstance(key, str):
                raise TypeError(f"keys must be str, not {type(key).__name__}")
            parts.append(("," if index else "") + json.dumps(key, ensure_ascii=False) + ":")
            _exact(member, sort_keys, parts, js_numbers=js_numbers)
        parts.append("}")
    elif isinstance(value, (list, tuple)):
        parts.append("[")
        for index, element in enumerate(value):
            if index:
                parts.append(",")
            _exact(element, sort_keys, parts, js_numbers=js_numbers)
        parts.append("]")
    else:  # strings, numbers, booleans, null; TypeError or ValueError for anything else
        parts.append(json.dumps(value, ensure_ascii=False, allow_nan=False))


def json_equal(a: Json, b: Json) -> bool:
    """Equality of JSON texts' values: like ``==`` but ``true`` is not ``1``, ``1`` is not
    ``1.0``, and objects are equal only with their members in the same order (format 2 keeps
    the order the PMS wrote)."""
    return a == b and _same_types(a, b)


def same_types_bulk(left: list[Json], right: list[Json]) -> bool:
    """Whether aligned pairs of values, known to be ``==``, also have the same types and member
    order throughout.

    Works level by level with C-speed iterators, so checking thousands of unchanged records is
    cheap. False may also mean "objects with a different member order": check pair by pair then.
    """
    while left:
        types = list(map(type, left))
        if types != list(map(type, right)):
            return False
        dicts = list(map(is_, types, repeat(dict)))
        lists = list(map(is_, types, repeat(list)))
        if not (any(dicts) or any(lists)):
            return True
        if any(dicts) and list(map(list, compress(left, dicts))) != list(  # type: ignore[arg-type]
                map(list, compress(right, dicts))):  # type: ignore[arg-type]
            return False  # members in another order
        left = _children(left, dicts, lists)
        right = _children(right, dicts, lists)
        if len(left) != len(right):
            return False
    return True


def _children(values: list[Json], dicts: list[bool], lists: list[bool]) -> list[Json]:
    members = chain.from_iterable(map(dict.values, compress(values, dicts)))  # type: ignore[arg-type]
    elements = chain.from_iterable(compress(values, lists))  # type: ignore[arg-type]
    return [*members, *elements]


def _same_types(a: Json, b: Json) -> bool:
    # Precondition: a == b. Only bool/int/float can be equal across types.
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is dict:
        other: dict[str, Json] = b  # type: ignore[assignment]
        for (key, value), other_key in zip(a.items(), other, strict=True):  # type: ignore[union-attr]
            if key != other_key:  # same members, another order
                return False
            paired = other[key]
            value_kind = type(value)
            if value_kind is not type(paired):
                return False
            if (value_kind is dict or value_kind is list) and not _same_types(value, paired):
                return False
        return True
    if kind is list:
        for value, paired in zip(a, b, strict=True):  # type: ignore[arg-type]
            value_kind = type(value)
            if value_kind is not type(paired):
                return False
            if (value_kind is dict or value_kind is list) and not _same_types(value, paired):
                return False
    return True
