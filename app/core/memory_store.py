"""MemoryStore: the VersionStore port in memory, for tests (with failure injection)."""

from __future__ import annotations

import hashlib

from app.core.ports import COLLECTIONS, Batch, Collection, StoreError, StoreFull


class MemoryStore:
    """A dict per collection. ``quota_bytes`` makes ``apply`` raise StoreFull when the stored
    bytes would exceed it; ``fail_next_apply`` makes the next ``apply`` raise StoreError. In
    both cases nothing of the batch is written."""

    def __init__(self, quota_bytes: int | None = None) -> None:
        self.data: dict[Collection, dict[str, bytes]] = {name: {} for name in COLLECTIONS}
        self.quota_bytes = quota_bytes
        self.fail_next_apply = False
        self.applied_batches = 0
        self._size = 0

    async def get(self, collection: Collection, key: str) -> bytes | None:
        return self._collection(collection).get(key)

    async def get_many(self, collection: Collection, keys: list[str]) -> dict[str, bytes]:
        values = self._collection(collection)
        return {key: values[key] for key in keys if key in values}

    async def keys(self, collection: Collection, prefix: str = "") -> list[str]:
        return sorted(key for key in self._collection(collection) if key.startswith(prefix))

    async def prefixed(self, collection: Collection, prefix: str) -> dict[str, bytes]:
        return {key: value for key, value in self._collection(collection).items() if key.startswith(prefix)}

    async def after(self, collection: Collection, key: str) -> dict[str, bytes]:
        return {name: value for name, value in self._collection(collection).items() if name > key}

    async def first_line(self, collection: Collection, key: str, limit: int) -> bytes | None:
        value = self._collection(collection).get(key)
        return None if value is None else value[:limit].split(b"\n", 1)[0]

    async def digest(self, collection: Collection, key: str) -> str | None:
        value = self._collection(collection).get(key)
        return None if value is None else hashlib.sha256(value).hexdigest()

    async def apply(self, batch: Batch) -> None:
        if self.fail_next_apply:
            self.fail_next_apply = False
            raise StoreError("injected failure")
        overlay: dict[tuple[Collection, str], bytes | None] = {}
        for collection, key in batch.deletes:
            self._check(collection)
            overlay[(collection, key)] = None
        for collection, key, value in batch.puts:
            self._check(collection)
            if not isinstance(value, bytes):
                raise StoreError(f"value for {collection}/{key} is not bytes")
            overlay[(collection, key)] = bytes(value)
        size = self._size
        for (collection, key), change in overlay.items():
            current = self.data[collection].get(key)
            if current is not None:
                size -= len(key) + len(current)
            if change is not None:
                size += len(key) + len(change)
        if self.quota_bytes is not None and size > self.quota_bytes:
            raise StoreFull(f"quota of {self.quota_bytes} bytes exceeded")
        for (collection, key), change in overlay.items():
            if change is None:
                self.data[collection].pop(key, None)
            else:
                self.data[collection][key] = change
        self._size = size
        self.applied_batches += 1

    def stored_bytes(self) -> int:
        return self._size

    def _collection(self, collection: Collection) -> dict[str, bytes]:
        self._check(collection)
        return self.data[collection]

    @staticmethod
    def _check(collection: str) -> None:
        if collection not in COLLECTIONS:
            raise StoreError(f"unknown collection {collection!r}")

