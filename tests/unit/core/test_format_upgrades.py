"""Stores written by earlier releases open in this one without losing a version.

format3-store.json was written by the release before format 4 (its head pointer is rewritten
with every version); format2-store.json by the release before format 3 (its head pointer is one
record); format1-store.json by the release before format 2. All hold the same W3-shaped history
with odd but valid values (tests/fixtures/make_format1_store.py says what it holds).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from app.core.errors import CorruptData
from app.core.formats.json_value import canonical_text, parse_json
from app.core.history.head import HEAD_KEY, KEY_PREFIX, TAIL_LIMIT, HeadPointer
from app.core.history.head_loading import load_head
from app.core.memory_store import MemoryStore
from app.core.ports import Batch
from tests.conftest import build_chain
from tests.fixtures.format1_store import (
    fill_store,
    load_format1_store,
    load_format2_store,
    load_format3_store,
)
from tests.fixtures.make_format1_store import js_text

GUESTS = "w3-hotel-guests"


def _store(collections: dict[str, dict[str, bytes]]) -> MemoryStore:
    store = MemoryStore()
    asyncio.run(fill_store(store, collections))
    return store


def _canonical(texts: dict[str, str]) -> dict[str, str]:
    """The texts as a state reads back: each the canonical text of its value, which is the text
    itself unless it holds a number beyond double range (kept in normal form: 1e400 is 1e+400)."""
    return {key: canonical_text(parse_json(text)) for key, text in texts.items()}


def _pointer_records(store: MemoryStore) -> dict[str, bytes]:
    return {name: value for name, value in store.data["meta"].items()
            if name == HEAD_KEY or name.startswith(KEY_PREFIX)}


def test_the_format2_fixture_is_what_the_release_before_format_3_wrote() -> None:
    collections, expected = load_format2_store()
    versions = [json.loads(value) for value in collections["versions"].values()]
    assert {version["formatVersion"] for version in versions} == {2}
    assert len(versions) == len(expected["versions"]) == 25
    head = json.loads(collections["meta"][HEAD_KEY])
    assert head["formatVersion"] == 2 and set(head["moduleHashes"]) == set(expected["head"])
    assert head["versionId"] == expected["versions"][-1] and head["journalSeq"] > 0
    assert not [name for name in collections["meta"] if name.startswith(KEY_PREFIX)]


def test_the_format3_fixture_is_what_the_release_before_format_4_wrote() -> None:
    collections, expected = load_format3_store()
    versions = [json.loads(value) for value in collections["versions"].values()]
    assert {version["formatVersion"] for version in versions} == {3}
    assert not [version for version in versions if "head" in version]
    assert len(versions) == len(expected["versions"]) == 25
    head = json.loads(collections["meta"][HEAD_KEY])
    assert head["formatVersion"] == 3 and head["versionId"] == expected["versions"][-1]
    records = {name[len(KEY_PREFIX):] for name in collections["meta"] if name.startswith(KEY_PREFIX)}
    assert set(expected["head"]) <= records


def test_a_format3_store_gets_a_format4_pointer_and_keeps_every_version_exactly() -> None:
    collections, expected = load_format3_store()
    store = _store(collections)

    async def scenario() -> None:
        old = await load_head(store)
        assert old is not None and old.format_version == 3
        chain, _, _ = build_chain(store=store)
        await chain.open()
        # No version is made and nothing but the pointer is rewritten.
        for name in ("versions", "payloads", "blobs", "head"):
            assert store.data[name] == collections[name], name  # type: ignore[index]
        head = await load_head(store)
        assert head == HeadPointer(**{**old.__dict__, "format_version": 4})
        assert all(json.loads(value)["formatVersion"] == 4 for value in _pointer_records(store).values())
        listed = [version.id for version in reversed(await chain.list_versions())]
        assert listed == expected["versions"]
        for version_id, texts in expected["states"].items():
            state = await chain.state_at(version_id)
            assert {key: canonical_text(value) for key, value in state.items()} == _canonical(texts)
        assert (await chain.verify(full=True)).ok
        # The next edit carries the pointer's changes; a reader of the store gets them.
        guests: list[Any] = json.loads(expected["head"][GUESTS])
        guests[1] = {**guests[1], "email": "ana@example.com"}
        records = _pointer_records(store)
        version = await chain.record({GUESTS: js_text(guests)}, created_by="frontdesk",
                                     journal_seq=head.journal_seq + 1)
        assert version is not None and version.head_changes is not None
        assert _pointer_records(store) == records
        reader, _, _ = build_chain(store=store)
        await reader.open()
        assert (reader.head_version_id, reader.journal_seq) == (version.id, head.journal_seq + 1)
        assert json.loads(await reader.head_text(GUESTS) or "")[1]["email"] == "ana@example.com"
        assert (await reader.verify(full=True)).ok

    asyncio.run(scenario())


def test_a_format2_store_gets_a_format4_pointer_and_keeps_every_version_exactly() -> None:
    collections, expected = load_format2_store()
    store = _store(collections)
    old = HeadPointer.decode(collections["meta"][HEAD_KEY])

    async def scenario() -> None:
        chain, _, _ = build_chain(store=store)
        await chain.open()
        # No version is made and nothing but the pointer is rewritten.
        for name in ("versions", "payloads", "blobs", "head"):
            assert store.data[name] == collections[name], name  # type: ignore[index]
        head = HeadPointer.from_meta(store.data["meta"])
        assert head.format_version == 4
        assert head == HeadPointer(**{**old.__dict__, "format_version": 4})
        fixed = json.loads(store.data["meta"][HEAD_KEY])
        assert "moduleHashes" not in fixed and "liveReads" not in fixed
        assert {name[len(KEY_PREFIX):] for name in _pointer_records(store) if name != HEAD_KEY} \
            == old.keys()
        # Every version reads back as the text the PMS wrote then, member order included.
        listed = [version.id for version in reversed(await chain.list_versions())]
        assert listed == expected["versions"]
        for version_id, texts in expected["states"].items():
            state = await chain.state_at(version_id)
            canonical = {key: canonical_text(value) for key, value in state.items()}
            assert canonical == _canonical(texts), version_id
        report = await chain.verify(full=True)
        assert report.ok, report.problems
        # Opening again changes nothing.
        records = _pointer_records(store)
        again, _, _ = build_chain(store=store)
        await again.open()
        assert _pointer_records(store) == records

        # The next edit is a format 4 delta that rewrites no record of the pointer: it carries
        # the pointer's changes, and the pointer is read from the stored records and it.
        guests: list[Any] = json.loads(expected["head"][GUESTS])
        guests[0] = {**guests[0], "phone": "+94 77 123 4567"}
        applied: list[Batch] = []
        apply = store.apply

        async def spy(batch: Batch) -> None:
            applied.append(batch)
            await apply(batch)

        store.apply = spy  # type: ignore[method-assign]
        version = await again.record({GUESTS: js_text(guests)},
                                     created_by="frontdesk", journal_seq=head.journal_seq + 1,
                                     drained_ends={GUESTS: 1_800_000_000_000})
        assert version is not None and version.format_version == 4 and version.change_count == 1
        meta_puts = [key for batch in applied for collection, key, _ in batch.puts if collection == "meta"]
        assert meta_puts == []
        stored = json.loads(store.data["versions"][version.id])["head"]
        assert list(stored["keys"]) == [GUESTS]  # the whole record of the one key it changed
        assert stored["keys"][GUESTS]["drainedEnd"] == 1_800_000_000_000
        reread = await load_head(store)
        assert reread is not None and reread.version_id == version.id and reread.tail == 1
        assert reread.drained_ends[GUESTS] == 1_800_000_000_000
        report = await again.verify(full=True)
        assert report.ok, report.problems
        # A format 2 version can still be deleted; every other version still reads back.
        doomed = expected["versions"][3]
        await again.delete_version(doomed)
        for version_id, texts in expected["states"].items():
            if version_id != doomed:
                state = await again.state_at(version_id)
                assert {key: canonical_text(value) for key, value in state.items()} == _canonical(texts)
        assert (await again.verify(full=True)).ok

    asyncio.run(scenario())


def test_a_format1_store_is_upgraded_to_format_4_and_keeps_every_version() -> None:
    collections, expected = load_format1_store()
    store = _store(collections)

    async def scenario() -> None:
        chain, _, _ = build_chain(store=store)
        await chain.open()
        versions = list(reversed(await chain.list_versions()))
        assert [version.id for version in versions[:-1]] == expected["versions"]
        upgrade = versions[-1]
        assert (upgrade.format_version, upgrade.change_type, upgrade.change_count) == (4, "upgrade", 0)
        assert HeadPointer.from_meta(store.data["meta"]).format_version == 4
        for version_id, texts in expected["states"].items():
            state = await chain.state_at(version_id)
            # Format 1 kept no member order: equal values.
            assert state == {key: parse_json(text, format_version=1) for key, text in texts.items()}
        upgraded = await chain.state_at(upgrade.id)
        assert {key: canonical_text(value) for key, value in upgraded.items()} == _canonical(expected["head"])
        report = await chain.verify(full=True)
        assert report.ok, report.problems

    asyncio.run(scenario())


def test_a_version_rewrites_no_pointer_record_and_every_32nd_those_of_the_keys_changed_since() -> None:
    async def scenario() -> None:
        chain, store, _ = build_chain()
        await chain.open()
        keys = [f"w3-hotel-key-{n:02d}" for n in range(40)]
        await chain.record_state({key: f'[{{"id":"{key}"}}]' for key in keys}, created_by="a",
                                 snapshot=True, live_reads={key: (1, 2) for key in keys})
        before = dict(store.data["meta"])
        version = await chain.record({keys[7]: '[{"id":"x"}]'}, created_by="a", drained_ends={keys[7]: 5})
        assert version is not None and version.head_changes is not None
        assert store.data["meta"] == before
        assert list(version.head_changes["keys"]) == [keys[7]]  # type: ignore[call-overload]
        assert len(json.dumps(version.head_changes)) < 200
        # The 32nd version after the stored records rewrites them: those of the keys changed.
        for n in range(TAIL_LIMIT - 2):
            await chain.record({keys[8]: f"[{n}]"}, created_by="a")
            assert store.data["meta"] == before
        await chain.record({keys[9]: "[0]"}, created_by="a")
        changed = sorted(name for name, value in store.data["meta"].items() if before.get(name) != value)
        assert changed == [HEAD_KEY] + [KEY_PREFIX + keys[n] for n in (7, 8, 9)]
        assert len(store.data["meta"][HEAD_KEY]) < 400
        # A deleted key keeps its drain progress, without a module hash.
        await chain.record({keys[7]: None}, created_by="a", drained_ends={keys[7]: 9})
        reread = await load_head(store)
        assert reread is not None and reread.key_dict(keys[7]) == {
            "formatVersion": 4, "liveRead": [1, 2], "drainedEnd": 9}
        reopened, _, _ = build_chain(store=store)
        await reopened.open()
        assert await reopened.head_keys() == sorted(keys[:7] + keys[8:])
        assert reopened.drained_ends == {keys[7]: 9}
        assert (await reopened.verify(full=True)).ok

    asyncio.run(scenario())


def test_a_pointer_without_versions_keeps_its_drain_progress_through_the_upgrade() -> None:
    async def scenario() -> None:
        for old_format in (1, 2):
            chain, store, _ = build_chain()
            store.data["meta"][HEAD_KEY] = HeadPointer(
                journal_epoch="e", journal_seq=4, live_reads={"k": (1, 2)}, drained_ends={"k": 5},
                drained_writes={"k": ("tab", 3)}, format_version=old_format).encode()
            await chain.open()
            on_disk = HeadPointer.from_meta(store.data["meta"])
            assert on_disk.format_version == 4
            assert (on_disk.live_reads, on_disk.drained_ends, on_disk.drained_writes) == (
                {"k": (1, 2)}, {"k": 5}, {"k": ("tab", 3)})
            await chain.record({"z": "1"}, created_by="a", snapshot=True)
            reopened, _, _ = build_chain(store=store)
            await reopened.open()
            assert reopened.drained_ends == {"k": 5} and reopened.live_reads["k"] == (1, 2)
            assert reopened.journal_seq == 4

    asyncio.run(scenario())


def _between_the_reads(store: MemoryStore, meanwhile: Callable[[], Awaitable[None]]) -> list[bool]:
    """Have ``meanwhile`` run once, between a reader's read of the head pointer's stored records
    and its read of the versions after them; the list it returns holds True once it ran."""
    after = store.after
    ran: list[bool] = []

    async def racing_after(collection: Any, key: str) -> dict[str, bytes]:
        if not ran:
            ran.append(True)
            await meanwhile()
        return await after(collection, key)

    store.after = racing_after  # type: ignore[method-assign]
    return ran


def test_a_version_deleted_between_the_pointer_s_records_and_its_versions_being_read_is_no_gap() -> None:
    async def scenario() -> None:
        chain, store, _ = build_chain()
        await chain.open()
        await chain.record({"k": "[0]", "a": "[0]"}, created_by="a", snapshot=True)
        doomed = await chain.record({"a": "[1]"}, created_by="a")  # the only version of "a"
        for n in range(1, 5):
            await chain.record({"k": f"[{n}]"}, created_by="a")
        assert doomed is not None
        # Another tab deletes a version (retention) between the two reads.
        deleted = _between_the_reads(store, lambda: chain.delete_version(doomed.id))
        reader, _, _ = build_chain(store=store)
        await reader.open()
        assert deleted and reader.head_version_id == chain.head_version_id
        assert (await reader.head_text("k"), await reader.head_text("a")) == ("[4]", "[1]")
        assert (await reader.verify(full=True)).ok

    asyncio.run(scenario())


def test_records_rewritten_and_a_version_committed_between_the_two_reads_are_read_again() -> None:
    """Writing head texts in an idle moment rewrites only some per-key records (``meta/head``
    stays the same bytes); a version committed right after follows those records. A reader that
    read the records before both must not follow the version from the older records."""
    async def scenario() -> None:
        chain, store, _ = build_chain(defer_heads=True)
        await chain.open()
        await chain.record({"k": "[0]", "g": "[0]"}, created_by="a", snapshot=True)
        assert sorted(await chain.head_keys()) == ["g", "k"] and not chain.all_heads_written()

        async def flush_then_commit() -> None:
            head_before = store.data["meta"][HEAD_KEY]
            assert await chain.flush_heads() == 2
            assert store.data["meta"][HEAD_KEY] == head_before  # only per-key records changed
            await chain.record({"g": "[1]"}, created_by="a")

        raced = _between_the_reads(store, flush_then_commit)
        loaded = await load_head(store)
        assert raced and loaded is not None
        written = await load_head(store)
        assert written is not None and loaded == written
        assert loaded.stale_heads == ("g",)  # "k" was written; "g" changed since

    asyncio.run(scenario())


def test_a_pointer_moved_by_another_writer_while_it_is_read_is_read_again() -> None:
    async def scenario() -> None:
        chain, store, _ = build_chain()
        await chain.open()
        await chain.record({"k": "[1]"}, created_by="a", snapshot=True)
        other, _, _ = build_chain(store=store)
        await other.open()
        prefixed = store.prefixed
        moved = False

        async def racing_prefixed(collection: Any, prefix: str) -> dict[str, bytes]:
            # A store that reads meta/head and the per-key records apart: the other tab commits
            # between the two.
            nonlocal moved
            pointer = await store.get(collection, "head")
            if not moved:
                moved = True
                await other.record({"k": "[2]"}, created_by="b")
            found = await prefixed(collection, prefix)
            if pointer is not None:
                found["head"] = pointer
            return found

        store.prefixed = racing_prefixed  # type: ignore[method-assign]
        reader, _, _ = build_chain(store=store)
        await reader.open()
        assert moved and await reader.head_text("k") == "[2]"
        # A pointer that does not check out and does not move is corruption.
        store.prefixed = prefixed  # type: ignore[method-assign]
        record = store.data["meta"][KEY_PREFIX + "k"]
        store.data["meta"][KEY_PREFIX + "k"] = record.replace(b'"moduleHash":"', b'"moduleHash":"0')
        broken, _, _ = build_chain(store=store)
        try:
            await broken.open()
        except CorruptData as error:
            assert "meta/head/<key>" in str(error)
        else:
            raise AssertionError("a corrupt pointer was read")

    asyncio.run(scenario())
