"""Retention (app.core.retention.policy): what a cleanup deletes, and that what is left stays exact."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.errors import CorruptData
from app.core.retention.policy import DAY_MS, RetentionPolicy, Settings, SettingsError, plan_cleanup
from tests.conftest import build_chain

KEY = "w3-hotel-guests"


def _history(count: int, manual: frozenset[int] = frozenset()) -> tuple[object, list[object]]:
    async def scenario() -> tuple[object, list[object]]:
        chain, _, clock = build_chain(step_ms=DAY_MS)
        await chain.open()
        for n in range(count):
            await chain.record({KEY: f'[{{"id":"g{n}"}}]'}, created_by="a",
                               change_type="manual" if n in manual else "auto", snapshot=n in manual)
        return chain, list(reversed(await chain.list_versions()))
    return asyncio.run(scenario())


def test_old_versions_go_the_head_and_backups_stay() -> None:
    chain, versions = _history(10, manual=frozenset({1}))
    now = versions[-1].timestamp + DAY_MS  # type: ignore[attr-defined]
    doomed = plan_cleanup(versions, RetentionPolicy(max_age_days=5), now)  # type: ignore[arg-type]
    # Days 0..9; older than 5 days at day 10: days 0..4, but the manual backup (day 1) stays.
    assert [v.seq for v in doomed] == [1, 3, 4, 5]
    everything = plan_cleanup(versions, RetentionPolicy(max_age_days=1, keep_backups=False), now * 2)  # type: ignore[arg-type]
    assert versions[-1] not in everything and len(everything) == 9
    assert plan_cleanup(versions, RetentionPolicy(max_age_days=None), now) == []  # type: ignore[arg-type]
    newest = plan_cleanup(versions, RetentionPolicy(max_age_days=None, max_versions=3), now)  # type: ignore[arg-type]
    assert [v.seq for v in newest] == [1, 3, 4, 5, 6, 7]
    assert plan_cleanup([], RetentionPolicy(), now) == []


@settings(max_examples=15, deadline=None)
@given(st.integers(2, 12), st.integers(1, 6), st.frozensets(st.integers(0, 11), max_size=3))
def test_after_a_cleanup_every_kept_version_reads_back_as_before(count: int, days: int,
                                                                 manual: frozenset[int]) -> None:
    async def scenario() -> None:
        chain, _, _ = build_chain(step_ms=DAY_MS, checkpoint_every=4)
        await chain.open()
        for n in range(count):
            await chain.record({KEY: f'[{{"id":"g{n}","n":{n}}}]'}, created_by="a",
                               change_type="manual" if n in manual else "auto")
        versions = list(reversed(await chain.list_versions()))
        before = {v.id: await chain.state_at(v.id) for v in versions}
        now = versions[-1].timestamp + DAY_MS
        for version in plan_cleanup(versions, RetentionPolicy(max_age_days=days), now):
            await chain.delete_version(version.id)
        kept = await chain.list_versions()
        assert kept[0].id == versions[-1].id  # the head stays
        for version in kept:
            assert await chain.state_at(version.id) == before[version.id]
        assert (await chain.verify(full=True)).ok
    asyncio.run(scenario())


def test_settings_are_checked_and_stored_with_their_format() -> None:
    policy = RetentionPolicy.from_dict({"maxAgeDays": 30, "maxVersions": None})
    assert policy == RetentionPolicy(30, None, True)
    assert Settings.decode(Settings(policy).encode()) == Settings(policy)
    assert Settings.decode(None) == Settings()
    for raw, message in [({"maxAgeDays": 0}, "at least 1"), ({"maxVersions": 1}, "at least 2"),
                         ({"maxAgeDays": "30"}, "whole number"), ({"keepBackups": 1}, "true or false"),
                         ({"forever": True}, "Unknown"), ([], "is an object")]:
        with pytest.raises(SettingsError, match=message):
            RetentionPolicy.from_dict(raw)  # type: ignore[arg-type]
    with pytest.raises(CorruptData):
        Settings.decode(b'{"formatVersion":3,"retention":{"maxAgeDays":-1}}')


def test_the_audit_is_kept_at_least_as_long_as_the_versions() -> None:
    assert RetentionPolicy.from_dict({"maxAgeDays": 30, "auditMaxAgeDays": 90}).audit_max_age_days == 90
    for raw in ({"maxAgeDays": 90, "auditMaxAgeDays": 30}, {"maxAgeDays": None, "auditMaxAgeDays": 30}):
        with pytest.raises(SettingsError, match="at least maxAgeDays"):
            RetentionPolicy.from_dict(raw)
    assert RetentionPolicy().audit_max_age_days is None  # by default the audit trail is kept whole


def test_a_reader_that_cached_the_history_sees_a_deletion_made_by_another_writer() -> None:
    async def scenario() -> None:
        writer, store, _ = build_chain(step_ms=DAY_MS)
        await writer.open()
        for n in range(4):
            await writer.record({KEY: f'[{{"id":"g{n}"}}]'}, created_by="a")
        reader, _, _ = build_chain(store=store)
        await reader.open(upgrade=False)
        listed = await reader.list_versions()
        await writer.delete_version(listed[2].id)
        await reader.open(upgrade=False)
        assert [v.id for v in await reader.list_versions()] == [v.id for v in await writer.list_versions()]
        assert listed[2].id not in {v.id for v in await reader.list_versions()}
    asyncio.run(scenario())
