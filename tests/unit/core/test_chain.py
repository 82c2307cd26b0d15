"""Chain: recording versions, reconstructing states, deleting versions, head and journal."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
from typing import Any

import pytest

from app.core.chain import Chain
from app.core.clock import ManualClock
from app.core.errors import CannotDeleteHead, VersionNotFound
from app.core.formats.framing import COMPRESS_AT
from app.core.formats.gzip_codec import GzipCompressor
from app.core.formats.json_value import RawNumber, canonical_text, parse_json
from app.core.memory_store import MemoryStore
from app.core.ports import Collection, StoreError, StoreFull
from tests.conftest import build_chain
from tests.unit.core.format_examples import EDITED, GUEST

GUESTS = "w3-hotel-guests"
ROOMS = "w3-hotel-rooms"


def guests(count: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"id": f"g{n}", "firstName": f"F{n}", "preferences": ["quiet"], "totalSpent": 10.0,
             **extra} for n in range(count)]


def text(value: Any) -> str:
    return json.dumps(value)


async def _baseline(chain: Chain) -> None:
    await chain.open()
    await chain.record_state({GUESTS: text(guests(3)), ROOMS: text([{"id": "101"}])},
                             created_by="admin", snapshot=True, description="Baseline")


def test_empty_store_opens() -> None:
    async def scenario() -> None:
        chain, _, _ = build_chain()
        await chain.open()
        assert chain.head_version_id is None and chain.journal_seq == 0
        assert await chain.head_keys() == [] and await chain.head_text(GUESTS) is None
        assert await chain.list_versions() == []
        assert await chain.state_at_time(2_000_000_000_000) is None
        assert (await chain.verify(full=True)).ok

    asyncio.run(scenario())


def test_record_makes_versions_with_changelog_and_metadata() -> None:
    async def scenario() -> None:
        chain, _, _ = build_chain()
        await _baseline(chain)
        edited = guests(3)
        edited[1]["firstName"] = "Ann"
        version = await chain.record({GUESTS: text(edited)}, created_by="desk", journal_seq=7)
        assert version is not None
        data = version.to_dict()
        assert data["createdBy"] == "desk" and data["changeType"] == "auto"
        assert data["modules"] == [GUESTS] and data["changeCount"] == 1 and data["kind"] == "delta"
        assert 0 < data["size"] < 1024
        assert chain.journal_seq == 7 and chain.head_version_id == version.id
        detail = (await chain.get_version(version.id)).to_dict()
        assert detail["changes"] == [{
            "module": GUESTS, "action": "update", "recordId": "g1",
            "before": guests(3)[1] | {"totalSpent": 10}, "after": edited[1] | {"totalSpent": 10},
            "fields": ["/firstName"]}]
        assert await chain.head_text(GUESTS) == text(edited)
        listed = await chain.list_versions()
        assert [v.id for v in listed] == [version.id, listed[1].id]
        assert listed[1].kind == "checkpoint" and listed[1].description == "Baseline"
        assert sorted(v.id for v in listed) == [v.id for v in reversed(listed)]

    asyncio.run(scenario())


def test_nothing_changed_returns_none_but_keeps_journal_seq() -> None:
    async def scenario() -> None:
        chain, store, _ = build_chain()
        await _baseline(chain)
        same = text(guests(3))
        assert await chain.record({GUESTS: same}, created_by="x", journal_seq=3) is None
        reformatted = json.dumps(guests(3), indent=2)
        assert await chain.record({GUESTS: reformatted}, created_by="x", journal_seq=4) is None
        assert await chain.record({"never-there": None}, created_by="x") is None
        assert await chain.record({}, created_by="x", journal_seq=5) is None
        assert len(await chain.list_versions()) == 1
        reopened, _, _ = build_chain(store=store)
        await reopened.open()
        assert reopened.journal_seq == 5
        assert await reopened.head_text(GUESTS) == reformatted
        assert await reopened.head_data(GUESTS) == reformatted.encode("utf-8")
        assert await reopened.head_data("never-there") is None

    asyncio.run(scenario())


def test_invalid_json_is_refused_and_nothing_written() -> None:
    async def scenario() -> None:
        chain, store, _ = build_chain()
        await _baseline(chain)
        before = store.applied_batches
        for bad in ["{not json", "NaN", "[1, Infinity]", ""]:
            with pytest.raises(ValueError):
                await chain.record({GUESTS: "[]", ROOMS: bad}, created_by="x", journal_seq=9)
        assert store.applied_batches == before and chain.journal_seq == 0

    asyncio.run(scenario())


def test_keys_appear_and_disappear() -> None:
    async def scenario() -> None:
        chain, _, _ = build_chain()
        await _baseline(chain)
        added = await chain.record({"settings": '{"tax": 10}'}, created_by="x")
        removed = await chain.record({ROOMS: None}, created_by="x")
        assert added is not None and removed is not None
        assert await chain.head_keys() == ["settings", GUESTS]
        assert set(await chain.state_at(added.id)) == {GUESTS, ROOMS, "settings"}
        assert await chain.state_at(removed.id) == {
            GUESTS: parse_json(text(guests(3))), "settings": {"tax": 10}}
        state = await chain.record_state({GUESTS: "[]"}, created_by="x")
        assert state is not None and sorted(state.modules) == ["settings", GUESTS]
        assert await chain.head_keys() == [GUESTS]

    asyncio.run(scenario())


def test_checkpoints_every_n_versions_and_bounded_reconstruction() -> None:
    async def scenario() -> None:
        chain, _, _ = build_chain(checkpoint_every=4)
        await _baseline(chain)
        expected = {}
        for step in range(10):
            value = guests(3, step=step)
            version = await chain.record({GUESTS: text(value)}, created_by="x")
            assert version is not None
            expected[version.id] = value
        kinds = [v.kind for v in reversed(await chain.list_versions())]
        assert kinds == ["checkpoint", "delta", "delta", "delta", "checkpoint", "delta", "delta",
                         "delta", "checkpoint", "delta", "delta"]
        history = await chain.history()
        for version_id, value in expected.items():
            assert len(history.since_checkpoint(version_id)) <= 4
            assert (await chain.state_at(version_id))[GUESTS] == parse_json(text(value))
        snapshot = await chain.record({}, created_by="x", change_type="manual", snapshot=True)
        assert snapshot is not None and snapshot.kind == "checkpoint" and snapshot.change_count == 0

    asyncio.run(scenario())


def test_checkpoint_when_delta_bytes_pile_up() -> None:
    async def scenario() -> None:
        chain, _, _ = build_chain(checkpoint_bytes=2000)
        await _baseline(chain)
        kinds = []
        for step in range(12):
            version = await chain.record({GUESTS: text(guests(3, note=f"n{step}" * 50))},
                                         created_by="x")
            assert version is not None
            kinds.append(version.kind)
        assert "checkpoint" in kinds

    asyncio.run(scenario())


def test_state_at_time_picks_the_last_version_at_or_before() -> None:
    async def scenario() -> None:
        chain, _, clock = build_chain(step_ms=0)
        await _baseline(chain)
        first = (await chain.list_versions())[0]
        clock.advance(60_000)
        second = await chain.record({ROOMS: "[]"}, created_by="x")
        assert second is not None
        assert await chain.state_at_time(first.timestamp - 1) is None
        found = await chain.state_at_time(first.timestamp + 59_999)
        assert found is not None and found[0].id == first.id and found[1][ROOMS] == [{"id": "101"}]
        found = await chain.state_at_time(second.timestamp)
        assert found is not None and found[0].id == second.id and found[1][ROOMS] == []

    asyncio.run(scenario())


def test_timestamps_never_go_backwards() -> None:
    async def scenario() -> None:
        chain, _, clock = build_chain(step_ms=0)
        await _baseline(chain)
        clock.advance(-3_600_000)
        version = await chain.record({ROOMS: "[]"}, created_by="x")
        assert version is not None
        versions = await chain.list_versions()
        assert versions[0].timestamp >= versions[1].timestamp and versions[0].id > versions[1].id

    asyncio.run(scenario())


def test_store_full_leaves_nothing_half_written() -> None:
    async def scenario() -> None:
        chain, store, _ = build_chain()
        await _baseline(chain)
        snapshot = {name: dict(values) for name, values in store.data.items()}
        store.quota_bytes = store.stored_bytes() + 10
        with pytest.raises(StoreFull):
            await chain.record({GUESTS: text(guests(50))}, created_by="x", journal_seq=4)
        assert store.data == snapshot and chain.journal_seq == 0
        store.quota_bytes = None
        store.fail_next_apply = True
        with pytest.raises(StoreError):
            await chain.record({GUESTS: text(guests(50))}, created_by="x")
        version = await chain.record({GUESTS: text(guests(50))}, created_by="x")
        assert version is not None and (await chain.verify(full=True)).ok
        assert (await chain.state_at(version.id))[GUESTS] == parse_json(text(guests(50)))

    asyncio.run(scenario())


def test_reopen_sees_another_writer() -> None:
    async def scenario() -> None:
        chain, store, _ = build_chain()
        await _baseline(chain)
        other, _, _ = build_chain(store=store)
        await other.open()
        await other.head_text(GUESTS)
        version = await chain.record({GUESTS: "[]"}, created_by="x")
        assert version is not None
        await other.open()
        assert other.head_version_id == version.id and await other.head_text(GUESTS) == "[]"
        assert [v.id for v in await other.list_versions()][0] == version.id

    asyncio.run(scenario())


def test_delete_versions_keeps_the_rest_exact_and_leaves_nothing() -> None:
    async def scenario() -> None:
        chain, store, _ = build_chain(checkpoint_every=3)
        await _baseline(chain)
        expected: dict[str, Any] = {}
        secret = "SECRET-VALUE"
        for step in range(8):
            value = guests(4, step=step)
            if step == 2:
                value[0]["note"] = secret
            version = await chain.record({GUESTS: text(value)}, created_by="x")
            assert version is not None
            expected[version.id] = parse_json(text(value))
        ids = list(expected)
        for doomed in (ids[2], ids[0], ids[3]):
            await chain.delete_version(doomed)
            del expected[doomed]
            report = await chain.verify(full=True)
            assert report.ok, report.to_dict()
        baseline = (await chain.list_versions())[-1]
        await chain.delete_version(baseline.id)
        assert (await chain.verify(full=True)).ok
        for version_id, value in expected.items():
            assert (await chain.state_at(version_id))[GUESTS] == value
        for collection in ("versions", "payloads"):
            assert set(await store.keys(collection)) == set(expected)
        stored = b"".join(v for values in store.data.values() for v in values.values())
        assert secret.encode() not in stored  # gzip'd payloads are checked through the API too
        for version_id in expected:
            assert secret not in json.dumps((await chain.get_version(version_id)).to_dict())
        with pytest.raises(CannotDeleteHead):
            await chain.delete_version(chain.head_version_id or "")
        with pytest.raises(VersionNotFound):
            await chain.delete_version("nope")
        with pytest.raises(VersionNotFound):
            await chain.get_version("nope")

    asyncio.run(scenario())


def test_compare_two_versions() -> None:
    async def scenario() -> None:
        chain, _, _ = build_chain()
        await _baseline(chain)
        first = (await chain.list_versions())[0]
        edited = guests(3)[1:] + [{"id": "g9", "firstName": "New"}]
        edited[0]["firstName"] = "Changed"
        second = await chain.record({GUESTS: text(edited), "settings": '{"a": 1}'}, created_by="x")
        assert second is not None
        comparison = (await chain.compare(first.id, second.id)).to_dict()
        assert comparison["totals"] == {"created": 2, "deleted": 1, "updated": 1}
        module = comparison["modules"][0]
        assert module["module"] == "settings" and module["records"][0]["recordId"] == ""
        guests_module = comparison["modules"][1]
        assert (guests_module["created"], guests_module["deleted"], guests_module["updated"]) == (1, 1, 1)
        updated = [r for r in guests_module["records"] if r["action"] == "update"][0]
        assert updated["fields"] == [{"path": "/firstName", "op": "replace", "before": "F1",
                                      "after": "Changed"}]

    asyncio.run(scenario())


class YieldingStore(MemoryStore):
    """A MemoryStore whose reads give other coroutines a turn, as IndexedDB's do."""

    async def get(self, collection: Collection, key: str) -> bytes | None:
        await asyncio.sleep(0)
        return await super().get(collection, key)

    async def get_many(self, collection: Collection, keys: list[str]) -> dict[str, bytes]:
        await asyncio.sleep(0)
        return await super().get_many(collection, keys)

    async def keys(self, collection: Collection, prefix: str = "") -> list[str]:
        await asyncio.sleep(0)
        return await super().keys(collection, prefix)


def test_a_listing_that_overlaps_a_commit_never_hides_it() -> None:
    async def scenario() -> tuple[int, int]:
        chain, _, _ = build_chain(store=YieldingStore())
        await chain.open()
        await chain.record_state({"k": "[]"}, created_by="t", snapshot=True)
        reopened = Chain(chain._store, ManualClock(start_ms=1_800_000_000_000), GzipCompressor())
        await reopened.open()
        listed, _ = await asyncio.gather(
            reopened.list_versions(),
            reopened.record({"k": '[{"id": "a"}]'}, created_by="t"))
        return len(listed), len(await reopened.list_versions())

    during, after = asyncio.run(scenario())
    assert during in (1, 2)
    assert after == 2


def test_unusual_json_is_recorded_losslessly() -> None:
    # What JavaScript writes for half an emoji (JSON.stringify escapes lone surrogates), and
    # numbers beyond double range as a non-JavaScript client writes them.
    texts = [
        {GUESTS: '[{"id": "g0", "name": "Ann\\ud83d", "spent": 1e400},'
                 ' {"id": "g\\ude00", "spent": -1E+400, "tiny": 1e-400}]',
         ROOMS: "1e400", "note": '"\\udc00"'},
        {GUESTS: '[{"id": "g0", "name": "Ann\\ud83d\\ude00", "spent": 2e400, "debt": ' + "9" * 400
                 + '}, {"id": "g\\ude00", "spent": -1e400, "tiny": 0},'
                 ' {"id": "g\\ud800", "tags": ["\\udfff", 1e999]}]',
         ROOMS: "[1e400]", "note": '"\\udc00\\ud83d"'},
        {GUESTS: '[{"id": "g\\ud800", "tags": ["\\udfff", 1e999]}]', ROOMS: "1E400"},
        {GUESTS: "[]", ROOMS: '{"a\\ud83d": -1e400}', "note": "-1e400"},
    ]

    async def scenario() -> None:
        chain, store, _ = build_chain(checkpoint_every=2)
        await chain.open()
        expected: dict[str, dict[str, Any]] = {}
        for index, state in enumerate(texts):
            version = await chain.record_state(state, created_by="desk", snapshot=index == 0)
            assert version is not None
            expected[version.id] = {key: parse_json(value) for key, value in state.items()}
        ids = list(expected)
        assert expected[ids[0]][GUESTS][0]["spent"] == RawNumber("1e+400")
        assert expected[ids[0]]["note"] == "\udc00"
        detail = await chain.get_version(ids[1])
        by_id = {change.record_id: change for change in detail.changes}
        assert by_id["g0"].action == "update"
        assert "g\ude00" not in by_id  # the same numbers, spelt otherwise
        assert by_id["g\ud800"].action == "create"
        assert by_id["g\ud800"].after == {"id": "g\ud800", "tags": ["\udfff", RawNumber("1e+999")]}
        assert "/debt" in by_id["g0"].fields and "/spent" in by_id["g0"].fields
        deleted = (await chain.get_version(ids[2])).changes
        assert {(c.action, c.record_id) for c in deleted if c.module == GUESTS} == {
            ("delete", "g0"), ("delete", "g\ude00")}
        for version_id, state in expected.items():
            assert await chain.state_at(version_id) == state
        assert (await chain.verify(full=True)).ok
        # A second Chain on the same store reads everything back from what was stored.
        again = Chain(store, ManualClock(start_ms=1_800_000_000_000), GzipCompressor())
        await again.open()
        for version_id, state in expected.items():
            assert await again.state_at(version_id) == state
        await again.delete_version(ids[1])
        del expected[ids[1]]
        for version_id, state in expected.items():
            assert await again.state_at(version_id) == state
        assert (await again.verify(full=True)).ok
        # Rewriting a value with the same number spelt otherwise is no change.
        assert await again.record({ROOMS: '{"a\\ud83d": -10e399}'}, created_by="desk") is None

    asyncio.run(scenario())


def test_a_checkpoint_that_failed_to_commit_writes_its_blobs_when_retried() -> None:
    async def scenario() -> None:
        chain, store, _ = build_chain(checkpoint_every=1)
        await chain.record({"k": "[]"}, created_by="a")
        store.fail_next_apply = True
        with pytest.raises(StoreError):
            await chain.record({"k": '[{"id":"1"}]'}, created_by="a")  # a checkpoint
        version = await chain.record({"k": '[{"id":"1"}]'}, created_by="a")
        assert version is not None and version.kind == "checkpoint"
        report = await chain.verify(full=True)
        assert report.ok, report.problems
        assert await chain.state_at(version.id) == {"k": [{"id": "1"}]}

    asyncio.run(scenario())


def test_checkpoint_blobs_made_by_an_asynchronous_gzip_read_back() -> None:
    """The browser gzips checkpoints with CompressionStream (an AsyncCompressor); any gzip
    reader (here Python's, as pako in the browser) reads them."""
    calls: list[int] = []

    class AsyncGzip:
        async def compress(self, data: bytes) -> bytes:
            calls.append(len(data))
            return gzip.compress(data)

    async def scenario() -> None:
        store = MemoryStore()
        chain = Chain(store, ManualClock(start_ms=1_700_000_000_000), GzipCompressor(),
                      blob_compressor=AsyncGzip())
        await chain.open()
        guests = [{"id": f"g{n}", "firstName": "Ann", "notes": "x" * 40} for n in range(40)]
        first = await chain.record({"w3-hotel-guests": canonical_text(guests)}, created_by="a")
        assert first is not None and calls
        blobs = await store.keys("blobs")
        stored = await store.get_many("blobs", blobs)
        assert blobs and all(data[:2] == b"\x1f\x8b" for data in stored.values())
        state = await chain.state_at(first.id)
        assert canonical_text(state["w3-hotel-guests"]) == canonical_text(guests)
        assert (await chain.verify(full=True)).ok

    asyncio.run(scenario())


def test_a_saved_index_spares_the_next_start_a_parse_and_stays_exact(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.formats.module_text import ModuleText

    guests = [{"id": f"g{n}", "firstName": "Ann", "n": n} for n in range(1500)]

    async def scenario() -> None:
        chain, store, _ = build_chain()
        await chain.open()
        await chain.record({"w3-hotel-guests": canonical_text(guests)}, created_by="a")
        assert chain.unsaved_indexes == 1  # what the engine checks before its worker is replaced
        assert await chain.save_indexes() == 1
        assert await chain.save_indexes() == 0  # up to date
        assert chain.unsaved_indexes == 0
        builds: list[int] = []
        original = ModuleText.build_stepwise

        async def counted(text: str) -> ModuleText:
            builds.append(len(text))
            return await original(text)

        monkeypatch.setattr(ModuleText, "build_stepwise", counted)
        fresh, _, _ = build_chain(store=store)
        await fresh.open()
        guests[700] = {"id": "g700", "firstName": "Bo", "n": 700}
        version = await fresh.record({"w3-hotel-guests": canonical_text(guests)}, created_by="b")
        assert version is not None and builds == []  # the saved index was used
        assert [change.record_id for change in (await fresh.get_version(version.id)).changes] == [
            "g700"]
        # The saved index is now stale: a third start builds the index again.
        third, _, _ = build_chain(store=store)
        await third.open()
        guests[5] = {"id": "g5", "firstName": "Cy", "n": 5}
        assert await third.record({"w3-hotel-guests": canonical_text(guests)}, created_by="c")
        assert len(builds) == 1
        assert (await third.verify(full=True)).ok

    asyncio.run(scenario())


def test_a_large_head_text_the_store_holds_is_released_and_read_back_for_the_next_write(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Once written to the store, a large head text is dropped from memory (its index kept);
    the next write reads it back and is recorded exactly, and the index saved while released
    names that text, so a later start uses it instead of parsing."""
    from app.core.formats.module_text import ModuleText

    guests = _wide_guests()
    text = canonical_text(guests)
    assert len(text) >= 256 * 1024

    async def scenario() -> None:
        chain, store, _ = build_chain(defer_heads=True)
        await chain.open()
        await chain.record({"w3-hotel-guests": text}, created_by="a")
        assert chain.release_texts() == 0  # not written to the store yet: kept
        assert not chain.all_heads_written()
        await chain.flush_heads()
        assert chain.all_heads_written()
        assert chain.release_texts() == 1
        assert chain.unsaved_indexes == 1  # released, still to be saved
        reads: list[str] = []
        original_get = store.get

        async def get(collection: str, key: str) -> bytes | None:
            reads.append(f"{collection}/{key}")
            return await original_get(collection, key)  # type: ignore[arg-type]

        assert await chain.save_indexes() == 1  # saved while released: named by its text hash
        builds: list[int] = []
        original_build = ModuleText.build_stepwise

        async def counted(built: str) -> ModuleText:
            builds.append(len(built))
            return await original_build(built)

        monkeypatch.setattr(ModuleText, "build_stepwise", counted)
        again, _, _ = build_chain(store=store, defer_heads=True)
        await again.open()
        await again.prepare("w3-hotel-guests")
        assert builds == [] and again.index_counts == {"built": 0, "loaded": 1}

        monkeypatch.setattr(store, "get", get)
        guests[2500] = {**guests[2500], "firstName": "Bo"}
        version = await chain.record({"w3-hotel-guests": canonical_text(guests)}, created_by="b")
        assert version is not None and reads.count("head/w3-hotel-guests") == 1
        # The released index was attached to the text read back (not loaded nor built again).
        assert builds == [] and chain.index_counts == {"built": 0, "loaded": 0}
        # The same text again: compared by length and hash, never read back, no version.
        await chain.flush_heads()
        chain.release_texts()
        reads.clear()
        assert await chain.record({"w3-hotel-guests": canonical_text(guests)}, created_by="c") is None
        assert reads.count("head/w3-hotel-guests") == 0
        assert [(c.action, c.record_id) for c in (await chain.get_version(version.id)).changes] == [
            ("update", "g2500")]
        assert await chain.head_text("w3-hotel-guests") == canonical_text(guests)
        monkeypatch.setattr(store, "get", original_get)
        await chain.flush_heads()
        assert (await chain.verify(full=True)).ok

    asyncio.run(scenario())


def _wide_guests(count: int = 5000) -> list[dict[str, Any]]:
    """Guests whose head text is past RELEASE_AT (256 KB) at 5,000, and past INDEX_AT."""
    return [{"id": f"g{n}", "firstName": "Annabelle", "lastName": "Wickramasinghe", "n": n}
            for n in range(count)]


async def _indexed(guests: list[dict[str, Any]], *, release: bool) -> tuple[Chain, MemoryStore]:
    """A chain whose head holds ``guests``, written to the store, with its index saved (after
    releasing the text, or with it at hand)."""
    chain, store, _ = build_chain(defer_heads=True)
    await chain.open()
    await chain.record({"w3-hotel-guests": canonical_text(guests)}, created_by="a")
    await chain.flush_heads()
    if release:
        assert chain.release_texts() == 1
    assert await chain.save_indexes() == 1
    return chain, store


@pytest.mark.parametrize("damage", ["none", "offsets", "text"])
def test_a_start_gets_a_large_index_without_reading_its_text_and_a_damaged_one_is_not_trusted(
        monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    """prepare() takes the saved index of a large key whose stored text hashes (in the store)
    to what the index names, never reading the text; the next write reads it, checks it and
    records exactly. Offsets damaged in the saved index, or a stored text changed behind the
    history's back, are caught when the text is attached: the write still records exactly."""
    import struct

    guests = _wide_guests()

    async def scenario() -> None:
        _, store = await _indexed(guests, release=False)
        if damage == "offsets":  # the second element's start, moved by one
            saved = bytearray(store.data["meta"]["index/w3-hotel-guests"])
            body = saved.index(b"\n") + 1
            (start,) = struct.unpack_from("<q", saved, body + 8 * 2500)
            struct.pack_into("<q", saved, body + 8 * 2500, start + 1)
            store.data["meta"]["index/w3-hotel-guests"] = bytes(saved)
        reads: list[str] = []
        original_get = store.get

        async def get(collection: str, key: str) -> bytes | None:
            reads.append(f"{collection}/{key}")
            return await original_get(collection, key)  # type: ignore[arg-type]

        monkeypatch.setattr(store, "get", get)
        fresh, _, _ = build_chain(store=store, defer_heads=True)
        await fresh.open()
        await fresh.prepare("w3-hotel-guests")
        if damage == "offsets":  # refused: the index is built from the text instead
            assert "head/w3-hotel-guests" in reads and fresh.index_counts == {"built": 1, "loaded": 0}
        else:
            assert "head/w3-hotel-guests" not in reads and fresh.index_counts["loaded"] == 1
        if damage == "text":  # same length, other bytes: not the text the index was saved for
            text = store.data["head"]["w3-hotel-guests"]
            store.data["head"]["w3-hotel-guests"] = text.replace(b"g10\"", b"g1X\"", 1)
        guests[2500] = {**guests[2500], "firstName": "Bo"}
        version = await fresh.record({"w3-hotel-guests": canonical_text(guests)}, created_by="b")
        assert version is not None and "head/w3-hotel-guests" in reads
        changes = sorted((c.action, c.record_id) for c in (await fresh.get_version(version.id)).changes)
        if damage == "text":  # the stored text is not the one the index was saved for: re-indexed
            assert ("update", "g2500") in changes
            assert fresh.index_counts == {"built": 1, "loaded": 1}
        else:  # attached to the text read back: nothing loaded or built again
            assert changes == [("update", "g2500")]
            assert fresh.index_counts == ({"built": 1, "loaded": 0} if damage == "offsets"
                                          else {"built": 0, "loaded": 1})
        assert await fresh.head_text("w3-hotel-guests") == canonical_text(guests)

    asyncio.run(scenario())


@pytest.mark.parametrize("damage", ["none", "offsets", "text", "header"])
def test_a_deferred_index_is_read_by_the_first_write_and_a_damaged_one_is_not_trusted(
        monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    """prepare(defer=True) checks a large key's saved index by its header only (its first line):
    neither the index nor the text enters memory. The key's first write reads the index, checks
    it and records exactly. Offsets damaged behind a good header, or a stored text changed
    behind the history's back, are caught then and the key is indexed from its text; a header
    that names another module is not deferred (the index is checked whole at once)."""
    import struct

    guests = _wide_guests()

    async def scenario() -> None:
        _, store = await _indexed(guests, release=False)
        saved = bytearray(store.data["meta"]["index/w3-hotel-guests"])
        body = saved.index(b"\n") + 1
        if damage == "offsets":  # the second element's start, moved by one
            (start,) = struct.unpack_from("<q", saved, body + 8 * 2500)
            struct.pack_into("<q", saved, body + 8 * 2500, start + 1)
        if damage == "header":  # names another module hash
            saved = bytearray(bytes(saved).replace(b'"moduleHash":"', b'"moduleHash":"0', 1))
        store.data["meta"]["index/w3-hotel-guests"] = bytes(saved)
        reads: list[str] = []
        original_get, original_line = store.get, store.first_line

        async def get(collection: str, key: str) -> bytes | None:
            reads.append(f"{collection}/{key}")
            return await original_get(collection, key)  # type: ignore[arg-type]

        async def first_line(collection: str, key: str, limit: int) -> bytes | None:
            reads.append(f"line {collection}/{key}")
            return await original_line(collection, key, limit)  # type: ignore[arg-type]

        monkeypatch.setattr(store, "get", get)
        monkeypatch.setattr(store, "first_line", first_line)
        fresh, _, _ = build_chain(store=store, defer_heads=True)
        await fresh.open()
        reads.clear()
        await fresh.prepare("w3-hotel-guests", defer=True)
        if damage == "header":
            assert fresh.indexes_deferred == 0 and fresh.index_counts == {"built": 1, "loaded": 0}
        else:
            assert reads == ["line meta/index/w3-hotel-guests"]
            assert fresh.indexes_deferred == 1 and fresh.index_counts == {"built": 0, "loaded": 0}
        if damage == "text":  # same length, other bytes: not the text the index was saved for
            text = store.data["head"]["w3-hotel-guests"]
            store.data["head"]["w3-hotel-guests"] = text.replace(b"g10\"", b"g1X\"", 1)
        reads.clear()
        guests[2500] = {**guests[2500], "firstName": "Bo"}
        version = await fresh.record({"w3-hotel-guests": canonical_text(guests)}, created_by="b")
        assert version is not None
        changes = sorted((c.action, c.record_id) for c in (await fresh.get_version(version.id)).changes)
        expected = {"none": {"built": 0, "loaded": 1}, "offsets": {"built": 1, "loaded": 0},
                    "text": {"built": 1, "loaded": 1}, "header": {"built": 1, "loaded": 0}}[damage]
        assert fresh.index_counts == expected
        if damage == "text":  # the stored text is not the one the index was saved for: re-indexed
            assert ("update", "g2500") in changes
        else:
            assert changes == [("update", "g2500")]
        if damage != "header":
            assert "meta/index/w3-hotel-guests" in reads and "head/w3-hotel-guests" in reads
        assert await fresh.head_text("w3-hotel-guests") == canonical_text(guests)
        monkeypatch.setattr(store, "get", original_get)
        await fresh.flush_heads()
        # (The text changed behind the history's back leaves a head its history cannot explain.)
        assert (await fresh.verify(full=True)).ok is (damage != "text")

    asyncio.run(scenario())


def test_a_hash_learned_at_start_spares_the_store_hashing_the_text_and_a_wrong_one_is_not_trusted(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The start's comparison learns what a stored head text hashes to; prepare() takes it
    instead of the store's digest. A wrong one does not pass for the saved index's text (the
    text is read and checked); without one, the store hashes the text."""
    guests = _wide_guests()

    async def scenario() -> None:
        _, store = await _indexed(guests, release=True)  # saved released: named by its text hash
        digests: list[str] = []
        reads: list[str] = []
        original_get = store.get

        async def get(collection: str, key: str) -> bytes | None:
            reads.append(f"{collection}/{key}")
            return await original_get(collection, key)  # type: ignore[arg-type]

        original_digest = store.digest

        async def digest(collection: str, key: str) -> str | None:
            digests.append(f"{collection}/{key}")
            return await original_digest(collection, key)  # type: ignore[arg-type]

        monkeypatch.setattr(store, "digest", digest)
        monkeypatch.setattr(store, "get", get)
        text_hash = await original_digest("head", "w3-hotel-guests")
        assert text_hash is not None
        learned, _, _ = build_chain(store=store, defer_heads=True)
        await learned.open()
        learned.head_text_hashes_to("w3-hotel-guests", text_hash, 1)
        await learned.prepare("w3-hotel-guests")
        assert digests == [] and "head/w3-hotel-guests" not in reads
        assert learned.index_counts == {"built": 0, "loaded": 1}

        wrong, _, _ = build_chain(store=store, defer_heads=True)
        await wrong.open()
        wrong.head_text_hashes_to("w3-hotel-guests", "0" * 64, 1)
        await wrong.prepare("w3-hotel-guests")  # not the index's text: it is read and checked
        assert digests == [] and "head/w3-hotel-guests" in reads

        changed, _, _ = build_chain(store=store, defer_heads=True)
        await changed.open()
        guests[7] = {**guests[7], "firstName": "Bo"}
        assert await changed.record({"w3-hotel-guests": canonical_text(guests)}, created_by="b")
        await changed.flush_heads()
        changed.release_texts()
        await changed.save_indexes()
        again, _, _ = build_chain(store=store, defer_heads=True)
        await again.open()
        reads.clear()
        await again.prepare("w3-hotel-guests")  # no hash learned: the store hashes the text
        assert digests == ["head/w3-hotel-guests"] and "head/w3-hotel-guests" not in reads
        assert again.index_counts == {"built": 0, "loaded": 1}
        assert await again.head_text("w3-hotel-guests") == canonical_text(guests)

    asyncio.run(scenario())


def test_a_text_read_back_for_a_write_stays_for_the_next_and_sends_the_other_large_texts_away(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes to one large key in a row read its text back once; a write to another large key
    releases the first (two large texts are never held where one can be)."""
    guests = _wide_guests()
    stays = [{"id": f"r{n}", "guestId": f"g{n}", "room": "101", "nights": n % 9} for n in range(9000)]

    async def scenario() -> None:
        chain, store, _ = build_chain(defer_heads=True)
        await chain.open()
        await chain.record({"w3-hotel-guests": canonical_text(guests),
                            "w3-hotel-reservations": canonical_text(stays)}, created_by="a")
        await chain.flush_heads()
        assert chain.release_texts() == 2
        for n, key in enumerate(["w3-hotel-guests", "w3-hotel-guests", "w3-hotel-guests",
                                 "w3-hotel-reservations", "w3-hotel-guests"]):
            if key == "w3-hotel-guests":
                guests[n] = {**guests[n], "firstName": f"Bo{n}"}
                text = canonical_text(guests)
            else:
                stays[n] = {**stays[n], "nights": 30}
                text = canonical_text(stays)
            assert await chain.record({key: text}, created_by="b") is not None
            await chain.flush_heads()  # as the engine does when idle: the text stays at hand
        # guests read back once, then kept for two more writes; reservations read back (and
        # guests sent away); guests read back again.
        assert chain.head_texts_read == 3
        assert await chain.head_text("w3-hotel-guests") == canonical_text(guests)
        assert await chain.head_text("w3-hotel-reservations") == canonical_text(stays)
        assert (await chain.verify(full=True)).ok

    asyncio.run(scenario())


def test_an_index_saved_in_the_earlier_layout_is_used_and_saved_again_packed() -> None:
    guests = _wide_guests()

    async def scenario() -> None:
        _, store = await _indexed(guests, release=True)
        saved = store.data["meta"]["index/w3-hotel-guests"]
        split = saved.index(b"\n")
        header = json.loads(saved[:split])
        del header["idBytes"], header["records"]
        header["ids"] = [guest["id"] for guest in guests]
        body = saved[split + 1:split + 1 + 48 * 5000]  # offsets and digests; no packed ids
        store.data["meta"]["index/w3-hotel-guests"] = (
            json.dumps(header, separators=(",", ":")).encode() + b"\n" + body)
        again, _, _ = build_chain(store=store, defer_heads=True)
        await again.open()
        await again.prepare("w3-hotel-guests")
        assert again.index_counts == {"built": 0, "loaded": 1} and again.head_texts_read == 0
        assert await again.save_indexes() == 1  # rewritten in the packed layout
        assert store.data["meta"]["index/w3-hotel-guests"] == saved
        assert await again.save_indexes() == 0

    asyncio.run(scenario())


def test_versions_name_the_device_that_recorded_them() -> None:
    async def scenario() -> None:
        store = MemoryStore()
        chain = Chain(store, ManualClock(start_ms=1_700_000_000_000), GzipCompressor(),
                      device="Chrome on Linux · 3f2a")
        await chain.open()
        version = await chain.record_state({GUESTS: "[]"}, created_by="admin", snapshot=True)
        assert version is not None and version.device == "Chrome on Linux · 3f2a"
        stored = await store.get("versions", version.id)
        assert stored is not None and json.loads(stored)["device"] == "Chrome on Linux · 3f2a"
        reopened = Chain(store, ManualClock(), GzipCompressor())
        await reopened.open()
        assert (await reopened.list_versions())[0].device == "Chrome on Linux · 3f2a"

    asyncio.run(scenario())


def test_a_head_text_the_store_lost_is_rebuilt_from_the_history_and_written_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A browser's file for head/<key> is gone (DataLost on every read): the head value is
    rebuilt from the history, named as lost, written back by flush_heads (its old digest
    dropped from the pointer), and a write is diffed against it; verify says what it found
    meanwhile. When the history lost what the state needs too, DataLost - never a guess."""
    from app.core.ports import DataLost

    async def scenario() -> None:
        chain, store, _ = build_chain()
        await _baseline(chain)
        edited = guests(3)
        edited[0]["firstName"] = "Ann"
        await chain.record({GUESTS: text(edited)}, created_by="desk")
        original_get, original_get_many = store.get, store.get_many
        lost = {("head", GUESTS)}

        async def get(collection: Collection, key: str) -> bytes | None:
            if (collection, key) in lost:
                raise DataLost("a value was lost from the disk")
            return await original_get(collection, key)

        async def get_many(collection: Collection, keys: list[str]) -> dict[str, bytes]:
            if any((collection, key) in lost for key in keys):
                raise DataLost("values were lost from the disk")
            return await original_get_many(collection, keys)

        monkeypatch.setattr(store, "get", get)
        monkeypatch.setattr(store, "get_many", get_many)
        report = await chain.verify(full=True)
        assert [(p.kind, p.subject) for p in report.problems] == [("head-value-lost", f"head/{GUESTS}")]
        # Rebuilt when read (as a start's comparison reads it), and written back when idle.
        again = Chain(store, ManualClock(start_ms=1_800_000_000_000), GzipCompressor())
        await again.open()
        canonical = canonical_text(parse_json(text(edited))).encode("utf-8")
        assert await again.head_data(GUESTS) == canonical
        assert again.lost_head_texts == {GUESTS}
        assert await again.flush_heads() == 1
        assert await original_get("head", GUESTS) == canonical
        assert await again.flush_heads() == 0  # written once
        lost.clear()
        assert (await again.verify(full=True)).ok
        # Lost again: a write is diffed against the rebuilt value.
        lost.add(("head", GUESTS))
        third = Chain(store, ManualClock(start_ms=1_850_000_000_000), GzipCompressor())
        await third.open()
        edited[1]["firstName"] = "Bea"
        version = await third.record({GUESTS: text(edited)}, created_by="desk")
        assert version is not None
        changes = (await third.get_version(version.id)).to_dict()["changes"]
        assert [(c["action"], c["recordId"], c["fields"]) for c in changes] == [
            ("update", "g1", ["/firstName"])]
        assert third.lost_head_texts == {GUESTS}
        third.lost_told({GUESTS})
        assert third.lost_head_texts == frozenset()
        # Told, then lost again (another writer's version, whose text is lost too): named again.
        await again.open()
        edited[2]["firstName"] = "Cy"
        assert await again.record({GUESTS: text(edited)}, created_by="desk") is not None
        await third.open()
        edited[2]["firstName"] = "Di"
        assert await third.record({GUESTS: text(edited)}, created_by="desk") is not None
        assert third.lost_head_texts == {GUESTS}
        # History lost too: nothing to rebuild from.
        fourth = Chain(store, ManualClock(start_ms=1_900_000_000_000), GzipCompressor())
        await fourth.open()
        lost.add(("head", ROOMS))
        lost.update(("payloads", key) for key in await store.keys("payloads"))
        with pytest.raises(DataLost):
            await fourth.record({ROOMS: text([{"id": "102"}])}, created_by="desk")

    asyncio.run(scenario())


@pytest.mark.parametrize("when", ["header", "deferred", "prepare"])
def test_a_saved_index_the_store_lost_is_built_again_from_its_text(
        monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    """A saved index is a cache: lost from the disk (DataLost on its every read) - when its
    header is checked, when a deferred one is read at the key's first write, or when a start
    prepares it - the key is indexed from its text and the write is recorded exactly."""
    from app.core.history.head_texts import INDEX_PREFIX
    from app.core.ports import DataLost

    guests = _wide_guests()

    async def scenario() -> None:
        _, store = await _indexed(guests, release=True)
        key = INDEX_PREFIX + "w3-hotel-guests"
        original_get, original_first_line = store.get, store.first_line

        async def get(collection: Collection, name: str) -> bytes | None:
            if (collection, name) == ("meta", key) and when != "header":
                raise DataLost("a value was lost from the disk")
            return await original_get(collection, name)

        async def first_line(collection: Collection, name: str, limit: int) -> bytes | None:
            if (collection, name) == ("meta", key) and when == "header":
                raise DataLost("a value was lost from the disk")
            return await original_first_line(collection, name, limit)

        monkeypatch.setattr(store, "get", get)
        monkeypatch.setattr(store, "first_line", first_line)
        fresh, _, _ = build_chain(store=store, defer_heads=True)
        await fresh.open()
        await fresh.prepare("w3-hotel-guests", defer=when != "prepare")
        guests[2500] = {**guests[2500], "firstName": "Bo"}
        version = await fresh.record({"w3-hotel-guests": canonical_text(guests)}, created_by="b")
        assert version is not None
        assert [(c.action, c.record_id) for c in (await fresh.get_version(version.id)).changes] == [
            ("update", "g2500")]
        # A lost header: the index is read whole instead (and checked); a lost index: built.
        assert fresh.index_counts == ({"built": 0, "loaded": 1} if when == "header"
                                      else {"built": 1, "loaded": 0})

    asyncio.run(scenario())


def test_a_single_record_edit_is_stored_gzip_d_at_about_half_its_json() -> None:
    """A delta's payload repeats the edited record (before and after, and both patches): gzip
    pays from framing.COMPRESS_AT bytes, under the 512 of earlier releases (the document's
    example: 495 bytes, stored in about 250), and the version's size and payloadHash are of the
    stored gzip bytes; the delta reads back and verifies."""

    async def scenario() -> None:
        chain, store, _ = build_chain()
        await chain.open()
        await chain.record({GUESTS: canonical_text([GUEST])}, created_by="a", snapshot=True)
        version = await chain.record({GUESTS: canonical_text([EDITED])}, created_by="a")
        assert version is not None and version.kind == "delta"
        stored = store.data["payloads"][version.id]
        assert stored[:2] == b"\x1f\x8b"
        plain = gzip.decompress(stored)
        assert COMPRESS_AT <= len(plain) < 512 and len(stored) < 0.6 * len(plain), (len(stored), len(plain))
        assert (version.size, version.payload_hash) == (len(stored), hashlib.sha256(stored).hexdigest())
        assert json.loads(plain)["changes"][0]["fields"] == ["/phone"]
        assert (await chain.state_at(version.id))[GUESTS] == [EDITED]
        assert (await chain.verify(full=True)).ok

    asyncio.run(scenario())
