"""The ports through which the core reaches the outside world.

Each capability is declared once here as a Protocol. Adapters are named for what backs them:
``memory_store.MemoryStore`` (tests), ``app.browser.idb_store.IdbStore`` (IndexedDB). The same
contract tests (tests/unit/core/store_contract.py) run against every implementation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

#: The collections a VersionStore holds. Each maps a string key to bytes.
#: versions: Version metadata (JSON), keyed by version id (ids sort chronologically).
#: payloads: encoded Delta payloads, keyed by version id.
#: blobs:    encoded module snapshots of checkpoints, keyed by module hash (content-addressed).
#: head:     the current value of each KV key (JSON text), keyed by KV key.
#: meta:     small records such as the head pointer ("head") and settings.
Collection = Literal["versions", "payloads", "blobs", "head", "meta"]
COLLECTIONS: tuple[Collection, ...] = ("versions", "payloads", "blobs", "head", "meta")


class StoreError(Exception):
    """The store could not complete an operation; nothing of a failed batch was written."""


class StoreFull(StoreError):
    """The store ran out of space (IndexedDB QuotaExceededError); nothing was written."""


class DataLost(StoreError):
    """Values the store held are lost (the browser's files that held them are gone or damaged):
    reading them fails now and always."""


@dataclass
class Batch:
    """Writes that a VersionStore applies atomically: all of them or none.

    Within one batch, deletes are applied before puts, so a key both deleted and put ends up put.
    """

    puts: list[tuple[Collection, str, bytes]] = field(default_factory=list)
    deletes: list[tuple[Collection, str]] = field(default_factory=list)

    def put(self, collection: Collection, key: str, value: bytes) -> None:
        self.puts.append((collection, key, value))

    def delete(self, collection: Collection, key: str) -> None:
        self.deletes.append((collection, key))

    def __bool__(self) -> bool:
        return bool(self.puts or self.deletes)


class VersionStore(Protocol):
    """A transactional store of named collections of bytes values.

    All methods are coroutines, because the browser adapter (IndexedDB) is asynchronous.
    Reads see every batch whose ``apply`` has returned.
    """

    async def get(self, collection: Collection, key: str) -> bytes | None:
        """The value under ``key``, or None when absent. Raises StoreError."""
        ...

    async def get_many(self, collection: Collection, keys: list[str]) -> dict[str, bytes]:
        """The values present among ``keys`` (absent keys are left out). Raises StoreError."""
        ...

    async def keys(self, collection: Collection, prefix: str = "") -> list[str]:
        """The keys of the collection that start with ``prefix`` (all for ""), sorted ascending
        by code point. Raises StoreError."""
        ...

    async def prefixed(self, collection: Collection, prefix: str) -> dict[str, bytes]:
        """Every value whose key starts with ``prefix``, read at once (one consistent read: no
        batch is seen half-applied). Raises StoreError."""
        ...

    async def after(self, collection: Collection, key: str) -> dict[str, bytes]:
        """Every value whose key sorts after ``key`` (by code point), read at once. Raises
        StoreError."""
        ...

    async def first_line(self, collection: Collection, key: str, limit: int) -> bytes | None:
        """The bytes of the value under ``key`` before its first newline (b"\\n"), at most
        ``limit`` of them, without handing the rest over; None when absent. Raises StoreError."""
        ...

    async def digest(self, collection: Collection, key: str) -> str | None:
        """The lowercase hex SHA-256 of the value under ``key`` (None when absent), without
        handing the value over: a large value is checked without being copied. Raises
        StoreError."""
        ...

    async def apply(self, batch: Batch) -> None:
        """Apply every put and delete of ``batch`` atomically (deletes first, then puts).

        Idempotent for the same batch. Raises StoreFull when out of space and StoreError on any
        other failure; in both cases nothing of the batch was written.
        """
        ...


class Clock(Protocol):
    def now_ms(self) -> int:
        """Milliseconds since the Unix epoch."""
        ...


class AsyncCompressor(Protocol):
    """gzip (RFC 1952) done off the interpreter: the browser's CompressionStream. Used for the
    large blobs of checkpoints; its output is read back by any Compressor."""

    async def compress(self, data: bytes) -> bytes: ...


class Compressor(Protocol):
    """gzip (RFC 1952). Browser: pako; CPython: the gzip module."""

    def compress(self, data: bytes) -> bytes: ...

    def decompress(self, data: bytes) -> bytes:
        """Raises ValueError when ``data`` is not valid gzip."""
        ...
