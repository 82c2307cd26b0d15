"""The worked examples of docs/FORMAT.md, made by the core itself.

``.venv/bin/python -m tests.unit.core.format_examples`` prints every generated example as the
``<!-- example: name -->`` block to paste into docs/FORMAT.md; test_format_doc.py checks that the
document holds exactly these texts, and recomputes their hashes and sizes from their own content.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from app.core.changelog import Change
from app.core.diff import ABSENT, diff_key
from app.core.json_value import Json, canonical_json, parse_json
from app.core.payload import Payload
from tests.conftest import build_chain

GUESTS = "w3-hotel-guests"
SETTINGS = "w3-hotel-settings"
EPOCH = "6c1f7a52-2d8e-4b0a-9f31-8e5d2c7b4a10"
#: What app.browser.engine.Engine._record_live_state writes as the baseline's description.
BASELINE_DESCRIPTION = "Baseline: the {count} keys of the store when Backstay first started"

GUEST = {"id": "gst-000001", "firstName": "Tharindu", "lastName": "Perera",
         "phone": "+94 77 000 0001"}
EDITED = {**GUEST, "phone": "+94 77 123 4567"}

#: Number tokens as a client may write them (the input of the example "numbers-canonical").
NUMBERS_WRITTEN = ("[150.0, -0.0, 1e15, 9007199254740993, 9007199254740993.0, 9007199254740994.0,"
                   " 12345678901234567891, 12345678901234567891.0, 1e16, 1e20,"
                   " 100000000000000000000, 1e21, 0.1, 0.0001, 1e-5, 1e-7, 2.5e-10, 1e400]")

#: Diffs of one KV key: (key, old value, new value); None is a key absent from the state
#: (its example then has no "old" or "new" member).
DIFF_CASES: dict[str, tuple[str, Json, Json]] = {
    "create-and-update": (GUESTS, [GUEST], [EDITED, {"id": "gst-000002", "firstName": "Nimal"}]),
    "reorder-and-edit": ("w3-hotel-rooms",
                         [{"id": "101", "status": "clean"}, {"id": "102", "status": "clean"},
                          {"id": "103", "status": "clean"}],
                         [{"id": "103", "status": "clean"}, {"id": "101", "status": "clean"},
                          {"id": "102", "status": "dirty"}]),
    "reorder-only": ("w3-hotel-rooms", [{"id": "101"}, {"id": "102"}], [{"id": "102"}, {"id": "101"}]),
    "nested-fields": (GUESTS,
                      [{"id": "g1", "address": {"city": "Kandy", "zip": "20000"}, "tags": ["vip"],
                        "stays": [{"id": "s1", "nights": 2}, {"id": "s2", "nights": 1}]}],
                      [{"id": "g1", "address": {"city": "Galle", "zip": "20000"},
                        "tags": ["vip", "late"], "stays": [{"id": "s2", "nights": 3}], "notes": ""}]),
    "field-removed": (GUESTS, [{"id": "g1", "email": "a@b.lk", "phone": "1"}],
                      [{"id": "g1", "phone": "1"}]),
    "positional": ("w3-hotel-tasks",
                   [{"id": "a", "n": 1}, {"id": "b", "n": 2}, {"id": "b", "n": 3}],
                   [{"id": "b", "n": 2}, {"id": "b", "n": 4}]),
    "numeric-ids": ("w3-hotel-tasks", [{"id": 7, "done": False}], [{"id": 7, "done": True}]),
    "object-value": (SETTINGS, {"currency": "LKR", "tax": {"vat": 8}},
                     {"currency": "LKR", "tax": {"vat": 18}}),
    "key-appears": ("w3-hotel-rooms", None, [{"id": "101"}, {"id": "102"}]),
}


def pretty(value: Any) -> str:
    """JSON with two-space indentation, non-ASCII as is (the layout of objects in FORMAT.md)."""
    return json.dumps(value, indent=2, ensure_ascii=False)


def listing(value: dict[str, Any]) -> str:
    """An object one member per line; members that are arrays one element per line."""
    lines = ["{"]
    members = list(value.items())
    for index, (name, member) in enumerate(members):
        comma = "," if index < len(members) - 1 else ""
        if isinstance(member, list) and member:
            lines.append(f"  {json.dumps(name)}: [")
            for position, element in enumerate(member):
                tail = "," if position < len(member) - 1 else ""
                lines.append(f"    {json.dumps(element, ensure_ascii=False)}{tail}")
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {json.dumps(name)}: {json.dumps(member, ensure_ascii=False)}{comma}")
    lines.append("}")
    return "\n".join(lines)


def compact(value: Json) -> str:
    """A value as the PMS writes it: JSON.stringify's compact text."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


async def _chain_examples() -> dict[str, str]:
    found: dict[str, str] = {}
    # A chain as the engine builds it: the journal's epoch, the baseline read from the store
    # (with the intervals of those reads), then one drained journal entry.
    chain, store, _ = build_chain()
    await chain.open()
    await chain.start_journal(EPOCH)
    baseline = await chain.record_state(
        {GUESTS: compact([GUEST]), SETTINGS: compact({"currency": "LKR"})},
        created_by="admin", snapshot=True, description=BASELINE_DESCRIPTION.format(count=2),
        live_reads={GUESTS: (1_699_999_999_400, 1_699_999_999_431),
                    SETTINGS: (1_699_999_999_400, 1_699_999_999_420)},
    )
    delta = await chain.record({GUESTS: compact([EDITED])}, created_by="frontdesk", journal_seq=12)
    assert baseline is not None and delta is not None and baseline.snapshot is not None
    found["version-checkpoint"] = pretty(baseline.to_dict())
    found["payload-checkpoint"] = store.data["payloads"][baseline.id].decode("utf-8")
    for module_hash in baseline.snapshot.values():
        found[f"blob {module_hash}"] = store.data["blobs"][module_hash].decode("utf-8")
    found["version-delta"] = pretty(delta.to_dict())
    # Both payloads are under framing.COMPRESS_AT bytes, so they are stored as plain JSON.
    found["payload-delta"] = listing(json.loads(store.data["payloads"][delta.id]))
    found["head"] = pretty(json.loads(store.data["meta"]["head"]))

    # The baseline of an empty store.
    chain, store, _ = build_chain()
    await chain.open()
    empty = await chain.record_state({}, created_by="admin", snapshot=True,
                                     description=BASELINE_DESCRIPTION.format(count=0))
    assert empty is not None
    found["version-empty-baseline"] = pretty(empty.to_dict())
    found["payload-empty-baseline"] = store.data["payloads"][empty.id].decode("utf-8")
    return found


def diff_example(key: str, old: Json, new: Json) -> dict[str, Any]:
    """The example object of one key's diff: the values and what diff.diff_key makes of them."""
    delta = diff_key(key, ABSENT if old is None else old, ABSENT if new is None else new)
    changes: list[Change] = delta.changes
    payload = Payload(changes, delta.forward, delta.inverse).to_dict()
    example: dict[str, Any] = {"key": key}
    if old is not None:  # an absent key has no member
        example["old"] = old
    if new is not None:
        example["new"] = new
    return {**example, "changes": payload["changes"], "forward": payload["forward"],
            "inverse": payload["inverse"]}


def generated() -> dict[str, str]:
    """Every example of FORMAT.md that the core makes: name -> the text of its block."""
    found = asyncio.run(_chain_examples())
    found["numbers-written"] = NUMBERS_WRITTEN
    found["numbers-canonical"] = canonical_json(parse_json(NUMBERS_WRITTEN)).decode("utf-8")
    for name, (key, old, new) in DIFF_CASES.items():
        found[f"diff {name}"] = listing(diff_example(key, old, new))
    return found


def main() -> None:
    for name, text in generated().items():
        print(f"<!-- example: {name} -->\n```json\n{text}\n```\n")


if __name__ == "__main__":
    main()
