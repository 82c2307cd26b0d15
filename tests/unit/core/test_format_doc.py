"""docs/FORMAT.md: its worked examples are the core's real output, and check out on their own.

Every example the core makes must be exactly what tests/unit/core/format_examples.py prints; then
each is read with the core's readers and its hashes, sizes and links are recomputed from its own
content, the way an independent reader would. The "Known limits of format 1" are pinned too: when
one is fixed, its test fails and the document is updated with it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import jsonpatch
import pytest

from app.core.diff import ABSENT, diff_key
from app.core.errors import UnknownFormatVersion
from app.core.framing import COMPRESS_AT, pack
from app.core.gzip_codec import GzipCompressor
from app.core.head import HeadPointer
from app.core.integrity import link, module_hash, state_hash
from app.core.json_value import RawNumber, canonical_json, compact_json, json_equal, parse_json
from app.core.patch import apply_patch
from app.core.payload import Payload
from app.core.summary import describe
from app.core.version import Version
from tests.conftest import build_chain
from tests.unit.core.format_examples import DIFF_CASES, generated

DOC = Path(__file__).resolve().parents[3] / "docs" / "FORMAT.md"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


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
    """The stored bytes of an example payload: under 512 bytes, framing keeps them as they are."""
    data = _compact(name)
    assert len(data) < COMPRESS_AT and pack(data, GzipCompressor()) == data
    return data


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _blobs() -> dict[str, bytes]:
    return {name.split()[1]: text.encode() for name, text in examples().items()
            if name.startswith("blob ")}


# ---- the examples are the code's output ---------------------------------------------------------


def test_the_examples_are_there() -> None:
    names = set(examples())
    assert {"version-checkpoint", "payload-checkpoint", "version-delta", "payload-delta", "head",
            "version-empty-baseline", "payload-empty-baseline", "numbers-written",
            "numbers-canonical", "unusual-written", "unusual-canonical", "journal-entry"} <= names
    assert sum(name.startswith("blob ") for name in names) == 2
    assert {f"diff {name}" for name in DIFF_CASES} <= names


def test_every_generated_example_is_in_the_document_as_generated() -> None:
    found = examples()
    stale = [name for name, text in generated().items() if found.get(name) != text]
    assert not stale, (f"FORMAT.md examples {stale} differ from the code's output; paste the "
                       "output of `.venv/bin/python -m tests.unit.core.format_examples`")


# ---- the examples check out from their own content ------------------------------------------


def test_the_baseline_checks_out() -> None:
    baseline = Version.decode(_compact("version-checkpoint"))
    payload_bytes = _stored_payload("payload-checkpoint")
    payload = Payload.decode(payload_bytes, GzipCompressor())
    blobs = _blobs()
    assert payload.changes == [] and payload.forward is None and payload.inverse is None
    assert baseline.payload_hash == _sha256(payload_bytes)
    assert baseline.size == len(payload_bytes) + sum(map(len, blobs.values())) == 170
    for hashed, canonical in blobs.items():
        assert _sha256(canonical) == hashed
        assert canonical_json(parse_json(canonical)) == canonical
    assert baseline.snapshot is not None and set(baseline.snapshot.values()) == set(blobs)
    assert baseline.modules == sorted(baseline.snapshot) and baseline.change_count == 0
    # The state hash over the hex text of each module hash, and the link, as a reader writes them.
    lines = b"".join(key.encode() + b"\0" + baseline.snapshot[key].encode("ascii") + b"\n"
                     for key in sorted(baseline.snapshot))
    assert _sha256(lines) == state_hash(baseline.snapshot) == baseline.state_hash
    assert baseline.link == _sha256(b"\n".join(
        [b"backstay-link-v1", b"", b"", baseline.id.encode(), baseline.state_hash.encode()]))
    assert baseline.link == link(None, None, baseline.id, baseline.state_hash)


def test_the_delta_and_the_head_check_out() -> None:
    baseline = Version.from_dict(_obj("version-checkpoint"))
    delta = Version.decode(_compact("version-delta"))
    payload_bytes = _stored_payload("payload-delta")
    payload = Payload.decode(payload_bytes, GzipCompressor())
    head = HeadPointer.decode(_compact("head"))
    blobs = _blobs()
    assert baseline.snapshot is not None and payload.forward is not None
    assert payload.inverse is not None
    assert delta.payload_hash == _sha256(payload_bytes) and delta.size == len(payload_bytes) == 495
    assert delta.parent_id == baseline.id and delta.seq == baseline.seq + 1
    assert delta.link == _sha256("\n".join(
        ["backstay-link-v1", baseline.id, baseline.state_hash, delta.id, delta.state_hash]).encode())
    assert delta.change_count == len(payload.changes) and delta.description == describe(payload.changes)
    state = {key: parse_json(blobs[hashed]) for key, hashed in baseline.snapshot.items()}
    after = apply_patch(json.loads(json.dumps(state)), payload.forward)
    assert isinstance(after, dict)
    hashes = {key: module_hash(value) for key, value in after.items()}
    assert state_hash(hashes) == delta.state_hash == head.state_hash
    assert delta.modules == [key for key in hashes if hashes[key] != baseline.snapshot[key]]
    assert hashes == head.module_hashes and head.version_id == delta.id and head.seq == delta.seq
    assert head.checkpoint_id == baseline.id and head.deltas_since_checkpoint == 1
    assert head.bytes_since_checkpoint == delta.size
    assert jsonpatch.apply_patch(state, payload.forward) == after
    assert apply_patch(after, payload.inverse) == state  # in place: ``after`` is the parent's now


def test_the_empty_baseline_checks_out() -> None:
    empty = Version.decode(_compact("version-empty-baseline"))
    payload_bytes = _stored_payload("payload-empty-baseline")
    assert empty.snapshot == {} and empty.modules == [] and empty.is_checkpoint
    assert empty.state_hash == state_hash({}) == EMPTY_SHA256
    assert empty.size == len(payload_bytes) == 62 and empty.payload_hash == _sha256(payload_bytes)
    assert empty.link == link(None, None, empty.id, empty.state_hash)


@pytest.mark.parametrize("name", sorted(DIFF_CASES))
def test_a_diff_example_is_what_diff_key_makes_of_its_values(name: str) -> None:
    example = _obj(f"diff {name}")
    key = example["key"]
    old, new = example.get("old", ABSENT), example.get("new", ABSENT)
    delta = diff_key(key, old, new)
    assert [change.to_dict() for change in delta.changes] == example["changes"]
    assert delta.forward == example["forward"] and delta.inverse == example["inverse"]
    before = {} if old is ABSENT else {key: old}
    after = {} if new is ABSENT else {key: new}
    for applier in (apply_patch, jsonpatch.apply_patch):
        assert json_equal(applier(json.loads(json.dumps(before)), example["forward"]), after)
        assert json_equal(applier(json.loads(json.dumps(after)), example["inverse"]), before)


def test_the_reorder_with_an_edit_is_only_in_the_patches() -> None:
    example = _obj("diff reorder-and-edit")
    assert [change["recordId"] for change in example["changes"]] == ["102"]
    assert [op["op"] for op in example["forward"]] == ["move", "replace"]


@pytest.mark.parametrize("name", ["version-checkpoint", "head", "payload-delta"])
def test_unknown_format_versions_are_refused(name: str) -> None:
    obj = _obj(name)
    obj["formatVersion"] = 2
    data = json.dumps(obj).encode()
    with pytest.raises(UnknownFormatVersion):
        if name == "head":
            HeadPointer.decode(data)
        elif name == "payload-delta":
            Payload.decode(data, GzipCompressor())
        else:
            Version.decode(data)


def test_numbers_are_read_and_spelled_as_documented() -> None:
    written = parse_json(examples()["numbers-written"])
    canonical = examples()["numbers-canonical"].encode()
    assert canonical_json(written) == canonical and parse_json(canonical) == written
    assert isinstance(written, list)
    kinds = [type(number).__name__ for number in written]
    assert kinds == ["int"] * 5 + ["float", "int"] + ["float"] * 3 + ["int"] \
        + ["float"] * 6 + ["RawNumber"]
    assert written[3] == 2**53 + 1 and written[6] == 12345678901234567891
    assert written[7] == 12345678901234567168
    spelled = {token: canonical_json(parse_json(token)) for token in ["1e21", "1e-7", "1e16", "1e-5"]}
    assert spelled == {"1e21": b"1e+21", "1e-7": b"1e-07", "1e16": b"1e+16", "1e-5": b"1e-05"}
    assert not json_equal(parse_json("1e20"), parse_json("100000000000000000000"))


def test_unusual_values_example_is_canonical() -> None:
    written = parse_json(examples()["unusual-written"])
    canonical = examples()["unusual-canonical"].encode()
    assert canonical_json(written) == canonical
    assert parse_json(canonical) == written
    assert isinstance(written, list) and isinstance(written[0], dict)
    assert written[0]["spent"] == RawNumber("1e+400") and written[0]["debt"] == RawNumber("-1.25e+400")
    assert written[0]["name"] == "Zo\ud83d" and written[0]["emoji"] == "\U0001f600"
    assert written[0]["tiny"] == 0


# ---- the known limits of format 1, as they are today ------------------------------------------


def test_limit_1_an_integer_rewritten_as_an_equal_double_is_a_change() -> None:
    async def scenario() -> None:
        chain, store, _ = build_chain()
        await chain.open()
        await chain.record({"k": '[{"id":"a","n":1000000000000000000000,"x":1}]'},
                           created_by="a", snapshot=True)
        version = await chain.record({"k": '[{"id":"a","n":1e+21,"x":1}]'}, created_by="a")
        assert version is not None and version.change_count == 1
        assert (await chain.verify(full=True)).ok
        reloaded, _, _ = build_chain(store=store)
        await reloaded.open()
        assert await reloaded.record({"k": '[{"id":"a","n":1e+21,"x":2}]'}, created_by="a")
        assert (await reloaded.verify(full=True)).ok

    asyncio.run(scenario())


def test_limit_1_does_not_hold_with_a_boolean_in_the_text() -> None:
    async def scenario() -> None:
        chain, _, _ = build_chain()
        await chain.open()
        await chain.record({"k": '[{"id":"a","n":1000000000000000000000,"b":true}]'},
                           created_by="a", snapshot=True)
        version = await chain.record({"k": '[{"id":"a","n":1e+21,"b":true}]'}, created_by="a")
        assert version is not None and version.change_count == 1
        assert (await chain.verify(full=True)).ok

    asyncio.run(scenario())


def test_limit_3_member_order_is_not_kept() -> None:
    example = _obj("diff field-removed")
    restored = apply_patch({example["key"]: example["new"]}, example["inverse"])
    assert isinstance(restored, dict)
    assert list(restored[example["key"]][0]) == ["id", "phone", "email"]  # written: id, email, phone
    replaced = apply_patch({"k": {"a": 1, "b": 2}}, [{"op": "replace", "path": "/k/a", "value": 3}])
    assert isinstance(replaced, dict) and list(replaced["k"]) == ["b", "a"]  # "a" moved last


def test_limits_7_and_8_size_and_modules_after_a_deletion() -> None:
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


def test_limit_9_the_oldest_after_a_deletion_keeps_its_changelog() -> None:
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
