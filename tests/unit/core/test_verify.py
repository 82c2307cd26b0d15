"""verify: every kind of damage is reported precisely; a healthy history reports nothing."""

from __future__ import annotations

import asyncio
import json

from app.core.chain import Chain
from app.core.formats.json_value import compact_json, parse_json
from app.core.memory_store import MemoryStore
from app.core.ports import Collection, DataLost
from tests.conftest import build_chain

GUESTS = "w3-hotel-guests"


async def _history(versions: int = 7) -> tuple[Chain, MemoryStore, list[str]]:
    chain, store, _ = build_chain(checkpoint_every=3)
    await chain.open()
    ids = []
    for step in range(versions):
        records = [{"id": f"g{n}", "firstName": f"F{n}-{step if n == step % 4 else 0}",
                    "bio": "long text " * 80} for n in range(4)]
        version = await chain.record({GUESTS: json.dumps(records), "n": str(step)},
                                     created_by="x", snapshot=step == 0)
        assert version is not None
        ids.append(version.id)
    return chain, store, ids


def _kinds(chain: Chain, *, full: bool) -> set[str]:
    return asyncio.run(chain.verify(full=full)).kinds()


def _verify(store: MemoryStore, *, full: bool) -> dict[str, object]:
    chain, _, _ = build_chain(store=store)
    return asyncio.run(chain.verify(full=full)).to_dict()


def test_healthy_history_has_no_problems() -> None:
    chain, store, ids = asyncio.run(_history())
    for full in (False, True):
        report = _verify(store, full=full)
        assert report == {"ok": True, "full": full, "versions": len(ids), "problems": []}


def test_flipped_byte_in_a_payload_is_found_by_the_full_check() -> None:
    _, store, ids = asyncio.run(_history())
    data = bytearray(store.data["payloads"][ids[3]])
    data[len(data) // 2] ^= 0x01
    store.data["payloads"][ids[3]] = bytes(data)
    assert _verify(store, full=False)["ok"] is True  # structure is intact
    problems = _verify(store, full=True)["problems"]
    assert {"kind": "payload-hash-mismatch", "subject": f"payloads/{ids[3]}",
            "detail": "stored bytes do not match payloadHash"} in problems  # type: ignore[operator]


def test_flipped_byte_in_a_blob_is_found() -> None:
    _, store, _ = asyncio.run(_history())
    blob = sorted(store.data["blobs"])[0]
    data = bytearray(store.data["blobs"][blob])
    data[-12] ^= 0x40
    store.data["blobs"][blob] = bytes(data)
    problems = _verify(store, full=True)["problems"]
    assert any(p["kind"] == "corrupt-blob" and p["subject"] == f"blobs/{blob}"
               for p in problems)  # type: ignore[attr-defined,index]


def test_missing_payload_is_found_quickly() -> None:
    _, store, ids = asyncio.run(_history())
    del store.data["payloads"][ids[4]]
    report = _verify(store, full=False)
    assert report["problems"] == [{"kind": "missing-payload", "subject": f"payloads/{ids[4]}",
                                   "detail": "payload is missing"}]


def test_missing_metadata_is_a_gap() -> None:
    _, store, ids = asyncio.run(_history())
    del store.data["versions"][ids[2]]
    kinds = [p["kind"] for p in _verify(store, full=False)["problems"]]  # type: ignore[attr-defined]
    # The versions after the head pointer's stored records carry its changes (format 4): the
    # pointer read stops at the gap, short of the newest version.
    assert kinds == ["missing-parent", "head-mismatch", "orphan-payload"]


def test_broken_chain_link_is_found_quickly() -> None:
    _, store, ids = asyncio.run(_history())
    meta = parse_json(store.data["versions"][ids[5]])
    assert isinstance(meta, dict)
    meta["stateHash"] = "0" * 64
    store.data["versions"][ids[5]] = compact_json(meta)
    problems = _verify(store, full=False)["problems"]
    assert {"kind": "broken-link", "subject": f"versions/{ids[5]}",
            "detail": "link does not match the parent's and own state"} in problems  # type: ignore[operator]
    assert any(p["subject"] == f"versions/{ids[6]}" for p in problems)  # type: ignore[attr-defined,index]


def test_tampered_patch_with_consistent_hashes_is_found_by_replay() -> None:
    async def scenario() -> None:
        chain, store, ids = await _history()
        history = await chain.history()
        payload = await history.payload(ids[4])
        assert payload.forward is not None
        payload.forward.append({"op": "add", "path": "/injected", "value": 1})
        encoded = payload.encode(chain._compressor)  # noqa: SLF001 - a test forging a payload
        meta = parse_json(store.data["versions"][ids[4]])
        assert isinstance(meta, dict)
        from app.core.formats.integrity import content_hash
        meta["payloadHash"] = content_hash(encoded)
        store.data["payloads"][ids[4]] = encoded
        store.data["versions"][ids[4]] = compact_json(meta)
        report = await chain.verify(full=True)
        assert {p.kind for p in report.problems} >= {"state-mismatch", "inverse-mismatch"}
        # The first version that does not replay is the forged one (later ones inherit it).
        assert report.problems[0].subject == f"versions/{ids[4]}"

    asyncio.run(scenario())


def test_missing_and_orphan_blobs_and_head_problems() -> None:
    _, store, _ = asyncio.run(_history())
    blob = sorted(store.data["blobs"])[0]
    del store.data["blobs"][blob]
    store.data["blobs"]["f" * 64] = b"[]"
    store.data["payloads"]["stray"] = b"{}"
    store.data["head"]["n"] = b"999"
    store.data["head"]["ghost"] = b"1"
    kinds = {p["kind"] for p in _verify(store, full=True)["problems"]}  # type: ignore[attr-defined]
    assert {"missing-blob", "orphan-blob", "orphan-payload", "orphan-head-value",
            "head-value-mismatch"} <= kinds


def test_head_pointer_problems() -> None:
    _, store, ids = asyncio.run(_history())
    head = parse_json(store.data["meta"]["head"])
    assert isinstance(head, dict)
    head["versionId"] = ids[2]
    store.data["meta"]["head"] = compact_json(head)
    # The versions after it carry the pointer's changes (format 4): it is read as the newest.
    assert _verify(store, full=False)["problems"] == []
    after = parse_json(store.data["versions"][ids[3]])
    assert isinstance(after, dict)
    del after["head"]  # a version that does not say what it changed of the pointer
    store.data["versions"][ids[3]] = compact_json(after)
    assert [p["kind"] for p in _verify(store, full=False)["problems"]] == ["head-mismatch"]  # type: ignore[attr-defined]
    head["formatVersion"] = 99
    store.data["meta"]["head"] = compact_json(head)
    kinds = {p["kind"] for p in _verify(store, full=False)["problems"]}  # type: ignore[attr-defined]
    assert kinds == {"unknown-format", "head-missing"}
    del store.data["meta"]["head"]
    kinds = {p["kind"] for p in _verify(store, full=False)["problems"]}  # type: ignore[attr-defined]
    assert "head-missing" in kinds


def test_unreadable_metadata_and_payload() -> None:
    _, store, ids = asyncio.run(_history())
    store.data["versions"][ids[6]] = b"garbage"
    store.data["payloads"][ids[1]] = b"\x1f\x8bnot gzip"
    problems = _verify(store, full=True)["problems"]
    kinds = {(p["kind"], p["subject"]) for p in problems}  # type: ignore[index,union-attr]
    assert ("metadata-unreadable", f"versions/{ids[6]}") in kinds
    assert ("payload-hash-mismatch", f"payloads/{ids[1]}") in kinds


class LossyStore(MemoryStore):
    """A store that lost some values from the disk: every read of them fails (DataLost), as
    IndexedDB's do once the file that held one is gone."""

    def __init__(self, lost: set[tuple[str, str]]) -> None:
        super().__init__()
        self.lost = lost

    async def get(self, collection: Collection, key: str) -> bytes | None:
        if (collection, key) in self.lost:
            raise DataLost("a value was lost from the disk")
        return await super().get(collection, key)

    async def get_many(self, collection: Collection, keys: list[str]) -> dict[str, bytes]:
        if any((collection, key) in self.lost for key in keys):
            raise DataLost("values were lost from the disk")
        return await super().get_many(collection, keys)

    async def after(self, collection: Collection, key: str) -> dict[str, bytes]:
        found = await super().after(collection, key)
        if any((collection, name) in self.lost for name in found):
            raise DataLost("values were lost from the disk")
        return found

    async def prefixed(self, collection: Collection, prefix: str) -> dict[str, bytes]:
        found = await super().prefixed(collection, prefix)
        if any((collection, name) in self.lost for name in found):
            raise DataLost("values were lost from the disk")
        return found


def test_values_the_disk_lost_are_each_reported_and_the_check_goes_on() -> None:
    """Like restic check: a lost payload, blob or version record is one finding each, named;
    everything else is still checked (a broken payload beside them is found too)."""
    _, store, ids = asyncio.run(_history())
    lossy = LossyStore(set())
    lossy.data = store.data
    blob = sorted(store.data["blobs"])[0]
    data = bytearray(store.data["payloads"][ids[5]])
    data[len(data) // 2] ^= 0x01
    store.data["payloads"][ids[5]] = bytes(data)
    lossy.lost = {("payloads", ids[1]), ("blobs", blob)}
    problems = _verify(lossy, full=True)["problems"]
    found = [(p["kind"], p["subject"]) for p in problems]  # type: ignore[attr-defined]
    assert ("payload-lost", f"payloads/{ids[1]}") in found
    assert ("blob-lost", f"blobs/{blob}") in found
    assert ("payload-hash-mismatch", f"payloads/{ids[5]}") in found
    lost = [p for p in problems if p["kind"] == "payload-lost"]  # type: ignore[index]
    assert "lost from this browser's disk" in lost[0]["detail"]  # type: ignore[index]
    # Quick: only the version records are read; one lost is a gap, as a missing one is.
    lossy.lost = {("versions", ids[2])}
    found = [(p["kind"], p["subject"]) for p in _verify(lossy, full=False)["problems"]]  # type: ignore[attr-defined]
    assert ("metadata-lost", f"versions/{ids[2]}") in found
    # It follows the head pointer's stored records (format 4): the pointer cannot be read.
    assert ("head-unreadable", "meta/head") in found
    assert "missing-parent" in {kind for kind, _ in found}
    assert ("orphan-payload", f"payloads/{ids[2]}") not in found  # its payload: not garbage
