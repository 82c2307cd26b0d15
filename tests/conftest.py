"""Typed factories shared by the unit tests (plain functions; async code runs via asyncio.run)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from app.core.chain import Chain
from app.core.clock import ManualClock
from app.core.formats.gzip_codec import GzipCompressor
from app.core.memory_store import MemoryStore
from app.core.ports import Compressor

ChainFactory = Callable[..., tuple[Chain, MemoryStore, ManualClock]]


def build_chain(
    *, checkpoint_every: int = 200, store: MemoryStore | None = None, step_ms: int = 1000,
    checkpoint_bytes: int = 4 * 1024 * 1024, defer_heads: bool = False,
    compressor: Compressor | None = None,
) -> tuple[Chain, MemoryStore, ManualClock]:
    """A Chain on a fresh MemoryStore with a manual clock and deterministic version ids (and
    CPython's gzip, unless ``compressor`` is given)."""
    store = store if store is not None else MemoryStore()
    clock = ManualClock(start_ms=1_700_000_000_000, step_ms=step_ms)
    counter = itertools.count()
    chain = Chain(store, clock, compressor or GzipCompressor(), checkpoint_every=checkpoint_every,
                  checkpoint_bytes=checkpoint_bytes, new_id=lambda: f"t{next(counter):04d}",
                  defer_heads=defer_heads)
    return chain, store, clock


@pytest.fixture
def make_chain() -> ChainFactory:
    return build_chain
