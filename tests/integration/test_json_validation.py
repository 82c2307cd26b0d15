"""validate_json (app/server/json_validation.py): the rules of json.loads over UTF-8, checked a
window at a time. Tiny windows make every value straddle a window edge and every container be
walked, so the same bodies are checked under several window sizes against json.loads itself."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.server import json_validation
from app.server.json_validation import InvalidJson, validate_json

#: (bytes decoded per step, characters before a container is walked member by member)
WINDOWS = [(4, 1), (5, 8), (9, 3), (64, 8), (128, 1), (1 << 20, 2 << 20)]


@pytest.fixture(params=WINDOWS, ids=lambda window: f"chunk{window[0]}-attempt{window[1]}")
def window(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    chunk, attempt = request.param
    monkeypatch.setattr(json_validation, "_CHUNK", chunk)
    monkeypatch.setattr(json_validation, "_MAX_ATTEMPT", attempt)
    yield


class _Constant(Exception):
    pass


def _refuse(name: str) -> object:
    raise _Constant(name)


def reference(body: bytes) -> str | None:
    """What json.loads says of `body`: None if valid, else the error message validate_json gives."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"the body is not UTF-8 text (byte {error.start})"
    try:
        json.loads(text, parse_constant=_refuse, parse_int=len)
    except json.JSONDecodeError as error:
        return f"the body is not JSON: {error}"
    except _Constant as constant:
        return f"the body is not JSON: {constant} is not valid JSON"
    except RecursionError:
        return "the body is JSON nested too deeply to check"
    return None


def verdict(body: bytes) -> str | None:
    try:
        validate_json(bytearray(body))
    except InvalidJson as invalid:
        return str(invalid)
    return None


VALID = [
    b"[]", b"{}", b"0", b"-0.5e-3", b'""', b"true", b"null", b' \n\t\r[1, 2] \n',
    b"1e400", b"[1e400, -1e400]", b'"\\ud800"', b'["\\udfff", "\\ud83d\\ude00", "\\u00e9"]',
    "[\"é\", \"客房\", \"🛏\"]".encode(), b"123456789" * 1000, b'{"a": {"b": [1, {"c": null}]}, "a": 2}',
    b'{"id": "g-1", "notes": "' + b"x" * 300 + b'"}',
]
INVALID = [
    b"", b" ", b"not json", b"[1, 2", b"[1,]", b"{'a': 1}", b'{"a" 1}', b'{"a": 1,}', b"[1] [2]",
    b"NaN", b"[Infinity]", b"[-Infinity]", b"\xff\xfe[]", b"\xef\xbb\xbf[]", b"undefined", b"01",
    b"1.", b"-", b'"\\x"', b'"\\u12"', b'"tab\there"', b"[1 2]", b'{"a": 1 "b": 2}', b"[\"\xed\xa0\x80\"]",
    b"[" + b"1, " * 40 + b"nul]", b"[" * 3000 + b"]" * 3000, b'{"a": [1, 2, {"b": tru}]}',
]


@pytest.mark.parametrize("body", VALID)
def test_valid_bodies_are_accepted(window: None, body: bytes) -> None:
    assert reference(body) is None
    assert verdict(body) is None


@pytest.mark.parametrize("body", INVALID)
def test_invalid_bodies_are_refused_with_json_loads_message(window: None, body: bytes) -> None:
    expected = reference(body)
    assert expected is not None
    assert verdict(body) == expected


def test_a_utf8_error_is_reported_before_an_earlier_json_error(window: None) -> None:
    body = b'[1, oops, "' + b"x" * 100 + b'\xc3"]'
    assert verdict(body) == reference(body) == "the body is not UTF-8 text (byte 111)"


def test_integers_beyond_python_s_conversion_limit_are_valid_json() -> None:
    assert verdict(b"[" + b"7" * 5000 + b"]") is None


def test_deep_nesting_is_refused_as_too_deep_in_any_window(window: None) -> None:
    assert verdict(b"[" * 100_000 + b"]" * 100_000) == "the body is JSON nested too deeply to check"
    assert verdict(b'{"a":' * 5000 + b"1" + b"}" * 5000) == "the body is JSON nested too deeply to check"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=6), children, max_size=5),
    max_leaves=25,
)
MUTATIONS = st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(
    [b"", b",", b"]", b"}", b"[", b"{", b":", b'"', b"\\", b" ", b"1", b".", b"e", b"-", b"\x01", b"\xc3",
     b"NaN", b"tru"])), max_size=3)


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES, indent=st.sampled_from([None, 1]), cuts=MUTATIONS,
       window=st.sampled_from(WINDOWS))
def test_agrees_with_json_loads(value: object, indent: int | None, cuts: list[tuple[int, bytes]],
                                window: tuple[int, int]) -> None:
    body = json.dumps(value, indent=indent, ensure_ascii=False).encode()
    for at, insert in cuts:  # splice junk in, or (empty insert) drop a byte
        at %= len(body) + 1
        body = body[:at] + insert + body[at + (0 if insert else 1):]
    chunk, attempt = window
    saved = json_validation._CHUNK, json_validation._MAX_ATTEMPT
    json_validation._CHUNK, json_validation._MAX_ATTEMPT = chunk, attempt
    try:
        assert verdict(body) == reference(body)
    finally:
        json_validation._CHUNK, json_validation._MAX_ATTEMPT = saved
