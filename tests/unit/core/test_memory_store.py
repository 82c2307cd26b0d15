from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from app.core.memory_store import MemoryStore
from app.core.ports import Batch, StoreError, StoreFull, VersionStore
from tests.unit.core.store_contract import STORE_CHECKS, check_store_contract


async def _fresh() -> VersionStore:
    return MemoryStore()


@pytest.mark.parametrize("check", STORE_CHECKS, ids=lambda check: check.__name__)
def test_memory_store_passes_the_contract(
    check: Callable[[Callable[[], Awaitable[VersionStore]]], Awaitable[None]],
) -> None:
    asyncio.run(check(_fresh))


def test_contract_runner_reports_every_check() -> None:
    results = asyncio.run(check_store_contract(_fresh))
    assert set(results.values()) == {"ok"} and len(results) == len(STORE_CHECKS)


def test_quota_makes_apply_fail_without_writing() -> None:
    async def scenario() -> None:
        store = MemoryStore(quota_bytes=100)
        small = Batch()
        small.put("meta", "a", b"x" * 10)
        await store.apply(small)
        big = Batch()
        big.put("meta", "b", b"y" * 50)
        big.put("payloads", "c", b"z" * 80)
        big.delete("meta", "a")
        with pytest.raises(StoreFull):
            await store.apply(big)
        assert await store.get("meta", "a") == b"x" * 10
        assert await store.keys("payloads") == [] and await store.get("meta", "b") is None
        store.fail_next_apply = True
        with pytest.raises(StoreError):
            await store.apply(small)
        await store.apply(small)

    asyncio.run(scenario())
