from __future__ import annotations

import copy
import dataclasses
import json
import pickle

import pytest

from app.core.formats.json_value import (
    Json,
    RawNumber,
    canonical_bytes,
    canonical_json,
    canonical_text,
    compact_json,
    copy_json,
    json_equal,
    parse_json,
    same_types_bulk,
)


def test_parse_refuses_non_json_and_normalises_numbers() -> None:
    for bad in ["NaN", "[Infinity]", "-Infinity", "{", ""]:
        with pytest.raises(ValueError):
            parse_json(bad)
    value = parse_json('{"a": 150.0, "b": 1.5, "c": -0.0, "d": 1e300, "e": 2e0}')
    assert value == {"a": 150, "b": 1.5, "c": 0, "d": 1e300, "e": 2}
    assert isinstance(value, dict) and type(value["a"]) is int and type(value["d"]) is float


def test_canonical_json_sorts_and_keeps_unicode() -> None:
    assert canonical_json({"b": 1, "a": ["é", None]}) == '{"a":["é",null],"b":1}'.encode()


def test_json_equal_tells_types_apart() -> None:
    assert json_equal({"a": [1, {"b": True}]}, {"a": [1, {"b": True}]})
    assert not json_equal({"a": [1, {"b": True}]}, {"a": [1, {"b": 1}]})
    assert not json_equal(1, 1.0) and not json_equal([0], [False])
    assert same_types_bulk([{"a": [1]}], [{"a": [1]}])
    assert not same_types_bulk([{"a": [1]}], [{"a": [True]}])


# ---- unusual JSON that JavaScript and other clients write --------------------------------

HIGH, LOW = "\ud83d", "\ude00"  # the two halves of U+1F600


def _roundtrips(value: Json) -> bytes:
    encoded = canonical_json(value)
    encoded.decode("utf-8")  # valid UTF-8 ...
    json.loads(encoded)  # ... and valid JSON for any reader
    assert parse_json(encoded) == value  # the same value; format 1's sorted members
    exact = canonical_bytes(value)  # format 2: member order kept
    assert json_equal(parse_json(exact), value) and canonical_bytes(parse_json(exact)) == exact
    assert parse_json(compact_json(value)) == value
    return encoded


@pytest.mark.parametrize(("text", "value", "encoded"), [
    ('"\\ud83d"', HIGH, b'"\\ud83d"'),
    ('"\\uDE00"', LOW, b'"\\ude00"'),
    ('"a\\ud83dz"', f"a{HIGH}z", b'"a\\ud83dz"'),
    ('"\\ude00\\ud83d"', LOW + HIGH, b'"\\ude00\\ud83d"'),  # the wrong order is two lone halves
    ('"\\\\\\ud83d"', "\\" + HIGH, b'"\\\\\\ud83d"'),  # a backslash, then the half
])
def test_lone_surrogates_read_and_encode_as_javascript_writes_them(
    text: str, value: str, encoded: bytes,
) -> None:
    assert parse_json(text) == value
    assert _roundtrips(value) == encoded


def test_a_surrogate_pair_stays_one_character() -> None:
    value = parse_json('"\\ud83d\\ude00"')
    assert value == "\U0001f600" and isinstance(value, str) and len(value) == 1
    assert canonical_json(value) == '"\U0001f600"'.encode()


@pytest.mark.parametrize(("text", "token"), [
    ("1e400", "1e+400"), ("-1e400", "-1e+400"), ("1E+999", "1e+999"), ("1.0e400", "1e+400"),
    ("12.50e399", "1.25e+400"), ("0.001e403", "1e+400"), ("-123456789012345678901e300",
                                                         "-1.23456789012345678901e+320"),
    ("1" + "0" * 5000, "1e+5000"), ("7" + "0" * 4999 + "1", "7." + "0" * 4999 + "1e+5000"),
    ("1e" + "9" * 5000, "1e+" + "9" * 5000),
])
def test_numbers_beyond_double_range_are_raw_numbers_in_normal_form(text: str, token: str) -> None:
    value = parse_json(text)
    assert value == RawNumber(token) and isinstance(value, RawNumber) and value.token == token
    assert _roundtrips(value) == token.encode()
    assert _roundtrips([value, {"n": value}]) == f'[{token},{{"n":{token}}}]'.encode()


def test_raw_numbers_compare_and_hash_only_as_the_same_number() -> None:
    big = parse_json("1e400")
    assert big == parse_json("10e399") == parse_json("1.000E+400")
    assert hash(big) == hash(parse_json("0.1e401"))
    assert big != parse_json("-1e400") and big != parse_json("2e400")
    assert big != 1e308 and big != 10**400 and big != float("inf") and big != "1e+400"
    assert not json_equal([big], [10**400]) and json_equal({"a": big}, {"a": parse_json("1e400")})
    assert same_types_bulk([{"a": big}], [{"a": parse_json("1e400")}])
    assert len({big, parse_json("1E400"), parse_json("-1e400")}) == 2
    assert copy.deepcopy(big) == big and pickle.loads(pickle.dumps(big)) == big
    with pytest.raises(dataclasses.FrozenInstanceError):
        big.token = "2e+400"  # type: ignore[misc]


@pytest.mark.parametrize("token", ["1e400", "1e+300", "1e+0400", "+1e+400", "1.50e+400", "1.5",
                                   "0e+400", "Infinity", "1e+400 "])
def test_raw_numbers_hold_only_normal_tokens_beyond_double_range(token: str) -> None:
    with pytest.raises(ValueError):
        RawNumber(token)


@pytest.mark.parametrize("token", ["1e300", "0e999", "-0.0e400", "1.5", "x", "01e400", "1e"])
def test_from_token_refuses_numbers_a_double_holds_and_non_numbers(token: str) -> None:
    with pytest.raises(ValueError):
        RawNumber.from_token(token)


def test_numbers_below_double_range_read_as_javascript_reads_them() -> None:
    # 1e-400 and 0 are the same double (JavaScript's JSON.parse gives 0 for both), as
    # 0.1000000000000000000001 and 0.1 are: values are doubles, only overflow is kept as a token.
    assert parse_json("[1e-400, -1e-400, 1.7976931348623157e308]") == [0, 0, 1.7976931348623157e308]
    assert canonical_json(parse_json("1e-400")) == b"0"
    # The boundary is where a double overflows: just below it rounds to the largest double.
    assert canonical_json(parse_json("1.7976931348623158e308")) == b"1.7976931348623157e+308"
    assert parse_json("1.7976931348623159e308") == RawNumber("1.7976931348623159e+308")


def test_integers_have_one_form() -> None:
    # Beyond 2**53: a double when a double holds the integer exactly (one number, two
    # spellings), the exact integer when none does, a RawNumber beyond double range.
    digits = "1" + "0" * 400
    assert parse_json(f"[{digits}, -{digits}]") == [RawNumber("1e+400"), RawNumber("-1e+400")]
    assert parse_json(f"[{digits}]") == parse_json("[1e400]")
    assert parse_json("[1000000000000000000000, 1e+21]") == [1e21, 1e21]
    assert type(parse_json("1000000000000000000000")) is float
    assert parse_json("12345678901234567891") == 12345678901234567891
    assert canonical_text(parse_json("[1000000000000000000000, 12345678901234567891]")) == (
        "[1e+21,12345678901234567891]")


def test_unusual_values_nested_in_records() -> None:
    text = ('[{"id": "g\\ud83d", "name": "Ann\\udc00", "spent": 1e400, "debt": -1E400, '
            '"tiny": 1e-400, "big": ' + "1" * 400 + ', "tags": ["\\ud83d\\ude00", {"x\\udfff": 2e999}]}]')
    value = parse_json(text)
    assert value == [{"id": "g" + HIGH, "name": "Ann\udc00", "spent": RawNumber("1e+400"),
                      "debt": RawNumber("-1e+400"), "tiny": 0, "big": RawNumber("1." + "1" * 399 + "e+399"),
                      "tags": ["\U0001f600", {"x\udfff": RawNumber("2e+999")}]}]
    encoded = _roundtrips(value)
    assert encoded == (b'[{"big":1.' + b"1" * 399 + b'e+399,"debt":-1e+400,"id":"g\\ud83d",'
                       b'"name":"Ann\\udc00","spent":1e+400,'
                       b'"tags":["\xf0\x9f\x98\x80",{"x\\udfff":2e+999}],"tiny":0}]')
    assert compact_json(value).startswith(b'[{"id":"g\\ud83d","name":"Ann\\udc00","spent":1e+400,')
    assert copy_json(value) == value and copy_json(value) is not value


def test_encoding_still_refuses_what_is_not_json() -> None:
    for bad in [float("inf"), [float("nan")], {1, 2}, [RawNumber("1e+400"), {3}],
                [RawNumber("1e+400"), {1: 2}], [RawNumber("1e+400"), float("-inf")]]:
        with pytest.raises((TypeError, ValueError)):
            canonical_json(bad)  # type: ignore[arg-type]
