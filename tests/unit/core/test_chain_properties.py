"""Property tests of the Chain: random edit sequences of W3-shaped data, deletions, damage."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.formats.json_value import canonical_json, canonical_text, compact_json, copy_json, parse_json
from app.core.history import head_texts
from tests.conftest import build_chain
from tests.unit.core.strategies import edited, json_values, record_array

GUESTS = "w3-hotel-guests"
RESERVATIONS = "w3-hotel-reservations"
SETTINGS = "w3-hotel-settings"


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A sequence of full states: each step edits records, settings, or drops/adds a key."""
    state: dict[str, Any] = {GUESTS: draw(record_array()), RESERVATIONS: draw(record_array(4))}
    states = [copy_json(state)]
    for step in range(draw(st.integers(1, 10))):
        state = copy_json(state)
        what = draw(st.sampled_from(["guests", "guests", "reservations", "settings", "drop"]))
        if what == "guests":
            state[GUESTS] = draw(edited(state[GUESTS], fresh=step))
        elif what == "reservations" and RESERVATIONS in state:
            state[RESERVATIONS] = draw(edited(state[RESERVATIONS], fresh=step))
        elif what == "settings":
            state[SETTINGS] = draw(json_values)
        elif RESERVATIONS in state:
            del state[RESERVATIONS]
        else:
            state[RESERVATIONS] = draw(record_array(3))
        states.append(state)
    return states


async def _delete_some(chain: Any, expected: dict[str, Any], data: st.DataObject) -> None:
    """Delete a random set of versions (never the head) from the chain and from ``expected``."""
    removable = list(expected)[:-1]
    doomed = data.draw(st.lists(st.sampled_from(removable), unique=True) if removable
                       else st.just([]))
    for version_id in doomed:
        await chain.delete_version(version_id)
        del expected[version_id]


def _same(a: Any, b: Any) -> bool:
    return canonical_json(a) == canonical_json(b)


def _texts(state: dict[str, Any]) -> dict[str, str]:
    """The texts a PMS writes: lone surrogates escaped as JavaScript does (compact_json)."""
    return {key: compact_json(value).decode() for key, value in state.items()}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.integers(1, 4), st.data())
def test_every_version_reconstructs_and_deletions_keep_the_rest_exact(
    states: list[dict[str, Any]], every: int, data: st.DataObject,
) -> None:
    async def scenario() -> None:
        chain, _, _ = build_chain(checkpoint_every=every)
        await chain.open()
        expected: dict[str, Any] = {}
        for index, state in enumerate(states):
            version = await chain.record_state(_texts(state), created_by="p", snapshot=index == 0)
            if version is not None:
                expected[version.id] = parse_json(compact_json(state))
        for version_id, state in expected.items():
            assert _same(await chain.state_at(version_id), state)
        report = await chain.verify(full=True)
        assert report.ok, report.to_dict()
        await _delete_some(chain, expected, data)
        for version_id, state in expected.items():
            assert _same(await chain.state_at(version_id), state)
        report = await chain.verify(full=True)
        assert report.ok, report.to_dict()
        assert [v.id for v in await chain.list_versions()] == sorted(expected, reverse=True)

    asyncio.run(scenario())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.data())
def test_verify_finds_damage(states: list[dict[str, Any]], data: st.DataObject) -> None:
    async def scenario() -> None:
        chain, store, _ = build_chain(checkpoint_every=3)
        await chain.open()
        ids = []
        for index, state in enumerate(states):
            version = await chain.record_state(_texts(state), created_by="p", snapshot=index == 0)
            if version is not None:
                ids.append(version.id)
        victim = data.draw(st.sampled_from(ids))
        damage = data.draw(st.sampled_from(["flip", "missing", "link"]))
        if damage == "flip":
            payload = bytearray(store.data["payloads"][victim])
            payload[data.draw(st.integers(0, len(payload) - 1))] ^= 1 << data.draw(st.integers(0, 7))
            store.data["payloads"][victim] = bytes(payload)
            expected_kind, full = "payload-hash-mismatch", True
        elif damage == "missing":
            del store.data["payloads"][victim]
            expected_kind, full = "missing-payload", False
        else:
            meta = parse_json(store.data["versions"][victim])
            assert isinstance(meta, dict)
            meta["link"] = "0" * 64
            store.data["versions"][victim] = json.dumps(meta).encode()
            expected_kind, full = "broken-link", False
        report = await chain.verify(full=full)
        assert {(p.kind, p.subject.split("/", 1)[1]) for p in report.problems} >= {
            (expected_kind, victim)}

    asyncio.run(scenario())


@st.composite
def reordered(draw: st.DrawFn, state: dict[str, Any]) -> dict[str, Any]:
    """``state`` with the members of some records (or of the settings) in another order."""
    result = copy_json(state)
    for key, value in result.items():
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict) and draw(st.integers(0, 4)) == 0:
                    value[index] = dict(draw(st.permutations(list(item.items()))))
        elif isinstance(value, dict) and draw(st.booleans()):
            result[key] = dict(draw(st.permutations(list(value.items()))))
    return result  # type: ignore[no-any-return]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.integers(1, 4), st.data())
def test_every_version_reconstructs_the_exact_text(
    states: list[dict[str, Any]], every: int, data: st.DataObject,
) -> None:
    """Format 2: the state at every version, written canonically, is the text the PMS wrote
    (JavaScript's JSON.stringify: member order as written), also after deletions; a write that
    only respells a value (whitespace, 1e+21 for 1000000000000000000000) is no version."""
    async def scenario() -> None:
        chain, _, _ = build_chain(checkpoint_every=every)
        await chain.open()
        expected: dict[str, dict[str, str]] = {}
        for index, state in enumerate(states):
            texts = {key: canonical_text(parse_json(text))
                     for key, text in _texts(data.draw(reordered(state))).items()}
            version = await chain.record_state(texts, created_by="p", snapshot=index == 0)
            if version is not None:
                expected[version.id] = texts
            respelled = {key: "\n" + (text.replace("[", "[ ", 1) if text.startswith("[") else text)
                         + " " for key, text in texts.items()}
            assert await chain.record_state(respelled, created_by="p") is None
        async def check() -> None:
            for version_id, texts in expected.items():
                state = await chain.state_at(version_id)
                assert {key: canonical_text(value) for key, value in state.items()} == texts
        await check()
        await _delete_some(chain, expected, data)
        await check()
        report = await chain.verify(full=True)
        assert report.ok, report.to_dict()

    asyncio.run(scenario())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.integers(1, 4), st.data())
def test_deferred_head_texts_survive_a_stop_before_they_are_written(
    states: list[dict[str, Any]], every: int, data: st.DataObject,
) -> None:
    """With defer_heads (the browser's engine), head texts are written only by flush_heads. A
    chain opened again after a stop at any point - flushed or not - has the same head (the
    head version's state), records the next writes exactly, and the store verifies."""
    async def scenario() -> None:
        chain, store, _ = build_chain(checkpoint_every=every, defer_heads=True)
        await chain.open()
        expected: dict[str, dict[str, str]] = {}
        current: dict[str, str] = {}
        for index, state in enumerate(states):
            current = {key: canonical_text(parse_json(text)) for key, text in _texts(state).items()}
            version = await chain.record_state(current, created_by="p", snapshot=index == 0)
            if version is not None:
                expected[version.id] = current
            if data.draw(st.booleans()):
                await chain.flush_heads()
            if data.draw(st.booleans()):  # the texts the store holds leave memory (all of them)
                with patch.object(head_texts, "RELEASE_AT", 0):
                    chain.release_texts()
            if data.draw(st.booleans()):  # the page closes: a new chain on the same store
                chain, _, _ = build_chain(checkpoint_every=every, store=store, defer_heads=True)
                await chain.open()
                # As bytes first (what a start compares with the store): stored or stale alike.
                assert {key: await chain.head_data(key) for key in await chain.head_keys()} == {
                    key: text.encode("utf-8") for key, text in current.items()}
                assert {key: await chain.head_text(key) for key in await chain.head_keys()} == current
            else:
                assert {key: await chain.head_data(key) for key in await chain.head_keys()} == {
                    key: text.encode("utf-8") for key, text in current.items()}
                report = await chain.verify(full=True)
                assert report.ok, report.to_dict()
        for version_id, texts in expected.items():
            state = await chain.state_at(version_id)
            assert {key: canonical_text(value) for key, value in state.items()} == texts
        await chain.flush_heads()
        assert chain.store is store and (await chain.verify(full=True)).ok
        stored = {key: (await store.get("head", key) or b"").decode() for key in current}
        assert stored == current

    asyncio.run(scenario())
