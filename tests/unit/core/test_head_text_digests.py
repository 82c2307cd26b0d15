"""The head pointer's ``headText``: the digest of each stored head text the engine knows, which a
start sends as If-None-Match instead of reading the live value to compare it. It must name the
bytes of ``head/<key>`` exactly, or not at all: a stale digest would hide a change."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import pytest

from app.core.chain import Chain
from app.core.formats.json_value import canonical_text
from app.core.history.head import HeadPointer
from app.core.history.head_loading import load_head
from app.core.history.verify_report import VerifyReport
from app.core.memory_store import MemoryStore
from tests.conftest import build_chain

GUESTS = "w3-hotel-guests"
ROOMS = "w3-hotel-rooms"


def _guests(count: int = 3000) -> list[dict[str, Any]]:
    return [{"id": f"g{n:05d}", "firstName": "Zoë", "notes": "x" * 90} for n in range(count)]


def _digest(store: MemoryStore, key: str) -> tuple[str, int]:
    stored = store.data["head"][key]
    return hashlib.sha256(stored).hexdigest(), len(stored)


async def _record(store: MemoryStore, key: str) -> dict[str, Any]:
    """The head pointer's record of ``key`` as a reader gets it: the stored records followed by
    the versions after them (format 4)."""
    head = await load_head(store)
    assert head is not None
    return head.key_dict(key) or {}


async def _reopened(store: MemoryStore) -> Chain:
    chain, _, _ = build_chain(store=store, defer_heads=True)
    await chain.open()
    return chain


async def _released(guests: list[dict[str, Any]]) -> tuple[Chain, MemoryStore]:
    chain, store, _ = build_chain(defer_heads=True)
    await chain.open()
    await chain.record({GUESTS: canonical_text(guests), ROOMS: "[]"}, created_by="a")
    await chain.flush_heads()
    assert chain.release_texts() == 1
    await chain.save_indexes()
    return chain, store


def _ok(report: VerifyReport) -> bool:
    return not report.problems


def test_a_released_text_is_named_by_its_digest_which_a_reopened_chain_reads() -> None:
    async def scenario() -> None:
        chain, store = await _released(_guests())
        assert (await _record(store, GUESTS))["headText"] == list(_digest(store, GUESTS))
        assert "headText" not in (await _record(store, ROOMS))  # small: never released, not hashed
        reopened = await _reopened(store)
        assert reopened.head_text_digest(GUESTS) == _digest(store, GUESTS)
        assert reopened.head_text_digest(ROOMS) is None
        assert _ok(await reopened.verify(full=True))

    asyncio.run(scenario())


@pytest.mark.parametrize("defer", [True, False])
def test_a_version_of_the_key_drops_its_digest_and_a_change_test_can_never_use_a_stale_one(
        defer: bool) -> None:
    async def scenario() -> None:
        guests = _guests()
        _, store = await _released(guests)
        chain, _, _ = build_chain(store=store, defer_heads=defer)
        await chain.open()
        guests[5] = {**guests[5], "firstName": "Ana"}
        assert await chain.record({GUESTS: canonical_text(guests)}, created_by="b")
        assert chain.head_text_digest(GUESTS) is None
        assert "headText" not in (await _record(store, GUESTS))
        await chain.flush_heads()  # the new text is written: still nothing names it
        assert (await _reopened(store)).head_text_digest(GUESTS) is None
        assert _ok(await chain.verify(full=True))

    asyncio.run(scenario())


@pytest.mark.parametrize("defer", [True, False])
def test_a_respelled_write_that_makes_no_version_drops_the_digest(defer: bool) -> None:
    async def scenario() -> None:
        guests = _guests()
        _, store = await _released(guests)
        chain, _, _ = build_chain(store=store, defer_heads=defer)
        await chain.open()
        respelled = json.dumps(guests, ensure_ascii=True)  # the same values, other bytes
        assert await chain.record({GUESTS: respelled}, created_by="b") is None
        assert chain.head_text_digest(GUESTS) is None
        await chain.flush_heads()
        await chain.save_indexes()
        assert "headText" not in (await _record(store, GUESTS))
        assert _ok(await chain.verify(full=True))

    asyncio.run(scenario())


def test_a_deleted_key_loses_its_digest() -> None:
    async def scenario() -> None:
        chain, store = await _released(_guests())
        assert await chain.record({GUESTS: None}, created_by="b")
        assert await _record(store, GUESTS) == {}
        assert chain.head_text_digest(GUESTS) is None
        assert (await _reopened(store)).head_text_digest(GUESTS) is None

    asyncio.run(scenario())


def test_a_digest_learned_at_start_is_written_with_the_starts_commit() -> None:
    async def scenario() -> None:
        chain, store, _ = build_chain(defer_heads=True)
        await chain.open()
        await chain.record({ROOMS: '[{"id":"r1"}]'}, created_by="a")
        await chain.flush_heads()
        digest = _digest(store, ROOMS)
        started = await _reopened(store)
        started.head_text_hashes_to(ROOMS, *digest)
        assert await started.record_state({}, created_by="unknown", keep=frozenset({ROOMS}),
                                          live_reads={ROOMS: (1, 2)}) is None
        assert (await _record(store, ROOMS))["headText"] == list(digest)
        assert (await _reopened(store)).head_text_digest(ROOMS) == digest

    asyncio.run(scenario())


@pytest.mark.parametrize("order", ["save, then flush", "flush, then save"])
def test_a_digest_learned_for_a_key_then_changed_is_never_written(order: str) -> None:
    async def scenario() -> None:
        chain, store, _ = build_chain(defer_heads=True)
        await chain.open()
        await chain.record({ROOMS: '[{"id":"r1"}]'}, created_by="a")
        await chain.flush_heads()
        chain.head_text_hashes_to(ROOMS, *_digest(store, ROOMS))
        assert await chain.record({ROOMS: '[{"id":"r2"}]'}, created_by="a")
        for step in order.split(", then "):
            await (chain.save_indexes() if step == "save" else chain.flush_heads())
        assert "headText" not in (await _record(store, ROOMS))
        assert _ok(await chain.verify(full=True))

    asyncio.run(scenario())


def test_a_digest_is_not_learned_for_a_stale_text() -> None:
    async def scenario() -> None:
        chain, store, _ = build_chain(defer_heads=True)
        await chain.open()
        await chain.record({ROOMS: '[{"id":"r1"}]'}, created_by="a")  # head/ not written yet
        chain.head_text_hashes_to(ROOMS, "a" * 64, 13)
        await chain.save_indexes()
        assert chain.head_text_digest(ROOMS) is None
        assert "headText" not in (await _record(store, ROOMS))

    asyncio.run(scenario())


@pytest.mark.parametrize("named", [["A" * 64, 1], ["a" * 63, 1], ["a" * 64, -1], ["a" * 64], "x",
                                   ["a" * 64, 1.5]])
def test_an_ill_formed_head_text_is_ignored_as_a_hint(named: object) -> None:
    async def scenario() -> None:
        chain, store = await _released(_guests())
        record = (await _record(store, GUESTS))
        record["headText"] = named
        store.data["meta"][f"head/{GUESTS}"] = json.dumps(record).encode()
        assert (await _reopened(store)).head_text_digest(GUESTS) is None

    asyncio.run(scenario())


def test_verify_reports_a_head_text_that_is_not_the_bytes_named() -> None:
    async def scenario() -> None:
        guests = _guests()
        chain, store = await _released(guests)
        # The same values in other bytes, put behind the history's back: the module hash
        # still holds, the named digest does not.
        store.data["head"][GUESTS] = json.dumps(guests, ensure_ascii=True).encode()
        report = await (await _reopened(store)).verify(full=True)
        assert [(p.kind, p.subject) for p in report.problems] == [
            ("head-value-mismatch", f"head/{GUESTS}")]

    asyncio.run(scenario())


def test_a_pointer_names_no_digest_for_a_key_it_lists_as_stale() -> None:
    head = HeadPointer(version_id="v", module_hashes={GUESTS: "0" * 64}, head_texts={GUESTS: ("a" * 64, 3)},
                       stale_heads=(GUESTS,))
    assert "headText" not in (head.key_dict(GUESTS) or {})


def test_a_digest_the_reader_hashed_names_the_text_without_hashing_it_again_until_it_changes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import app.core.history.head_texts as head_texts

    hashed: list[int] = []
    original = head_texts.text_digest

    def counting(text: str) -> tuple[str, int]:
        hashed.append(len(text))
        return original(text)

    monkeypatch.setattr(head_texts, "text_digest", counting)

    async def scenario() -> None:
        guests = _guests()
        text = canonical_text(guests)
        chain, store, _ = build_chain(defer_heads=True)
        await chain.open()
        read = (hashlib.sha256(text.encode()).hexdigest(), len(text.encode()))
        await chain.record_state({GUESTS: text}, created_by="a", snapshot=True, text_digests={GUESTS: read})
        await chain.flush_heads()
        assert chain.release_texts() == 1
        await chain.save_indexes()
        assert hashed == [] and (await _record(store, GUESTS))["headText"] == list(read)
        guests[9] = {**guests[9], "firstName": "Eve"}
        assert await chain.record({GUESTS: canonical_text(guests)}, created_by="b")
        await chain.flush_heads()
        assert chain.release_texts() == 1
        await chain.save_indexes()
        assert len(hashed) == 1  # the new text: no reader hashed it
        assert (await _record(store, GUESTS))["headText"] == list(_digest(store, GUESTS))
        assert _ok(await chain.verify(full=True))

    asyncio.run(scenario())
