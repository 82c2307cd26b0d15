"""JSON values: the type, strict parsing, strict equality and the canonical encoding."""

from __future__ import annotations

import json
from itertools import chain, compress, repeat
from operator import is_
from typing import TypeAlias

Json: TypeAlias = "dict[str, Json] | list[Json] | str | int | float | bool | None"


def _refuse_constant(name: str) -> Json:
    raise ValueError(f"{name} is not JSON")


#: Integral numbers up to this magnitude are read as integers, whatever their spelling.
_SAFE_INTEGER = 2**53


def _number(token: str) -> int | float:
    number = float(token)
    if number.is_integer() and -_SAFE_INTEGER <= number <= _SAFE_INTEGER:
        return int(number)
    return number


def parse_json(text: str | bytes) -> Json:
    """Parse standard JSON text; raise ValueError for anything else (NaN and Infinity included).

    JSON has one number type: ``150.0`` and ``150`` are the same number (JavaScript writes the
    latter), so integral numbers within +-2**53 are read as ``int`` and compare and hash alike.
    """
    value: Json = json.loads(text, parse_constant=_refuse_constant, parse_float=_number)
    return value


def may_hold_booleans(*texts: str) -> bool:
    """False only when no JSON text holds a boolean: then, for values read by parse_json,
    Python's ``==`` is exact JSON equality (no ``true == 1``, and numbers are normalised)."""
    return any("true" in text or "false" in text for text in texts)


def canonical_json(value: Json) -> bytes:
    """The canonical encoding: sorted keys, no whitespace, UTF-8 (not ASCII-escaped)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def compact_json(value: object) -> bytes:
    """Compact UTF-8 JSON for stored objects (key order kept)."""
    return json.dumps(
        value, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def json_equal(a: Json, b: Json) -> bool:
    """Equality of JSON values: like ``==`` but ``true`` is not ``1`` and ``1`` is not ``1.0``."""
    return a == b and _same_types(a, b)


def same_types_bulk(left: list[Json], right: list[Json]) -> bool:
    """Whether aligned pairs of values, known to be ``==``, also have the same types throughout.

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
        for key, value in a.items():  # type: ignore[union-attr]
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
