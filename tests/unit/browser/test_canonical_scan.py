"""static/backstay/canonical_scan.mjs: the first start's tiler answers exactly what the reference
on the browser's own JSON (JSON.parse, then each element's JSON.stringify found in place) answers,
on canonical texts and on texts broken in every way that matters to canonical form. Run in node
(installed by `make test` for the page's vendored packages), as the browser runs the module."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from app.core.formats.json_value import canonical_text

RUNNER = Path(__file__).parent / "js" / "compare_tilers.mjs"
NODE = shutil.which("node")

#: Texts the tilers must agree on, and that the reference tiles (first group) or refuses.
TILED = [
    '[{"id":"a","n":1}]', '[1,2,3]', "[[]]", '[{"0":1,"2":2,"b":3}]', '["\\u0001\\u001f\\b\\t\\n\\f\\r"]',
    '["\\ud800"]', '["\\udc00\\ud800"]', '["😀"]', '[{"id":"😀x"}]', '[1e+21,1.5e-7,0.30000000000000004]',
    '[123456789012345,-1,0,5e-324,1.7976931348623157e+308]', '[{"id":"\\"q\\\\"}]', '["\u2028\u007f"]',
    '[{"__proto__":1,"id":"p"}]', '[true,false,null]', '[{"4294967295":1,"a":2}]', '[{"id":1},{"id":"1"}]',
    "[100000000000000000000]", '[{"1":1,"01":2}]',
]
REFUSED = [
    "[]", "[ 1]", "[1 ]", "[1,]", "[,1]", "[01]", "[-0]", "[1.0]", "[1E5]", "[1e5]", "[1e400]", "[.5]",
    "[+1]",    "[1234567890123456789]", '["\\/"]', '["\\u0041"]', '["\\u0008"]', '["\\u001F"]',
    '["\\ud83d\\ude00"]', '["\u0001"]', '[{"a":1,"a":2}]', '[{"b":1,"1":2}]', '[{"2":1,"1":2}]',
    '[{"a":1 }]', '[{"a" :1}]', '["a"', "[1]]", "[1],[2]", "{}", '[{"id":"a"}x]',
    '[tru]', '[nul]', "[" * 101 + "]" * 101, '[{"id":"\\ud800"}]', '["\ud800"]', '["\udc00"]',
    '["a\\x"]', '["\\u00e9"]', "[1]\n",
]
#: A large object (its keys are then kept in a set), without and with a repeated key.
WIDE = "".join(f'"k{n}":{n},' for n in range(40))
TILED.append("[{" + WIDE[:-1] + "}]")
REFUSED.append("[{" + WIDE + '"k3":0}]')
EDGE_CASES = TILED + REFUSED

#: What the mutations put into a canonical text.
PIECES = [" ", '"', "\\", ",", ":", "{", "}", "[", "]", "0", "-", ".", "e", "E", "+", "\\u0041",
          "\\/", "\\ud83d\\ude00", "\u0001", "x", '"1":', '"id":', "\\ud800", "00", "1e400"]


def compare(texts: list[str], min_count: int = 1) -> dict[str, Any]:
    assert NODE is not None, "node is installed by `make test` (npm ci)"
    with open(RUNNER.parent / ".texts.json", "w", encoding="utf-8") as handle:
        json.dump(texts, handle)  # ensure_ascii: a lone surrogate crosses as an escape
    try:
        done = subprocess.run([NODE, str(RUNNER), handle.name, str(min_count)], capture_output=True,
                              text=True, timeout=120, check=True)
    finally:
        Path(handle.name).unlink()
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def test_the_edge_cases_are_answered_as_the_browsers_json_answers() -> None:
    found = compare(EDGE_CASES)
    assert found["differ"] == []
    assert found["tiled"] == len(TILED)  # the reference tiles these, and refuses the others
    for min_count in (0, 2):
        assert compare(EDGE_CASES, min_count=min_count)["differ"] == []


KEYS = ["id", "name", "0", "1", "2", "10", "01", "4294967294", "4294967295", "a\u2028", "é", "__proto__",
        "😀", "\ud800", "", "x\"y", "tab\t"]
STRINGS = ["Ann", "Chloé", "Zoë\ud83d", "\ude00", "😀", "a\\b", 'say "hi"', "\u0000\u001f\u007f", "\u2028",
           "line\nbreak", "", "/", "\ud83d\ude00x"]
NUMBERS = [0, -1, 7, 2**53, 2**53 + 1, 10**20, 10**21, 1e21, 0.1, 0.30000000000000004, 1.5e-7, 5e-324,
           -2.5, 1e300, 123456.789]


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind in (1, 2):
        return rng.choice(STRINGS)
    if kind in (3, 4):
        return rng.choice(NUMBERS)
    if kind == 5:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(KEYS): random_value(rng, depth + 1) for _ in range(rng.randrange(5))}


def random_text(rng: random.Random) -> str:
    """A canonical text of records or of any JSON values, perhaps broken in a few places."""
    if rng.random() < 0.5:
        ids = ["g1", "g2", "g😀", "\ud800", 'a"b']
        values: list[Any] = [{"id": rng.choice(ids), "n": rng.choice(NUMBERS),
                              **{rng.choice(KEYS): random_value(rng, 2) for _ in range(rng.randrange(3))}}
                             for _ in range(rng.randrange(1, 5))]
    else:
        values = [random_value(rng, 1) for _ in range(rng.randrange(1, 5))]
    text = canonical_text(values)
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        at = rng.randrange(len(text) + 1)
        piece = rng.choice(PIECES)
        action = rng.choice(["insert", "replace", "delete", "repeat"])
        if action == "insert":
            text = text[:at] + piece + text[at:]
        elif action == "replace":
            text = text[:at] + piece + text[at + 1:]
        elif action == "delete":
            text = text[:at] + text[at + 1:]
        else:  # a stretch again (a repeated key, element or escape)
            end = min(len(text), at + rng.randrange(1, 12))
            text = text[:end] + text[at:end] + text[end:]
    return text


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_texts_are_answered_as_the_browsers_json_answers(seed: int) -> None:
    rng = random.Random(seed)
    texts = [random_text(rng) for _ in range(3000)]
    found = compare(texts)
    assert found["differ"] == [], found["differ"][:3]
    assert 300 < found["tiled"] < 2700  # both kinds, tiled and refused, are many
