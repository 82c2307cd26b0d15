"""docs/FORMAT.md: its worked examples are the core's real output, and check out on their own.

Every example the core makes must be exactly what tests/unit/core/format_examples.py prints; then
each is read with the core's readers and its hashes, sizes and links are recomputed from its own
content, the way an independent reader would (``reader_module_hash`` below is format 2's module
hash as the document defines it). The "Known limits" are pinned too: when one is removed, its
test fails and the document is updated with it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
import struct
from pathlib import Path
from typing import Any

import jsonpatch
import pytest
from format_examples import (
    DIFF_CASES,
    EDITED,
    FORMAT1_COMPRESS_AT,
    GUEST,
    GUESTS,
    NIMAL,
    NUMBER_TOKENS,
    SETTINGS,
    diff_example,
    format1_store,
    generated,
    listing,
    pms_text,
)

from app.core.audit.entry import AuditEntry
from app.core.diff.diff import ABSENT, Absent, diff_key
from app.core.diff.patch import apply_patch
from app.core.diff.summary import describe
from app.core.errors import CorruptData, UnknownFormatVersion
from app.core.formats.framing import COMPRESS_AT, pack, unpack
from app.core.formats.gzip_codec import GzipCompressor
from app.core.formats.integrity import link, module_hash, state_hash
from app.core.formats.json_value import (
    Json,
    RawNumber,
    canonical_json,
    canonical_text,
    compact_json,
    json_equal,
    parse_json,
)
from app.core.formats.passphrase import PassphraseRecord
from app.core.history.head import HEAD_KEY, KEY_PREFIX, HeadPointer
from app.core.history.head_loading import load_head
from app.core.history.history import History
from app.core.history.payload import Payload
from app.core.history.version import Version
from app.core.memory_store import MemoryStore
from app.core.restore.pending import PendingRestore
from tests.conftest import build_chain

DOC = Path(__file__).resolve().parents[3] / "docs" / "FORMAT.md"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

#: What JavaScript writes for each number token: JSON.stringify(JSON.parse(token)) (node 18).
JS_STRINGIFY = {
    "150.0": "150", "-0.0": "0", "1e15": "1000000000000000",
    "9007199254740993": "9007199254740992", "9007199254740993.0": "9007199254740992",
    "9007199254740994": "9007199254740994", "12345678901234567891": "12345678901234567000",
    "12345678901234567891.0": "12345678901234567000",
    "12345678901234567000": "12345678901234567000", "1e16": "10000000000000000",
    "1e20": "100000000000000000000", "100000000000000000000": "100000000000000000000",
    "1e21": "1e+21", "1000000000000000000000": "1e+21", "0.1": "0.1", "0.0001": "0.0001",
    "1e-5": "0.00001", "0.000001": "0.000001", "1e-7": "1e-7", "2.5e-10": "2.5e-10",
    "-1.5e300": "-1.5e+300", "5e-324": "5e-324", "1e-400": "0", "1e400": "null",
}
#: Tokens Backstay keeps exactly where JavaScript cannot ("Numbers"): their canonical text.
KEPT_EXACTLY = {"9007199254740993": "9007199254740993",
                "12345678901234567891": "12345678901234567891", "1e400": "1e+400"}

#: What the format 1 release published for these examples (docs/FORMAT.md of format 1): the
#: format 1 examples below must be that release's bytes, hash for hash.
FORMAT1_PUBLISHED = {
    "baseline stateHash": "275052cff33dde4315189b42b1a92acea058d3af9ba43e2067ccdafa592e511a",
    "baseline link": "4bee362f51c2180aa5b7dfe68b349a154d0690e96eb08f88ff26dfde6a3935c7",
    "baseline payloadHash": "5da79e36e6f6844209a1c849433bef340c5cf500de84c29690e59a83691d10c3",
    "guests blob": "82e8bc4f35edfb87b6194035d532eeb8d8eb01738f3c0493c2b49bace7eeaf37",
    "settings blob": "5fbec7b9a5ab4310cb71b166474a34f19cc7c10175bd4fb9ffc760edf7bb0d06",
    "delta stateHash": "4f4c4376017d9ebbac0ddc1cbbe62c2ed3f1992edcf65972d0d248fcc35e0f7b",
    "delta link": "3a4873f30a5b219441ef607d905941e636ac25cd585fa9c666b9cf32e2888d0c",
    "delta payloadHash": "955cac31a30e328d997a4e44b3aee3056f0678c645f30ee527271faee80a0ff8",
    "head guests": "7561c8677ecb249ea13f01ba8160f792ae2abb409cfd45742c54fda482a51c73",
}


def examples() -> dict[str, str]:
    found = re.findall(r"<!-- example: ([^>]+?) -->\n```json\n(.*?)\n```", DOC.read_text("utf-8"),
                       re.S)
    return dict(found)


def _obj(name: str) -> dict[str, Any]:
    value = json.loads(examples()[name])
    assert isinstance(value, dict)
    return value


def _compact(name: str) -> bytes:
    """The compact JSON of an example object, members as shown: metadata and the head pointer
    are stored so (never framed)."""
    return compact_json(_obj(name))


def _stored_payload(name: str) -> bytes:
    """The stored bytes of an example payload. The examples are written stored as is
    (format_examples.StoredAsIs), so that their sizes and hashes are recomputed here from the
    JSON shown. Those under framing.COMPRESS_AT bytes are also what the engine stores; the delta's
    the engine stores gzip'd (shorter: the document says so). The format 1 release gzip'd only
    from FORMAT1_COMPRESS_AT bytes, and its examples are under that."""
    data = _compact(name)
    if name.startswith("format1-"):
        assert len(data) < FORMAT1_COMPRESS_AT
        assert pack(data, GzipCompressor(), compress_at=FORMAT1_COMPRESS_AT) == data
    elif name == "payload-delta":
        assert len(pack(data, GzipCompressor())) < 0.6 * len(data)
    else:
        assert pack(data, GzipCompressor()) == data, f"the engine would not store {name} as shown"
    return data


def test_the_document_states_the_writer_s_gzip_threshold() -> None:
    assert f"gzip content of {COMPRESS_AT} bytes (`framing.COMPRESS_AT`)" in " ".join(DOC.read_text().split())


def _head(name: str) -> HeadPointer:
    """The head pointer of example ``name`` with its per-key records (``<name>-key <key>``)."""
    records = {found[len(name) + 5:]: _compact(found) for found in examples()
               if found.startswith(f"{name}-key ")}
    return HeadPointer.decode(_compact(name), records)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _blobs(prefix: str = "blob ") -> dict[str, bytes]:
    return {name.split()[1]: text.encode() for name, text in examples().items()
            if name.startswith(prefix)}


def reader_module_hash(value: Json) -> str:
    """Format 2's module hash, from FORMAT.md: for an array, SHA-256 of "[" and the 32-byte
    SHA-256 of each element's canonical text; otherwise SHA-256 of the canonical text."""
    if isinstance(value, list):
        digests = b"".join(hashlib.sha256(canonical_text(element).encode()).digest()
                           for element in value)
        return _sha256(b"[" + digests)
    return _sha256(canonical_text(value).encode())


def reader_state_hash(hashes: dict[str, str]) -> str:
    return _sha256(b"".join(key.encode() + b"\0" + hashes[key].encode("ascii") + b"\n"
                            for key in sorted(hashes)))


def _same(a: Json, b: Json) -> bool:
    """Equal values with members in the same order (what format 2 keeps)."""
    return json_equal(a, b) and canonical_text(a) == canonical_text(b)


# ---- the examples are the code's output ---------------------------------------------------------


def test_the_examples_are_there() -> None:
    names = set(examples())
    assert {"version-checkpoint", "payload-checkpoint", "version-delta", "payload-delta", "head",
            "version-empty-baseline", "payload-empty-baseline", "numbers-written",
            "numbers-canonical", "unusual-written", "unusual-canonical", "journal-entry",
            "module-hash", "respelled", "format1-version-checkpoint", "format1-payload-checkpoint",
            "format1-version-delta", "format1-payload-delta", "format1-head", "upgrade-version",
            "upgrade-payload", "upgrade-head", "restore-preview", "restore-version",
            "restore-pending", "audit-entry", "format2-head", f"head-key {GUESTS}",
            f"head-key {SETTINGS}", f"upgrade-head-key {GUESTS}", f"upgrade-head-key {SETTINGS}"} <= names
    assert len(_blobs()) == 2 and len(_blobs("format1-blob ")) == 2
    assert len(_blobs("upgrade-blob ")) == 1
    assert {f"diff {name}" for name in DIFF_CASES} <= names


def test_every_generated_example_is_in_the_document_as_generated() -> None:
    found = examples()
    made = generated()
    stale = [name for name, text in made.items() if found.get(name) != text]
    assert not stale, (f"FORMAT.md examples {stale} differ from the code's output; paste the "
                       "output of `.venv/bin/python -m tests.unit.core.format_examples`")
    # Only the journal entry (checked by test_journal_entry.py) is not made by the core.
    assert set(found) - set(made) == {"journal-entry"}


# ---- format 2: the examples check out from their own content ----------------------------------


def test_the_baseline_checks_out() -> None:
    baseline = Version.decode(_compact("version-checkpoint"))
    payload_bytes = _stored_payload("payload-checkpoint")
    payload = Payload.decode(payload_bytes, GzipCompressor())
    blobs = _blobs()
    assert baseline.format_version == 4 and baseline.is_checkpoint and baseline.parent_id is None
    assert payload.changes == [] and payload.forward is None and payload.inverse is None
    assert baseline.payload_hash == _sha256(payload_bytes)
    assert baseline.size == len(payload_bytes) + sum(map(len, blobs.values())) == 170
    assert len(payload_bytes) == 62 and sorted(map(len, blobs.values())) == [18, 90]
    for hashed, text in blobs.items():
        value = parse_json(text)
        assert reader_module_hash(value) == module_hash(value, 2) == hashed
        assert canonical_text(value).encode() == text  # a blob holds the canonical text
        assert pack(text, GzipCompressor()) == text  # under framing.COMPRESS_AT: stored as is
    assert baseline.snapshot is not None and set(baseline.snapshot.values()) == set(blobs)
    guests = blobs[baseline.snapshot[GUESTS]]
    assert guests == pms_text([GUEST]).encode()  # members as written: id first, not sorted
    assert _sha256(guests) != baseline.snapshot[GUESTS]  # an array: hashed per element
    assert baseline.modules == list(baseline.snapshot) and baseline.change_count == 0
    # The state hash over the hex text of each module hash, and the link, as a reader writes them.
    assert reader_state_hash(baseline.snapshot) == state_hash(baseline.snapshot) \
        == baseline.state_hash
    assert baseline.link == _sha256(b"\n".join(
        [b"backstay-link-v1", b"", b"", baseline.id.encode(), baseline.state_hash.encode()]))
    assert baseline.link == link(None, None, baseline.id, baseline.state_hash)


def test_the_delta_and_the_head_check_out() -> None:
    baseline = Version.from_dict(_obj("version-checkpoint"))
    delta = Version.decode(_compact("version-delta"))
    payload_bytes = _stored_payload("payload-delta")
    payload = Payload.decode(payload_bytes, GzipCompressor())
    stored = _head("head")  # the stored records name the baseline; the delta says the rest
    assert stored.version_id == baseline.id and stored.module_hashes == baseline.snapshot
    head = stored.follow(delta)
    blobs = _blobs()
    assert baseline.snapshot is not None and payload.forward is not None
    assert payload.inverse is not None and head.format_version == 4
    assert delta.payload_hash == _sha256(payload_bytes) and delta.size == len(payload_bytes) == 495
    assert delta.parent_id == baseline.id and delta.seq == baseline.seq + 1
    assert delta.link == _sha256("\n".join(
        ["backstay-link-v1", baseline.id, baseline.state_hash, delta.id, delta.state_hash]).encode())
    assert delta.change_count == len(payload.changes) and delta.description == describe(payload.changes)
    state = {key: parse_json(blobs[hashed]) for key, hashed in baseline.snapshot.items()}
    after = apply_patch(json.loads(json.dumps(state)), payload.forward)
    assert isinstance(after, dict)
    # The reconstructed module is the PMS's text, member for member.
    assert canonical_text(after[GUESTS]) == pms_text([EDITED])
    hashes = {key: reader_module_hash(value) for key, value in after.items()}
    assert reader_state_hash(hashes) == delta.state_hash == head.state_hash
    assert delta.modules == [key for key in hashes if hashes[key] != baseline.snapshot[key]]
    assert hashes == head.module_hashes and head.version_id == delta.id and head.seq == delta.seq
    assert head.checkpoint_id == baseline.id and head.deltas_since_checkpoint == 1
    assert head.bytes_since_checkpoint == delta.size
    assert json.dumps(jsonpatch.apply_patch(state, payload.forward)) == json.dumps(after)
    assert _same(apply_patch(after, payload.inverse), state)  # in place: ``after`` is the parent's


def test_the_empty_baseline_checks_out() -> None:
    empty = Version.decode(_compact("version-empty-baseline"))
    payload_bytes = _stored_payload("payload-empty-baseline")
    assert empty.snapshot == {} and empty.modules == [] and empty.is_checkpoint
    assert empty.state_hash == state_hash({}) == EMPTY_SHA256
    assert empty.size == len(payload_bytes) == 62 and empty.payload_hash == _sha256(payload_bytes)
    assert empty.link == link(None, None, empty.id, empty.state_hash)


def test_the_module_hash_is_computed_as_the_example_shows() -> None:
    example = _obj("module-hash")
    value = parse_json(json.dumps(example["value"]))
    assert isinstance(value, list) and len(value) == len(example["elements"]) == 2
    digests = b""
    for element, step in zip(value, example["elements"], strict=True):
        assert step["canonicalText"] == canonical_text(element)
        assert step["sha256"] == _sha256(step["canonicalText"].encode())
        digests += bytes.fromhex(step["sha256"])
    assert len(digests) == 64
    assert example["moduleHash"] == _sha256(b"[" + digests) == module_hash(value)
    assert example["sha256OfCanonicalText"] == _sha256(canonical_text(value).encode())
    assert example["sha256OfCanonicalText"] != example["moduleHash"]
    assert module_hash([]) == _sha256(b"[")
    assert module_hash({"currency": "LKR"}) == _sha256(b'{"currency":"LKR"}')
    assert module_hash("[1]") == _sha256(b'"[1]"')  # a string is not an array


def test_a_write_that_only_respells_records_no_version() -> None:
    example = _obj("respelled")
    head_value, written = parse_json(example["headText"]), parse_json(example["written"])
    assert example["headText"] != example["written"] and json_equal(head_value, written)
    assert canonical_text(head_value) == canonical_text(written) == example["canonicalText"]
    assert reader_module_hash(written) == reader_module_hash(head_value) == example["moduleHash"]
    assert example["recorded"] is None and example["headTextAfter"] == example["written"]

    async def scenario() -> None:
        chain, store, _ = build_chain()
        await chain.open()
        first = await chain.record({SETTINGS: example["headText"]}, created_by="a", snapshot=True)
        assert first is not None
        assert await chain.record({SETTINGS: example["written"]}, created_by="a") is None
        head = await load_head(store)
        assert head is not None and head.version_id == first.id
        assert head.module_hashes[SETTINGS] == example["moduleHash"]
        assert store.data["head"][SETTINGS] == example["written"].encode()
        assert (await chain.verify(full=True)).ok
        # Any change of value is recorded, however small.
        changed = await chain.record({SETTINGS: example["written"].replace("1.8e1", "19")},
                                     created_by="a")
        assert changed is not None and changed.change_count == 1

    asyncio.run(scenario())


def test_unknown_format_versions_are_refused_and_the_three_known_ones_read() -> None:
    head_records = {key: _compact(f"head-key {key}") for key in (GUESTS, SETTINGS)}
    objects = {"version-checkpoint": Version.decode, "format1-version-checkpoint": Version.decode,
               "head": lambda data: HeadPointer.decode(data, head_records),
               "format2-head": HeadPointer.decode, "format1-head": HeadPointer.decode,
               "payload-delta": lambda data: Payload.decode(data, GzipCompressor()),
               "format1-payload-delta": lambda data: Payload.decode(data, GzipCompressor())}
    seen = set()
    for name, decode in objects.items():
        obj = _obj(name)
        known = obj["formatVersion"]
        seen.add(known)
        decode(compact_json(obj))
        for unknown in (0, 5, str(known), None, [known]):
            obj["formatVersion"] = unknown
            with pytest.raises(UnknownFormatVersion):
                decode(json.dumps(obj).encode())
        del obj["formatVersion"]
        with pytest.raises(UnknownFormatVersion):
            decode(json.dumps(obj).encode())
        # 3.0 is the number 3 ("Numbers"): read as formatVersion 3.
        obj["formatVersion"] = float(known)
        decode(json.dumps(obj).encode())
    assert seen == {1, 2, 4}
    # A per-key record of an unknown format, or of another format than its pointer's, is refused.
    for unknown, error in ((5, UnknownFormatVersion), (3, CorruptData)):
        record = {**_obj(f"head-key {GUESTS}"), "formatVersion": unknown}
        with pytest.raises(error):
            HeadPointer.decode(_compact("head"), {**head_records, GUESTS: compact_json(record)})


def test_a_missing_or_changed_head_key_record_is_corruption() -> None:
    records = {key: _compact(f"head-key {key}") for key in (GUESTS, SETTINGS)}
    assert HeadPointer.decode(_compact("head"), records).module_hashes[GUESTS]
    with pytest.raises(CorruptData, match="stateHash"):
        HeadPointer.decode(_compact("head"), {SETTINGS: records[SETTINGS]})
    changed = {**_obj(f"head-key {GUESTS}"), "moduleHash": "0" * 64}
    with pytest.raises(CorruptData, match="stateHash"):
        HeadPointer.decode(_compact("head"), {**records, GUESTS: compact_json(changed)})
    extra = {"formatVersion": 4, "moduleHash": "0" * 64}
    with pytest.raises(CorruptData, match="stateHash"):
        HeadPointer.decode(_compact("head"), {**records, "w3-hotel-rooms": compact_json(extra)})


# ---- numbers, canonical text ---------------------------------------------------------------------


def test_numbers_are_read_and_spelled_as_documented() -> None:
    written = parse_json(examples()["numbers-written"])
    canonical = examples()["numbers-canonical"]
    assert isinstance(written, list) and len(written) == len(NUMBER_TOKENS)
    assert canonical_text(written) == canonical and json_equal(parse_json(canonical), written)
    kinds = [type(number).__name__ for number in written]
    assert kinds == ["int"] * 5 + ["float", "int"] + ["float"] * 15 + ["int", "RawNumber"]
    assert written[3] == 2**53 + 1 and written[6] == 12345678901234567891
    assert written[7] == written[8] == 12345678901234567168  # one double, two spellings
    # Each number is spelled as JavaScript's JSON.stringify writes it, except those JavaScript
    # cannot hold, which are kept exactly.
    spelled = dict(zip(NUMBER_TOKENS, canonical[1:-1].split(","), strict=True))
    assert spelled == {**JS_STRINGIFY, **KEPT_EXACTLY}


def test_one_number_has_one_form() -> None:
    def same(a: str, b: str) -> bool:
        return json_equal(parse_json(a), parse_json(b))

    assert same("1000000000000000000000", "1e+21") and same("100000000000000000000", "1e20")
    assert same("12345678901234567000", "12345678901234567891.0") and same("150", "150.0")
    assert same("-0", "0") and same("1e-400", "0")
    assert not same("12345678901234567891", "12345678901234567891.0")
    assert not same("1", "true") and same("1e400", "1" + "0" * 400)
    # Every double's canonical text reads back as that double (random bit patterns).
    rng = random.Random(2)
    for _ in range(3000):
        double = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        if double != double or double in (float("inf"), float("-inf")):
            continue
        value = parse_json(repr(double))
        assert json_equal(parse_json(canonical_text(value)), value), repr(double)
        assert json_equal(parse_json(compact_json(value)), value), repr(double)
    # Stored objects (payloads, metadata) are compact JSON: doubles spelled the Python way.
    assert compact_json(parse_json("[1e16, 9007199254740994, 1e-7, 1e21]")) \
        == b"[1e+16,9007199254740994.0,1e-07,1e+21]"


def test_unusual_values_example_is_canonical() -> None:
    written = parse_json(examples()["unusual-written"])
    canonical = examples()["unusual-canonical"]
    assert canonical_text(written) == canonical and json_equal(parse_json(canonical), written)
    assert isinstance(written, list) and isinstance(written[0], dict)
    assert list(written[0]) == ["id", "name", "spent", "debt", "tiny", "big", "emoji"]
    assert written[0]["spent"] == RawNumber("1e+400") and written[0]["debt"] == RawNumber("-1.25e+400")
    assert written[0]["name"] == "Zo\ud83d" and written[0]["emoji"] == "\U0001f600"
    assert written[0]["tiny"] == 0 and written[0]["big"] == 123456789012345678901234567890
    assert canonical_text("\x01\"\\\n\u2028\x7f") == '"\\u0001\\"\\\\\\n\u2028\x7f"'
    # A repeated member name keeps the last value at the first one's place (as JSON.parse).
    assert canonical_text(parse_json('{"a":1,"b":2,"a":3}')) == '{"a":3,"b":2}'


# ---- diffs and patches ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DIFF_CASES))
def test_a_diff_example_replays_exactly(name: str) -> None:
    example = _obj(f"diff {name}")
    key = example["key"]
    old: Json | Absent = parse_json(json.dumps(example["old"])) if "old" in example else ABSENT
    new: Json | Absent = parse_json(json.dumps(example["new"])) if "new" in example else ABSENT
    before: Json = {} if isinstance(old, Absent) else {key: old}
    after: Json = {} if isinstance(new, Absent) else {key: new}
    for applier in (apply_patch, jsonpatch.apply_patch):
        assert _same(applier(json.loads(json.dumps(before)), example["forward"]), after)
        assert _same(applier(json.loads(json.dumps(after)), example["inverse"]), before)
    delta = diff_key(key, old, new)
    made = {"changes": [change.to_dict() for change in delta.changes], "forward": delta.forward,
            "inverse": delta.inverse}
    shown = {part: example[part] for part in made}
    assert made == shown  # the writer's ChangeLog and patches are diff_key's


def test_the_writer_records_what_diff_key_makes() -> None:
    made = generated()
    for name, (key, old, new) in DIFF_CASES.items():
        assert made[f"diff {name}"] == listing(diff_example(key, old, new)), name
    # A window of records with unique ids in an array that is not a record array (its first
    # element has no id): diffed by position, as the whole array.
    example = _obj("diff window-positional")
    assert [change["action"] for change in example["changes"]] == ["update"] * 3
    assert [change["recordId"] for change in example["changes"]] == ["b", "c", "d"]
    assert [op["path"] for op in example["forward"]] == [
        "/w3-hotel-tasks/1/id", "/w3-hotel-tasks/2/id", "/w3-hotel-tasks/3/id"]


def test_the_writer_records_what_diff_key_makes_for_any_edit_of_an_array() -> None:
    """Random edits of arrays that are record arrays or not, as whole arrays or around the
    changed window (duplicate ids, records without ids, ids that move in or out of it)."""
    rng = random.Random(7)

    def element() -> Json:
        kind = rng.random()
        if kind < 0.75:
            return {"id": rng.choice("abcdefghij"), "n": rng.randrange(3)}
        if kind < 0.85:
            return {"n": rng.randrange(3)}
        return rng.randrange(3)

    def edited(value: list[Json]) -> list[Json]:
        value = list(value)
        for _ in range(rng.randrange(1, 4)):
            action = rng.randrange(5)
            if action == 0 or not value:
                value.insert(rng.randrange(len(value) + 1), element())
                continue
            at = rng.randrange(len(value))
            if action == 1:
                del value[at]
            elif action == 2:
                value[at] = element()
            elif action == 3 and isinstance(value[at], dict):
                value[at] = {**value[at], "n": rng.randrange(3)}  # type: ignore[dict-item]
            else:
                value.insert(rng.randrange(len(value)), value.pop(at))
        return value

    async def scenario() -> None:
        for _ in range(30):
            chain, store, _ = build_chain()
            await chain.open()
            value: list[Json] = []
            while len({str(e) for e in value}) < 6:
                value = [element() for _ in range(rng.randrange(4, 9))]
            if rng.random() < 0.5:  # a record array, ids unique
                value = [{"id": f"r{index}", "n": index % 3} for index in range(len(value))]
            await chain.record({"k": canonical_text(value)}, created_by="a", snapshot=True)
            for _ in range(8):
                new = edited(value)
                version = await chain.record({"k": canonical_text(new)}, created_by="a")
                if version is not None:
                    payload = Payload.decode(store.data["payloads"][version.id], GzipCompressor())
                    delta = diff_key("k", value, new)
                    assert (payload.changes, payload.forward, payload.inverse) == (
                        delta.changes, delta.forward, delta.inverse), (value, new)
                value = new

    asyncio.run(scenario())


def test_member_order_is_kept_by_the_patches() -> None:
    removed = _obj("diff field-removed")
    assert [op["op"] for op in removed["forward"]] == ["remove"]
    assert removed["inverse"] == [{"op": "replace", "path": "/w3-hotel-guests/0",
                                   "value": removed["old"][0]}]
    inserted = _obj("diff field-inserted")
    assert [op["op"] for op in inserted["forward"]] == ["replace"]
    assert inserted["changes"][0]["fields"] == [""]
    added = _obj("diff field-added")
    assert [op["op"] for op in added["forward"]] == ["add"]
    reordered = _obj("diff members-reordered")
    assert reordered["forward"] == [{"op": "replace", "path": "/w3-hotel-settings",
                                     "value": reordered["new"]}]
    for applier in (apply_patch, jsonpatch.apply_patch):
        replaced: Any = applier({"k": {"a": 1, "b": 2}},
                                [{"op": "replace", "path": "/k/a", "value": 3}])
        assert list(replaced["k"]) == ["a", "b"]
    assert not json_equal({"a": 1, "b": 2}, {"b": 2, "a": 1})


def test_the_reorder_with_an_edit_is_only_in_the_patches() -> None:
    example = _obj("diff reorder-and-edit")
    assert [change["recordId"] for change in example["changes"]] == ["102"]
    assert [op["op"] for op in example["forward"]] == ["move", "replace"]
    only = _obj("diff reorder-only")
    assert only["changes"] == [{"module": "w3-hotel-rooms", "action": "update", "recordId": "",
                                "before": None, "after": None, "fields": []}]


# ---- format 1 objects, and the upgrade ------------------------------------------------------------


def test_the_format1_examples_are_what_the_format1_release_wrote() -> None:
    baseline = Version.decode(_compact("format1-version-checkpoint"))
    delta = Version.decode(_compact("format1-version-delta"))
    head = HeadPointer.decode(_compact("format1-head"))
    assert baseline.format_version == delta.format_version == head.format_version == 1
    assert baseline.snapshot is not None
    published = {
        "baseline stateHash": baseline.state_hash, "baseline link": baseline.link,
        "baseline payloadHash": baseline.payload_hash, "guests blob": baseline.snapshot[GUESTS],
        "settings blob": baseline.snapshot[SETTINGS], "delta stateHash": delta.state_hash,
        "delta link": delta.link, "delta payloadHash": delta.payload_hash,
        "head guests": head.module_hashes[GUESTS],
    }
    assert published == FORMAT1_PUBLISHED


def test_the_format1_examples_check_out_by_format_1_rules() -> None:
    baseline = Version.decode(_compact("format1-version-checkpoint"))
    delta = Version.decode(_compact("format1-version-delta"))
    head = HeadPointer.decode(_compact("format1-head"))
    checkpoint_payload = _stored_payload("format1-payload-checkpoint")
    delta_payload = _stored_payload("format1-payload-delta")
    blobs = _blobs("format1-blob ")
    assert baseline.snapshot is not None
    assert baseline.size == len(checkpoint_payload) + sum(map(len, blobs.values()))
    assert baseline.payload_hash == _sha256(checkpoint_payload)
    for hashed, text in blobs.items():
        assert _sha256(text) == hashed  # format 1: the SHA-256 of the blob's text
        assert canonical_json(parse_json(text)) == text  # keys sorted
    assert list(parse_json(blobs[baseline.snapshot[GUESTS]])[0]) == sorted(GUEST)  # type: ignore[index,arg-type]
    assert reader_state_hash(baseline.snapshot) == baseline.state_hash
    assert delta.payload_hash == _sha256(delta_payload) and delta.size == len(delta_payload)
    payload = Payload.decode(delta_payload, GzipCompressor())
    assert payload.forward is not None
    state = {key: parse_json(blobs[hashed]) for key, hashed in baseline.snapshot.items()}
    after = apply_patch(state, payload.forward)
    assert isinstance(after, dict)
    hashes = {key: _sha256(canonical_json(value)) for key, value in after.items()}
    assert hashes == head.module_hashes and reader_state_hash(hashes) == delta.state_hash
    assert delta.link == link(baseline.id, baseline.state_hash, delta.id, delta.state_hash)
    assert head.bytes_since_checkpoint == delta.size and head.checkpoint_id == baseline.id


def test_the_upgrade_checks_out() -> None:
    parent = Version.decode(_compact("format1-version-delta"))
    old_head = HeadPointer.decode(_compact("format1-head"))
    upgrade = Version.decode(_compact("upgrade-version"))
    payload_bytes = _stored_payload("upgrade-payload")
    head = _head("upgrade-head")
    new_blobs, old_blobs = _blobs("upgrade-blob "), _blobs("format1-blob ")
    assert upgrade.format_version == 4 and upgrade.is_checkpoint and upgrade.snapshot is not None
    assert (upgrade.change_type, upgrade.created_by, upgrade.change_count) == ("upgrade", "backstay", 0)
    assert upgrade.parent_id == parent.id and upgrade.seq == parent.seq + 1
    assert upgrade.timestamp >= parent.timestamp
    assert upgrade.modules == sorted(old_head.module_hashes) == sorted(upgrade.snapshot)
    assert payload_bytes == b'{"formatVersion":4,"changes":[],"forward":[],"inverse":[]}'
    assert upgrade.payload_hash == _sha256(payload_bytes)
    # Its snapshot: format 2 hashes of the head values; the blobs it was first to write count.
    assert upgrade.size == len(payload_bytes) + sum(map(len, new_blobs.values())) == 148
    assert len(payload_bytes) == 58 and [len(blob) for blob in new_blobs.values()] == [90]
    for hashed, text in new_blobs.items():
        assert reader_module_hash(parse_json(text)) == hashed
    shared = set(upgrade.snapshot.values()) & set(old_blobs)
    assert shared == {upgrade.snapshot[SETTINGS]}  # {"currency":"LKR"}: one text in both formats
    assert set(upgrade.snapshot.values()) == shared | set(new_blobs)
    assert parse_json(new_blobs[upgrade.snapshot[GUESTS]]) == [EDITED]
    assert reader_state_hash(upgrade.snapshot) == upgrade.state_hash
    assert upgrade.state_hash == Version.decode(_compact("version-delta")).state_hash
    # The link binds the format 1 parent's stateHash (format 1 module hashes) to the upgrade.
    assert upgrade.link == link(parent.id, parent.state_hash, upgrade.id, upgrade.state_hash)
    assert parent.state_hash == old_head.state_hash != upgrade.state_hash
    assert head.format_version == 4 and head.version_id == upgrade.id
    assert head.module_hashes == upgrade.snapshot and head.checkpoint_id == upgrade.id
    assert (head.deltas_since_checkpoint, head.bytes_since_checkpoint) == (0, 0)
    assert (head.journal_seq, head.journal_epoch, head.live_reads) == (
        old_head.journal_seq, old_head.journal_epoch, old_head.live_reads)


def _store_of_the_examples() -> MemoryStore:
    """The store the format 1 and upgrade examples describe, from the document alone."""
    store = MemoryStore()
    data = store.data
    for name in ("format1-version-checkpoint", "format1-version-delta", "upgrade-version"):
        version = Version.decode(_compact(name))
        data["versions"][version.id] = _compact(name)
        payload = {"format1-version-checkpoint": "format1-payload-checkpoint",
                   "format1-version-delta": "format1-payload-delta",
                   "upgrade-version": "upgrade-payload"}[name]
        data["payloads"][version.id] = _stored_payload(payload)
    data["blobs"].update({**_blobs("format1-blob "), **_blobs("upgrade-blob ")})
    data["meta"][HEAD_KEY] = _compact("upgrade-head")
    for key in (GUESTS, SETTINGS):
        data["meta"][KEY_PREFIX + key] = _compact(f"upgrade-head-key {key}")
    data["head"].update({GUESTS: pms_text([EDITED]).encode(),
                         SETTINGS: pms_text({"currency": "LKR"}).encode()})
    return store


def test_a_store_of_the_examples_verifies_and_reads_each_format_by_its_rules() -> None:
    async def scenario() -> None:
        store = _store_of_the_examples()
        chain, _, _ = build_chain(store=store)
        await chain.open()  # nothing to upgrade: the head pointer is format 4
        assert len(store.data["versions"]) == 3
        report = await chain.verify(full=True)
        assert report.ok, report.problems
        versions = await chain.list_versions()
        upgrade, format1_delta = versions[0], versions[1]
        new = await chain.state_at(upgrade.id)
        old = await chain.state_at(format1_delta.id)
        assert json_equal(new[GUESTS], [EDITED])  # written member order
        assert list(old[GUESTS][0]) == sorted(EDITED)  # type: ignore[index,arg-type]
        # A new version after the upgrade is a format 4 delta.
        version = await chain.record({GUESTS: pms_text([EDITED, {"id": "gst-000003"}])},
                                     created_by="a")
        assert version is not None and version.format_version == 4 and not version.is_checkpoint
        assert (await chain.verify(full=True)).ok

    asyncio.run(scenario())


def test_opening_a_format1_store_upgrades_it_once() -> None:
    async def scenario() -> None:
        store, _ = format1_store()
        chain, _, _ = build_chain(store=store)
        await chain.open()
        reopened, _, _ = build_chain(store=store)
        await reopened.open()
        kinds = [(v.format_version, v.change_type) for v in await reopened.list_versions()]
        assert kinds == [(4, "upgrade"), (1, "auto"), (1, "auto")]
        assert (await reopened.verify(full=True)).ok

    asyncio.run(scenario())


def test_verify_replays_each_format_by_its_own_rules() -> None:
    async def scenario() -> None:
        store = _store_of_the_examples()
        # A format 1 blob read by format 2's rules would not match its key: verify must not.
        history = await History.load(store, GzipCompressor())
        baseline = history.oldest_first()[0]
        assert baseline.snapshot is not None
        guests = store.data["blobs"][baseline.snapshot[GUESTS]]
        assert module_hash(parse_json(guests), 2) != baseline.snapshot[GUESTS]
        # Corrupt a format 1 member order in a blob: format 1's hash sees it.
        store.data["blobs"][baseline.snapshot[GUESTS]] = pms_text([GUEST]).encode()
        chain, _, _ = build_chain(store=store)
        report = await chain.verify(full=True)
        assert "corrupt-blob" in report.kinds()

    asyncio.run(scenario())


# ---- how a writer makes versions -------------------------------------------------------------------


def test_checkpoints_are_made_every_n_versions_and_every_n_bytes() -> None:
    async def scenario() -> None:
        chain, store, _ = build_chain(checkpoint_every=3)
        await chain.open()
        kinds = []
        for count in range(1, 8):
            version = await chain.record({"k": json.dumps(list(range(count)))}, created_by="a")
            assert version is not None
            kinds.append(version.kind)
        assert kinds == ["checkpoint", "delta", "delta", "checkpoint", "delta", "delta",
                         "checkpoint"]
        chain, store, _ = build_chain(checkpoint_bytes=600)
        await chain.open()
        await chain.record({"k": "[]"}, created_by="a")
        sizes, kinds = [], []
        for count in range(1, 6):
            version = await chain.record({"k": json.dumps(["x" * 40] * count)}, created_by="a")
            assert version is not None
            kinds.append(version.kind)
            sizes.append(len(store.data["payloads"][version.id]))
        head = await load_head(store)
        assert head is not None
        since = 0
        for size, kind in zip(sizes, kinds, strict=True):
            assert (kind == "checkpoint") == (since + size >= 600)
            since = 0 if kind == "checkpoint" else since + size
        assert "checkpoint" in kinds and head.bytes_since_checkpoint == since

    asyncio.run(scenario())


def test_modules_are_in_the_order_of_the_writes() -> None:
    async def scenario() -> None:
        chain, _, _ = build_chain()
        await chain.open()
        first = await chain.record_state({"b": "1", "a": "2", "c": "3"}, created_by="x",
                                         snapshot=True)
        second = await chain.record_state({"c": "4", "b": "5"}, created_by="x")  # "a" deleted
        assert first and second
        assert first.modules == ["b", "a", "c"] and second.modules == ["c", "b", "a"]

    asyncio.run(scenario())


# ---- the known limits of format 2, as they are today ------------------------------------------


def test_limit_a_member_order_change_is_a_whole_replace_shown_as_empty_fields() -> None:
    old: list[Json] = [{"id": "g1", "firstName": "Ada", "lastName": "King", "phone": "1"}]
    new: list[Json] = [{"id": "g1", "phone": "1", "firstName": "Ada", "lastName": "King"}]
    delta = diff_key(GUESTS, old, new)
    assert [change.fields for change in delta.changes] == [[""]]
    assert delta.forward == [{"op": "replace", "path": "/w3-hotel-guests/0", "value": new[0]}]
    assert describe(delta.changes) == "Updated guest Ada King ()"


def test_limit_positional_fields_may_repeat_a_pointer() -> None:
    old: list[Json] = [{"id": "a", "t": [{"a": 1, "b": 2, "c": 3}]}, {"id": "a"}]
    new: list[Json] = [{"id": "a", "t": [{"x": 1, "y": 2, "z": 3}]}, {"id": "a"}]
    delta = diff_key("w3-hotel-tasks", old, new)
    assert [change.fields for change in delta.changes] == [["/t/0", "/t/0"]]


def test_limit_comparing_across_the_upgrade_shows_member_order() -> None:
    async def scenario() -> None:
        chain, _, _ = build_chain(store=_store_of_the_examples())
        await chain.open()
        upgrade, parent = (await chain.list_versions())[:2]
        comparison = (await chain.compare(parent.id, upgrade.id)).to_dict()
        assert comparison["totals"] == {"created": 0, "deleted": 0, "updated": 1}

    asyncio.run(scenario())


def test_limits_size_and_modules_after_a_deletion() -> None:
    async def scenario() -> None:
        chain, store, _ = build_chain()
        await chain.open()
        first = await chain.record({"b": "[1]", "a": "[2]"}, created_by="x", snapshot=True)
        second = await chain.record({"b": "[1,5]", "a": "[2,3]"}, created_by="x")
        third = await chain.record({"a": "[2,3,4]"}, created_by="x", snapshot=True)
        await chain.record({"a": "[2,3,4,5]"}, created_by="x")
        assert first and second and third and third.snapshot is not None
        assert first.modules == second.modules == ["b", "a"]  # the order of the writes
        first_written = {store.data["blobs"][h] for h in third.snapshot.values()} - {b"[1]", b"[2]"}
        assert third.size == len(store.data["payloads"][third.id]) + sum(map(len, first_written))
        await chain.delete_version(second.id)
        rewritten = (await chain.history()).get(third.id)
        assert rewritten.modules == ["a", "b"] and rewritten.is_checkpoint
        assert rewritten.size == len(store.data["payloads"][third.id])  # its blobs no longer count
        assert (await chain.verify(full=True)).ok

    asyncio.run(scenario())


def test_limit_the_oldest_after_a_deletion_keeps_its_changelog() -> None:
    async def scenario() -> None:
        chain, _, _ = build_chain()
        await chain.open()
        first = await chain.record({"k": '[{"id":"a"}]'}, created_by="x", snapshot=True)
        second = await chain.record({"k": '[{"id":"a"},{"id":"b"}]'}, created_by="x")
        await chain.record({"k": "[]"}, created_by="x")
        assert first and second
        await chain.delete_version(first.id)
        oldest = await chain.get_version(second.id)
        assert oldest.version.parent_id is None and oldest.version.is_checkpoint
        assert [change.action for change in oldest.changes] == ["create"]
        payload = await (await chain.history()).payload(second.id)
        assert payload.forward is None and payload.inverse is None

    asyncio.run(scenario())


# ---- format 1 objects in a format 2 reader and writer ---------------------------------------------


def test_format1_values_are_read_by_format_1_rules() -> None:
    async def scenario() -> None:
        # What the format 1 release stored for a module holding 10**21 written as digits (format
        # 2 would read that token as the double 1e+21 and hash it so).
        record: dict[str, Json] = {"id": "a", "n": 10**21}
        assert canonical_json([record]) == b'[{"id":"a","n":1000000000000000000000}]'
        assert canonical_text(parse_json(canonical_json([record]))) == '[{"id":"a","n":1e+21}]'
        store, (baseline, delta) = format1_store({GUESTS: [record], SETTINGS: {}},
                                                 [{**record, "x": 1}])
        # Not yet upgraded: the head values by the format 1 head pointer, the history by format 1.
        chain, _, _ = build_chain(store=store)
        report = await chain.verify(full=True)
        assert report.ok, report.problems
        payload = Payload.decode(store.data["payloads"][delta.id], GzipCompressor())
        assert payload.format_version == 1
        after = payload.changes[0].after
        assert isinstance(after, dict) and type(after["n"]) is int and after["n"] == 10**21
        old = await chain.state_at(baseline.id)
        guests = old[GUESTS]
        assert isinstance(guests, list) and isinstance(guests[0], dict)
        assert guests == [record] and type(guests[0]["n"]) is int
        # Upgraded, then the format 1 baseline deleted: its child is rebuilt as a format 1
        # checkpoint from those values, and everything still checks out.
        await chain.open()
        assert [v.change_type for v in await chain.list_versions()][0] == "upgrade"
        await chain.delete_version(baseline.id)
        rewritten = Version.decode(store.data["versions"][delta.id])
        assert rewritten.format_version == 1 and rewritten.snapshot is not None
        for hashed in rewritten.snapshot.values():
            assert _sha256(store.data["blobs"][hashed]) == hashed  # format 1 blobs
        report = await chain.verify(full=True)
        assert report.ok, report.problems

    asyncio.run(scenario())


def test_a_format1_head_pointer_without_versions_becomes_format_4() -> None:
    async def scenario() -> None:
        chain, store, _ = build_chain()
        store.data["meta"][HEAD_KEY] = HeadPointer(journal_epoch="e", format_version=1).encode()
        await chain.open()
        await chain.start_journal("e2")  # any write of the head pointer stores it as format 4
        assert HeadPointer.from_meta(store.data["meta"]).format_version == 4
        first = await chain.record({"k": '[{"id":"a"}]'}, created_by="x", snapshot=True)
        assert first is not None and first.format_version == 4 and first.change_type == "auto"
        assert HeadPointer.from_meta(store.data["meta"]).format_version == 4
        reopened, _, _ = build_chain(store=store)
        await reopened.open()
        assert [v.id for v in await reopened.list_versions()] == [first.id]  # no upgrade
        assert (await reopened.verify(full=True)).ok

    asyncio.run(scenario())


def test_a_format1_version_rewritten_by_a_deletion_stays_format_1() -> None:
    async def scenario() -> None:
        store, (baseline, delta) = format1_store()
        chain, _, _ = build_chain(store=store)
        await chain.open()
        await chain.delete_version(baseline.id)
        assert json.loads(store.data["versions"][delta.id])["formatVersion"] == 1
        # (framed: the rewritten payload is gzip'd, as any writer of this release frames it)
        assert json.loads(unpack(store.data["payloads"][delta.id], GzipCompressor()))["formatVersion"] == 1
        upgrade = (await chain.list_versions())[0]
        assert json.loads(unpack(store.data["payloads"][upgrade.id], GzipCompressor()))["formatVersion"] == 4
        assert (await chain.verify(full=True)).ok

    asyncio.run(scenario())


# ---- restores and audit entries -----------------------------------------------------------------


def test_the_restore_examples_check_out() -> None:
    preview, version = _obj("restore-preview"), _obj("restore-version")
    pending, audit = _obj("restore-pending"), _obj("audit-entry")
    # The merge brings Anil back and keeps today's phone of Tharindu (a conflict, kept "today").
    guests = preview["modules"][0]
    assert (guests["module"], guests["created"], guests["deleted"]) == (GUESTS, 1, 0)
    assert [c["recordId"] for c in preview["conflicts"]] == [GUEST["id"]]
    assert preview["conflicts"][0]["keep"] == "today" and preview["conflicts"][0]["fields"] == ["/phone"]
    # The mark's hashes are those of the texts before and after the restore of Tharindu.
    mark = PendingRestore.decode(_compact("restore-pending"))
    assert mark.keys == {GUESTS: (_sha256(pms_text([EDITED, NIMAL]).encode()),
                                  _sha256(pms_text([GUEST, NIMAL]).encode()))}
    assert pending["description"] == version["description"] == (
        f"Restored 1 guest to {preview['target']} (full)")
    assert version["changeType"] == "restore" and version["parentId"] == preview["headVersionId"]
    entry = AuditEntry.decode(_compact("audit-entry"))
    assert entry.result == "done" and entry.details["versionId"] == version["id"]
    assert audit["details"] == {**pending["details"], "versionId": version["id"]}
    # The hash: SHA-256 of the compact JSON of every other member, in the order shown.
    body = {name: value for name, value in audit.items() if name != "hash"}
    assert entry.intact and audit["prev"] == ""
    assert _sha256(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()) == audit["hash"]


# ---- backup files ------------------------------------------------------------------------------


def test_the_backup_example_checks_out() -> None:
    from app.core.formats.backup import decode_backup

    file = examples()["backup-file"].encode("utf-8") + b"\n"
    backup = decode_backup(file)
    delta = Version.decode(_compact("version-delta"))
    assert backup.source["versionId"] == delta.id and backup.source["stateHash"] == delta.state_hash
    assert backup.state_hash == delta.state_hash  # it holds every key of that version
    assert {key: reader_module_hash(value) for key, value in backup.modules.items()} == \
        json.loads(file)["moduleHashes"]
    assert canonical_text(backup.modules[GUESTS]) == pms_text([EDITED])


def test_the_sealed_backup_example_opens_with_its_passphrase_by_the_documented_algorithm() -> None:
    import base64
    import gzip

    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    sealed = _obj("backup-sealed")
    assert (sealed["cipher"], sealed["kdf"], sealed["compression"]) == (
        "AES-256-GCM", "PBKDF2-SHA-256", "gzip")

    def open_with(passphrase: str) -> bytes:
        key = PBKDF2HMAC(hashes.SHA256(), 32, base64.b64decode(sealed["salt"]),
                         sealed["iterations"]).derive(passphrase.encode())
        return AESGCM(key).decrypt(base64.b64decode(sealed["iv"]), base64.b64decode(sealed["data"]),
                                   b"backstay-backup-encrypted/3")

    assert gzip.decompress(open_with("correct horse battery staple")) == \
        examples()["backup-file"].encode("utf-8") + b"\n"
    with pytest.raises(InvalidTag):
        open_with("correct horse battery stapler")


def test_the_passphrase_record_example_checks_its_passphrase_by_the_documented_algorithm() -> None:
    import base64

    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    raw = _obj("passphrase-record")
    record = PassphraseRecord.decode(examples()["passphrase-record"].encode("utf-8"))
    assert record is not None and record.salt == base64.b64decode(_obj("backup-sealed")["salt"])
    assert (raw["kdf"], raw["iterations"], raw["setBy"]) == ("PBKDF2-SHA-256", 600_000, "admin")

    def check(passphrase: str) -> bytes:
        key = PBKDF2HMAC(hashes.SHA256(), 32, base64.b64decode(raw["salt"]),
                         raw["iterations"]).derive(passphrase.encode())
        return AESGCM(key).decrypt(base64.b64decode(raw["checkIv"]), base64.b64decode(raw["check"]),
                                   b"backstay-passphrase-check/3")

    assert check("correct horse battery staple") == b"backstay-passphrase-check"
    with pytest.raises(InvalidTag):
        check("correct horse battery stapler")
