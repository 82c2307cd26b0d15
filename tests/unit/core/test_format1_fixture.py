"""The format 1 fixture (tests/fixtures/format1-store.json) is whole and says what it holds.

Only the fixture's own consistency is checked here, by format 1's definitions (docs/FORMAT.md of
the release that wrote it): the tests of the upgrade from format 1 rely on it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import pytest

from app.core.formats.framing import unpack
from app.core.formats.gzip_codec import GzipCompressor
from app.core.memory_store import MemoryStore
from app.core.ports import COLLECTIONS
from tests.fixtures.format1_store import Collections, fill_store, load_format1_store

FORMAT1_COLLECTIONS = {"versions", "payloads", "blobs", "head", "meta"}


@pytest.fixture(scope="module")
def fixture() -> tuple[Collections, dict[str, Any]]:
    return load_format1_store()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def format1_state_hash(module_hashes: Mapping[str, str]) -> str:
    """Format 1: SHA-256 of ``key NUL module-hash LF`` for each key in code-point order."""
    return sha256(b"".join(key.encode() + b"\0" + module_hashes[key].encode() + b"\n"
                           for key in sorted(module_hashes)))


def versions_of(collections: Collections) -> list[dict[str, Any]]:
    found = [json.loads(value) for _, value in sorted(collections["versions"].items())]
    return sorted(found, key=lambda version: version["seq"])


def test_it_holds_the_collections_of_format_1(fixture: tuple[Collections, dict[str, Any]]) -> None:
    collections, _ = fixture
    assert set(collections) == FORMAT1_COLLECTIONS
    assert FORMAT1_COLLECTIONS <= set(COLLECTIONS)


def test_fill_store_writes_every_value_as_it_is(fixture: tuple[Collections, dict[str, Any]]) -> None:
    collections, _ = fixture
    store = MemoryStore()
    asyncio.run(fill_store(store, collections))
    for name, entries in collections.items():
        assert store.data[name] == entries  # type: ignore[index]


def test_the_expected_versions_are_the_stored_ones_oldest_first(
        fixture: tuple[Collections, dict[str, Any]]) -> None:
    collections, expected = fixture
    versions = versions_of(collections)
    ids = expected["versions"]
    assert len(ids) == 25
    assert ids == [version["id"] for version in versions] == sorted(collections["versions"])
    assert set(expected["states"]) == set(ids) == set(collections["payloads"])
    parent = None
    for key, version in zip(ids, versions, strict=True):
        assert version["formatVersion"] == 1
        assert version["id"] == key
        assert version["parentId"] == parent
        parent = key
    seqs = [version["seq"] for version in versions]
    assert seqs[0] == 1 and seqs == sorted(seqs)
    assert len(set(range(1, seqs[-1] + 1)) - set(seqs)) == 1  # one version was deleted


def test_it_has_several_checkpoints_and_a_manual_backup(fixture: tuple[Collections, dict[str, Any]]) -> None:
    collections, expected = fixture
    versions = versions_of(collections)
    checkpoints = [version for version in versions if version["kind"] == "checkpoint"]
    assert len(checkpoints) >= 4 and versions[0] in checkpoints
    assert [v["changeType"] for v in versions if v["changeType"] != "auto"] == ["manual"]
    manual = next(version for version in versions if version["changeType"] == "manual")
    assert manual["kind"] == "checkpoint"
    for version in versions:
        assert (version["snapshot"] is not None) == (version["kind"] == "checkpoint")
        if version["snapshot"] is not None:
            assert version["stateHash"] == format1_state_hash(version["snapshot"])
            assert set(version["snapshot"]) == set(expected["states"][version["id"]])


def test_payloads_are_format_1_and_match_their_hashes(fixture: tuple[Collections, dict[str, Any]]) -> None:
    collections, _ = fixture
    for version in versions_of(collections):
        stored = collections["payloads"][version["id"]]
        assert sha256(stored) == version["payloadHash"]
        payload = json.loads(unpack(stored, GzipCompressor()))
        assert payload["formatVersion"] == 1
        assert (payload["forward"] is None) == (version["parentId"] is None)


def test_blobs_hold_the_expected_values_of_their_checkpoints(
        fixture: tuple[Collections, dict[str, Any]]) -> None:
    collections, expected = fixture
    blobs = collections["blobs"]
    referenced: set[str] = set()
    for version in versions_of(collections):
        for key, module_hash in (version["snapshot"] or {}).items():
            canonical = unpack(blobs[module_hash], GzipCompressor())
            assert sha256(canonical) == module_hash
            assert json.loads(canonical) == json.loads(expected["states"][version["id"]][key])
            referenced.add(module_hash)
    assert referenced == set(blobs)


def test_the_head_is_the_newest_version(fixture: tuple[Collections, dict[str, Any]]) -> None:
    collections, expected = fixture
    newest = versions_of(collections)[-1]
    assert {key: value.decode("utf-8") for key, value in collections["head"].items()} == expected["head"]
    assert expected["states"][newest["id"]] == expected["head"]
    pointer = json.loads(collections["meta"]["head"])
    assert pointer["formatVersion"] == 1
    assert pointer["versionId"] == newest["id"] and pointer["seq"] == newest["seq"]
    assert set(pointer["moduleHashes"]) == set(expected["head"])
    assert pointer["stateHash"] == format1_state_hash(pointer["moduleHashes"]) == newest["stateHash"]
    assert collections["versions"][pointer["checkpointId"]]
    assert pointer["journalEpoch"] and pointer["journalSeq"] > 0
    assert json.loads(collections["meta"]["history"])["id"]


def test_it_holds_the_odd_values_it_promises(fixture: tuple[Collections, dict[str, Any]]) -> None:
    _, expected = fixture
    texts = "".join(text for state in expected["states"].values() for text in state.values())
    for token in ("\\ud83d", "1e400", "12345678901234567891", "1e+21", '"group":"level-49"'):
        assert token in texts, token
    keys = [set(state) for state in expected["states"].values()]
    assert any("w3-hotel-upsell-offers" not in k for k in keys) and "w3-hotel-upsell-offers" in keys[-1]
